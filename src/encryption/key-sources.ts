import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../files/atomic-write.js';
import { KEY_BYTES, unwrapDataKey, wrapDataKey } from './data-key.js';
import type { Argon2idParameters, KeySourceKind, KeyWrap } from './key-record.js';
import { base64Secret, fromBase64Secret, randomSecret, secretBytes, wipe } from './secret-bytes.js';

/**
 * Where a key-encryption key (KEK) comes from. Each source wraps the data key its own way and can open only its
 * own kind of wrap; `unwrap` answers null when its secret is not the one the wrap was made with.
 */
export interface KeySource {
  readonly kind: KeySourceKind;
  wrap(dataKey: Buffer): Promise<KeyWrap>;
  unwrap(wrap: KeyWrap): Promise<Buffer | null>;
  /** After a rekey replaced this wrap and the new record is durable: drop what only it used (a keyring entry). */
  forget?(wrap: KeyWrap): Promise<void>;
}

/** A key source that cannot be used (wrong size key file, no keyring): the message is the one line printed. */
export class KeySourceError extends Error {}

// ---------------------------------------------------------------- OPENRECALL_ENCRYPTION_KEY_FILE (servers, workers)

/**
 * 32 random bytes in a 0600 file, or a pipe that gives them (a FIFO a secrets manager writes the key into, read
 * once). `create` makes a missing file (a new data dir, a rekey to a new file). The bytes are read straight into a
 * secretBytes buffer: readFile would gather a pipe's pieces in pooled buffers and copy them.
 */
export async function readKeyFile(file: string, options: { create: boolean }): Promise<Buffer> {
  let key: Buffer;
  let length: number;
  try {
    ({ key, length } = await readExactly(file, KEY_BYTES));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new KeySourceError(`OPENRECALL_ENCRYPTION_KEY_FILE ${file} cannot be read: ${(error as Error).message}`);
    if (!options.create)
      throw new KeySourceError(`OPENRECALL_ENCRYPTION_KEY_FILE ${file} does not exist, and only the key it held opens this encrypted data dir`);
    key = randomSecret(KEY_BYTES);
    await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, key, { durable: true, mode: 0o600 });
    return key;
  }
  if (length !== KEY_BYTES) {
    wipe(key);
    throw new KeySourceError(
      `OPENRECALL_ENCRYPTION_KEY_FILE ${file} holds ${length} bytes: a key file is exactly ${KEY_BYTES} random bytes (delete it on a new data dir to have one made)`,
    );
  }
  return key;
}

/**
 * The first `wanted` bytes of `file` (a regular file or a pipe, read to its end) in a secret buffer, and how many
 * bytes it held in all: a longer file is counted, not kept.
 */
async function readExactly(file: string, wanted: number): Promise<{ key: Buffer; length: number }> {
  const handle = await fs.promises.open(file, 'r');
  const key = secretBytes(wanted);
  const rest = secretBytes(4096);
  let length = 0;
  try {
    for (;;) {
      const into = length < wanted ? key : rest;
      const at = length < wanted ? length : 0;
      const { bytesRead } = await handle.read(into, at, into.length - at, null);
      if (bytesRead === 0) return { key, length };
      length += bytesRead;
    }
  } catch (error) {
    wipe(key);
    throw error;
  } finally {
    wipe(rest);
    await handle.close();
  }
}

export function keyFileSource(kek: Buffer): KeySource {
  return {
    kind: 'key-file',
    wrap: async (dataKey) => ({ source: 'key-file', ...wrapDataKey(dataKey, kek, 'key-file') }),
    unwrap: async (wrap) => (wrap.source === 'key-file' ? unwrapDataKey(wrap, kek, 'key-file') : null),
  };
}

// ---------------------------------------------------------------- a passphrase (Argon2id)

/** OWASP's first Argon2id choice is 46 MiB, t=1; this spends more (64 MiB, t=3): it runs once per unlock. */
export const DEFAULT_ARGON2ID = { memoryCost: 64 * 1024, timeCost: 3, parallelism: 1 } as const;

/** Argon2id of a passphrase with the given parameters: 32 bytes (a KEK, or an encrypted export's key). */
export async function passphraseKek(passphrase: string, kdf: Argon2idParameters): Promise<Buffer> {
  const { hashRaw, Algorithm } = await import('@node-rs/argon2');
  return hashRaw(passphrase.normalize('NFC'), {
    algorithm: Algorithm.Argon2id,
    memoryCost: kdf.memoryCost,
    timeCost: kdf.timeCost,
    parallelism: kdf.parallelism,
    outputLen: KEY_BYTES,
    salt: Buffer.from(kdf.salt, 'base64'),
  });
}

export function passphraseSource(passphrase: string, cost: Omit<Argon2idParameters, 'algorithm' | 'salt'> = DEFAULT_ARGON2ID): KeySource {
  if (passphrase.length === 0) throw new KeySourceError('the passphrase is empty');
  return {
    kind: 'passphrase',
    async wrap(dataKey) {
      const kdf: Argon2idParameters = { algorithm: 'argon2id', ...cost, salt: crypto.randomBytes(16).toString('base64') };
      const kek = await passphraseKek(passphrase, kdf);
      try {
        return { source: 'passphrase', kdf, ...wrapDataKey(dataKey, kek, 'passphrase') };
      } finally {
        kek.fill(0);
      }
    },
    async unwrap(wrap) {
      if (wrap.source !== 'passphrase') return null;
      const kek = await passphraseKek(passphrase, wrap.kdf);
      try {
        return unwrapDataKey(wrap, kek, 'passphrase');
      } finally {
        kek.fill(0);
      }
    },
  };
}

// ---------------------------------------------------------------- the OS keyring (desktops)

export const KEYRING_SERVICE = 'openrecall';

type Entry = import('@napi-rs/keyring').AsyncEntry;

async function keyringEntry(account: string): Promise<Entry> {
  const { AsyncEntry } = await import('@napi-rs/keyring');
  // Pinned to the Secret Service on Linux: the fallback (the kernel keyring) forgets its keys at reboot.
  return new AsyncEntry(KEYRING_SERVICE, account, { linux: { store: 'secret-service' } });
}

const keyringFailure = (error: unknown) =>
  new KeySourceError(`the OS keyring cannot be used (${(error as Error).message.split('\n')[0]}): unlock it, or set OPENRECALL_ENCRYPTION_KEY_FILE`);

/** Each wrap has its own keyring account, so a rekey's new secret never overwrites the one the old record needs. */
export function keyringSource(): KeySource {
  return {
    kind: 'keyring',
    async wrap(dataKey) {
      const account = `data-key-${crypto.randomUUID()}`;
      const kek = randomSecret(KEY_BYTES);
      // Kept as base64 text (what entries made with setPassword hold), handed over as bytes: never a string.
      const text = base64Secret(kek);
      try {
        await (await keyringEntry(account)).setSecret(text);
        return { source: 'keyring', account, ...wrapDataKey(dataKey, kek, 'keyring') };
      } catch (error) {
        throw keyringFailure(error);
      } finally {
        wipe(kek, text);
      }
    },
    async unwrap(wrap) {
      if (wrap.source !== 'keyring') return null;
      // getSecret: the entry's bytes as an array of small numbers, zeroed after; getPassword would make a string.
      let secret: number[] | null;
      try {
        secret = await (await keyringEntry(wrap.account)).getSecret();
      } catch (error) {
        throw keyringFailure(error);
      }
      if (secret === null) return null;
      const kek = fromBase64Secret(secret);
      secret.fill(0);
      if (kek === null) return null;
      try {
        return unwrapDataKey(wrap, kek, 'keyring');
      } finally {
        wipe(kek);
      }
    },
    async forget(wrap) {
      if (wrap.source !== 'keyring') return;
      try {
        await (await keyringEntry(wrap.account)).deletePassword();
      } catch {
        // The new record is durable already: an entry left behind opens nothing it names.
      }
    },
  };
}
