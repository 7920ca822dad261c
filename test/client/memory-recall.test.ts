// What a person saw can be found again: the real client at its defaults (idle check on, capture every 1 s) and
// the real server with real OCR, a Chromium chat window receiving messages while nobody touches keyboard or
// mouse, then a blinking cursor and a static screen. The smaller sibling of bench/memory-recall.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { Markers, Timeline, measure, startRig, type Rig } from './helpers/memory-recall.js';
import { chat, settleOn, settleOnCursor } from './helpers/recall-scenarios.js';

let rig: Rig;
before(async () => {
  rig = await startRig({ captureIntervalSeconds: 1 });
});
after(async () => {
  await rig?.close();
});

test('chat messages arriving without any input are all findable; a blinking cursor and a static screen add no frames', async () => {
  const markers = new Markers();
  const timeline = new Timeline();
  const term = await rig.terminal('Shell');
  const chatWindow = await rig.page('Team chat');
  // No input is ever sent in this file: past the idle time (5 s by default) the user is idle.
  await timeline.run('chat', 'changing', () => chat(chatWindow, markers, 5, 2500));
  await timeline.run('a prompt line in the terminal', 'changing', () => settleOnCursor(term, 3000).then(() => 1));
  await timeline.quiet('blinking cursor', 'cursor', 8);
  await timeline.run('back to the chat', 'changing', () => settleOn(chatWindow, 3000).then(() => 1));
  await timeline.quiet('static screen', 'static', 8);

  const report = await measure(rig, markers, timeline);
  const detail = JSON.stringify(report);
  assert.match(rig.client.output(), /user idle and screen unchanged/, 'the user was idle (no input) during the run');
  assert.ok(report.recall >= 0.9, `recall ${report.found}/${report.markers}, missing ${report.missing.join(' ')}`);
  for (const quiet of report.quietFrames) assert.equal(quiet.frames, 0, `${quiet.scenario}: ${detail}`);
  // Two windows opening, five messages, the terminal brought forward and its prompt line, the chat brought
  // back: 10 screen states.
  assert.ok(report.frames <= 1.5 * 10, `frames stored: ${detail}`);
});

test('a threshold out of its range, or a bad max skip time, stops the client with one line naming the variable', async () => {
  for (const [name, value] of [
    ['OPENRECALL_SIMILARITY_THRESHOLD', '1.5'],
    ['OPENRECALL_SIMILARITY_THRESHOLD', 'high'],
    ['OPENRECALL_MAX_SKIP_SECONDS', '-1'],
  ] as const) {
    const dataDir = tempDir();
    const cli = runCli(['client'], {
      ...rig.session.env,
      XAUTHORITY: '/dev/null',
      WAYLAND_DISPLAY: '',
      XDG_SESSION_TYPE: '',
      OPENRECALL_DATA_DIR: dataDir,
      [name]: value,
    });
    const exit = await cli.exited;
    assert.equal(exit.code, 2, cli.output()); // a settings error, as for every other setting
    const lines = cli.output().trim().split('\n');
    assert.equal(lines.length, 1, JSON.stringify(cli.output()));
    assert.match(lines[0]!, new RegExp(name));
    assert.ok(!fs.existsSync(path.join(dataDir, 'buffer')), 'nothing created');
  }
});
