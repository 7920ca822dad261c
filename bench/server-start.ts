// Start-up of the real `openrecall server` (built: `npm run build`) on a data dir holding a history (made by
// bench/server-fixture.ts): from the spawn, when the first keyword search answers, and when search by meaning is
// ready (a semantic search answers 200 without a warning: the processor has the model and the vector index is
// loaded). Each server log line is stamped with its time from the spawn.
//   node --import tsx bench/server-start.ts --data-dir /work/bench-fixtures/server-1m [--runs 3] [--cold]
//     [--cli /other/tree/bin/openrecall.js] [--cpu-prof DIR]
// --cold drops the page cache before each run (as root: echo 3 > /proc/sys/vm/drop_caches). --cli runs another
// tree's build (before/after, interleaved by the caller). --cpu-prof writes CPU profiles of the server and its
// processor child into DIR (node's --cpu-prof).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cliPath } from '../test/helpers/server-process.js';
import { round } from './fixtures.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    runs: { type: 'string', default: '1' },
    cold: { type: 'boolean', default: false },
    cli: { type: 'string', default: cliPath },
    'cpu-prof': { type: 'string' },
    // After search by meaning is ready, how long the server keeps running (background work shows in its log).
    'stay-ms': { type: 'string', default: '1000' },
  },
});
if (!values['data-dir']) throw new Error('--data-dir names the data dir the server opens');
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** GET, its status and JSON body; a refused connection is status 0. */
const get = async (url: string): Promise<{ status: number; body: { warning?: string } }> => {
  try {
    const response = await fetch(url);
    return { status: response.status, body: (await response.json().catch(() => ({}))) as { warning?: string } };
  } catch {
    return { status: 0, body: {} };
  }
};

async function run(): Promise<Record<string, unknown>> {
  if (values.cold) fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  const port = await freePort();
  const api = `http://127.0.0.1:${port}/api`;
  const before = loadavg();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENRECALL_DATA_DIR: path.resolve(values['data-dir']!),
    OPENRECALL_PORT: String(port),
    OPENRECALL_WORKERS: '1',
    OPENRECALL_DEBUG: 'false',
  };
  const started = performance.now();
  const since = () => round(performance.now() - started, 0);
  // The processor child is forked with the server's execArgv: it is profiled too.
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'])}`] : [];
  const child = spawn(process.execPath, [...profile, values.cli!, 'server'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const line of parts) if (line.trim()) lines.push(`${since()} ms ${line.replace(/^\S+Z /, '')}`);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  let keywordMs: number | undefined;
  let keywordRequestMs: number | undefined;
  let meaningMs: number | undefined;
  try {
    while (!gone && keywordMs === undefined) {
      const asked = performance.now();
      const { status } = await get(`${api}/search?q=kalo&mode=keyword&limit=20`);
      if (status === 200) {
        keywordMs = since();
        keywordRequestMs = round(performance.now() - asked, 1);
      } else await sleep(10);
    }
    while (!gone && meaningMs === undefined) {
      const { status, body } = await get(`${api}/search?q=report&mode=semantic&limit=5`);
      if (status === 200 && !body.warning) meaningMs = since();
      else await sleep(20);
      if (performance.now() - started > 600_000) throw new Error('search by meaning not ready within 10 minutes');
    }
    await sleep(Number(values['stay-ms']));
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return {
    keyword_answers_ms: keywordMs,
    keyword_request_ms: keywordRequestMs,
    meaning_ready_ms: meaningMs,
    meaning_after_keyword_ms: meaningMs !== undefined && keywordMs !== undefined ? meaningMs - keywordMs : undefined,
    cold: values.cold,
    loadavg_before: before,
    loadavg_after: loadavg(),
    log: lines,
  };
}

for (let i = 0; i < Number(values.runs); i++) {
  console.log(JSON.stringify(await run(), null, 1));
  await sleep(2000);
}
