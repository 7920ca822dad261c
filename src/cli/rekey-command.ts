import { loadServerConfig } from '../config.js';
import { EncryptionStartError } from '../encryption/open-encryption.js';
import { KeyRecordError, readKeyRecord } from '../encryption/key-record.js';
import { KeySourceError } from '../encryption/key-sources.js';
import { rekey } from '../encryption/rekey.js';
import { currentSource, isKeySourceChoice, nextSource, type KeySourceChoice } from './key-source-choice.js';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: openrecall rekey --to passphrase|keyring|key-file [--key-file PATH] [--only]';

/**
 * `openrecall rekey`: changes the key-encryption key (passphrase, keyring entry or key file) of an encrypted data
 * dir without rewriting its data. The current key comes from OPENRECALL_ENCRYPTION_KEY_FILE, the keyring, or the
 * current passphrase (asked for). A running server is not affected: its data key does not change.
 */
export async function rekeyCommand(args: string[]): Promise<number> {
  const { to, keyFile, only } = parseArgs(args);
  const config = loadServerConfig();
  try {
    const record = readKeyRecord(config.dataDir);
    if (!record) throw new UsageError(`${config.dataDir} is not encrypted (set OPENRECALL_ENCRYPTION=on on a new data dir, or run \`openrecall encrypt\`)`);
    const current = await currentSource(record, config.encryption?.keyFile);
    await rekey(config.dataDir, current, () => nextSource(to, keyFile, { existingKeyFile: 'refuse' }), { only });
    console.log(
      `openrecall: the data dir now opens with the new ${to}${only ? ' only' : ''}${to === 'key-file' ? `: set OPENRECALL_ENCRYPTION_KEY_FILE=${keyFile}` : ''}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof KeySourceError || error instanceof KeyRecordError) throw new EncryptionStartError(error.message);
    throw error;
  }
}

function parseArgs(args: string[]): { to: KeySourceChoice; keyFile?: string; only: boolean } {
  let to: string | undefined;
  let keyFile: string | undefined;
  let only = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--to') to = args[++i];
    else if (arg === '--key-file') keyFile = args[++i];
    else if (arg === '--only') only = true;
    else throw new UsageError(`unknown option ${arg}; ${USAGE}`);
  }
  if (!isKeySourceChoice(to)) throw new UsageError(USAGE);
  if ((to === 'key-file') !== (keyFile !== undefined)) throw new UsageError(`--key-file PATH goes with --to key-file; ${USAGE}`);
  return { to, ...(keyFile ? { keyFile } : {}), only };
}
