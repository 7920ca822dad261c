import crypto from 'node:crypto';
import { HEADER_BYTES, looksSealed } from '../encryption/aead-file-cipher.js';
import { KEY_RECORD_FILE } from '../encryption/key-record.js';
import { DataDir } from '../files/data-dir.js';
import { plainCipher } from '../files/plain-cipher.js';
import type { Logger } from '../log.js';

/**
 * The crash-safe frame buffer, `<data dir>/buffer`. One item is one file, `<capture_id>.orf`:
 *
 *   OPENRECALL-FRAME 1\n
 *   {"captureId":..., "timestamp":..., "app":..., "title":..., "monitor":..., "contentType":..., "imageBytes":N, "sha256":...}\n
 *   <N image bytes>
 *
 * It is written to a temporary file, fsynced, renamed into place and the directory fsynced, so a crash at any
 * moment leaves either the complete item or no item (plus at worst a temporary file, quarantined on the next
 * start). capture_ids are time-ordered, so name order is capture order: uploads go oldest first.
 *
 * When the buffer would exceed its size cap, the OLDEST items are dropped to make room for the new frame
 * (recent memory is worth more than old, and the newest frame is the one that cannot be recaptured later);
 * every drop is counted and logged. Quarantined items live in `quarantine/` next to a `<name>.reason.txt`; the
 * quarantine keeps its newest QUARANTINE_MAX_ITEMS items and does not count against the cap.
 *
 * With OPENRECALL_ENCRYPTION=on the buffer's DataDir seals every file (src/client/buffer-cipher.ts; the folder's
 * own `encryption.json` holds its wrapped key). Files left plain from before encryption was switched on (items not
 * yet sent, quarantined ones) are sealed in place when the buffer opens, before anything else: nothing is lost,
 * and no screenshot stays readable on the disk.
 */

const MAGIC = 'OPENRECALL-FRAME 1\n';
const EXTENSION = '.orf';
const TEMP_PREFIX = '.tmp-';
/** Enough of a file's head to tell a sealed file (src/encryption/aead-file-cipher.ts) from a plain one. */
const SEALED_HEAD_BYTES = HEADER_BYTES;
const QUARANTINE_SEAL_PREFIX = '.seal-';
export const QUARANTINE_DIR = 'quarantine';
export const QUARANTINE_MAX_ITEMS = 500;

export interface FrameMeta {
  captureId: string;
  /** Unix seconds, fraction allowed. */
  timestamp: number;
  app: string;
  title: string;
  monitor: number;
  contentType: string;
}

export interface BufferedFrame {
  name: string;
  meta: FrameMeta;
  image: Buffer;
}

export class CorruptItemError extends Error {}

export interface BufferStats {
  items: number;
  bytes: number;
  maxBytes: number;
  /** Frames dropped since start because the buffer was full (or could not be written). */
  dropped: number;
  /** Items moved to quarantine since start. */
  quarantined: number;
}

interface Entry {
  name: string;
  size: number;
}

export function encodeItem(meta: FrameMeta, image: Buffer): Buffer {
  const header = JSON.stringify({ ...meta, imageBytes: image.length, sha256: crypto.createHash('sha256').update(image).digest('hex') });
  return Buffer.concat([Buffer.from(`${MAGIC + header}\n`, 'utf8'), image]);
}

export function decodeItem(bytes: Buffer): { meta: FrameMeta; image: Buffer } {
  if (bytes.length < MAGIC.length || bytes.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) {
    throw new CorruptItemError('not an OpenRecall frame (bad magic)');
  }
  const end = bytes.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw new CorruptItemError('truncated header');
  let header: FrameMeta & { imageBytes: number; sha256: string };
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length, end).toString('utf8'));
  } catch {
    throw new CorruptItemError('unreadable header');
  }
  const image = bytes.subarray(end + 1);
  if (typeof header.captureId !== 'string' || typeof header.timestamp !== 'number' || typeof header.imageBytes !== 'number') {
    throw new CorruptItemError('header lacks captureId, timestamp or imageBytes');
  }
  if (image.length !== header.imageBytes) throw new CorruptItemError(`image is ${image.length} bytes, header says ${header.imageBytes}`);
  if (crypto.createHash('sha256').update(image).digest('hex') !== header.sha256) throw new CorruptItemError('image checksum mismatch');
  const { imageBytes: _bytes, sha256: _sha, ...meta } = header;
  return {
    meta: {
      ...meta,
      app: String(meta.app ?? ''),
      title: String(meta.title ?? ''),
      monitor: Number(meta.monitor ?? 0),
      contentType: String(meta.contentType ?? 'image/png'),
    },
    image,
  };
}

export class FrameBuffer {
  readonly dir: string;
  readonly quarantineDir: string;
  /** Every byte of the buffer goes through it (the client's own DataDir, rooted at the buffer folder). */
  private readonly files: DataDir;
  private entries: Entry[] = [];
  private bytes = 0;
  private dropped = 0;
  private quarantined = 0;
  /** The item the uploader is sending: never dropped from under it. */
  private inFlight: string | undefined;
  private readonly listeners = new Set<() => void>();

  /** `dir`: the buffer's DataDir (files/open-data-dir.ts); a bare path (tests) keeps its files plain. */
  constructor(
    dir: DataDir | string,
    private readonly maxBytes: number,
    private readonly log: Logger,
    /** Tests only: pause this long halfway through writing an item, so that a kill lands mid-write. */
    private readonly testWriteDelayMs = 0,
  ) {
    this.files = typeof dir === 'string' ? new DataDir(dir, plainCipher) : dir;
    this.dir = this.files.root;
    this.quarantineDir = this.files.resolve(QUARANTINE_DIR);
  }

  /** Creates the folders and indexes the backlog; quarantines leftovers of interrupted writes and stray files. */
  open(): void {
    // Screenshots are private: only the user may read the buffer.
    this.files.mkdirpSync(QUARANTINE_DIR);
    this.sealPlainItems();
    const entries: Entry[] = [];
    for (const dirent of this.files.entriesSync('')) {
      if (dirent.name === QUARANTINE_DIR || dirent.name === KEY_RECORD_FILE) continue;
      if (dirent.isFile && dirent.name.endsWith(EXTENSION) && !dirent.name.startsWith('.')) {
        entries.push({ name: dirent.name, size: this.files.statSync(dirent.name)?.plainBytes ?? 0 });
      } else if (dirent.name.startsWith(TEMP_PREFIX)) {
        this.moveToQuarantine(dirent.name, 'incomplete write: temporary file left by a crash or kill during buffering');
      } else {
        this.moveToQuarantine(dirent.name, 'orphaned: not a buffer item');
      }
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.entries = entries;
    this.bytes = entries.reduce((sum, e) => sum + e.size, 0);
    this.sealPlainQuarantine();
    this.pruneQuarantine();
    if (entries.length) this.log(`buffer: resuming ${entries.length} frame(s) (${(this.bytes / 1024 / 1024).toFixed(1)} MB) not yet uploaded, oldest first`);
  }

  /** Encryption switched on over a plain buffer: its items are sealed where they are (before their sizes are read). */
  private sealPlainItems(): void {
    if (this.files.cipher.kind === 'plain') return;
    let sealed = 0;
    for (const dirent of this.files.entriesSync('')) {
      if (!dirent.isFile || !dirent.name.endsWith(EXTENSION) || dirent.name.startsWith('.') || this.isSealed(dirent.name)) continue;
      // A crash here leaves the plain item (sealed on the next start) and a temporary (quarantined, then sealed).
      this.files.sealInPlaceSync(dirent.name, `${TEMP_PREFIX}seal-${dirent.name}-${process.pid}`);
      sealed++;
    }
    if (sealed) this.log(`buffer: sealed ${sealed} frame(s) left unencrypted from before encryption was switched on`);
  }

  /** The same for the quarantine (after the start's scan moved leftovers there). */
  private sealPlainQuarantine(): void {
    if (this.files.cipher.kind === 'plain') return;
    for (const dirent of this.files.entriesSync(QUARANTINE_DIR)) {
      const name = `${QUARANTINE_DIR}/${dirent.name}`;
      if (!dirent.isFile) continue;
      // What a crash while sealing left: a copy of a file that is still there.
      if (dirent.name.startsWith(QUARANTINE_SEAL_PREFIX)) this.files.removeSync(name);
      else if (!this.isSealed(name)) this.files.sealInPlaceSync(name, `${QUARANTINE_DIR}/${QUARANTINE_SEAL_PREFIX}${dirent.name}-${process.pid}`);
    }
  }

  private isSealed(name: string): boolean {
    return looksSealed(this.files.readHeadSync(name, SEALED_HEAD_BYTES));
  }

  /** Called after every successful write. */
  onWrite(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): BufferStats {
    return { items: this.entries.length, bytes: this.bytes, maxBytes: this.maxBytes, dropped: this.dropped, quarantined: this.quarantined };
  }

  /** Writes a frame atomically (temp file, fsync, rename, fsync dir). Returns false when it could not be kept. */
  write(meta: FrameMeta, image: Buffer): boolean {
    const name = `${meta.captureId}${EXTENSION}`;
    const bytes = encodeItem(meta, image);
    if (bytes.length > this.maxBytes) {
      this.dropped++;
      this.log(
        `buffer: dropped frame ${meta.captureId}: ${bytes.length} bytes is more than the whole buffer cap (${this.maxBytes}); ${this.dropped} dropped so far`,
      );
      return false;
    }
    this.makeRoom(bytes.length);
    try {
      this.files.writeFileViaSync(name, `${TEMP_PREFIX}${meta.captureId}-${process.pid}`, bytes, { pauseHalfwayMs: this.testWriteDelayMs });
    } catch (error) {
      this.dropped++;
      this.log(
        `buffer: could not write frame ${meta.captureId} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${this.dropped} dropped so far`,
      );
      return false;
    }
    this.entries.push({ name, size: bytes.length });
    this.bytes += bytes.length;
    // capture_ids are time-ordered; keep the index sorted even if the clock stepped back.
    const n = this.entries.length;
    if (n > 1 && this.entries[n - 2]!.name > name) this.entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const listener of this.listeners) listener();
    return true;
  }

  private makeRoom(incoming: number): void {
    while (this.bytes + incoming > this.maxBytes) {
      const victim = this.entries.find((e) => e.name !== this.inFlight);
      if (!victim) break;
      this.forget(victim.name);
      this.files.removeSync(victim.name);
      this.dropped++;
      this.log(
        `buffer: full (cap ${(this.maxBytes / 1024 / 1024).toFixed(1)} MB): dropped the oldest frame ${victim.name.slice(0, -EXTENSION.length)}; ${this.dropped} dropped so far`,
      );
    }
  }

  /** The oldest item's name, marking it in flight. */
  next(): string | undefined {
    this.inFlight = this.entries[0]?.name;
    return this.inFlight;
  }

  /** Reads and verifies an item; throws CorruptItemError when it is damaged. */
  read(name: string): BufferedFrame {
    let bytes: Buffer;
    try {
      bytes = this.files.readFileSync(name);
    } catch (error) {
      throw new CorruptItemError(`unreadable: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    return { name, ...decodeItem(bytes) };
  }

  /** Delivered: the item leaves the buffer. */
  remove(name: string): void {
    this.forget(name);
    this.files.removeSync(name);
  }

  quarantine(name: string, reason: string): void {
    this.forget(name);
    this.moveToQuarantine(name, reason);
    this.pruneQuarantine();
  }

  private forget(name: string): void {
    const index = this.entries.findIndex((e) => e.name === name);
    if (index >= 0) {
      this.bytes -= this.entries[index]!.size;
      this.entries.splice(index, 1);
    }
    if (this.inFlight === name) this.inFlight = undefined;
  }

  private moveToQuarantine(name: string, reason: string): void {
    const target = `${QUARANTINE_DIR}/${name.startsWith('.') ? name.slice(1) : name}`;
    try {
      this.files.writeFileAtomicSync(`${target}.reason.txt`, `${new Date().toISOString()} ${reason}\n`);
      this.files.renameSync(name, target);
    } catch (error) {
      this.log(`buffer: could not quarantine ${name}: ${(error as Error).message}; deleting it`);
      this.files.removeSync(name, { recursive: true });
    }
    this.quarantined++;
    this.log(`buffer: quarantined ${name}: ${reason}`);
  }

  private pruneQuarantine(): void {
    const items = this.files
      .listSync(QUARANTINE_DIR)
      .filter((n) => !n.endsWith('.reason.txt'))
      .map((n) => ({ n, t: this.files.statSync(`${QUARANTINE_DIR}/${n}`)?.modifiedMs ?? 0 }))
      .sort((a, b) => a.t - b.t)
      .map((e) => e.n);
    for (const old of items.slice(0, Math.max(0, items.length - QUARANTINE_MAX_ITEMS))) {
      this.files.removeSync(`${QUARANTINE_DIR}/${old}`, { recursive: true });
      this.files.removeSync(`${QUARANTINE_DIR}/${old}.reason.txt`);
    }
  }
}
