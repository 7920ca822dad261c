import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createAeadFileCipher } from '../../src/encryption/aead-file-cipher.js';
import { filesToSeal, sealFiles } from '../../src/encryption/seal-data-dir.js';
import { openDataDir } from '../../src/files/open-data-dir.js';
import { tempDir } from '../helpers/temp-dir.js';

function write(root: string, relative: string, bytes: Buffer | string): void {
  fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
  fs.writeFileSync(path.join(root, relative), bytes);
}

describe('sealing the files of a plain data dir in place (openrecall encrypt)', () => {
  it('seals the server’s files, leaves the client’s, links and models alone, removes the plain vector index and old temporaries; a second run skips what is sealed', async () => {
    const root = path.join(tempDir(), 'data');
    const outside = path.join(tempDir(), 'elsewhere');
    const image = crypto.randomBytes(200_000); // more than 3 chunks
    write(root, 'screenshots/2026/01/02/1.webp', image);
    write(root, 'screenshots/incoming/2.png', 'incoming upload');
    write(root, 'thumbnails/1.webp', 'thumb');
    write(root, 'compact/frames/2026/01/02/1.json.gz', 'manifest');
    write(root, 'compaction.journal', '{"frame":1}');
    write(root, 'index/vectors-model.bits', 'sign bits');
    write(root, 'thumbnails/3.webp.encrypting', 'a temporary a killed run left');
    write(root, 'buffer/frame.png', 'the client buffer');
    write(root, 'client-id', 'client');
    write(root, 'models/model.json', '{}');
    write(outside, 'secret.txt', 'not the data dir');
    fs.symlinkSync(outside, path.join(root, 'screenshots', 'link'));

    const cipher = createAeadFileCipher(crypto.randomBytes(32));
    const plain = openDataDir(root);
    const sealed = openDataDir(root, cipher);
    const files = filesToSeal(plain);
    assert.deepEqual(files.sort(), [
      'compact/frames/2026/01/02/1.json.gz',
      'compaction.journal',
      'index/vectors-model.bits',
      'screenshots/2026/01/02/1.webp',
      'screenshots/incoming/2.png',
      'thumbnails/1.webp',
    ]);
    assert.equal(fs.existsSync(path.join(root, 'thumbnails/3.webp.encrypting')), false, 'the old temporary is removed');

    const first = await sealFiles(plain, sealed, files);
    assert.deepEqual(first, { sealed: 5, alreadySealed: 0, removed: 1, damaged: [] });
    assert.deepEqual(await sealed.readFile('screenshots/2026/01/02/1.webp'), image);
    assert.equal((await sealed.readFile('compaction.journal')).toString(), '{"frame":1}');
    assert.ok(!fs.readFileSync(path.join(root, 'thumbnails/1.webp')).includes('thumb'), 'sealed on the disk');
    assert.equal(fs.existsSync(path.join(root, 'index/vectors-model.bits')), false);
    assert.equal(fs.readFileSync(path.join(root, 'buffer/frame.png'), 'utf8'), 'the client buffer');
    assert.equal(fs.readFileSync(path.join(root, 'client-id'), 'utf8'), 'client');
    assert.equal(fs.readFileSync(path.join(root, 'models/model.json'), 'utf8'), '{}');
    assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'not the data dir', 'a link is not followed');

    const sealedBytes = fs.readFileSync(path.join(root, 'thumbnails/1.webp'));
    const again = await sealFiles(plain, sealed, filesToSeal(plain));
    assert.deepEqual(again, { sealed: 0, alreadySealed: 5, removed: 0, damaged: [] });
    assert.deepEqual(fs.readFileSync(path.join(root, 'thumbnails/1.webp')), sealedBytes, 'a sealed file is not sealed twice');
  });

  it('a file sealed with another key (or damaged) is named and left as it is, never sealed a second time', async () => {
    const root = path.join(tempDir(), 'data');
    const other = createAeadFileCipher(crypto.randomBytes(32));
    write(root, 'thumbnails/9.webp', other.seal(Buffer.from('someone else’s')));
    const before = fs.readFileSync(path.join(root, 'thumbnails/9.webp'));
    const plain = openDataDir(root);
    const summary = await sealFiles(plain, openDataDir(root, createAeadFileCipher(crypto.randomBytes(32))), filesToSeal(plain));
    assert.deepEqual(summary, { sealed: 0, alreadySealed: 0, removed: 0, damaged: ['thumbnails/9.webp'] });
    assert.deepEqual(fs.readFileSync(path.join(root, 'thumbnails/9.webp')), before);
  });
});
