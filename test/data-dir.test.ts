import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import { DataDir, PathOutsideDataDirError } from '../src/files/data-dir.js';
import { DamagedFileError, type FileCipher } from '../src/files/file-cipher.js';
import { plainCipher } from '../src/files/plain-cipher.js';
import { tempDir } from './helpers/temp-dir.js';

/** A cipher that visibly changes the bytes (each byte + 1, one marker byte in front), to see that every path uses it. */
const shiftCipher: FileCipher = {
  kind: 'aead',
  sealedSize: (plain) => plain + 1,
  plainSize: (sealed) => Math.max(0, sealed - 1),
  seal: (plain) => Buffer.concat([Buffer.from('S'), Buffer.from(plain.map((b) => (b + 1) & 255))]),
  open: (sealed, file) => {
    if (sealed[0] !== 'S'.charCodeAt(0)) throw new DamagedFileError(file, 'no marker');
    return Buffer.from(sealed.subarray(1).map((b) => (b - 1) & 255));
  },
  sealStream: () => {
    let first = true;
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const out = Buffer.from(chunk.map((b) => (b + 1) & 255));
        done(null, first ? Buffer.concat([Buffer.from('S'), out]) : out);
        first = false;
      },
    });
  },
  sealer: () => {
    let first = true;
    const marker = () => (first ? ((first = false), [Buffer.from('S')]) : []);
    return {
      push: (plain) => [...marker(), Buffer.from(plain.map((b) => (b + 1) & 255))],
      end: () => marker(),
      destroy: () => {},
    };
  },
  openStream: () => {
    let first = true;
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const body = first ? chunk.subarray(1) : chunk;
        first = false;
        done(null, Buffer.from(body.map((b) => (b - 1) & 255)));
      },
    });
  },
};

describe('DataDir: the one gateway to data-dir bytes', () => {
  it('writes and reads every way through its cipher: atomic, piece by piece, streams; sizes on the disk and plain', async () => {
    const root = tempDir();
    const files = new DataDir(root, shiftCipher);
    await files.writeFileAtomic('a/b/c.txt', 'hello', { durable: true });
    assert.equal(fs.readFileSync(path.join(root, 'a/b/c.txt'), 'latin1'), 'Sifmmp', 'sealed on the disk');
    assert.equal((await files.readFile('a/b/c.txt')).toString(), 'hello');
    assert.equal(await text(files.createReadStream('a/b/c.txt')), 'hello');
    assert.deepEqual({ ...(await files.stat('a/b/c.txt')), modifiedMs: 0 }, { diskBytes: 6, plainBytes: 5, modifiedMs: 0 });

    const writer = files.createFile('a/part');
    writer.write([Buffer.from('up'), Buffer.from('lo')]);
    writer.write([Buffer.from('ad')]);
    await writer.finish({ durable: true });
    assert.equal((await files.readFile('a/part')).toString(), 'upload');
    assert.equal(fs.statSync(path.join(root, 'a/part')).mode & 0o777, 0o600);

    files.writeFileViaSync('item', '.tmp-item', Buffer.from('buffered'));
    assert.equal(files.readFileSync('item').toString(), 'buffered');
    assert.deepEqual(files.listSync('').sort(), ['a', 'item']);
    await assert.rejects(files.readFile('item2'), { code: 'ENOENT' });
    fs.writeFileSync(path.join(root, 'planted'), 'not sealed');
    await assert.rejects(files.readFile('planted'), DamagedFileError, 'a file the cipher did not seal is refused');
  });

  it('refuses a path out of the root and never follows a symbolic link', async () => {
    const root = tempDir();
    const files = new DataDir(root, plainCipher);
    assert.throws(() => files.resolve('../escape'), PathOutsideDataDirError);
    fs.symlinkSync('/etc', path.join(root, 'link'));
    await assert.rejects(files.readFileNoFollow('link/hostname'), /symbolic link/);
    await assert.rejects(files.writeFileNoFollow('link/new', Buffer.from('x')), /symbolic link/);
    assert.equal(await files.kind('link'), 'other');
  });
});
