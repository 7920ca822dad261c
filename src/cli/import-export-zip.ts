import fs from 'node:fs';
import { Unzip, UnzipInflate } from 'fflate';
import type { ExportedFrame } from './export-command.js';

export interface ImportedFrame {
  meta: ExportedFrame;
  image: Buffer;
}

/** The start of every zip file (a local file header). */
export function looksLikeZip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32LE(0) === 0x04034b50;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a zip written by `openrecall export` as a stream: each frames/<id>.json is held until its image follows,
 * then the pair is handed to `onFrame` (reading pauses while it runs, so the file never sits in memory whole).
 * Rejects a zip that is not an export (no export.json first).
 */
export async function readExport(file: string, onFrame: (frame: ImportedFrame) => Promise<void>): Promise<{ frames: number }> {
  const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  const pending = new Map<string, ExportedFrame>();
  let sawHeader = false;
  let frames = 0;
  let failure: Error | undefined;
  let work = Promise.resolve();
  const fail = (error: Error) => {
    failure ??= error;
    stream.destroy();
  };
  unzip.onfile = (entry) => {
    const chunks: Uint8Array[] = [];
    entry.ondata = (error, chunk, final) => {
      if (error) return fail(error);
      chunks.push(chunk);
      if (!final) return;
      const bytes = Buffer.concat(chunks);
      try {
        if (entry.name === 'export.json') {
          const header = JSON.parse(bytes.toString('utf8')) as { format?: string };
          if (header.format !== 'openrecall-export') throw new Error('export.json is not an OpenRecall export');
          sawHeader = true;
          return;
        }
        if (!sawHeader) throw new Error('not an OpenRecall export (export.json must come first)');
        if (/^frames\/\d+\.json$/.test(entry.name)) {
          const meta = JSON.parse(bytes.toString('utf8')) as ExportedFrame;
          if (meta.image) pending.set(meta.image, meta);
          return;
        }
        const meta = pending.get(entry.name);
        if (!meta) return; // frames.jsonl and anything else
        pending.delete(entry.name);
        frames++;
        stream.pause();
        work = work
          .then(() => onFrame({ meta, image: bytes }))
          .then(
            () => void stream.resume(),
            (e: Error) => fail(e),
          );
      } catch (error) {
        fail(error as Error);
      }
    };
    entry.start();
  };
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk) => {
      try {
        unzip.push(chunk as Buffer);
      } catch (error) {
        fail(error as Error);
      }
    });
    stream.on('end', () => {
      try {
        unzip.push(new Uint8Array(0), true);
      } catch (error) {
        fail(error as Error);
      }
      resolve();
    });
    stream.on('close', () => resolve());
    stream.on('error', reject);
  });
  await work;
  if (failure) throw failure;
  if (!sawHeader) throw new Error('not an OpenRecall export (no export.json)');
  return { frames };
}
