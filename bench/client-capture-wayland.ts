// `bench/client-capture.ts --wayland`: the same costs on Wayland, wlroots backend, on a 1920x1080 headless sway
// (pixman renderer) with a foot window full of text:
//   1. per frame: focused window (sway IPC), outputs, capture (grim, PPM over a pipe) + grey copy + change detection
//   2. CPU share of the real `openrecall client` process *and its grim children* at one capture per 10 s
// `--portal`: the portal backend on GNOME (headless mutter 1920x1080, xdg-desktop-portal-gnome, PipeWire): the
// ScreenCast session is approved once, then the same two figures (each capture: one buffer of the PipeWire stream
// through a gst-launch child). BENCH_PROF=<dir>: the client runs with --cpu-prof into that dir (and its log is shown).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PortalScreenSource } from '../src/client/capture/portal.js';
import { compositorIpc, GrimScreenSource } from '../src/client/capture/wlroots.js';
import { primaryMonitor } from '../src/client/capture/screen.js';
import { compareFrames, greyThumbnail, type GreyImage } from '../src/client/similarity.js';
import { startGnomeSession } from '../test/client/helpers/gnome-session.js';
import { startSwaySession } from '../test/client/helpers/sway-session.js';

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `mean ${mean.toFixed(1)} ms, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`;
};

async function timed<T>(list: number[], f: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  const value = await f();
  list.push(performance.now() - start);
  return value;
}

export async function runWaylandBench(frames: number, cpuSeconds: number, cpuInterval: number, root: string): Promise<Record<string, unknown>> {
  const summary: Record<string, unknown> = { benchmark: 'client-capture', backend: 'wlroots', frames, screen: '1920x1080' };
  const sway = await startSwaySession();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openrecall-bench-'));
  const words = Array.from({ length: 12 }, (_, i) => `${i}: The quick brown fox jumps over the lazy dog, figures 1234.56`).join(' ');
  try {
    await sway.openWindow('Benchmark window', words);
    console.log(
      `client capture benchmark (Wayland): ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, Node ${process.version}, headless sway 1920x1080`,
    );
    const env = { ...process.env, ...sway.env };
    const ipc = compositorIpc(env)!;
    const screen = new GrimScreenSource(env, ipc);
    const t = { window: [] as number[], monitors: [] as number[], capture: [] as number[], thumb: [] as number[], compare: [] as number[] };
    let previous: GreyImage | undefined;
    for (let i = 0; i < frames; i++) {
      await timed(t.window, () => ipc.active());
      const monitors = await timed(t.monitors, () => screen.monitors());
      const frame = await timed(t.capture, () => screen.capture(primaryMonitor(monitors)!));
      const grey = await timed(t.thumb, () => greyThumbnail(frame.data, frame.width, frame.height));
      if (previous) await timed(t.compare, () => compareFrames(previous!, grey));
      previous = grey;
    }
    reportFrames(
      frames,
      t,
      {
        window: 'active window (sway IPC)',
        monitors: 'list outputs (sway IPC)',
        capture: 'capture (grim PPM + RGBA)',
        thumb: 'grey copy',
        compare: 'compare (changed tiles)',
      },
      summary,
    );

    if (cpuSeconds > 0) {
      const figures = await clientCpuShare({
        what: 'wlroots',
        helper: 'grim',
        helperKey: 'grim_cpu_seconds',
        root,
        env,
        dataDir: path.join(tmp, 'client'),
        capturing: (log) => log.includes('monitors:'),
        failed: () => false,
        openWindow: (n) => sway.openWindow(`Benchmark window ${n}`, `${words} ${n}`),
        cpuSeconds,
        cpuInterval,
      });
      Object.assign(summary, figures);
    }
    return summary;
  } finally {
    await sway.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** CPU ticks of a process: its own (utime + stime) and its waited-for children's (cutime + cstime: grim, gst-launch). */
function ticks(pid: number) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
}

/** Prints the per-frame figures (`labels`: which list, in which order) and adds the per-frame totals to `summary`. */
function reportFrames<K extends string>(frames: number, t: Record<K, number[]>, labels: Record<K, string>, summary: Record<string, unknown>): void {
  console.log(`\nper frame, ${frames} frames of 1920x1080:`);
  for (const [key, label] of Object.entries(labels) as Array<[K, string]>) console.log(`  ${label.padEnd(31)}${stats(t[key])}`);
  const mean = (l: number[]) => l.reduce((a, b) => a + b, 0) / l.length;
  const perFrame = (Object.values(t) as number[][]).reduce((sum, l) => sum + mean(l), 0);
  console.log(`  => capture + similarity, an unchanged frame: ${perFrame.toFixed(1)} ms`);
  const capture = (t as Record<string, number[]>).capture;
  Object.assign(summary, { unchanged_frame_ms: Math.round(perFrame * 10) / 10, capture_ms: capture ? Math.round(mean(capture) * 10) / 10 : undefined });
}

/**
 * The CPU share of a running `openrecall client` (its own and its capture helper children's) over `cpuSeconds`,
 * measured once it captures, with a new window every third round, like a user: those rounds keep a frame.
 */
async function clientCpuShare(o: {
  what: string;
  /** The capture helper the client runs as a child (grim, gst-launch), and the summary key of its CPU seconds. */
  helper: string;
  helperKey: string;
  root: string;
  /** The session's variables for the client; it runs as `user` when given. */
  env: NodeJS.ProcessEnv;
  user?: { uid: number; gid: number };
  dataDir: string;
  capturing(log: string): boolean;
  /** A reason to give up, from the client's log so far (or false). */
  failed(log: string): string | false;
  openWindow(n: number): Promise<{ close(): Promise<void> }>;
  cpuSeconds: number;
  cpuInterval: number;
}): Promise<Record<string, unknown>> {
  const { cpuSeconds, cpuInterval, helper } = o;
  console.log(
    `\nclient CPU share: \`openrecall client\` (${o.what}) for ${cpuSeconds} s at one capture per ${cpuInterval} s (idle check off, server absent)...`,
  );
  const profile = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, path.join(o.root, 'bin', 'openrecall.js'), 'client'], {
    ...o.user,
    env: {
      ...o.env,
      DISPLAY: '',
      OPENRECALL_DATA_DIR: o.dataDir,
      OPENRECALL_API_URL: 'http://127.0.0.1:9/api',
      OPENRECALL_CAPTURE_INTERVAL: String(cpuInterval),
      OPENRECALL_IDLE_SECONDS: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (c: Buffer) => (log += c.toString()));
  const hz = 100;
  while (!o.capturing(log)) {
    const failure = o.failed(log);
    if (child.exitCode !== null || failure) throw new Error(`${failure || 'the client exited'}: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const start = ticks(child.pid!);
  const started = Date.now();
  let changes = 0;
  const windows: Array<{ close(): Promise<void> }> = [];
  const changer = setInterval(() => {
    changes++;
    void o.openWindow(changes).then((w) => windows.push(w));
  }, cpuInterval * 3000);
  await new Promise((r) => setTimeout(r, cpuSeconds * 1000));
  clearInterval(changer);
  const end = ticks(child.pid!);
  const wall = (Date.now() - started) / 1000;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const own = (end.own - start.own) / hz;
  const helperCpu = (end.children - start.children) / hz;
  const percent = ((own + helperCpu) / wall) * 100;
  console.log(
    `  ${(own + helperCpu).toFixed(2)} s CPU (client ${own.toFixed(2)} s + ${helper} ${helperCpu.toFixed(2)} s) in ${wall.toFixed(0)} s (${Math.round(wall / cpuInterval)} rounds, ${changes} new windows): ${percent.toFixed(2)} % of one core`,
  );
  for (const w of windows) await w.close();
  if (process.env.BENCH_PROF) console.log(log);
  return {
    cpu_seconds: cpuSeconds,
    cpu_interval_seconds: cpuInterval,
    cpu_percent_of_one_core: Math.round(percent * 100) / 100,
    [o.helperKey]: helperCpu,
  };
}

export async function runPortalBench(frames: number, cpuSeconds: number, cpuInterval: number, root: string): Promise<Record<string, unknown>> {
  const summary: Record<string, unknown> = { benchmark: 'client-capture', backend: 'portal (GNOME ScreenCast)', frames, screen: '1920x1080' };
  const gnome = await startGnomeSession({ width: 1920, height: 1080 });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrecall-bench-'));
  fs.chownSync(dataDir, gnome.user.uid, gnome.user.gid);
  const words = Array.from({ length: 12 }, (_, i) => `${i}: The quick brown fox jumps over the lazy dog, figures 1234.56`).join(' ');
  try {
    await gnome.openWindow('Benchmark window', words, { maximized: true }); // the whole screen, as on sway
    console.log(
      `client capture benchmark (Wayland, portal): ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, Node ${process.version}, headless mutter 1920x1080`,
    );
    const env = { ...process.env, ...gnome.env };
    // The frames are read by a child running as the session's user (the portal serves its own user only); the first
    // call asks, and the user shares the screen once: the restore token lands in dataDir for the client below.
    const reader = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--portal-frames', String(frames), dataDir], {
      uid: gnome.user.uid,
      gid: gnome.user.gid,
      env: { ...env, HOME: gnome.runtimeDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    reader.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const readerExit = new Promise<number | null>((resolve) => reader.once('exit', resolve));
    await gnome.answerScreenShare('share');
    if ((await readerExit) !== 0) throw new Error(`the frame reader failed: ${out}`);
    const t = JSON.parse(out) as Record<'monitors' | 'capture' | 'thumb' | 'compare', number[]>;
    reportFrames(
      frames,
      t,
      {
        monitors: 'screens (the portal session)',
        capture: 'capture (PipeWire, gst RGBA)',
        thumb: 'grey copy',
        compare: 'compare (changed tiles)',
      },
      summary,
    );

    if (cpuSeconds > 0) {
      const figures = await clientCpuShare({
        what: 'portal, permission restored',
        helper: 'gst-launch',
        helperKey: 'gst_cpu_seconds',
        root,
        env: { ...env, HOME: gnome.runtimeDir, OPENRECALL_CAPTURE_BACKEND: 'portal' },
        dataDir,
        user: gnome.user, // the portal serves its own user only
        capturing: (log) => log.includes('screen-cast session started'),
        // The permission must come back from the restore token, without a dialog.
        failed: (log) => log.includes('asking the desktop') && 'the client did not restore the permission',
        openWindow: (n) => gnome.openWindow(`Benchmark window ${n}`, `${words} ${n}`, { maximized: true }),
        cpuSeconds,
        cpuInterval,
      });
      Object.assign(summary, figures);
    }
    return summary;
  } finally {
    await gnome.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The per-frame part of the portal bench, as the session's user: `--portal-frames <frames> <dataDir>`. */
async function portalFrames(frames: number, dataDir: string): Promise<void> {
  const screen = new PortalScreenSource(process.env, { dataDir, primaryMonitorOnly: true }, () => {});
  await screen.monitors(); // asks once, answered by the bench
  const t = { monitors: [] as number[], capture: [] as number[], thumb: [] as number[], compare: [] as number[] };
  let previous: GreyImage | undefined;
  for (let i = 0; i < frames; i++) {
    const monitors = await timed(t.monitors, () => screen.monitors());
    const frame = await timed(t.capture, () => screen.capture(primaryMonitor(monitors)!));
    const grey = await timed(t.thumb, () => greyThumbnail(frame.data, frame.width, frame.height));
    if (previous) await timed(t.compare, () => compareFrames(previous!, grey));
    previous = grey;
  }
  screen.close();
  console.log(JSON.stringify(t));
}

const framesArg = process.argv.indexOf('--portal-frames');
if (framesArg > 0) {
  await portalFrames(Number(process.argv[framesArg + 1]), process.argv[framesArg + 2]!);
  process.exit(0);
}
