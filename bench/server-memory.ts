// The real `openrecall server` (built: `npm run build`) and its processor child on a data dir holding a history
// (e.g. a copy of a bench/search.ts fixture whose vectors are stored under the server's own model): PSS of each
// (/proc/<pid>/smaps_rollup) once search by meaning is ready (a semantic search answers without the "still
// loading" warning), then again after some searches.
//   node --import tsx bench/server-memory.ts --data-dir /work/bench-fixtures/server-1m [--searches 20]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { round } from './fixtures.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, searches: { type: 'string', default: '20' } } });
if (!values['data-dir']) throw new Error('--data-dir names the data dir the server opens');
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

const pssMb = (pid: number) => {
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return round(Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? Number.NaN) / 1024, 1);
};
/** The server's child processes (the processor), by /proc/<pid>/task/<tid>/children. */
const children = (pid: number): number[] =>
  fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter(Boolean)
    .map(Number);
const memory = (pid: number) => {
  const server = pssMb(pid);
  const processors = children(pid).map((child) => ({ pid: child, pss_mb: pssMb(child) }));
  return { server_pss_mb: server, children: processors, together_pss_mb: round(server + processors.reduce((a, c) => a + c.pss_mb, 0), 1) };
};

const started = performance.now();
// The built-in embedding model, as a real server runs (the test helper turns it off unless asked).
const server = await startServerProcess(values['data-dir'], { OPENRECALL_EMBEDDING_PROVIDER: '' });
const pid = server.child.pid!;
try {
  const listeningMs = performance.now() - started;
  await waitUntil(
    async () => {
      const { status, body } = await getJson(`${server.api}/search?q=report&mode=semantic&limit=5`);
      return status === 200 && !body.warning;
    },
    { timeoutMs: 600_000, intervalMs: 250, what: 'search by meaning ready' },
  );
  const readyMs = performance.now() - started;
  const atReady = memory(pid);
  const words = ['report', 'meeting', 'invoice', 'kalo', 'misa', 'tune', 'budget', 'slack'];
  for (let i = 0; i < Number(values.searches); i++) await getJson(`${server.api}/search?q=${words[i % words.length]}&limit=20`);
  console.log(
    JSON.stringify({
      listening_ms: round(listeningMs, 0),
      search_by_meaning_ready_ms: round(readyMs, 0),
      at_ready: atReady,
      after_searches: memory(pid),
      loadavg: loadavg(),
    }),
  );
} finally {
  await server.stop();
}
