import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type EncryptionConfig } from '../config.js';
import type { FileCipher } from '../files/file-cipher.js';
import { createAeadFileCipher } from './aead-file-cipher.js';
import { deriveSubkeys, newDataKey, type DatabaseCipher, type DatabaseKey, type Subkeys } from './data-key.js';
import {
  KEY_RECORD_FILE,
  KeyRecordError,
  newKeyRecord,
  readKeyRecord,
  refuseConverting,
  writeKeyRecord,
  type KeyRecord,
  type KeySourceKind,
} from './key-record.js';
import { wipe } from './secret-bytes.js';
import { KeySourceError, keyFileSource, keyringSource, passphraseSource, readKeyFile, type KeySource } from './key-sources.js';

/** The keys of an open encrypted data dir. `wipe()` zeroes every copy this process holds (`openrecall lock`). */
export interface EncryptionKeys {
  fileCipher: FileCipher;
  /** The SQLite database's raw 32-byte key and its cipher (openStore's `databaseKey`). */
  databaseKey: DatabaseKey;
  /** The source that opened it. */
  source: KeySourceKind;
  /**
   * The subkey buffers themselves (not copies), for the key pipe to the server's processor child only
   * (key-pipe.ts): never the IPC channel, whose serialised messages are copies nothing zeroes.
   */
  subkeys(): Subkeys;
  /** Zeroes the subkeys in place: the file cipher (which holds the files key itself, not a copy) opens nothing after. */
  wipe(): void;
}

export type OpenedEncryption =
  | { encrypted: false }
  | { encrypted: true; locked: false; keys: EncryptionKeys }
  /** Only a passphrase opens this data dir: serve the unlock page until `unlock` succeeds. */
  | { encrypted: true; locked: true; unlock(passphrase: string): Promise<EncryptionKeys> };

/** Why the start stops; the message is the one line printed (a ConfigError: exit status 2, nothing touched). */
export class EncryptionStartError extends ConfigError {}

export class WrongPassphraseError extends Error {
  override readonly name = 'WrongPassphraseError';
  constructor() {
    super('the passphrase does not open the data dir');
  }
}

export interface OpenEncryptionOptions {
  /**
   * The folder's plain files are its owner's to seal, not a reason to refuse the first encrypted start: the capture
   * client's buffer, whose frames not yet sent are sealed in place (src/client/buffer.ts).
   */
  sealsPlainFilesItself?: boolean;
}

/**
 * What the entry points (server, worker, offline commands, the capture client for its buffer) call before opening
 * the store or any file of the data dir. The first start with encryption on makes the data key; every later start
 * opens it or stops with one line.
 */
export async function openEncryption(config: EncryptionConfig, dataDir: string, options: OpenEncryptionOptions = {}): Promise<OpenedEncryption> {
  try {
    const record = readKeyRecord(dataDir);
    refuseConverting(record, dataDir);
    if (config.mode === 'off') {
      if (record) throw new EncryptionStartError(`${dataDir} is encrypted: start with OPENRECALL_ENCRYPTION=on (and its key file, keyring or passphrase)`);
      return { encrypted: false };
    }
    if (!record) return { encrypted: true, locked: false, keys: await createKeys(config, dataDir, options) };
    return await openKeys(config, dataDir, record);
  } catch (error) {
    if (error instanceof KeySourceError || error instanceof KeyRecordError) throw new EncryptionStartError(error.message);
    throw error;
  }
}

async function createKeys(config: EncryptionConfig, dataDir: string, options: OpenEncryptionOptions): Promise<EncryptionKeys> {
  const leftover = options.sealsPlainFilesItself ? undefined : firstDataFile(dataDir, config.keyFile);
  if (leftover !== undefined) {
    throw new EncryptionStartError(
      `${dataDir} holds a memory that is not encrypted (${leftover}): run \`openrecall encrypt\` to encrypt it in place, or start with OPENRECALL_ENCRYPTION=off`,
    );
  }
  const source: KeySource = config.keyFile ? keyFileSource(await readKeyFile(config.keyFile, { create: true })) : keyringSource();
  const dataKey = newDataKey();
  const wrap = await source.wrap(dataKey);
  await fs.promises.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const record = newKeyRecord([wrap]);
  await writeKeyRecord(dataDir, record);
  return keysFrom(dataKey, source.kind, record.database);
}

async function openKeys(config: EncryptionConfig, dataDir: string, record: KeyRecord): Promise<OpenedEncryption> {
  const has = (kind: KeySourceKind) => record.wraps.some((w) => w.source === kind);
  if (config.keyFile) {
    if (!has('key-file')) {
      throw new EncryptionStartError(
        `${dataDir} cannot be opened with a key file (its key is kept by: ${kinds(record)}); add one with \`openrecall rekey --to key-file\``,
      );
    }
    const dataKey = await unwrapWith(keyFileSource(await readKeyFile(config.keyFile, { create: false })), record);
    if (!dataKey) throw new EncryptionStartError(`the key in ${config.keyFile} does not open the data dir ${dataDir}`);
    return { encrypted: true, locked: false, keys: keysFrom(dataKey, 'key-file', record.database) };
  }
  let keyringFailure: KeySourceError | undefined;
  if (has('keyring')) {
    try {
      const dataKey = await unwrapWith(keyringSource(), record);
      if (dataKey) return { encrypted: true, locked: false, keys: keysFrom(dataKey, 'keyring', record.database) };
    } catch (error) {
      if (!(error instanceof KeySourceError)) throw error;
      keyringFailure = error;
    }
  }
  if (has('passphrase')) {
    return {
      encrypted: true,
      locked: true,
      async unlock(passphrase) {
        const dataKey = await unwrapWith(passphraseSource(passphrase), record);
        if (!dataKey) throw new WrongPassphraseError();
        return keysFrom(dataKey, 'passphrase', record.database);
      },
    };
  }
  if (keyringFailure) throw keyringFailure;
  if (has('keyring'))
    throw new EncryptionStartError(`the OS keyring holds no key that opens the data dir ${dataDir}: set OPENRECALL_ENCRYPTION_KEY_FILE if it has a key file`);
  throw new EncryptionStartError(`${dataDir} is encrypted with a key file: set OPENRECALL_ENCRYPTION_KEY_FILE to it`);
}

/** The capture client's buffer folder in a data dir (config.ts `dataPaths().buffer`). */
const CLIENT_BUFFER_DIR = 'buffer';

const kinds = (record: KeyRecord) => [...new Set(record.wraps.map((w) => w.source))].join(', ');

/** The data key from the first wrap of `source`'s kind that it opens, or null. */
export async function unwrapWith(source: KeySource, record: KeyRecord): Promise<Buffer | null> {
  for (const wrap of record.wraps) {
    if (wrap.source !== source.kind) continue;
    const dataKey = await source.unwrap(wrap);
    if (dataKey) return dataKey;
  }
  return null;
}

/** `databaseCipher`: the key record's `database`, what the data dir's database was encrypted with. */
export function keysFrom(dataKey: Buffer, source: KeySourceKind, databaseCipher: DatabaseCipher): EncryptionKeys {
  const subkeys = deriveSubkeys(dataKey);
  wipe(dataKey);
  return keysOfSubkeys(subkeys, source, databaseCipher);
}

/**
 * Opens a data dir again after `openrecall lock` (POST /api/unlock on the locked app): with a passphrase, its wrap;
 * without one, the source the server is configured with (its key file or the OS keyring, read again). A data dir
 * that only a passphrase opens answers PassphraseNeededError to an unlock without one.
 */
export async function reopenEncryption(config: EncryptionConfig, dataDir: string, passphrase: string | undefined): Promise<EncryptionKeys> {
  if (passphrase !== undefined) {
    const record = readKeyRecord(dataDir);
    if (!record) throw new EncryptionStartError(`${dataDir} is not encrypted any more (its ${KEY_RECORD_FILE} is gone)`);
    if (!record.wraps.some((w) => w.source === 'passphrase')) throw new EncryptionStartError(`${dataDir} has no passphrase: unlock it without one`);
    const dataKey = await unwrapWith(passphraseSource(passphrase), record);
    if (!dataKey) throw new WrongPassphraseError();
    return keysFrom(dataKey, 'passphrase', record.database);
  }
  const opened = await openEncryption(config, dataDir);
  if (!opened.encrypted) throw new EncryptionStartError(`${dataDir} is not encrypted any more (its ${KEY_RECORD_FILE} is gone)`);
  if (opened.locked) throw new PassphraseNeededError();
  return opened.keys;
}

export class PassphraseNeededError extends Error {
  override readonly name = 'PassphraseNeededError';
  constructor() {
    super('only a passphrase opens this data dir: give it');
  }
}

/** Keys over subkey buffers the caller hands over (secretBytes buffers: `wipe()` zeroes them in place). */
export function keysOfSubkeys(subkeys: Subkeys, source: KeySourceKind, databaseCipher: DatabaseCipher): EncryptionKeys {
  return {
    fileCipher: createAeadFileCipher(subkeys.files),
    databaseKey: { key: subkeys.database, cipher: databaseCipher },
    source,
    subkeys: () => subkeys,
    wipe: () => wipe(subkeys.files, subkeys.database),
  };
}

/**
 * The first file that shows `dataDir` already holds a memory (anything but the key record, the lock, the key file
 * and `buffer/`: a capture client's buffer, which has its own key record and seals its own files).
 */
function firstDataFile(dataDir: string, keyFile: string | undefined): string | undefined {
  const ignored = new Set([KEY_RECORD_FILE, 'server.lock']);
  const walk = (dir: string): string | undefined => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (dir === dataDir && entry.name === CLIENT_BUFFER_DIR) continue;
        const found = walk(full);
        if (found !== undefined) return found;
      } else if (!(dir === dataDir && ignored.has(entry.name)) && (keyFile === undefined || path.resolve(full) !== path.resolve(keyFile))) {
        return path.relative(dataDir, full);
      }
    }
    return undefined;
  };
  return walk(dataDir);
}
