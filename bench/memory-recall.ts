// Memory recall end to end (issue 9): the real `openrecall client` at its defaults (capture every 1 s here) and
// the real server with real OCR, under Xvfb + openbox, against real windows (Chromium app windows with local
// pages, an xterm) and no keyboard or mouse input at all. Scenarios: a document paged in one window, a scroll
// by a few lines, chat messages one by one, terminal output blocks, switching between apps, a blinking cursor
// and a static screen. Reports recall (marker words findable by /api/search over the markers shown), frames
// per screen state, frames of the static and cursor-only periods, bytes stored.
// Targets: recall >= 0.98; <= 1 frame/minute of a static or cursor-only screen; frames <= 1.5 x states.
// Env: BENCH_HOLD_SECONDS (each state, default 3), BENCH_QUIET_SECONDS (static and cursor periods, default 60),
//      BENCH_CLI (the openrecall launcher the client runs, default this tree's bin/openrecall.js: point it at
//      an older build to measure it), and any OPENRECALL_* client setting (e.g. OPENRECALL_IDLE_SECONDS=0).
import os from 'node:os';
import { Markers, Timeline, measure, startRig } from '../test/client/helpers/memory-recall.js';
import { chat, documentPaged, scrolled, settleOn, settleOnCursor, switching, terminalBlocks } from '../test/client/helpers/recall-scenarios.js';

const HOLD_MS = Number(process.env.BENCH_HOLD_SECONDS ?? 3) * 1000;
const QUIET_SECONDS = Number(process.env.BENCH_QUIET_SECONDS ?? 60);
const clientEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OPENRECALL_'))) as Record<string, string>;
delete clientEnv.OPENRECALL_CAPTURE_INTERVAL;

console.log(
  `memory recall benchmark: ${os.cpus()[0]?.model ?? 'cpu'} x${os.availableParallelism()}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, ` +
    `client ${process.env.BENCH_CLI ?? 'this build'}, settings ${JSON.stringify(clientEnv)}, hold ${HOLD_MS / 1000} s, quiet periods ${QUIET_SECONDS} s`,
);
const rig = await startRig({ ...(process.env.BENCH_CLI ? { cli: process.env.BENCH_CLI } : {}), clientEnv, captureIntervalSeconds: 1 });
try {
  const markers = new Markers();
  const timeline = new Timeline();
  let doc!: Awaited<ReturnType<typeof rig.page>>;
  let chatWindow!: Awaited<ReturnType<typeof rig.page>>;
  let term!: Awaited<ReturnType<typeof rig.terminal>>;
  await timeline.run('open three windows', 'changing', async () => {
    term = await rig.terminal('Build log');
    chatWindow = await rig.page('Team chat');
    doc = await rig.page('Quarterly report');
    return 3;
  });
  const started = Date.now();
  await timeline.run('document paged', 'changing', () => documentPaged(doc, markers, 4, HOLD_MS));
  await timeline.run('scroll by three lines', 'changing', () => scrolled(doc, markers, 4, HOLD_MS));
  await chatWindow.activate();
  await timeline.run('chat, one message at a time', 'changing', () => chat(chatWindow, markers, 6, HOLD_MS));
  await term.activate();
  await timeline.run('terminal output blocks', 'changing', () => terminalBlocks(term, markers, 5, HOLD_MS));
  await timeline.run('switching between apps', 'changing', () => switching(doc, term, chatWindow, markers, HOLD_MS));
  await timeline.run('a prompt line in the terminal', 'changing', () => settleOnCursor(term, HOLD_MS).then(() => 1));
  await timeline.quiet('blinking cursor', 'cursor', QUIET_SECONDS);
  await timeline.run('back to the document', 'changing', () => settleOn(doc, HOLD_MS).then(() => 1));
  await timeline.quiet('static screen', 'static', QUIET_SECONDS);
  console.log(`scenarios shown in ${((Date.now() - started) / 1000).toFixed(0)} s; waiting for upload and OCR...`);
  const report = await measure(rig, markers, timeline);
  const status = await rig.client.status();

  console.log(
    `\nrecall: ${report.found}/${report.markers} = ${report.recall.toFixed(3)} (target >= 0.98)${report.missing.length ? `; missing: ${report.missing.join(' ')}` : ''}`,
  );
  console.log(`frames stored: ${report.frames} for ${report.states} screen states = ${report.framesPerState.toFixed(2)} per state (target <= 1.5)`);
  for (const s of report.scenarios) console.log(`  ${s.scenario.padEnd(30)} states ${String(s.states).padStart(2)}  frames ${s.frames}`);
  for (const q of report.quietFrames) console.log(`quiet: ${q.scenario} (${q.seconds} s): ${q.frames} frame(s) = ${q.perMinute} per minute (target <= 1)`);
  console.log(`bytes stored: ${(report.bytesStored / 1024).toFixed(0)} KB (${(report.bytesPerFrame / 1024).toFixed(0)} KB per frame)`);
  console.log(`client counters: ${JSON.stringify(status.frames)}`);
  console.log(JSON.stringify({ benchmark: 'memory-recall', client: process.env.BENCH_CLI ?? 'this build', settings: clientEnv, ...report }, null, 2));
} finally {
  await rig.close();
}
