// A server stopped while retention takes its first measure of the data dir (at a year: reading a million thumbnail
// names) must wait for it: the store closes after stop() resolves, and the measure used it after ("retention run
// failed: The database connection is not open").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageStore } from '../src/images/image-store.js';
import { silentLogger } from '../src/log.js';
import { RetentionService } from '../src/services/retention-service.js';
import type { StorageRepository } from '../src/store/ports.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { tempDir } from './helpers/temp-dir.js';

test("stop() waits for retention's first measure of the data dir, begun before any run", async () => {
  const dataDir = tempDir();
  const images = new ImageStore(dataDir);
  images.ensureDirectories();
  const store = openSqliteStore(images.paths.dbFile, { dataDir, log: silentLogger });
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let measuring = false;
  // The first measure asks the store for rows without a size: held there until the test lets it go.
  const repo = new Proxy(store.storage, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== 'withoutBytes') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        measuring = true;
        await held;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as StorageRepository;
  const retention = new RetentionService(repo, images, { retentionDays: 30, maxStorageBytes: 0, log: silentLogger });
  const started = retention.start().catch((error: Error) => error);
  while (!measuring) await new Promise((resolve) => setTimeout(resolve, 5));

  let stopped = false;
  const stopping = retention.stop().then(() => {
    stopped = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(stopped, false, 'stop() resolved while the measure still used the store');
  release();
  await stopping;
  store.db.close(); // what the server does once retention stopped
  assert.equal(await started, undefined, 'no run after the stop (it would use the closed store)');
});
