import fs from 'node:fs';
import type { PruneReport } from '../api/index.js';
import { ApiClient, ApiClientError } from '../api-client/client.js';
import { loadRetentionConfig, loadServerConfig } from '../config.js';
import { ImageStore } from '../images/image-store.js';
import { openMemory } from './open-memory.js';
import { createLogger } from '../log.js';
import { RetentionService } from '../services/retention-service.js';
import { DataDirLockedError, lockDataDir } from '../store/data-dir-lock.js';
import { openStore } from '../store/open-store.js';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: openrecall prune [--dry-run] [--json]';

/**
 * `openrecall prune [--dry-run]`: applies OPENRECALL_RETENTION_DAYS / OPENRECALL_MAX_STORAGE_GB now.
 * One rule decides where it runs: the data dir's server lock. When a server holds it, the server does the work
 * (POST /api/storage/prune, with the server's own settings); otherwise this command takes the lock itself (so
 * no server can start meanwhile) and works on the data dir directly, with the settings of its environment.
 */
export async function pruneCommand(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--dry-run' && a !== '--json');
  if (unknown.length) throw new UsageError(`unknown option ${unknown[0]}; ${USAGE}`);
  const dryRun = args.includes('--dry-run');
  const json = args.includes('--json');
  const { dataDir, databaseUrl } = loadServerConfig();
  const settings = loadRetentionConfig();
  if (!fs.existsSync(dataDir)) {
    console.error(`openrecall: no data dir at ${dataDir} (set OPENRECALL_DATA_DIR)`);
    return 1;
  }

  let release: (() => void) | undefined;
  try {
    release = lockDataDir(dataDir, databaseUrl);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
  }

  let report: PruneReport;
  let where: string;
  if (release) {
    where = databaseUrl ? `data dir ${dataDir} and its PostgreSQL database` : `data dir ${dataDir} (no server running)`;
    try {
      const memory = await openMemory(dataDir);
      const images = new ImageStore(memory.dataDir);
      const store = await openStore({ databaseUrl, sqliteFile: images.paths.dbFile, dataDir, applicationName: 'openrecall-prune', ...memory.database });
      try {
        const retention = new RetentionService(store.storage, images, {
          ...settings,
          log: createLogger('prune'),
          exclusive: (task) => store.withExclusiveLock('retention', task),
        });
        report = await retention.run({ dryRun });
      } finally {
        await store.close();
      }
    } finally {
      release();
    }
  } else {
    const client = ApiClient.fromEnv();
    where = `the server at ${client.baseUrl} (it uses its own retention settings)`;
    try {
      report = await client.prune(dryRun);
    } catch (error) {
      if (!(error instanceof ApiClientError && error.kind === 'unreachable')) throw error;
      console.error(
        `openrecall: a server holds ${dataDir} but none answers at ${client.baseUrl}; set OPENRECALL_API_URL to it, or stop it and run prune again`,
      );
      return 1;
    }
  }

  if (json) console.log(JSON.stringify({ ...report, where }, null, 2));
  else console.log(describe(report, where));
  return 0;
}

function describe(report: PruneReport, where: string): string {
  const rules = [
    report.retention_days !== null ? `keep ${report.retention_days} day(s)` : 'no age limit',
    report.budget_bytes !== null ? `budget ${size(report.budget_bytes)}` : 'no storage budget',
  ].join(', ');
  const verb = report.dry_run ? 'would delete' : 'deleted';
  const lines = [`retention (${rules}) on ${where}:`];
  if (report.retention_days === null && report.budget_bytes === null) {
    lines.push('  nothing to do: set OPENRECALL_RETENTION_DAYS and/or OPENRECALL_MAX_STORAGE_GB');
  }
  lines.push(`  ${verb} ${report.frames} frame(s), ${size(report.bytes)}  (by age: ${report.by_age.frames}, by budget: ${report.by_budget.frames})`);
  if (report.oldest_timestamp !== null && report.newest_timestamp !== null) {
    lines.push(`  captured from ${time(report.oldest_timestamp)} to ${time(report.newest_timestamp)}`);
  }
  lines.push(`  storage used: ${size(report.used_bytes_before)} before, ${size(report.used_bytes_after)} after${report.dry_run ? ' (estimated)' : ''}`);
  if (report.over_budget) lines.push('  still over budget: the frames left are waiting for processing (they go once processed)');
  return lines.join('\n');
}

const time = (seconds: number) =>
  new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024).toFixed(1)} KB`;
}
