// A process that holds one secret in a secretBytes buffer, for key-buffers.test.ts to look for in its memory: the
// secret is written byte by byte from a seed (so no other copy of it is made here), used the ways the keys are
// (HMAC, a cipher's key, a write through native code), then wiped when its stdin says so.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { hkdfSha256 } from '../../src/encryption/hkdf.js';
import { secretBytes, wipe } from '../../src/encryption/secret-bytes.js';
import { seededSecretByte } from './seeded-secret.js';

const seed = Number(process.argv[2]);
const secret = secretBytes(32);
for (let i = 0; i < secret.length; i++) secret[i] = seededSecretByte(seed, i);

wipe(hkdfSha256(Buffer.alloc(0), secret, 'a use of the secret as a key', 32));
const cipher = crypto.createCipheriv('aes-256-gcm', secret, Buffer.alloc(12));
cipher.update(Buffer.alloc(16));
cipher.final();
const devNull = fs.openSync('/dev/null', 'w');
fs.writeSync(devNull, secret);
fs.closeSync(devNull);

process.stdout.write('holding\n');
process.stdin.once('data', () => {
  wipe(secret);
  process.stdout.write('wiped\n');
  process.stdin.once('data', () => process.exit(0));
});
