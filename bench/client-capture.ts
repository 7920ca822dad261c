// Capture client costs on this machine, on a 1920x1080 X screen (Xvfb + openbox, a real window with text):
//   1. per frame: capture (node-screenshots) + grey copy + change detection (tiles), encode, buffer write (temp+fsync+rename)
//   2. CPU share of the real `openrecall client` process at one capture per 10 s (target <= 2 % of one core), and how
//      long its stop takes (SIGTERM to exit)
// Env: BENCH_FRAMES (default 20), BENCH_CPU_SECONDS (default 120), BENCH_CPU_INTERVAL (default 10).
// `--wayland`: the same on a headless sway through the wlroots backend (bench/client-capture-wayland.ts);
// `--portal`: on GNOME (headless mutter) through the ScreenCast portal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FrameBuffer } from '../src/client/buffer.js';
import { NodeScreenshotsSource, primaryMonitor } from '../src/client/capture/screen.js';
import { X11WindowInfo } from '../src/client/capture/window-info.js';
import { X11Idle } from '../src/client/capture/idle.js';
import { encodeFrame, newCaptureId } from '../src/client/client.js';
import { compareFrames, greyThumbnail, type GreyImage } from '../src/client/similarity.js';
import { startXSession } from '../test/client/helpers/x-session.js';

const FRAMES = Number(process.env.BENCH_FRAMES ?? 20);
const CPU_SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 120);
const CPU_INTERVAL = Number(process.env.BENCH_CPU_INTERVAL ?? 10);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
const summary: Record<string, unknown> = { benchmark: 'client-capture', frames: FRAMES, screen: '1920x1080' };
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

if (process.argv.includes('--portal')) {
  const { runPortalBench } = await import('./client-capture-wayland.js');
  console.log(JSON.stringify(await runPortalBench(FRAMES, CPU_SECONDS, CPU_INTERVAL, root), null, 2));
  process.exit(0);
}
if (process.argv.includes('--wayland')) {
  const { runWaylandBench } = await import('./client-capture-wayland.js');
  console.log(JSON.stringify(await runWaylandBench(FRAMES, CPU_SECONDS, CPU_INTERVAL, root), null, 2));
  process.exit(0);
}

const session = await startXSession();
process.env.DISPLAY = session.display; // node-screenshots reads it
const lines = Array.from({ length: 40 }, (_, i) => `${i}: The quick brown fox jumps over the lazy dog; meeting notes, figures 1234.56`).join('\n');
const window = await session.openWindow('Benchmark window', lines);
await session.xdotool('windowsize', window.id, '1800', '1000');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'openrecall-bench-'));

try {
  console.log(
    `client capture benchmark: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, Node ${process.version}, display ${session.display} 1920x1080`,
  );
  const screen = new NodeScreenshotsSource();
  const windows = new X11WindowInfo(session.env);
  const idle = new X11Idle(session.env);
  const buffer = new FrameBuffer(path.join(tmp, 'buffer'), 1024 ** 3, () => {});
  buffer.open();
  const t = {
    monitors: [] as number[],
    capture: [] as number[],
    thumb: [] as number[],
    compare: [] as number[],
    window: [] as number[],
    idle: [] as number[],
    webp: [] as number[],
    png: [] as number[],
    write: [] as number[],
  };
  let sizes = { webp: 0, png: 0 };
  let previous: GreyImage | undefined;
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < FRAMES; i++) {
    await timed(t.idle, () => idle.read());
    await timed(t.window, () => windows.active());
    const monitors = await timed(t.monitors, () => screen.monitors());
    const frame = await timed(t.capture, () => screen.capture(primaryMonitor(monitors)!));
    const grey = await timed(t.thumb, () => greyThumbnail(frame.data, frame.width, frame.height));
    if (previous) await timed(t.compare, () => compareFrames(previous!, grey));
    previous = grey;
    const webp = await timed(t.webp, () => encodeFrame(frame, 'webp'));
    const png = await timed(t.png, () => encodeFrame(frame, 'png'));
    sizes = { webp: webp.bytes.length, png: png.bytes.length };
    const ms = Date.now() + i;
    await timed(t.write, () =>
      buffer.write(
        { captureId: newCaptureId(ms, 0), timestamp: ms / 1000, app: 'Xmessage', title: 'Benchmark', monitor: 0, contentType: webp.contentType },
        webp.bytes,
      ),
    );
  }
  const cpu = process.cpuUsage(cpuStart);
  windows.close();
  idle.close();
  console.log(`\nper frame, ${FRAMES} frames of 1920x1080:`);
  console.log(`  idle check (MIT-SCREEN-SAVER)  ${stats(t.idle)}`);
  console.log(`  active window (EWMH)           ${stats(t.window)}`);
  console.log(`  list monitors                  ${stats(t.monitors)}`);
  console.log(`  capture (node-screenshots)     ${stats(t.capture)}`);
  console.log(`  grey copy ${(previous ? `${previous.width}x${previous.height}` : '').padEnd(21)}${stats(t.thumb)}`);
  console.log(`  compare (changed tiles)        ${stats(t.compare)}`);
  const perFrame = [t.idle, t.window, t.monitors, t.capture, t.thumb, t.compare].reduce((sum, l) => sum + l.reduce((a, b) => a + b, 0) / l.length, 0);
  console.log(`  => capture + similarity, an unchanged frame: ${perFrame.toFixed(1)} ms`);
  console.log(`  encode WebP lossless (kept)    ${stats(t.webp)}  ${(sizes.webp / 1024).toFixed(0)} KB`);
  console.log(`  encode PNG (alternative)       ${stats(t.png)}  ${(sizes.png / 1024).toFixed(0)} KB`);
  console.log(`  buffer write (temp, fsync, rename, dir fsync)  ${stats(t.write)}`);
  console.log(`  process CPU over the loop: ${((cpu.user + cpu.system) / 1000 / FRAMES).toFixed(1)} ms per frame (all of the above, incl. PNG)`);
  const r1 = (n: number) => Math.round(n * 10) / 10;
  Object.assign(summary, {
    unchanged_frame_ms: r1(perFrame),
    capture_ms: r1(mean(t.capture)),
    compare_ms: r1(mean(t.compare)),
    grey_ms: r1(mean(t.thumb)),
    webp_encode_ms: r1(mean(t.webp)),
    buffer_write_ms: r1(mean(t.write)),
    webp_bytes: sizes.webp,
    png_bytes: sizes.png,
  });

  // 2. The real client process, unchanged screen, one capture per CPU_INTERVAL seconds.
  if (CPU_SECONDS > 0) {
    console.log(
      `\nclient CPU share: \`openrecall client\` for ${CPU_SECONDS} s at one capture per ${CPU_INTERVAL} s (idle check off, server absent: frames stay buffered)...`,
    );
    const child = spawn(process.execPath, [path.join(root, 'bin', 'openrecall.js'), 'client'], {
      env: {
        ...process.env,
        ...session.env,
        XAUTHORITY: '/dev/null',
        WAYLAND_DISPLAY: '',
        XDG_SESSION_TYPE: '',
        OPENRECALL_DATA_DIR: path.join(tmp, 'client'),
        OPENRECALL_API_URL: 'http://127.0.0.1:9/api',
        OPENRECALL_CAPTURE_INTERVAL: String(CPU_INTERVAL),
        OPENRECALL_IDLE_SECONDS: '0',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const ticks = () => {
      const fields = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
    };
    const hz = 100;
    // Measure after start-up (module loading), like a client that has been running for a while.
    while (!log.includes('monitors:')) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    const startTicks = ticks();
    const started = Date.now();
    // Change the window now and then, like a user: a third of the rounds keep a frame.
    let changes = 0;
    const changer = setInterval(() => void window.setTitle(`Benchmark window ${++changes}`), CPU_INTERVAL * 3000);
    await new Promise((r) => setTimeout(r, CPU_SECONDS * 1000));
    clearInterval(changer);
    const used = (ticks() - startTicks) / hz;
    const wall = (Date.now() - started) / 1000;
    // How long a stop takes (SIGTERM to exit): the client's own stop, not its 5 s deadline (test/client/cli.test.ts
    // checks the behaviour; the time is a figure, here).
    const stopStarted = performance.now();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const stopMs = performance.now() - stopStarted;
    const rounds = Math.round(wall / CPU_INTERVAL);
    console.log(
      `  ${used.toFixed(2)} s CPU in ${wall.toFixed(0)} s (${rounds} rounds, ${changes} window changes): ${((used / wall) * 100).toFixed(2)} % of one core`,
    );
    console.log(`  SIGTERM to exit: ${stopMs.toFixed(0)} ms`);
    Object.assign(summary, {
      cpu_seconds: CPU_SECONDS,
      cpu_interval_seconds: CPU_INTERVAL,
      cpu_percent_of_one_core: Math.round((used / wall) * 10000) / 100,
      stop_ms: Math.round(stopMs),
    });
  }
  console.log(JSON.stringify(summary, null, 2));
} finally {
  await session.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
