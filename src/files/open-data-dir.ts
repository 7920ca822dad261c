import { DataDir } from './data-dir.js';
import type { FileCipher } from './file-cipher.js';
import { plainCipher } from './plain-cipher.js';

/**
 * The DataDir of a process's data dir (or the client's buffer folder), with the cipher its files are sealed with.
 * Every entry point (server, processor, worker, CLI commands, capture client) opens its DataDir here, once:
 * `cipher` is the AEAD cipher of an encrypted data dir (`openEncryption`'s `keys.fileCipher`), plain otherwise.
 */
export function openDataDir(root: string, cipher: FileCipher = plainCipher): DataDir {
  return new DataDir(root, cipher);
}
