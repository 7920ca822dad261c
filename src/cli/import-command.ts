import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiClient } from '../api-client/client.js';
import { apiToken, loadServerConfig } from '../config.js';
import { UsageError } from './usage-error.js';
import { silentLogger } from '../log.js';
import { startServer, type RunningServer } from '../server/server.js';
import { ProgressBar } from './progress.js';
import { BadEntryError, exportLimits, looksLikeZip, openExportSource, readExport, type ExportSource } from './import-export-zip.js';
import { ExportKeyError, type ExportSecret } from '../encryption/sealed-export.js';
import { readSecret } from './read-secret.js';

/** An encrypted export's secret: the --key-file's bytes, or its passphrase (no echo, or the first line of stdin). */
async function importSecret(keyFile: string | undefined): Promise<ExportSecret> {
  if (keyFile === undefined) return { passphrase: await readSecret('passphrase of the export: ') };
  try {
    return { keyFile: await fs.promises.readFile(keyFile) };
  } catch (error) {
    throw new ExportKeyError(`--key-file ${keyFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };
const CONCURRENCY = 4;

/** Capture time from a Unix-time file name (seconds, fractional seconds or milliseconds), else the file's mtime. */
export function timestampFromFile(file: string, mtimeMs: number): number {
  const stem = path.basename(file).replace(/\.[^.]+$/, '');
  const match = /^(\d{9,13})(\.\d+)?$/.exec(stem);
  if (match) {
    const value = Number(stem);
    return match[1]!.length === 13 ? value / 1000 : value;
  }
  return mtimeMs / 1000;
}

function listImages(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && IMAGE_TYPES[path.extname(entry.name).toLowerCase()]) {
      found.push(path.join(entry.parentPath, entry.name));
    }
  }
  return found.sort();
}

async function reachable(client: ApiClient): Promise<boolean> {
  try {
    await client.health();
    return true;
  } catch {
    return false;
  }
}

/** The running server, or one started in-process for the duration of the import when none answers. */
async function serverForImport(): Promise<{ client: ApiClient; embedded: RunningServer | undefined }> {
  let client = ApiClient.fromEnv();
  let embedded: RunningServer | undefined;
  if (!(await reachable(client))) {
    embedded = await startServer({ ...loadServerConfig(), host: '127.0.0.1', port: 0 }, silentLogger);
    const token = apiToken();
    console.error(`no server at ${client.baseUrl}: importing with an embedded one (OCR continues when the server runs)`);
    client = new ApiClient(`${embedded.url}/api`, token ? { token } : {});
  }
  return { client, embedded };
}

const CONTENT_TYPES: Record<string, string> = { png: 'image/png', webp: 'image/webp', jpg: 'image/jpeg', jpeg: 'image/jpeg' };

/**
 * A zip written by `openrecall export`: each frame goes through the normal upload with its capture time, app,
 * window title and monitor; its text is made again by the importing server's OCR (same pixels, same words).
 * The capture_id is kept (or derived from the exported id), so importing the same zip twice adds nothing.
 * Entries are read one at a time under limits; the first bad one (damaged, too large, refused by the server)
 * stops the import with its name, and nothing after it is uploaded.
 */
async function importExport(file: string, keyFile: string | undefined): Promise<number> {
  const limits = exportLimits(fs.statSync(file).size, loadServerConfig().maxUploadBytes);
  // An encrypted export is opened (its secret asked for, its first chunk authenticated) before any server is reached.
  let source: ExportSource;
  try {
    source = await openExportSource(file, () => importSecret(keyFile));
  } catch (error) {
    if (!(error instanceof ExportKeyError)) throw error;
    console.error(`openrecall: ${file}: ${error.message}; nothing was imported`);
    return 1;
  }
  const { client, embedded } = await serverForImport().catch(async (error: unknown) => {
    await source.close();
    throw error;
  });
  const counts = { imported: 0, skipped: 0 };
  try {
    await readExport(source, limits, async ({ meta, image, entry }) => {
      const response = await client.upload({
        image,
        contentType: CONTENT_TYPES[meta.image.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream',
        timestamp: meta.timestamp,
        app: meta.app ?? '',
        title: meta.title ?? '',
        captureId: meta.capture_id ?? `export-${meta.id}-${meta.timestamp}`,
        ...(meta.monitor !== null && meta.monitor !== undefined ? { monitor: meta.monitor } : {}),
      });
      if (response.status === 202) counts.imported++;
      else if (response.status === 200) counts.skipped++;
      else throw new BadEntryError(entry, `refused by the server (${response.status} ${response.body.message ?? ''})`);
      if ((counts.imported + counts.skipped) % 100 === 0) console.error(`importing: ${counts.imported + counts.skipped} frame(s)`);
    });
  } catch (error) {
    console.error(`openrecall: ${file}: ${(error as Error).message}`);
    console.error(`stopped there: imported ${counts.imported}, skipped ${counts.skipped} already imported before it; nothing after it was sent`);
    await source.close();
    await embedded?.close();
    return 1;
  }
  await source.close();
  await embedded?.close();
  console.log(`imported ${counts.imported}, skipped ${counts.skipped} already imported, failed 0`);
  return 0;
}

/**
 * Sends every image of a folder through the normal upload path. The capture_id is the content hash, so a
 * second import of the same folder skips what is already there. Uses the running server, or starts one
 * in-process for the duration of the import when none answers.
 */
export async function importCommand(args: string[]): Promise<number> {
  const keyFileAt = args.indexOf('--key-file');
  const keyFile = keyFileAt >= 0 ? args[keyFileAt + 1] : undefined;
  if (keyFileAt >= 0 && (keyFile === undefined || keyFile.startsWith('--'))) throw new UsageError("--key-file needs the path of the export's key file");
  const dir = args.find((a, i) => !a.startsWith('--') && (keyFileAt < 0 || i !== keyFileAt + 1));
  if (!dir)
    throw new UsageError(
      'usage: openrecall import <dir>  (or a zip written by openrecall export: openrecall import [--key-file PATH] <file.zip>; an encrypted one asks its passphrase)',
    );
  if (fs.existsSync(dir) && fs.statSync(dir).isFile() && looksLikeZip(dir)) return importExport(dir, keyFile);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`not a directory or an export zip: ${dir}`);
  const files = listImages(path.resolve(dir));
  if (files.length === 0) {
    console.log(`no PNG, JPEG or WebP files in ${dir}`);
    return 0;
  }

  const { client, embedded } = await serverForImport();

  const counts = { imported: 0, skipped: 0, failed: 0 };
  const progress = new ProgressBar(files.length, 'importing');
  let next = 0;
  let done = 0;
  const uploadOne = async (file: string) => {
    const image = await fs.promises.readFile(file);
    const { mtimeMs } = await fs.promises.stat(file);
    try {
      const response = await client.upload({
        image,
        contentType: IMAGE_TYPES[path.extname(file).toLowerCase()]!,
        timestamp: timestampFromFile(file, mtimeMs),
        app: 'import',
        title: path.basename(file),
        captureId: `import-${crypto.createHash('sha256').update(image).digest('hex').slice(0, 40)}`,
      });
      if (response.status === 202) counts.imported++;
      else if (response.status === 200) counts.skipped++;
      else {
        counts.failed++;
        console.error(`\n${file}: ${response.status} ${response.body.message ?? ''}`);
      }
    } catch (error) {
      counts.failed++;
      console.error(`\n${file}: ${(error as Error).message}`);
    }
    progress.update(++done);
  };
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, files.length) }, async () => {
      while (next < files.length) await uploadOne(files[next++]!);
    }),
  );
  await embedded?.close();
  console.log(`imported ${counts.imported}, skipped ${counts.skipped} already imported, failed ${counts.failed}`);
  return counts.failed > 0 ? 1 : 0;
}
