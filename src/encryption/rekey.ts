import { newKeyRecord, readKeyRecord, refuseConverting, writeKeyRecord, KeyRecordError } from './key-record.js';
import { KeySourceError, keyringSource, type KeySource } from './key-sources.js';
import { unwrapWith } from './open-encryption.js';

export interface RekeyOptions {
  /** Drop every other wrap too, so only `next` opens the data dir (default: only the wraps of next's kind go). */
  only?: boolean;
}

/**
 * Changes what opens the data dir without touching its data: the data key stays, only its wraps change. The new
 * record is written atomically and durably; until the rename, the old record (and every old secret) still opens
 * it. Keyring entries of dropped wraps are deleted only after that.
 */
/** `makeNext` runs only once the current key has opened the data dir (it may create a key file, ask for a passphrase). */
export async function rekey(dataDir: string, current: KeySource, makeNext: () => Promise<KeySource>, options: RekeyOptions = {}): Promise<void> {
  const record = readKeyRecord(dataDir);
  if (!record) throw new KeyRecordError(`${dataDir} is not encrypted: there is no key to change`);
  refuseConverting(record, dataDir);
  const dataKey = await unwrapWith(current, record);
  if (!dataKey) throw new KeySourceError(`the current ${current.kind} does not open the data dir ${dataDir}`);
  let next: KeySource;
  let wrap: Awaited<ReturnType<KeySource['wrap']>>;
  try {
    next = await makeNext();
    wrap = await next.wrap(dataKey);
  } finally {
    dataKey.fill(0);
  }
  const kept = options.only ? [] : record.wraps.filter((w) => w.source !== next.kind);
  const dropped = record.wraps.filter((w) => !kept.includes(w));
  await writeKeyRecord(dataDir, newKeyRecord([...kept, wrap], { database: record.database }));
  const keyring = keyringSource();
  for (const old of dropped) if (old.source === 'keyring') await keyring.forget?.(old);
}
