import crypto from 'node:crypto';
import fs from 'node:fs';
import { dataPaths } from '../config.js';
import { ImageStore } from '../images/image-store.js';
import type { DataDir } from '../files/data-dir.js';
import { compactedReader, DamagedFrameError, MissingFrameError } from '../images/compaction/frame-reader.js';
import { openCompactionReader } from '../store/open-store.js';
import type { DatabaseKey } from '../encryption/data-key.js';

export interface CompactionDamage {
  layers: number;
  frames: number;
  /** Entry ids that cannot be rebuilt (first few). */
  affected: number[];
  problems: string[];
}

/**
 * Checks the compacted frames of a data dir: every layer still in use has its recorded size and SHA-256, and
 * every manifest reads. Reads the database read-only, so it also runs while the server holds the data dir.
 * Returns undefined when there is no database or nothing is compacted.
 */
export async function checkCompactedFrames(dataDir: string, files: DataDir, databaseKey?: DatabaseKey): Promise<CompactionDamage | undefined> {
  const file = dataPaths(dataDir).dbFile;
  if (!fs.existsSync(file)) return undefined; // the database, not a data-dir file
  const opened = openCompactionReader(file, databaseKey);
  if (!opened) return undefined;
  const { repo } = opened;
  try {
    const layers = await repo.liveLayers();
    const frames = await repo.compactedFrames();
    if (frames.length === 0) return undefined;
    const images = new ImageStore(files);
    const affected = new Set<number>();
    const problems: string[] = [];
    for (const layer of layers) {
      let bytes: Buffer;
      try {
        bytes = await images.read(layer.path);
      } catch (error) {
        problems.push(`layer ${layer.path} is missing (${(error as NodeJS.ErrnoException).code})`);
        for (const id of await repo.framesUsing(layer.id)) affected.add(id);
        continue;
      }
      const sum = crypto.createHash('sha256').update(bytes).digest('hex');
      if (bytes.length !== layer.bytes || sum !== layer.sha256) {
        problems.push(
          `layer ${layer.path} is damaged (${bytes.length} bytes, expected ${layer.bytes}; checksum ${sum === layer.sha256 ? 'matches' : 'differs'})`,
        );
        for (const id of await repo.framesUsing(layer.id)) affected.add(id);
      }
    }
    const reader = compactedReader(images);
    for (const frame of frames) {
      try {
        await reader.manifest(frame.path);
      } catch (error) {
        if (!(error instanceof DamagedFrameError || error instanceof MissingFrameError)) throw error;
        problems.push(error.message);
        affected.add(frame.id);
      }
    }
    return { layers: layers.length, frames: frames.length, affected: [...affected].sort((a, b) => a - b), problems };
  } finally {
    opened.close();
  }
}
