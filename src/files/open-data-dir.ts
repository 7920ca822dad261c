import { DataDir } from './data-dir.js';
import { plainCipher } from './plain-cipher.js';

/**
 * The DataDir of a process's data dir (or the client's buffer folder), with the cipher its files are sealed with.
 * Every entry point (server, processor, worker, CLI commands, capture client) opens its DataDir here, once:
 * OPENRECALL_ENCRYPTION will choose the AEAD cipher (src/encryption/) at this one place.
 */
export function openDataDir(root: string): DataDir {
  return new DataDir(root, plainCipher);
}
