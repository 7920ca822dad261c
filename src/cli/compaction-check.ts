import crypto from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { dataPaths } from '../config.js';
import { ImageStore } from '../images/image-store.js';
import { compactedReader, DamagedFrameError, MissingFrameError } from '../images/compaction/frame-reader.js';

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
export async function checkCompactedFrames(dataDir: string): Promise<CompactionDamage | undefined> {
  const file = dataPaths(dataDir).dbFile;
  if (!fs.existsSync(file)) return undefined;
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return undefined;
  }
  try {
    const hasTables = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'compact_layers'`).get() !== undefined;
    if (!hasTables) return undefined;
    const layers = db.prepare(`SELECT id, path, bytes, sha256 FROM compact_layers WHERE refs > 0 ORDER BY id`).all() as Array<{
      id: number;
      path: string;
      bytes: number;
      sha256: string;
    }>;
    const frames = db
      .prepare(`SELECT f.entry_id AS id, e.image_path AS path FROM compact_frames f JOIN entries e ON e.id = f.entry_id ORDER BY f.entry_id`)
      .all() as Array<{ id: number; path: string }>;
    if (frames.length === 0) return undefined;
    const usersOf = db.prepare(`SELECT entry_id FROM compact_refs WHERE layer_id = ? ORDER BY entry_id`).pluck();
    const images = new ImageStore(dataDir);
    const affected = new Set<number>();
    const problems: string[] = [];
    for (const layer of layers) {
      let bytes: Buffer;
      try {
        bytes = await fs.promises.readFile(images.resolve(layer.path));
      } catch (error) {
        problems.push(`layer ${layer.path} is missing (${(error as NodeJS.ErrnoException).code})`);
        for (const id of usersOf.all(layer.id) as number[]) affected.add(id);
        continue;
      }
      const sum = crypto.createHash('sha256').update(bytes).digest('hex');
      if (bytes.length !== layer.bytes || sum !== layer.sha256) {
        problems.push(
          `layer ${layer.path} is damaged (${bytes.length} bytes, expected ${layer.bytes}; checksum ${sum === layer.sha256 ? 'matches' : 'differs'})`,
        );
        for (const id of usersOf.all(layer.id) as number[]) affected.add(id);
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
    db.close();
  }
}
