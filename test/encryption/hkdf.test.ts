import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { hkdfSha256 } from '../../src/encryption/hkdf.js';

describe('hkdfSha256: the bytes of crypto.hkdfSync, without its KeyObject copy of the key', () => {
  it('matches crypto.hkdfSync for every salt, info and length the data dir uses and more', () => {
    for (const [salt, info, length] of [
      [Buffer.alloc(0), 'openrecall files v1', 32],
      [Buffer.alloc(0), 'openrecall database v1', 32],
      [crypto.randomBytes(16), 'openrecall file v1', 32],
      [crypto.randomBytes(32), 'openrecall export v1', 32],
      [crypto.randomBytes(80), 'é ünïcode', 1],
      [crypto.randomBytes(5), '', 100],
    ] as const) {
      const key = crypto.randomBytes(32);
      const expected = Buffer.from(crypto.hkdfSync('sha256', key, salt, info, length));
      assert.deepEqual(hkdfSha256(key, salt, info, length), expected, `${info} ${length}`);
    }
  });
});
