// Ingest latency on both stores in one run: bench/ingest.ts against a SQLite server, then against a server on a
// fresh PostgreSQL database (OPENRECALL_DATABASE_URL; dropped afterwards), same arguments. One JSON on stdout
// with both results; progress (and the load average before each run) on stderr.
//   node --import tsx bench/store-compare.ts [--uploaders 16] [--requests 40] [--interval 500] [--saturated false]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestDatabase } from '../test/helpers/postgres.js';

const { values } = parseArgs({
  options: {
    uploaders: { type: 'string', default: '16' },
    requests: { type: 'string', default: '40' },
    interval: { type: 'string', default: '500' },
    saturated: { type: 'string', default: 'false' },
  },
});
const args = ['--uploaders', values.uploaders, '--requests', values.requests, '--interval', values.interval, '--saturated', values.saturated];
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ingest.ts');
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

function ingest(env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`bench/ingest.ts exited ${result.status ?? result.signal}`);
  const stdout = result.stdout;
  return JSON.parse(stdout.slice(stdout.startsWith('{') ? 0 : stdout.lastIndexOf('\n{') + 1)) as Record<string, unknown>;
}

const { OPENRECALL_DATABASE_URL: _ignored, ...sqliteEnv } = process.env;
const sqliteLoad = loadavg();
console.error(`== sqlite: loadavg ${sqliteLoad}`);
const sqlite = ingest(sqliteEnv);

const db = await createTestDatabase();
let postgres: Record<string, unknown>;
const postgresLoad = loadavg();
try {
  console.error(`== postgres (${db.name}): loadavg ${postgresLoad}`);
  postgres = ingest({ ...process.env, OPENRECALL_DATABASE_URL: db.url });
} finally {
  await db.drop();
}

console.log(
  JSON.stringify(
    {
      benchmark: 'store-compare',
      args: args.join(' '),
      sqlite: { loadavg_before: sqliteLoad, ...sqlite },
      postgres: { loadavg_before: postgresLoad, ...postgres },
    },
    null,
    2,
  ),
);
