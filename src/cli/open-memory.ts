import { loadEncryptionConfig, type EncryptionConfig } from '../config.js';
import { EncryptionStartError, openEncryption, WrongPassphraseError, type EncryptionKeys } from '../encryption/open-encryption.js';
import type { DataDir } from '../files/data-dir.js';
import { openDataDir } from '../files/open-data-dir.js';
import { readSecret } from './read-secret.js';
import type { DatabaseKey } from '../encryption/data-key.js';

export interface OpenedMemory {
  dataDir: DataDir;
  /** An encrypted data dir's keys; undefined when it is not encrypted. */
  keys?: EncryptionKeys;
  /** For openStore / openExportReader: `{ databaseKey }` when encrypted, `{}` otherwise. */
  database: { databaseKey?: DatabaseKey };
}

/**
 * What a CLI command that reads or writes the data dir calls first, once: the keys (a key file, the keyring, or a
 * passphrase asked for here), then the DataDir sealed with them. A key that does not open it stops with one line.
 */
export async function openMemory(root: string, config: EncryptionConfig = loadEncryptionConfig()): Promise<OpenedMemory> {
  const opened = await openEncryption(config, root);
  if (!opened.encrypted) return { dataDir: openDataDir(root), database: {} };
  let keys: EncryptionKeys;
  if (opened.locked) {
    try {
      keys = await opened.unlock(await readSecret(`passphrase for ${root}: `));
    } catch (error) {
      if (error instanceof WrongPassphraseError) throw new EncryptionStartError(error.message);
      throw error;
    }
  } else {
    keys = opened.keys;
  }
  return { dataDir: openDataDir(root, keys.fileCipher), keys, database: { databaseKey: keys.databaseKey } };
}
