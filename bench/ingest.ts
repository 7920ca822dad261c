// Ingest latency while the OCR workers are busy: 16 concurrent uploaders of a real 1080p screenshot against
// the real server process (OCR on). Two loads:
//  - paced: every uploader sends one frame every --interval ms (default 100 ms: 160 frames/s in all, far above
//    what 16 capture clients send), which is the latency a client sees;
//  - saturated: every uploader sends back to back, which gives the server's ceiling in requests/s.
// The floor: bench/durable-floor-server.mjs, a bare node:http server that streams each body to a file and makes it
// durable (fsync the file, rename, fsync the directory) before its 202, is measured in the same run under the same
// paced load, alternating with the real server for --rounds rounds; the ratios are the real server's over it.
//   node --import tsx bench/ingest.ts [--uploaders 16] [--requests 40] [--interval 100] [--saturated false] [--rounds 1] [--trace-gc] [--cpu-profile <dir>]
//     [--twin encrypted|plain] [--floor false]
// --twin encrypted: a second real server, the same build with encryption at rest on (its own key file), is measured
// in the same run, its paced rounds alternating with the plain server's (plain first in odd rounds, the twin first
// in even ones), so both meet the same minutes of the machine; "twin_over_server" gives encrypted / plain.
// --twin plain: the same with encryption off in both, a control that shows how far apart two identical servers
// measure in one run (the noise of twin_over_server).
// --floor false leaves the floor out (the encryption comparison does not need it).
// The open-loop load of issue 14 (16 uploaders x 2 frames/s): --interval 500 --requests 100 --saturated false.
// --trace-gc preloads bench/gc-observer.mjs into the server and reports its collections during the paced run.
// --cpu-profile <dir> preloads bench/cpu-profile.mjs: a .cpuprofile of the server's paced runs, and of the twin's
// (file names start with the process id, printed at the end; summed up by bench/cpu-profile-summary.mjs).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { percentile, renderScreenshots, round } from './fixtures.js';
import { UploadLoad } from './http-load.js';

const { values } = parseArgs({
  options: {
    uploaders: { type: 'string', default: '16' },
    requests: { type: 'string', default: '40' },
    interval: { type: 'string', default: '100' },
    saturated: { type: 'string', default: 'true' },
    rounds: { type: 'string', default: '1' },
    'trace-gc': { type: 'boolean', default: false },
    'cpu-profile': { type: 'string' },
    twin: { type: 'string' },
    floor: { type: 'string', default: 'true' },
  },
});
const uploaders = Number(values.uploaders);
const perUploader = Number(values.requests);
const intervalMs = Number(values.interval);
const rounds = Number(values.rounds);
if (values.twin !== undefined && values.twin !== 'encrypted' && values.twin !== 'plain') throw new Error('--twin takes "encrypted" or "plain"');
const withFloor = values.floor !== 'false';

const [shot] = await renderScreenshots(1);
const image = shot!.png;
const traceGc = values['trace-gc'];
const profileDir = values['cpu-profile'];
const preloads = [...(traceGc ? ['./gc-observer.mjs'] : []), ...(profileDir ? ['./cpu-profile.mjs'] : [])];
/** The preloads of a benchmarked server (the server and its twin): GC observer and CPU profiler. */
const preloadEnv = {
  ...(preloads.length
    ? { NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...preloads.map((p) => `--import ${new URL(p, import.meta.url).href}`)].join(' ') }
    : {}),
  ...(profileDir ? { CPU_PROFILE_DIR: path.resolve(profileDir) } : {}),
};
const server = await startServerProcess(tempDir('openrecall-bench-'), {
  OPENRECALL_WORKERS: process.env.OPENRECALL_WORKERS ?? '1',
  ...(values.twin ? { OPENRECALL_ENCRYPTION: 'off' } : {}),
  ...preloadEnv,
});
if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
console.error(`server pid ${server.child.pid}`); // for a profiler attached from outside (perf record -p)
/** With --cpu-profile: a server's profiler runs during its own paced runs only (bench/cpu-profile.mjs). */
const toggleProfile = (pid: number) => profileDir && process.kill(pid, 'SIGUSR2');
const load = new UploadLoad(new URL(`${server.api}/upload`), image, uploaders);
const floorDir = tempDir('openrecall-bench-floor-');
const floor = spawn(process.execPath, [new URL('./durable-floor-server.mjs', import.meta.url).pathname, path.join(floorDir, 'incoming')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [floorBanner] = (await once(floor.stdout!, 'data')) as [Buffer];
const floorLoad = new UploadLoad(new URL(`${floorBanner.toString().match(/listening on (\S+)/)![1]}/upload`), image, uploaders);
const twin = values.twin
  ? await startServerProcess(tempDir('openrecall-bench-twin-'), {
      OPENRECALL_WORKERS: process.env.OPENRECALL_WORKERS ?? '1',
      ...(values.twin === 'encrypted'
        ? { OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: path.join(tempDir('openrecall-bench-twin-key-'), 'openrecall.key') }
        : { OPENRECALL_ENCRYPTION: 'off' }),
      ...preloadEnv,
    })
  : undefined;
const twinLoad = twin ? new UploadLoad(new URL(`${twin.api}/upload`), image, uploaders) : undefined;

// A server compiles the schemas of the routes not called yet once it has been up 3 s and requests pause for 0.5 s
// (src/server/lazy-schemas.ts), 0.3 s of CPU or so. The measurement is of a server that has been up a while, so it
// starts after that: none of it lands in the server's first round (or, quiet while the floor is measured, in the floor's).
const warmedUp = new Promise((resolve) => setTimeout(resolve, 6_000));
// A backlog first, so OCR is busy for the whole measurement.
for (const [target, api] of [[load, server.api], ...(twin && twinLoad ? [[twinLoad, twin.api] as const] : [])] as const) {
  for (let i = 0; i < 8; i++) await target.send();
  await waitUntil(async () => (await getJson(`${api}/queue/status`)).body.queue.processing > 0, { what: 'OCR busy' });
}

await warmedUp;

interface Samples {
  latencies: number[];
  handler: number[];
  accepted: number;
  failed: number;
  errors: string[];
  seconds: number;
  /** CPU time (user + system) of the answering process during the runs, in ms. */
  cpuMs: number;
  /** The same by thread name (the main thread is the event loop; libuv-worker the pool's fsyncs; V8's GC helpers...). */
  threadCpuMs: Record<string, number>;
}
const noSamples = (): Samples => ({ latencies: [], handler: [], accepted: 0, failed: 0, errors: [], seconds: 0, cpuMs: 0, threadCpuMs: {} });

/** CPU ms of each thread of a process by thread id, with its name ("main" for the main thread). */
function threadCpuOf(pid: number): Map<string, { name: string; ms: number }> {
  const threads = new Map<string, { name: string; ms: number }>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = Number(tid) === pid ? 'main' : fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads.set(tid, { name, ms: cpuMsOf(pid, Number(tid)) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}

/** utime + stime of a process (or with `thread`, of one of its threads) in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMsOf(pid: number, thread?: number): number {
  const fields = fs
    .readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8')
    .split(') ')[1]!
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function run(paced: boolean, target = load, into = noSamples()) {
  const { latencies, handler, errors } = into;
  const pid = target === floorLoad ? floor.pid! : target === twinLoad ? twin!.child.pid! : server.child.pid!;
  if (target !== floorLoad) toggleProfile(pid);
  const cpuBefore = cpuMsOf(pid);
  const threadsBefore = threadCpuOf(pid);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: uploaders }, async (_, u) => {
      if (paced) await new Promise((r) => setTimeout(r, (u * intervalMs) / uploaders)); // spread the uploaders out
      for (let i = 0; i < perUploader; i++) {
        const due = performance.now() + intervalMs;
        const response = await target.send().catch((error: NodeJS.ErrnoException) => {
          errors.push(error.code ?? error.message);
          return undefined;
        });
        if (response) {
          latencies.push(response.ms);
          if (response.status === 202) {
            into.accepted++;
            handler.push(Number(JSON.parse(response.body).elapsed_ms));
          } else into.failed++;
        }
        if (paced) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      }
    }),
  );
  into.seconds += (performance.now() - started) / 1000;
  into.cpuMs += cpuMsOf(pid) - cpuBefore;
  for (const [tid, { name, ms }] of threadCpuOf(pid)) into.threadCpuMs[name] = (into.threadCpuMs[name] ?? 0) + ms - (threadsBefore.get(tid)?.ms ?? 0);
  if (target !== floorLoad) toggleProfile(pid);
  return into;
}

function figures({ latencies, handler, accepted, failed, errors, seconds, cpuMs, threadCpuMs }: Samples) {
  latencies.sort((a, b) => a - b);
  handler.sort((a, b) => a - b);
  return {
    accepted,
    failed,
    network_errors: { count: errors.length, codes: [...new Set(errors)] },
    latency_ms: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1)!),
    },
    handler_ms: { p50: round(percentile(handler, 50)), p99: round(percentile(handler, 99)) },
    requests_per_second: round(latencies.length / seconds, 1),
    cpu_ms_per_upload: round(cpuMs / Math.max(1, latencies.length)),
    cpu_ms_per_upload_by_thread: Object.fromEntries(
      Object.entries(threadCpuMs)
        .filter(([, ms]) => ms > 0)
        .map(([name, ms]) => [name, round(ms / Math.max(1, latencies.length))]),
    ),
  };
}

/** A server's own collections (not its processor's) in a slice of its output, from bench/gc-observer.mjs. */
function gcFigures(output: string, pid: number) {
  const pauses: Record<string, number[]> = {};
  for (const match of output.matchAll(/^gc-pause (\d+) (\w+) ([\d.]+)$/gm)) {
    if (Number(match[1]) === pid) (pauses[match[2]!] ??= []).push(Number(match[3]));
  }
  return Object.fromEntries(
    Object.entries(pauses).map(([kind, ms]) => [kind, { count: ms.length, total_ms: round(ms.reduce((a, b) => a + b, 0)), max_ms: round(Math.max(...ms)) }]),
  );
}

const traceStart = server.output().length;
const twinTraceStart = twin?.output().length ?? 0;
const serverSamples = noSamples();
const floorSamples = noSamples();
const twinSamples = noSamples();
for (let r = 0; r < rounds; r++) {
  if (withFloor) await run(true, floorLoad, floorSamples);
  if (twinLoad && r % 2 === 1) await run(true, twinLoad, twinSamples);
  await run(true, load, serverSamples);
  if (twinLoad && r % 2 === 0) await run(true, twinLoad, twinSamples);
}
if (profileDir) {
  const written = () => [server, ...(twin ? [twin] : [])].flatMap((s) => [...s.output().matchAll(/^cpu-profile \d+ (\S+)$/gm)].map((m) => m[1]!));
  await waitUntil(async () => written().length >= rounds * (twin ? 2 : 1), { what: 'the CPU profiles written' });
  console.error(`CPU profiles: ${written().join(' ')}`);
}
const paced = figures(serverSamples);
const floorPaced = withFloor ? figures(floorSamples) : undefined;
const twinPaced = twin ? figures(twinSamples) : undefined;
const twinStatus = twin ? (await getJson(`${twin.api}/queue/status`)).body : undefined;
const pacedGc = traceGc ? gcFigures(server.output().slice(traceStart), server.child.pid!) : undefined;
const twinGc = traceGc && twin ? gcFigures(twin.output().slice(twinTraceStart), twin.child.pid!) : undefined;
const saturated = values.saturated === 'false' ? undefined : figures(await run(false));
const status = (await getJson(`${server.api}/queue/status`)).body;
const stored = status.queue.pending + status.queue.processing + status.queue.completed + status.queue.failed;
load.close();
floorLoad.close();
twinLoad?.close();
floor.kill('SIGKILL');
await twin?.stop('SIGKILL');
await server.stop('SIGKILL');
// A connection error is the server's fault until shown otherwise: keep its last words for the reader.
if (paced.network_errors.count + (saturated?.network_errors.count ?? 0) > 0) console.error(server.output().split('\n').slice(-30).join('\n'));

console.log(
  JSON.stringify(
    {
      benchmark: 'ingest',
      image: `1920x1080 PNG, ${image.length} bytes`,
      uploaders,
      ocr_workers: status.config.workers,
      ocr_busy_during_run: status.queue.pending > 0,
      rounds,
      paced: { interval_ms: intervalMs, ...paced, ...(pacedGc ? { server_gc: pacedGc } : {}) },
      ...(floorPaced
        ? {
            floor_paced: floorPaced,
            over_floor: {
              p50: round(paced.latency_ms.p50 / floorPaced.latency_ms.p50),
              p99: round(paced.latency_ms.p99 / floorPaced.latency_ms.p99),
            },
          }
        : {}),
      ...(twinPaced && twinStatus
        ? {
            twin: values.twin,
            twin_paced: { ...twinPaced, ...(twinGc ? { twin_gc: twinGc } : {}) },
            twin_lost: twinPaced.accepted + 8 - (twinStatus.queue.pending + twinStatus.queue.processing + twinStatus.queue.completed + twinStatus.queue.failed),
            twin_over_server: {
              p50: round(twinPaced.latency_ms.p50 / paced.latency_ms.p50),
              p99: round(twinPaced.latency_ms.p99 / paced.latency_ms.p99),
              cpu_ms_per_upload: round(twinPaced.cpu_ms_per_upload / paced.cpu_ms_per_upload),
            },
          }
        : {}),
      ...(saturated ? { saturated } : {}),
      lost: paced.accepted + (saturated?.accepted ?? 0) + 8 - stored,
      load_average_after: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
    },
    null,
    2,
  ),
);
