import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DamagedFileError } from '../../src/files/file-cipher.js';
import { deriveSubkeys, unwrapDataKey, wrapDataKey } from '../../src/encryption/data-key.js';
import { KEY_RECORD_FILE, readKeyRecord, writeKeyRecord } from '../../src/encryption/key-record.js';
import { keyFileSource, passphraseSource, readKeyFile } from '../../src/encryption/key-sources.js';
import { rekey } from '../../src/encryption/rekey.js';
import { openEncryption, type EncryptionKeys } from '../../src/encryption/open-encryption.js';
import { tempDir } from '../helpers/temp-dir.js';

async function openWithKeyFile(dataDir: string, keyFile: string): Promise<EncryptionKeys> {
  const opened = await openEncryption({ mode: 'on', keyFile }, dataDir);
  assert.ok(opened.encrypted && !opened.locked);
  return opened.keys;
}

describe('the data key and its wraps', () => {
  it('a wrap opens only with its own key and label, and the subkeys for files and the database differ', () => {
    const dataKey = crypto.randomBytes(32);
    const kek = crypto.randomBytes(32);
    const wrap = wrapDataKey(dataKey, kek, 'key-file');
    assert.deepEqual(unwrapDataKey(wrap, kek, 'key-file'), dataKey);
    assert.equal(unwrapDataKey(wrap, crypto.randomBytes(32), 'key-file'), null);
    assert.equal(unwrapDataKey(wrap, kek, 'keyring'), null, 'a wrap moved to another source does not open');
    const subkeys = deriveSubkeys(dataKey);
    assert.notDeepEqual(subkeys.files, subkeys.database);
    assert.notDeepEqual(subkeys.files, dataKey);
  });

  it('a passphrase wrap stores its Argon2id parameters and salt; another passphrase does not open it', async () => {
    const dataKey = crypto.randomBytes(32);
    const cost = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
    const wrap = await passphraseSource('tr0ub4dor', cost).wrap(dataKey);
    assert.equal(wrap.source, 'passphrase');
    assert.ok(
      wrap.source === 'passphrase' && wrap.kdf.algorithm === 'argon2id' && wrap.kdf.memoryCost === 8192 && Buffer.from(wrap.kdf.salt, 'base64').length === 16,
    );
    assert.deepEqual(await passphraseSource('tr0ub4dor').unwrap(wrap), dataKey, 'the stored parameters, not the defaults, are used to open');
    assert.equal(await passphraseSource('tr0ub4dor!').unwrap(wrap), null);
  });

  it('the key record holds no key in the clear, and the keys of two starts open each other’s files', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'k.key');
    const first = await openWithKeyFile(dataDir, keyFile);
    const sealed = first.fileCipher.seal(Buffer.from('frame bytes'));
    const record = fs.readFileSync(path.join(dataDir, KEY_RECORD_FILE));
    for (const secret of [fs.readFileSync(keyFile), first.databaseKey.key]) {
      assert.equal(record.indexOf(secret), -1);
      assert.equal(record.indexOf(secret.toString('base64')), -1);
      assert.equal(record.indexOf(secret.toString('hex')), -1);
    }
    const second = await openWithKeyFile(dataDir, keyFile);
    assert.deepEqual(second.fileCipher.open(sealed, 'frame.webp'), Buffer.from('frame bytes'));
    assert.deepEqual(second.databaseKey, first.databaseKey);
  });

  it('wipe() zeroes the keys this process holds: files no longer open with them', async () => {
    const keys = await openWithKeyFile(path.join(tempDir(), 'data'), path.join(tempDir(), 'k.key'));
    const sealed = keys.fileCipher.seal(Buffer.from('secret screen'));
    keys.wipe();
    assert.ok(keys.databaseKey.key.every((b) => b === 0));
    assert.throws(() => keys.fileCipher.open(sealed, 'frame.webp'), DamagedFileError);
  });

  it('a record `openrecall encrypt` has not finished (state converting) is refused by openEncryption and by rekey, and left as it is', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'k.key');
    await openWithKeyFile(dataDir, keyFile);
    await writeKeyRecord(dataDir, { ...readKeyRecord(dataDir)!, state: 'converting' });
    const before = fs.readFileSync(path.join(dataDir, KEY_RECORD_FILE));
    for (const mode of ['on', 'off'] as const) {
      await assert.rejects(openEncryption({ mode, keyFile }, dataDir), /is half encrypted .*run `openrecall encrypt` again/);
    }
    const current = keyFileSource(await readKeyFile(keyFile, { create: false }));
    await assert.rejects(
      rekey(dataDir, current, async () => passphraseSource('new one')),
      /is half encrypted/,
    );
    assert.deepEqual(fs.readFileSync(path.join(dataDir, KEY_RECORD_FILE)), before);
  });

  it('a new data dir records AEGIS-256 for its database; one recorded with SQLCipher keeps it through a rekey; an unknown cipher is refused', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const keyFile = path.join(tempDir(), 'k.key');
    const keys = await openWithKeyFile(dataDir, keyFile);
    assert.equal(readKeyRecord(dataDir)!.database, 'aegis-256-raw-key');
    assert.equal(keys.databaseKey.cipher, 'aegis-256-raw-key');

    // A data dir encrypted before AEGIS: its record names SQLCipher, and every way of opening it says so.
    await writeKeyRecord(dataDir, { ...readKeyRecord(dataDir)!, database: 'sqlcipher-v4-raw-key' });
    assert.equal((await openWithKeyFile(dataDir, keyFile)).databaseKey.cipher, 'sqlcipher-v4-raw-key');
    const current = keyFileSource(await readKeyFile(keyFile, { create: false }));
    await rekey(dataDir, current, async () => passphraseSource('another way in', { memoryCost: 8192, timeCost: 1, parallelism: 1 }));
    assert.equal(readKeyRecord(dataDir)!.database, 'sqlcipher-v4-raw-key');
    assert.equal(readKeyRecord(dataDir)!.wraps.length, 2);
    const opened = await openEncryption({ mode: 'on' }, dataDir);
    assert.ok(opened.encrypted && opened.locked);
    assert.equal((await opened.unlock('another way in')).databaseKey.cipher, 'sqlcipher-v4-raw-key');

    await writeKeyRecord(dataDir, { ...readKeyRecord(dataDir)!, database: 'rot13' as never });
    await assert.rejects(openEncryption({ mode: 'on', keyFile }, dataDir), /encrypted with rot13, which this version of OpenRecall cannot open/);
  });
});
