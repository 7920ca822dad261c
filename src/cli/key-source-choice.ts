import fs from 'node:fs';
import path from 'node:path';
import type { KeyRecord } from '../encryption/key-record.js';
import { KeySourceError, keyFileSource, keyringSource, passphraseSource, readKeyFile, type KeySource } from '../encryption/key-sources.js';
import { readSecret } from './read-secret.js';
import { UsageError } from './usage-error.js';

/** What `--to` names: the key source that opens the data dir from now on (`rekey`, `encrypt`). */
export type KeySourceChoice = 'passphrase' | 'keyring' | 'key-file';

export const isKeySourceChoice = (value: string | undefined): value is KeySourceChoice => value === 'passphrase' || value === 'keyring' || value === 'key-file';

/** The source that opens `record` now: OPENRECALL_ENCRYPTION_KEY_FILE, the keyring, or the passphrase (asked for). */
export async function currentSource(record: KeyRecord, keyFile: string | undefined): Promise<KeySource> {
  const has = (kind: string) => record.wraps.some((w) => w.source === kind);
  if (keyFile && has('key-file')) return keyFileSource(await readKeyFile(keyFile, { create: false }));
  if (has('keyring')) return keyringSource();
  if (has('passphrase')) return passphraseSource(await readSecret('Current passphrase: '));
  throw new KeySourceError('the data dir is encrypted with a key file: set OPENRECALL_ENCRYPTION_KEY_FILE to it');
}

/**
 * The new source `--to` names. A key file is made (32 random bytes, 0600) when missing; `existingKeyFile` says
 * whether one that exists may be used (`encrypt`: there is no older key to lose) or is refused (`rekey`:
 * overwriting the current key file before the new record is durable could lose both). A new passphrase is asked
 * twice on a terminal.
 */
export async function nextSource(to: KeySourceChoice, keyFile: string | undefined, options: { existingKeyFile: 'use' | 'refuse' }): Promise<KeySource> {
  if (to === 'keyring') return keyringSource();
  if (to === 'key-file') {
    const file = path.resolve(keyFile!);
    if (options.existingKeyFile === 'refuse' && fs.existsSync(file)) throw new UsageError(`${file} exists: give a new path for the new key file`);
    return keyFileSource(await readKeyFile(file, { create: true }));
  }
  const passphrase = await readSecret('New passphrase: ');
  if (process.stdin.isTTY && (await readSecret('Repeat the new passphrase: ')) !== passphrase) throw new UsageError('the two passphrases differ');
  return passphraseSource(passphrase);
}
