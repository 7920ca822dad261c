import { PassThrough } from 'node:stream';
import type { FileCipher } from './file-cipher.js';

/** Files kept as they are (OPENRECALL_ENCRYPTION off): every size and byte on the disk is the plaintext's. */
export const plainCipher: FileCipher = {
  kind: 'plain',
  sealedSize: (plainBytes) => plainBytes,
  plainSize: (sealedBytes) => sealedBytes,
  seal: (plain) => plain,
  open: (sealed) => sealed,
  sealStream: () => new PassThrough(),
  sealer: () => ({ push: (plain) => [plain], end: () => [], destroy: () => {} }),
  openStream: () => new PassThrough(),
};
