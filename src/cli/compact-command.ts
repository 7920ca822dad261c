import fs from 'node:fs';
import { ApiClient, ApiClientError } from '../api-client/client.js';
import { loadServerConfig } from '../config.js';
import { ImageStore } from '../images/image-store.js';
import { openMemory } from './open-memory.js';
import { createLogger } from '../log.js';
import { CompactionService, type CompactionStatus } from '../services/compaction-service.js';
import { DataDirLockedError, lockDataDir } from '../store/data-dir-lock.js';
import { openStore } from '../store/open-store.js';
import { UsageError } from './usage-error.js';
import { ProgressBar } from './progress.js';

/**
 * `openrecall compact`: compacts every processed frame now, whatever its age. Like `prune`, it runs where the
 * data dir's lock says: in the running server's processor (asked over HTTP, progress followed in queue status),
 * or here, holding the lock, when no server runs. With a shared PostgreSQL database it runs here, under the
 * compaction lock the servers and workers take too.
 */
export async function compactCommand(args: string[]): Promise<number> {
  if (args.length) throw new UsageError(`unknown option ${args[0]}; usage: openrecall compact`);
  const config = loadServerConfig();
  if (!fs.existsSync(config.dataDir)) {
    console.error(`openrecall: no data dir at ${config.dataDir} (set OPENRECALL_DATA_DIR)`);
    return 1;
  }
  let release: (() => void) | undefined;
  try {
    release = lockDataDir(config.dataDir, config.databaseUrl);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
  }
  if (!release) return compactThroughServer(config.dataDir);
  try {
    const memory = await openMemory(config.dataDir, config.encryption);
    const images = new ImageStore(memory.dataDir);
    const store = await openStore({
      ...memory.database,
      databaseUrl: config.databaseUrl,
      sqliteFile: images.paths.dbFile,
      dataDir: config.dataDir,
      applicationName: 'openrecall-compact',
    });
    try {
      const service = new CompactionService(store.compaction, images, {
        afterMinutes: config.compactAfterMinutes,
        log: createLogger('compact'),
      });
      const ran = await store.withExclusiveLock('compaction', async () => {
        await service.recover();
        const total = await service.compactAllNow();
        const bar = new ProgressBar(total, 'compacting');
        await service.runAll((done) => bar.update(Math.min(done, total)));
        bar.update(total);
      });
      if (!ran) {
        console.error('openrecall: another process (a server or worker) is compacting this data dir right now; it goes on in the background');
        return 1;
      }
      console.log(summary(await service.status()));
    } finally {
      await store.close();
    }
  } finally {
    release();
  }
  return 0;
}

async function compactThroughServer(dataDir: string): Promise<number> {
  const client = ApiClient.fromEnv();
  const base = client.baseUrl;
  const status = async () => {
    const body = await client.queueStatus(10_000);
    if (!body.compaction) throw new Error(`the server at ${base} does not compact frames (an older version?)`);
    return body.compaction;
  };
  let current: CompactionStatus;
  try {
    current = await client.compact();
  } catch (error) {
    if (error instanceof ApiClientError && error.kind !== 'unreachable') throw error;
    console.error(`openrecall: a server holds ${dataDir} but none answers at ${base}; set OPENRECALL_API_URL to it, or stop it and run compact again`);
    return 1;
  }
  const total = current.uncompacted_frames;
  const bar = new ProgressBar(total, 'compacting (in the server)');
  let last = total;
  let stalledSince = Date.now();
  while (current.uncompacted_frames > 0) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      current = await status();
    } catch (error) {
      console.error(`\nlost contact with the server at ${base} (${(error as Error).message}); compaction goes on in the background`);
      return 1;
    }
    if (current.uncompacted_frames < last) stalledSince = Date.now();
    last = current.uncompacted_frames;
    bar.update(Math.max(0, total - current.uncompacted_frames));
    if (Date.now() - stalledSince > 120_000) {
      console.error(`\nno progress for 2 minutes (${last} frame(s) left); the server may be busy with new frames, or some cannot be compacted (see its log)`);
      return 1;
    }
  }
  bar.update(total);
  console.log(summary(current));
  return 0;
}

function summary(s: CompactionStatus): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (s.compacted_frames === 0) return 'nothing compacted yet: no processed frames';
  return `${s.compacted_frames} frame(s) compacted: ${mb(s.stored_bytes)} instead of ${mb(s.original_bytes)} (ratio ${s.ratio}); ${s.uncompacted_frames} frame(s) not compacted`;
}
