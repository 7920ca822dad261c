// `npm run bench`: every benchmark in turn, each in its own process, printing its figures.
// Sizes can be lowered for a quick run: BENCH_SEARCH_FRAMES (default 100000), BENCH_CPU_SECONDS (client, 120).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const runs: Array<[string, string[]]> = [
  ['ingest.ts', []],
  ['ocr.ts', []],
  ['search.ts', ['--frames', process.env.BENCH_SEARCH_FRAMES ?? '100000']],
  ['client-capture.ts', []],
];

console.log(`# OpenRecall benchmarks, ${new Date().toISOString()}`);
console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);
let failed = 0;
for (const [script, args] of runs) {
  console.log(`## ${script} ${args.join(' ')}`.trim());
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  console.log(`(${Math.round((Date.now() - started) / 1000)} s, exit ${result.status})\n`);
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
