import path from 'node:path';
import type { FramePatch } from '../../src/store/ports.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newFrame } from './store-frames.js';
import { tempDir } from './temp-dir.js';
import type { DatabaseKey } from '../../src/encryption/data-key.js';

export interface SqliteDataDir {
  dataDir: string;
  dbFile: string;
  /** Frame ids by what they show. */
  ids: Record<'invoice' | 'cjk' | 'failed' | 'processing' | 'pending' | 'compactedA' | 'compactedB', number>;
}

/** `databaseKey`: an encrypted data dir's database key (openEncryption's `keys.databaseKey`). */
export function openDataDirDatabase(dataDir: string, databaseKey?: DatabaseKey): SqliteStore {
  return openSqliteStore(path.join(dataDir, 'db', 'recall.db'), { dataDir, ...(databaseKey ? { databaseKey } : {}) });
}

const lease = { workerId: 'migrate-test', seconds: 60 };

function vector(dim: number, seed: number): Float32Array {
  const v = Float32Array.from({ length: dim }, (_, i) => Math.sin(seed * 31 + i));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/**
 * A data dir as a SQLite server leaves it: frames in every status (one caught mid-processing), OCR text (one
 * CJK), a description, vectors of two models, two compacted frames sharing a layer, a capture client, settings.
 */
export async function buildSqliteDataDir(options: { dataDir?: string; databaseKey?: DatabaseKey } = {}): Promise<SqliteDataDir> {
  const dataDir = options.dataDir ?? tempDir('openrecall-migrate-');
  const store = openDataDirDatabase(dataDir, options.databaseKey);
  try {
    const { frames, embeddings, compaction, clients, settings } = store;
    // One pending frame at a time: claimNext takes exactly the frame just inserted.
    const add = async (timestamp: number, then: (id: number) => Promise<unknown> = async () => {}) => {
      const { id } = await frames.insertPending(newFrame(timestamp));
      await frames.claimNext(1000, lease);
      await then(id);
      return id;
    };
    const completeWith = (patch: FramePatch) => async (id: number) => {
      await frames.saveResults(id, patch, lease.workerId);
      await frames.complete(id, lease.workerId);
    };
    const ids = {
      invoice: await add(1_700_000_001, completeWith({ text: 'Invoice 4411 due Friday', description: 'an invoice in a mail client' })),
      cjk: await add(1_700_000_002, completeWith({ text: '系统设计文档 review' })),
      failed: await add(1_700_000_003, (id) => frames.failPermanently(id, 'image unreadable', lease.workerId)),
      processing: await add(1_700_000_004),
      compactedA: await add(1_700_000_005, completeWith({ text: 'terminal output' })),
      compactedB: await add(1_700_000_006, completeWith({ text: 'terminal output again' })),
      pending: (await frames.insertPending(newFrame(1_700_000_007))).id,
    };

    await embeddings.save(ids.invoice, 'model-a', vector(8, 1));
    await embeddings.save(ids.cjk, 'model-a', vector(8, 2));
    await embeddings.save(ids.invoice, 'model-b', vector(4, 3));

    const compact = async (entryId: number, layer: number, layerIds: number[]) => {
      const originalPath = (await frames.get(entryId))!.image_path!;
      const layerRow = { id: layer, path: `compact/layers/${layer}.bin`, bytes: 5000 + layer, sha256: `sha-${layer}` };
      const committed = await compaction.commit(
        { entryId, monitor: 0, originalPath, originalBytes: 1000, manifestPath: `compact/${entryId}.json`, manifestBytes: 100, layer: layerRow, layerIds },
        1_700_001_000,
      );
      if (!committed) throw new Error(`compaction of ${entryId} refused`);
    };
    await compact(ids.compactedA, 101, [101]);
    await compact(ids.compactedB, 102, [101, 102]);

    await clients.report(
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
    await clients.desirePaused('laptop-1', true, (await settings.set({ paused: false, capture_interval: 5 })) + 1);
    return { dataDir, dbFile: path.join(dataDir, 'db', 'recall.db'), ids };
  } finally {
    await store.close();
  }
}

/** `count` pending frames with ids 1..count (a fresh database), in one transaction. */
export async function buildLargeSqliteDataDir(count: number): Promise<string> {
  const dataDir = tempDir('openrecall-migrate-large-');
  const store = openDataDirDatabase(dataDir);
  try {
    for (let i = 1; i <= count; i++) await store.frames.insertPending(newFrame(1_700_000_000 + i));
  } finally {
    await store.close();
  }
  return dataDir;
}
