import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../files/atomic-write.js';
import { DATABASE_CIPHERS, NEW_DATABASE_CIPHER, type DatabaseCipher, type WrappedKey } from './data-key.js';

/**
 * `encryption.json` in the data dir: the only place the data key lives, wrapped once per key-encryption source.
 * Written atomically and durably (0600): a crash during a rekey leaves the old record, which still opens.
 */
export const KEY_RECORD_FILE = 'encryption.json';
export const KEY_RECORD_VERSION = 1;

export interface Argon2idParameters {
  algorithm: 'argon2id';
  /** KiB. */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  /** base64. */
  salt: string;
}

export type KeyWrap =
  | ({ source: 'key-file' } & WrappedKey)
  | ({ source: 'passphrase'; kdf: Argon2idParameters } & WrappedKey)
  /** The KEK is a secret in the OS keyring under service "openrecall" and this account name. */
  | ({ source: 'keyring'; account: string } & WrappedKey);

export type KeySourceKind = KeyWrap['source'];

export interface KeyRecord {
  version: typeof KEY_RECORD_VERSION;
  /** What the data key encrypts files with (src/encryption/aead-file-cipher.ts) and the database with. */
  files: 'aes-256-gcm-chunked-v1';
  /** Kept for the data dir's life: a rekey or a finished `openrecall encrypt` writes it again as it was. */
  database: DatabaseCipher;
  wraps: KeyWrap[];
  /**
   * `converting`: `openrecall encrypt` is turning this plain data dir into an encrypted one and has not finished
   * (some files or the database may still be plain). Every entry point refuses such a data dir; running
   * `openrecall encrypt` again finishes the job. Absent once the data dir is wholly encrypted.
   */
  state?: 'converting';
}

export class KeyRecordError extends Error {}

export const keyRecordPath = (dataDir: string) => path.join(dataDir, KEY_RECORD_FILE);

/** The data dir's key record, or null when it has none (a plain data dir, or a new one). */
export function readKeyRecord(dataDir: string): KeyRecord | null {
  let text: string;
  try {
    text = fs.readFileSync(keyRecordPath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let record: KeyRecord;
  try {
    record = JSON.parse(text) as KeyRecord;
  } catch {
    throw new KeyRecordError(`${keyRecordPath(dataDir)} is damaged (not JSON): restore it from a backup`);
  }
  if (record.version !== KEY_RECORD_VERSION) {
    throw new KeyRecordError(`${keyRecordPath(dataDir)} has version ${String(record.version)}, which this version of OpenRecall cannot read`);
  }
  if (!Array.isArray(record.wraps) || record.wraps.length === 0) throw new KeyRecordError(`${keyRecordPath(dataDir)} holds no wrapped key`);
  if (!DATABASE_CIPHERS.includes(record.database)) {
    throw new KeyRecordError(
      `${keyRecordPath(dataDir)}: its database is encrypted with ${String(record.database)}, which this version of OpenRecall cannot open`,
    );
  }
  return record;
}

export async function writeKeyRecord(dataDir: string, record: KeyRecord): Promise<void> {
  await writeFileAtomic(keyRecordPath(dataDir), `${JSON.stringify(record, null, 2)}\n`, { durable: true, mode: 0o600 });
}

/** `database`: the cipher of the record being rewritten (its database keeps it); a new data dir gets NEW_DATABASE_CIPHER. */
export function newKeyRecord(wraps: KeyWrap[], options: { database?: DatabaseCipher; state?: 'converting' } = {}): KeyRecord {
  const { database = NEW_DATABASE_CIPHER, state } = options;
  return { version: KEY_RECORD_VERSION, files: 'aes-256-gcm-chunked-v1', database, wraps, ...(state ? { state } : {}) };
}

/** The one line every entry point stops with on a data dir `openrecall encrypt` has not finished converting. */
export const interruptedEncryptionMessage = (dataDir: string) =>
  `${dataDir} is half encrypted (\`openrecall encrypt\` was interrupted): run \`openrecall encrypt\` again to finish it`;

export class EncryptionInterruptedError extends KeyRecordError {}

/** Throws EncryptionInterruptedError when `record` is one `openrecall encrypt` has not finished converting. */
export function refuseConverting(record: KeyRecord | null, dataDir: string): void {
  if (record?.state === 'converting') throw new EncryptionInterruptedError(interruptedEncryptionMessage(dataDir));
}
