// The memory-recall rig shared by bench/memory-recall.ts and test/client/memory-recall.test.ts: a real X
// session, real windows (Chromium app windows showing local pages, an xterm), the real `openrecall client`
// and `openrecall server` (real OCR), and the measures the issue asks for (recall of the marker words shown,
// frames per screen state, frames of static periods, bytes stored). No input events are sent: the person
// is reading, not typing.
import { CHROMIUM_PATH, QUIET_CHROMIUM_ARGS } from '../../helpers/chromium.js';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { controlSocketPath, sendControl } from '../../../src/client/control.js';
import { getJson, queueCounts, waitUntil } from '../../helpers/api.js';
import { cliPath as builtCli, startServerProcess, type ServerProcess } from '../../helpers/server-process.js';
import { listFilesRecursive, tempDir } from '../../helpers/temp-dir.js';
import { WORDS } from '../../helpers/words.js';
import { entries, type Entry } from './client-process.js';
import { startXSession, type XSession } from './x-session.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Marker words: dictionary words, each used once, in a fixed shuffled order. */
export class Markers {
  private next = 0;
  private readonly pool = WORDS.map((w, i) => ({ w, k: (i * 7919) % 997 }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.w);
  readonly shown: string[] = [];
  take(n: number): string[] {
    if (this.next + n > this.pool.length) throw new Error('out of marker words');
    const words = this.pool.slice(this.next, (this.next += n));
    return words;
  }
  /** Called when the words are on screen. */
  show(words: string[]): void {
    this.shown.push(...words);
  }
}

/** Filler text: words that are never markers. */
export const filler = (i: number) => `${i}. the quick brown fox jumps over the lazy dog`;

export interface Period {
  scenario: string;
  kind: 'changing' | 'static' | 'cursor';
  /** Distinct screen states shown (0 for a static or cursor-only period). */
  states: number;
  startMs: number;
  endMs: number;
}

export interface PageWindow {
  id: string;
  /** Replaces the page's content and waits until the page has painted it. */
  show(html: string, scrollY?: number): Promise<void>;
  activate(): Promise<void>;
}

export interface TerminalWindow {
  id: string;
  print(text: string): Promise<void>;
  activate(): Promise<void>;
}

const PAGE_SHELL = (name: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title>
<style>body{margin:24px 40px;font:30px/1.45 "DejaVu Sans",sans-serif;color:#111;background:#fff}
p{margin:0}.msg{margin:10px 0;padding:6px 12px;background:#eef3fb;border-radius:8px}</style></head>
<body><div id="c"></div><script>
let v = -1;
async function poll() {
  try {
    const s = await (await fetch('/state/${encodeURIComponent(name)}')).json();
    if (s.version !== v) {
      document.getElementById('c').innerHTML = s.html;
      window.scrollTo(0, s.scrollY);
      // Two frames: painted (a window behind another one may get no frames: then a short wait instead).
      await Promise.race([new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))), new Promise((r) => setTimeout(r, 300))]);
      v = s.version;
      await fetch('/ack/${encodeURIComponent(name)}?v=' + v, { method: 'POST' });
    }
  } catch {}
  setTimeout(poll, 100);
}
poll();
</script></body></html>`;

export interface Rig {
  session: XSession;
  server: ServerProcess;
  client: { child: ChildProcess; output(): string; status(): Promise<any> };
  page(title: string): Promise<PageWindow>;
  terminal(title: string): Promise<TerminalWindow>;
  close(): Promise<void>;
}

export interface RigOptions {
  /** The `openrecall` launcher the client runs (default: this tree's build); lets the bench measure an older build. */
  cli?: string;
  /** Extra client settings; by default the client runs at its defaults except the capture interval. */
  clientEnv?: Record<string, string>;
  captureIntervalSeconds?: number;
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const dir = tempDir('openrecall-recall-');
  const cleanups: Array<() => Promise<void> | void> = [];
  const session = await startXSession();
  cleanups.push(() => session.close());
  try {
    // Pages: content set by the rig, fetched by the page, acknowledged once painted.
    const states = new Map<string, { version: number; html: string; scrollY: number; acked: number }>();
    const ackWaiters = new Map<string, () => void>();
    const pages = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const [, kind, raw] = url.pathname.split('/');
      const name = decodeURIComponent(raw ?? '');
      const state = states.get(name);
      if (kind === 'page' && state) return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE_SHELL(name));
      if (kind === 'state' && state) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state));
      if (kind === 'ack' && state) {
        state.acked = Number(url.searchParams.get('v'));
        ackWaiters.get(`${name}@${state.acked}`)?.();
        return void res.writeHead(204).end();
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => pages.close(() => r())));
    const pagesUrl = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;

    const server = await startServerProcess(path.join(dir, 'server'));
    cleanups.push(async () => void (await server.stop()));

    const clientData = path.join(dir, 'client');
    const child = spawn(process.execPath, [options.cli ?? builtCli, 'client'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dir,
        ...session.env,
        XAUTHORITY: '/dev/null',
        OPENRECALL_DATA_DIR: clientData,
        OPENRECALL_API_URL: server.api,
        OPENRECALL_CAPTURE_INTERVAL: String(options.captureIntervalSeconds ?? 1),
        OPENRECALL_UPLOAD_BACKOFF_INITIAL_SECONDS: '0.2',
        OPENRECALL_UPLOAD_BACKOFF_MAX_SECONDS: '1',
        ...options.clientEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let clientOutput = '';
    child.stdout!.on('data', (c: Buffer) => (clientOutput += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (clientOutput += c.toString()));
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    });
    const status = async () => {
      const answer = await sendControl(controlSocketPath(clientData), 'status');
      if (!answer.ok) throw new Error(answer.error);
      return answer.status;
    };

    const findWindow = async (title: string): Promise<string> =>
      waitUntil<string | undefined>(async () => (await session.xdotool('search', '--name', `^${title}$`).catch(() => '')).split('\n').filter(Boolean).pop(), {
        timeoutMs: 30_000,
        what: `window "${title}"`,
      }) as Promise<string>;
    const activate = async (id: string) => {
      await session.xdotool('windowactivate', '--sync', id).catch(() => '');
      await waitUntil(async () => (await session.xdotool('getactivewindow').catch(() => '')) === id, { timeoutMs: 20_000, what: `window ${id} active` });
    };

    const rig: Rig = {
      session,
      server,
      client: { child, output: () => clientOutput, status },
      async page(title) {
        states.set(title, { version: 0, html: '', scrollY: 0, acked: -1 });
        const profile = path.join(dir, `chromium-${states.size}`);
        const chromium = spawn(
          CHROMIUM_PATH,
          [
            `--app=${pagesUrl}/page/${encodeURIComponent(title)}`,
            ...QUIET_CHROMIUM_ARGS,
            '--no-default-browser-check',
            // Windows behind another one keep running their page (the scenarios update hidden windows).
            '--disable-background-timer-throttling',
            '--disable-renderer-backgrounding',
            '--disable-backgrounding-occluded-windows',
            '--password-store=basic',
            '--window-position=0,0',
            '--window-size=1700,1000',
            `--user-data-dir=${profile}`,
          ],
          { env: { ...process.env, ...session.env, XAUTHORITY: '/dev/null' }, stdio: 'ignore' },
        );
        cleanups.push(async () => {
          if (chromium.exitCode !== null || chromium.signalCode !== null) return;
          const exited = new Promise((r) => chromium.once('exit', r));
          chromium.kill('SIGTERM');
          await Promise.race([exited, sleep(5000)]);
          chromium.kill('SIGKILL');
        });
        const id = await findWindow(title);
        await activate(id);
        const show = async (html: string, scrollY = 0) => {
          const state = states.get(title)!;
          const version = state.version + 1;
          const painted = new Promise<void>((resolve) => ackWaiters.set(`${title}@${version}`, resolve));
          Object.assign(state, { version, html, scrollY });
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`page "${title}" did not show version ${version}`)), 20_000);
          });
          try {
            await Promise.race([painted, timeout]);
          } finally {
            clearTimeout(timer);
            ackWaiters.delete(`${title}@${version}`);
          }
        };
        await show('');
        return { id, show, activate: () => activate(id) };
      },
      async terminal(title) {
        const file = path.join(dir, `${title.replace(/\W+/g, '-')}.txt`);
        fs.writeFileSync(file, '');
        const xterm = spawn(
          'xterm',
          [
            '-T',
            title,
            '-fa',
            'DejaVu Sans Mono',
            '-fs',
            '17',
            '-bg',
            'white',
            '-fg',
            'black',
            '-bc',
            '-geometry',
            '100x34+0+0',
            '-e',
            'tail',
            '-n',
            '+1',
            '-f',
            file,
          ],
          { env: { ...process.env, ...session.env, XAUTHORITY: '/dev/null' }, stdio: 'ignore' },
        );
        cleanups.push(() => void xterm.kill('SIGKILL'));
        const id = await findWindow(title);
        await activate(id);
        return {
          id,
          print: async (text) => {
            fs.appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
            await sleep(300); // tail follows with inotify; xterm draws right after
          },
          activate: () => activate(id),
        };
      },
      async close() {
        for (const cleanup of cleanups.reverse()) await cleanup();
      },
    };
    await waitUntil(() => /\[client\] capturing the/.test(clientOutput) || child.exitCode !== null, { timeoutMs: 60_000, what: 'the client to start' });
    if (child.exitCode !== null) throw new Error(`the client exited: ${clientOutput}`);
    return rig;
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup();
    throw error;
  }
}

/** Records the time spans of the scenarios. */
export class Timeline {
  readonly periods: Period[] = [];
  async run(scenario: string, kind: Period['kind'], body: () => Promise<number>): Promise<void> {
    const startMs = Date.now();
    const states = await body();
    this.periods.push({ scenario, kind, states, startMs, endMs: Date.now() });
  }
  /** A period where nothing new is shown (set it up and let it settle first). */
  async quiet(scenario: string, kind: 'static' | 'cursor', seconds: number): Promise<void> {
    await this.run(scenario, kind, async () => {
      await sleep(seconds * 1000);
      return 0;
    });
  }
}

export interface RecallReport {
  markers: number;
  found: number;
  recall: number;
  missing: string[];
  states: number;
  frames: number;
  framesPerState: number;
  /** Frames kept during static or cursor-only periods, per period. */
  quietFrames: Array<{ scenario: string; kind: string; seconds: number; frames: number; perMinute: number }>;
  scenarios: Array<{ scenario: string; states: number; frames: number }>;
  bytesStored: number;
  bytesPerFrame: number;
}

/** Waits until every kept frame has been uploaded and processed, then measures. */
export async function measure(rig: Rig, markers: Markers, timeline: Timeline, timeoutMs = 15 * 60_000): Promise<RecallReport> {
  await waitUntil(
    async () => {
      const s = await rig.client.status();
      return s.buffer.items === 0;
    },
    { timeoutMs, intervalMs: 500, what: 'the client to upload its buffer' },
  );
  await waitUntil(
    async () => {
      const q = await queueCounts(rig.server.api);
      return q.pending + q.processing === 0;
    },
    { timeoutMs, intervalMs: 1000, what: 'the server to process every frame' },
  );
  const all: Entry[] = await entries(rig.server.api);
  const missing: string[] = [];
  for (const word of markers.shown) {
    const { body } = await getJson<{ total: number }>(`${rig.server.api}/search?${new URLSearchParams({ q: word, mode: 'keyword', limit: '1' })}`);
    if (!body.total) missing.push(word);
  }
  const inPeriod = (p: Period, fromMs: number) => all.filter((e) => e.timestamp * 1000 >= fromMs && e.timestamp * 1000 < p.endMs).length;
  const states = timeline.periods.reduce((n, p) => n + p.states, 0);
  const serverDir = serverDataDir(rig);
  const bytesStored = listFilesRecursive(path.join(serverDir, 'screenshots')).reduce((n, f) => n + fs.statSync(path.join(serverDir, 'screenshots', f)).size, 0);
  return {
    markers: markers.shown.length,
    found: markers.shown.length - missing.length,
    recall: markers.shown.length ? (markers.shown.length - missing.length) / markers.shown.length : 1,
    missing,
    states,
    frames: all.length,
    framesPerState: states ? all.length / states : 0,
    quietFrames: timeline.periods
      .filter((p) => p.kind !== 'changing')
      .map((p) => {
        const frames = inPeriod(p, p.startMs);
        const seconds = (p.endMs - p.startMs) / 1000;
        return { scenario: p.scenario, kind: p.kind, seconds: Math.round(seconds), frames, perMinute: Math.round((frames / seconds) * 60 * 100) / 100 };
      }),
    scenarios: timeline.periods.map((p) => ({ scenario: p.scenario, states: p.states, frames: inPeriod(p, p.startMs) })),
    bytesStored,
    bytesPerFrame: all.length ? Math.round(bytesStored / all.length) : 0,
  };
}

function serverDataDir(rig: Rig): string {
  const match = /data: ([^,]+),/.exec(rig.server.output());
  if (!match) throw new Error('the server did not say where its data lives');
  return match[1]!;
}
