// `bench/client-capture.ts --wayland`: the same costs on Wayland, wlroots backend, on a 1920x1080 headless sway
// (pixman renderer) with a foot window full of text:
//   1. per frame: focused window (sway IPC), outputs, capture (grim, PPM over a pipe) + grey copy + change detection
//   2. CPU share of the real `openrecall client` process *and its grim children* at one capture per 10 s
// `--portal`: the portal backend on GNOME (headless mutter 1920x1080, xdg-desktop-portal-gnome, PipeWire): the
// ScreenCast session is approved once, then the same two figures (each capture: one buffer of the PipeWire stream
// through a gst-launch child). BENCH_PROF=<dir>: the client runs with --cpu-prof into that dir.
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
    console.log(`\nper frame, ${frames} frames of 1920x1080:`);
    console.log(`  active window (sway IPC)       ${stats(t.window)}`);
    console.log(`  list outputs (sway IPC)        ${stats(t.monitors)}`);
    console.log(`  capture (grim PPM + RGBA)      ${stats(t.capture)}`);
    console.log(`  grey copy                      ${stats(t.thumb)}`);
    console.log(`  compare (changed tiles)        ${stats(t.compare)}`);
    const mean = (l: number[]) => l.reduce((a, b) => a + b, 0) / l.length;
    const perFrame = Object.values(t).reduce((sum, l) => sum + mean(l), 0);
    console.log(`  => capture + similarity, an unchanged frame: ${perFrame.toFixed(1)} ms`);
    Object.assign(summary, { unchanged_frame_ms: Math.round(perFrame * 10) / 10, capture_ms: Math.round(mean(t.capture) * 10) / 10 });

    if (cpuSeconds > 0) {
      console.log(
        `\nclient CPU share: \`openrecall client\` (wlroots) for ${cpuSeconds} s at one capture per ${cpuInterval} s (idle check off, server absent)...`,
      );
      const child = spawn(process.execPath, [path.join(root, 'bin', 'openrecall.js'), 'client'], {
        env: {
          ...env,
          DISPLAY: '',
          OPENRECALL_DATA_DIR: path.join(tmp, 'client'),
          OPENRECALL_API_URL: 'http://127.0.0.1:9/api',
          OPENRECALL_CAPTURE_INTERVAL: String(cpuInterval),
          OPENRECALL_IDLE_SECONDS: '0',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      child.stderr.on('data', (c: Buffer) => (log += c.toString()));
      // utime + stime of the client, plus cutime + cstime: the grim children it has waited for.
      const ticks = () => {
        const f = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return { own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
      };
      const hz = 100;
      while (!log.includes('monitors:')) {
        if (child.exitCode !== null) throw new Error(`the client exited: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const start = ticks();
      const started = Date.now();
      // A new window every third round, like a user: those rounds keep a frame.
      let changes = 0;
      const windows: Array<{ close(): Promise<void> }> = [];
      const changer = setInterval(() => {
        changes++;
        void sway.openWindow(`Benchmark window ${changes}`, `${words} ${changes}`).then((w) => windows.push(w));
      }, cpuInterval * 3000);
      await new Promise((r) => setTimeout(r, cpuSeconds * 1000));
      clearInterval(changer);
      const end = ticks();
      const wall = (Date.now() - started) / 1000;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const own = (end.own - start.own) / hz;
      const grim = (end.children - start.children) / hz;
      const percent = ((own + grim) / wall) * 100;
      console.log(
        `  ${(own + grim).toFixed(2)} s CPU (client ${own.toFixed(2)} s + grim ${grim.toFixed(2)} s) in ${wall.toFixed(0)} s (${Math.round(wall / cpuInterval)} rounds, ${changes} new windows): ${percent.toFixed(2)} % of one core`,
      );
      Object.assign(summary, {
        cpu_seconds: cpuSeconds,
        cpu_interval_seconds: cpuInterval,
        cpu_percent_of_one_core: Math.round(percent * 100) / 100,
        grim_cpu_seconds: grim,
      });
      for (const w of windows) await w.close();
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
    console.log(`\nper frame, ${frames} frames of 1920x1080:`);
    console.log(`  screens (the portal session)   ${stats(t.monitors)}`);
    console.log(`  capture (PipeWire, gst RGBA)   ${stats(t.capture)}`);
    console.log(`  grey copy                      ${stats(t.thumb)}`);
    console.log(`  compare (changed tiles)        ${stats(t.compare)}`);
    const mean = (l: number[]) => l.reduce((a, b) => a + b, 0) / l.length;
    const perFrame = Object.values(t).reduce((sum, l) => sum + mean(l), 0);
    console.log(`  => capture + similarity, an unchanged frame: ${perFrame.toFixed(1)} ms`);
    Object.assign(summary, { unchanged_frame_ms: Math.round(perFrame * 10) / 10, capture_ms: Math.round(mean(t.capture) * 10) / 10 });

    if (cpuSeconds > 0) {
      console.log(
        `\nclient CPU share: \`openrecall client\` (portal, permission restored) for ${cpuSeconds} s at one capture per ${cpuInterval} s (idle check off, server absent)...`,
      );
      const child = spawn(
        process.execPath,
        [...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []), path.join(root, 'bin', 'openrecall.js'), 'client'],
        {
          uid: gnome.user.uid,
          gid: gnome.user.gid,
          env: {
            ...env,
            HOME: gnome.runtimeDir,
            DISPLAY: '',
            OPENRECALL_CAPTURE_BACKEND: 'portal',
            OPENRECALL_DATA_DIR: dataDir,
            OPENRECALL_API_URL: 'http://127.0.0.1:9/api',
            OPENRECALL_CAPTURE_INTERVAL: String(cpuInterval),
            OPENRECALL_IDLE_SECONDS: '0',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let log = '';
      child.stderr.on('data', (c: Buffer) => (log += c.toString()));
      const hz = 100;
      while (!log.includes('screen-cast session started')) {
        if (child.exitCode !== null || log.includes('asking the desktop')) throw new Error(`the client did not restore the permission: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1000));
      const start = ticks(child.pid!);
      const started = Date.now();
      // A new window every third round, like a user: those rounds keep a frame.
      let changes = 0;
      const windows: Array<{ close(): Promise<void> }> = [];
      const changer = setInterval(() => {
        changes++;
        void gnome.openWindow(`Benchmark window ${changes}`, `${words} ${changes}`, { maximized: true }).then((w) => windows.push(w));
      }, cpuInterval * 3000);
      await new Promise((r) => setTimeout(r, cpuSeconds * 1000));
      clearInterval(changer);
      const end = ticks(child.pid!);
      const wall = (Date.now() - started) / 1000;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const own = (end.own - start.own) / hz;
      const gst = (end.children - start.children) / hz;
      const percent = ((own + gst) / wall) * 100;
      console.log(
        `  ${(own + gst).toFixed(2)} s CPU (client ${own.toFixed(2)} s + gst-launch ${gst.toFixed(2)} s) in ${wall.toFixed(0)} s (${Math.round(wall / cpuInterval)} rounds, ${changes} new windows): ${percent.toFixed(2)} % of one core`,
      );
      Object.assign(summary, {
        cpu_seconds: cpuSeconds,
        cpu_interval_seconds: cpuInterval,
        cpu_percent_of_one_core: Math.round(percent * 100) / 100,
        gst_cpu_seconds: gst,
      });
      for (const w of windows) await w.close();
      if (process.env.BENCH_PROF) console.log(log);
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
