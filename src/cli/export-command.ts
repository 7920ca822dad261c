import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { dataPaths, loadServerConfig } from '../config.js';
import { FILE_MODE } from '../files/owner-only.js';
import { ImageStore } from '../images/image-store.js';
import { openMemory } from './open-memory.js';
import { compactedReader } from '../images/compaction/frame-reader.js';
import { isCompactedPath } from '../images/compaction/manifest.js';
import { type ExportRow, openExportReader } from '../store/open-store.js';
import { UsageError } from './usage-error.js';
import type { Writable } from 'node:stream';
import { newExportKey, sealExport, type ExportSecret } from '../encryption/sealed-export.js';
import { readSecret } from './read-secret.js';
import { ProgressBar } from './progress.js';

const USAGE =
  'usage: openrecall export [--since T] [--until T] [--key-file PATH | --plain | --encrypt] <file.zip>  (T: Unix seconds or a date such as 2026-03-01 or 2026-03-01T14:00Z)';

export const PLAIN_EXPORT_WARNING = 'warning: --plain: this export is NOT encrypted: anyone who can read the file sees every screenshot and its text';

/** One line of frames.jsonl, and the frames/<id>.json before each image. */
export type ExportedFrame = Omit<ExportRow, 'image_path'> & {
  /** Path of the image inside the zip. */
  image: string;
};

export const EXPORT_FORMAT = 'openrecall-export';

export function parseTime(value: string, option: string): number {
  const number = Number(value);
  if (value.trim() !== '' && Number.isFinite(number)) return number;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new UsageError(`${option} "${value}" is not a time; ${USAGE}`);
  return parsed / 1000;
}

/**
 * `openrecall export`: writes the COMPLETED frames captured in [since, until) to a zip: export.json (format,
 * range), then per frame frames/<id>.json (metadata, OCR text, description) followed by its image (the stored
 * WebP, or a compacted frame rebuilt as PNG), and frames.jsonl with every frame's line at the end. Reads the
 * data dir directly (the database read-only), so it works whether or not a server runs. On an encrypted data dir the
 * zip is sealed as it is written (src/encryption/sealed-export.ts: a passphrase through Argon2id, or --key-file);
 * --plain writes it in the clear, with a warning. The file is 0600 either way.
 */
export async function exportCommand(args: string[]): Promise<number> {
  let values: { since?: string; until?: string; plain?: boolean; encrypt?: boolean; 'key-file'?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        plain: { type: 'boolean' },
        encrypt: { type: 'boolean' },
        'key-file': { type: 'string' },
      },
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  if (positionals.length !== 1) throw new UsageError(USAGE);
  if (values.plain && (values.encrypt || values['key-file'] !== undefined)) throw new UsageError(`--plain cannot go with --encrypt or --key-file; ${USAGE}`);
  const target = path.resolve(positionals[0]!);
  if (!fs.existsSync(path.dirname(target))) throw new UsageError(`no directory ${path.dirname(target)} for ${positionals[0]}`);
  const since = values.since !== undefined ? parseTime(values.since, '--since') : 0;
  const until = values.until !== undefined ? parseTime(values.until, '--until') : Number.MAX_SAFE_INTEGER;
  const { dataDir, databaseUrl } = loadServerConfig();
  if (databaseUrl) {
    // It reads the SQLite file directly (so that it works with or without a server); not written for PostgreSQL yet.
    console.error('openrecall: export reads a SQLite data dir; it does not support OPENRECALL_DATABASE_URL (PostgreSQL) yet');
    return 1;
  }
  if (!fs.existsSync(dataPaths(dataDir).dbFile)) {
    console.error(`openrecall: no database in ${dataDir} (set OPENRECALL_DATA_DIR)`);
    return 1;
  }
  const memory = await openMemory(dataDir);
  // An encrypted memory gives an encrypted export unless --plain says otherwise; a plain one only when asked.
  const sealed = memory.keys ? !values.plain : values.encrypt === true || values['key-file'] !== undefined;
  if (memory.keys && values.plain) console.error(PLAIN_EXPORT_WARNING);
  const exportKey = sealed ? await newExportKey(await exportSecret(values['key-file'])) : undefined;
  const images = new ImageStore(memory.dataDir);
  const reader = openExportReader(images.paths.dbFile, memory.database.databaseKey);
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    const rows = await reader.frames(since, until);
    const out = fs.createWriteStream(temporary, { mode: FILE_MODE }); // the user's history: owner only
    const written = new Promise<void>((resolve, reject) => {
      out.on('finish', resolve);
      out.on('error', reject);
    });
    written.catch(() => undefined); // awaited below; a write error must not go unhandled meanwhile
    // Sealed: the clear header, then the zip's bytes through the AEAD stream as they are made (never whole in memory).
    let sink: Writable = out;
    if (exportKey) {
      out.write(exportKey.header);
      const seal = sealExport(exportKey.key);
      seal.on('error', (error) => out.destroy(error));
      seal.pipe(out);
      sink = seal;
    }
    let failure: Error | undefined;
    const zip = new Zip((error, chunk, final) => {
      if (error) failure = error;
      else sink.write(chunk);
      if (final || error) sink.end();
    });
    const add = (name: string, bytes: Uint8Array, compress: boolean) => {
      const file = compress ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
      zip.add(file);
      file.push(bytes, true);
    };
    add(
      'export.json',
      Buffer.from(
        JSON.stringify(
          { format: EXPORT_FORMAT, version: 1, exported_at: Date.now() / 1000, since, until: values.until !== undefined ? until : null, frames: rows.length },
          null,
          1,
        ),
      ),
      true,
    );
    const lines: string[] = [];
    const bar = new ProgressBar(rows.length, 'exporting');
    let skipped = 0;
    for (const [i, row] of rows.entries()) {
      const image = await readFrame(images, row.image_path, () => reader.currentPath(row.id));
      if (!image) {
        skipped++;
        console.error(`\nframe ${row.id}: image missing or damaged, exported without it`);
      }
      const { image_path: _, ...meta } = row;
      const frame: ExportedFrame = { ...meta, image: image ? `frames/${row.id}.${image.extension}` : '' };
      add(`frames/${row.id}.json`, Buffer.from(JSON.stringify(frame)), true);
      if (image) add(frame.image, image.bytes, false);
      lines.push(JSON.stringify(frame));
      bar.update(i + 1);
      // Let the stream drain: a year of frames does not sit in memory.
      if (sink.writableNeedDrain) await new Promise<void>((r) => sink.once('drain', () => r()));
    }
    add('frames.jsonl', Buffer.from(lines.join('\n') + (lines.length ? '\n' : '')), true);
    zip.end();
    await written;
    if (failure) throw failure;
    fs.renameSync(temporary, target);
    const how = exportKey
      ? ` (encrypted: ${exportKey.kdf.algorithm === 'argon2id' ? 'passphrase, Argon2id' : 'key file'})`
      : memory.keys
        ? ' (NOT encrypted: --plain)'
        : '';
    console.log(`exported ${rows.length} frame(s) to ${target}${how}${skipped ? ` (${skipped} without their image)` : ''}`);
    return 0;
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  } finally {
    exportKey?.key.fill(0);
    await reader.close();
  }
}

/** The export's secret: the key file's 32 bytes, or a passphrase (twice at a terminal, once from stdin). */
async function exportSecret(keyFile: string | undefined): Promise<ExportSecret> {
  if (keyFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(keyFile);
    } catch (error) {
      throw new UsageError(`--key-file ${keyFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (bytes.length !== 32)
      throw new UsageError(`--key-file ${keyFile} holds ${bytes.length} bytes: a key file is exactly 32 random bytes (head -c 32 /dev/urandom > FILE)`);
    return { keyFile: bytes };
  }
  const passphrase = await readSecret('passphrase for the export: ');
  if (passphrase.length === 0) throw new UsageError('the export passphrase is empty');
  if (process.stdin.isTTY && (await readSecret('the same passphrase again: ')) !== passphrase) throw new UsageError('the two passphrases differ');
  return { passphrase };
}

async function readFrame(
  images: ImageStore,
  relative: string | null,
  reread: () => Promise<string | null>,
): Promise<{ bytes: Buffer; extension: string } | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const current = attempt === 0 ? relative : await reread();
    if (!current) return undefined;
    try {
      if (isCompactedPath(current)) return { bytes: await compactedReader(images).png(current), extension: 'png' };
      return { bytes: await images.read(current), extension: path.extname(current).slice(1) || 'webp' };
    } catch {
      // Compacted meanwhile (the old file is gone): read the row again once.
    }
  }
  return undefined;
}
