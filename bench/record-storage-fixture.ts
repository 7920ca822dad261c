// Records the capture sequence of bench/storage.ts with the real client on a private X display (Xvfb 1920x1080
// + openbox): an xterm printing a build log, two Chromium app windows showing local pages whose text changes a
// little at a time (a document being typed, a chat), and the user switching between them. The real server keeps
// the frames the client sends (OCR off); their stored lossless WebP files and metadata go to
// bench/fixtures/storage/. Needs xvfb, openbox, xdotool, xterm and chromium (Debian).
//   node --import tsx bench/record-storage-fixture.ts [--seconds 100] [--interval 1.5]
import { CHROMIUM_PATH, QUIET_CHROMIUM_ARGS } from '../test/helpers/chromium.js';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { startClientProcess } from '../test/client/helpers/client-process.js';
import { startXSession } from '../test/client/helpers/x-session.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '150' }, interval: { type: 'string', default: '1.5' } } });
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'bench', 'fixtures', 'storage');
const work = tempDir('openrecall-fixture-');

const DOCUMENT = `Quarterly planning notes. The release of version four moves to the second week of March because the
migration of customer invoices needs another review. Marta owns the billing export and will send the figures
for the budget meeting on Thursday. Open questions: who signs off the security audit, whether the Lisbon office
joins the rollout, and how we measure the latency of the search service after the kernel upgrade.`.replace(/\n/g, ' ');

const CHAT = [
  'Marta: the invoice export finished, 4411 rows',
  'Jonas: great, can you check the totals against March?',
  'Marta: totals match except two refunds',
  'Priya: I will add the refunds to the budget sheet',
  'Jonas: meeting moved to 15:30, same room',
  'Marta: uploading the audit checklist now',
  'Priya: the kernel upgrade is scheduled for Friday night',
  'Jonas: please note the rollback plan in the wiki',
  'Marta: done, link in the channel topic',
  'Priya: latency dropped to 41 ms after the change',
];

/** Text already on the page: a real screen is rarely mostly empty. */
const PARAGRAPHS = [
  'Agenda for the planning review: status of the invoice migration, the kernel upgrade window, hiring for the search team, and the budget for the second half. Each owner presents five minutes, questions at the end.',
  'Invoice migration: 4411 of 4630 customer accounts are on the new billing service. The remaining accounts use custom tax rules; Marta is writing the export for them and expects to finish by Thursday.',
  'Kernel upgrade: the staging cluster runs the new kernel since Monday without regressions. Production nodes follow on Friday night in three waves, with the rollback plan documented in the operations wiki.',
  'Search latency: the p95 of the search service went from 180 ms to 41 ms after the index change. Priya will repeat the measurement after the upgrade and add the dashboard link to the weekly report.',
  'Hiring: two interviews scheduled for next week, one offer pending. The team would like a second engineer with experience in storage systems and compression before the summer.',
];

const page = (title: string, body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>
<body style="margin:0;font-family:'DejaVu Sans',sans-serif;font-size:17px;color:#1f2328;background:#fff">
<div style="height:44px;background:#24292f;color:#fff;padding:12px 20px;box-sizing:border-box">${title}</div>
<div style="display:flex"><div style="width:220px;background:#f6f8fa;height:calc(100vh - 44px);padding:16px;line-height:32px;box-sizing:border-box">
Inbox<br>Drafts<br>Projects<br>Planning<br>Archive<br>Settings</div><div style="padding:24px 32px;line-height:28px;max-width:1500px">${PARAGRAPHS.map((p) => `<p style="margin:0 0 18px">${p}</p>`).join('')}
<table style="border-collapse:collapse;margin:8px 0 18px">${[
  'Owner,Item,Due,Status',
  'Marta,Billing export,Thu,In progress',
  'Jonas,Rollback plan,Fri,Done',
  'Priya,Latency report,Mon,Open',
]
  .map(
    (r, i) =>
      `<tr>${r
        .split(',')
        .map((c) => `<td style="border:1px solid #d0d7de;padding:4px 14px;${i ? '' : 'font-weight:bold;background:#f6f8fa'}">${c}</td>`)
        .join('')}</tr>`,
  )
  .join('')}</table>
<div id="main"></div></div></div>
<script>${body}</script></body></html>`;

fs.writeFileSync(
  path.join(work, 'notes.html'),
  page(
    'Planning notes - Editor',
    `
// Someone typing: a few words at a time, a new paragraph every few lines.
const text = ${JSON.stringify(DOCUMENT)}.split(' '); let n = 0; let typed = [];
const main = document.getElementById('main');
setInterval(() => { for (let k = 0; k < 3; k++) typed.push(text[n++ % text.length]); if (typed.length > 70) typed = typed.slice(-4); main.textContent = typed.join(' ') + ' |'; }, 1500);`,
  ),
);
fs.writeFileSync(
  path.join(work, 'chat.html'),
  page(
    'Team chat - #planning',
    `
const lines = ${JSON.stringify(CHAT)}; let n = 2;
const main = document.getElementById('main');
const show = () => { main.innerHTML = lines.slice(0, n).map((l) => '<p style="margin:0 0 14px">' + l.replace(/^(\\w+):/, '<b>$1:</b>') + '</p>').join(''); };
setInterval(() => { n = Math.min(lines.length, n + 1); show(); }, 5000); show();`,
  ),
);

const session = await startXSession();
const children: ChildProcess[] = [];
const childEnv = { ...process.env, ...session.env, XAUTHORITY: '/dev/null', WAYLAND_DISPLAY: '', XDG_SESSION_TYPE: '' };
const spawnApp = (command: string, args: string[]) => {
  const child = spawn(command, args, { env: childEnv, stdio: 'ignore' });
  children.push(child);
  return child;
};
async function windowNamed(pattern: string): Promise<string> {
  return waitUntil(async () => (await session.xdotool('search', '--onlyvisible', '--name', pattern).catch(() => '')).split('\n').filter(Boolean).pop(), {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: `window ${pattern}`,
  }) as Promise<string>;
}

const chromium = (name: string) =>
  spawnApp(CHROMIUM_PATH, [
    `--app=file://${path.join(work, name)}`,
    `--user-data-dir=${path.join(work, `profile-${name}`)}`,
    ...QUIET_CHROMIUM_ARGS,
    '--no-default-browser-check',
    '--disable-default-apps',
    '--disable-features=Translate,MediaRouter',
    '--window-position=0,0',
    '--window-size=1920,1080',
    '--force-device-scale-factor=1',
    '--test-type',
  ]);

try {
  spawnApp('xterm', [
    '-T',
    'build - xterm',
    '-geometry',
    '180x52+0+0',
    '-fa',
    'DejaVu Sans Mono',
    '-fs',
    '11',
    '-e',
    'bash',
    '-c',
    'for i in $(seq 1 400); do echo "$(date +%T) [build] step $i/400: compiling src/module_$((i % 37)).ts ... ok ($((i * 7 % 90 + 10)) ms)"; sleep 0.8; done',
  ]);
  const terminal = await windowNamed('^build - xterm$');
  chromium('notes.html');
  const notes = await windowNamed('Planning notes');
  chromium('chat.html');
  const chat = await windowNamed('Team chat');
  for (const id of [terminal, notes, chat]) await session.xdotool('windowsize', id, '1920', '1080').catch(() => '');

  const server = await startServerProcess(path.join(work, 'server'), { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_COMPACT_AFTER_MINUTES: '100000' });
  // Client: a capture every --interval seconds; a frame is kept when it differs from the last kept one (SSIM
  // below 0.997: the default 0.9 keeps only app switches of this sequence).
  const client = await startClientProcess(session, path.join(work, 'client'), server.api, {
    OPENRECALL_CAPTURE_INTERVAL: values.interval!,
    OPENRECALL_SIMILARITY_THRESHOLD: '0.997',
  });
  // The user: mostly in the document, now and then the chat and the build log.
  const plan = [notes, chat, notes, terminal, notes, chat, notes, terminal, notes, chat];
  const deadline = Date.now() + Number(values.seconds) * 1000;
  for (let i = 0; Date.now() < deadline; i++) {
    await session.xdotool('windowactivate', '--sync', plan[i % plan.length]!).catch(() => '');
    await new Promise((r) => setTimeout(r, Math.min(12_000, deadline - Date.now())));
  }
  await client.stop();
  await waitUntil(async () => (await getJson(`${server.api}/queue/status`)).body.queue.pending === 0, { what: 'processing' });
  const { body } = await getJson(`${server.api}/entries?limit=500`);
  const entries = (body.entries as any[]).filter((e) => e.status === 'COMPLETED').reverse();
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const frames = [];
  for (const [i, e] of entries.entries()) {
    const file = `${String(i).padStart(3, '0')}.webp`;
    const image = Buffer.from(await (await fetch(`${server.api}/entries/${e.id}/image`)).arrayBuffer());
    fs.writeFileSync(path.join(out, file), image);
    frames.push({ file, timestamp: e.timestamp, app: e.app, title: e.title, monitor: e.monitor, width: e.width, height: e.height });
  }
  fs.writeFileSync(
    path.join(out, 'frames.json'),
    `${JSON.stringify({ recorded_with: 'bench/record-storage-fixture.ts', seconds: Number(values.seconds), interval: Number(values.interval), frames }, null, 1)}\n`,
  );
  console.log(
    `${frames.length} frames written to ${path.relative(root, out)} (${(frames.reduce((s, f) => s + fs.statSync(path.join(out, f.file)).size, 0) / 1024 / 1024).toFixed(1)} MB)`,
  );
  await server.stop();
} finally {
  for (const child of children) child.kill('SIGTERM');
  await session.close();
}
