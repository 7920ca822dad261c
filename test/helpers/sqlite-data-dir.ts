import path from 'node:path';
import { ClientsRepository } from '../../src/store/clients-repository.js';
import { CompactionRepository } from '../../src/store/compaction-repository.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { EmbeddingsRepository } from '../../src/store/embeddings-repository.js';
import { FramesRepository } from '../../src/store/frames-repository.js';
import { SettingsRepository } from '../../src/store/settings-repository.js';
import { newFrame } from './store-frames.js';
import { tempDir } from './temp-dir.js';

export interface SqliteDataDir {
  dataDir: string;
  dbFile: string;
  /** Frame ids by what they show. */
  ids: Record<'invoice' | 'cjk' | 'failed' | 'processing' | 'pending' | 'compactedA' | 'compactedB', number>;
}

export function openDataDirDatabase(dataDir: string): Db {
  return openDatabase(path.join(dataDir, 'db', 'recall.db'), { dataDir });
}

function vector(dim: number, seed: number): Float32Array {
  const v = Float32Array.from({ length: dim }, (_, i) => Math.sin(seed * 31 + i));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/**
 * A data dir as a SQLite server leaves it: frames in every status (one caught mid-processing), OCR text (one
 * CJK), a description, vectors of two models, two compacted frames sharing a layer, a capture client, settings.
 */
export function buildSqliteDataDir(): SqliteDataDir {
  const dataDir = tempDir('openrecall-migrate-');
  const db = openDataDirDatabase(dataDir);
  try {
    const frames = new FramesRepository(db);
    // One pending frame at a time: claimNext takes exactly the frame just inserted.
    const add = (timestamp: number, then: (id: number) => void = () => {}) => {
      const { id } = frames.insertPending(newFrame(timestamp));
      frames.claimNext(1000);
      then(id);
      return id;
    };
    const completeWith = (patch: Parameters<FramesRepository['saveResults']>[1]) => (id: number) => {
      frames.saveResults(id, patch);
      frames.complete(id);
    };
    const ids = {
      invoice: add(1_700_000_001, completeWith({ text: 'Invoice 4411 due Friday', description: 'an invoice in a mail client' })),
      cjk: add(1_700_000_002, completeWith({ text: '系统设计文档 review' })),
      failed: add(1_700_000_003, (id) => frames.failPermanently(id, 'image unreadable')),
      processing: add(1_700_000_004),
      compactedA: add(1_700_000_005, completeWith({ text: 'terminal output' })),
      compactedB: add(1_700_000_006, completeWith({ text: 'terminal output again' })),
      pending: frames.insertPending(newFrame(1_700_000_007)).id,
    };

    const embeddings = new EmbeddingsRepository(db);
    embeddings.save(ids.invoice, 'model-a', vector(8, 1));
    embeddings.save(ids.cjk, 'model-a', vector(8, 2));
    embeddings.save(ids.invoice, 'model-b', vector(4, 3));

    const compaction = new CompactionRepository(db);
    const compact = (entryId: number, layer: number, layerIds: number[]) => {
      const originalPath = frames.get(entryId)!.image_path!;
      const layerRow = { id: layer, path: `compact/layers/${layer}.bin`, bytes: 5000 + layer, sha256: `sha-${layer}` };
      const committed = compaction.commit(
        { entryId, monitor: 0, originalPath, originalBytes: 1000, manifestPath: `compact/${entryId}.json`, manifestBytes: 100, layer: layerRow, layerIds },
        1_700_001_000,
      );
      if (!committed) throw new Error(`compaction of ${entryId} refused`);
    };
    compact(ids.compactedA, 101, [101]);
    compact(ids.compactedB, 102, [101, 102]);

    const clients = new ClientsRepository(db);
    clients.report(
      {
        id: 'laptop-1',
        kind: 'node',
        host: 'laptop',
        version: '0.1.0',
        address: '10.0.0.2',
        heartbeat_seconds: 30,
        paused: false,
        state: 'capturing',
        buffer_bytes: 0,
        buffer_items: 0,
      },
      1_700_000_100,
    );
    const settings = new SettingsRepository(db);
    clients.desirePaused('laptop-1', true, settings.set({ paused: false, capture_interval: 5 }) + 1);
    return { dataDir, dbFile: path.join(dataDir, 'db', 'recall.db'), ids };
  } finally {
    db.close();
  }
}

/** `count` pending frames with ids 1..count (a fresh database), in one transaction. */
export function buildLargeSqliteDataDir(count: number): string {
  const dataDir = tempDir('openrecall-migrate-large-');
  const db = openDataDirDatabase(dataDir);
  try {
    const frames = new FramesRepository(db);
    db.transaction(() => {
      for (let i = 1; i <= count; i++) frames.insertPending(newFrame(1_700_000_000 + i));
    })();
  } finally {
    db.close();
  }
  return dataDir;
}
