// What a person saw can be found again: the real client at its defaults (idle check on, capture every 1 s) and
// the real server with real OCR, a Chromium chat window receiving messages while nobody touches keyboard or
// mouse, then a blinking cursor and a static screen. The smaller sibling of bench/memory-recall.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
  await timeline.quiet('blinking cursor', 'cursor', 15);
  await timeline.run('back to the chat', 'changing', () => settleOn(chatWindow, 3000).then(() => 1));
  await timeline.quiet('static screen', 'static', 15);

  const report = await measure(rig, markers, timeline);
  const detail = JSON.stringify(report);
  assert.match(rig.client.output(), /user idle and screen unchanged/, 'the user was idle (no input) during the run');
  assert.ok(report.recall >= 0.9, `recall ${report.found}/${report.markers}, missing ${report.missing.join(' ')}`);
  for (const quiet of report.quietFrames) assert.equal(quiet.frames, 0, `${quiet.scenario}: ${detail}`);
  // Two windows opening, five messages, the terminal brought forward and its prompt line, the chat brought
  // back: 10 screen states.
  assert.ok(report.frames <= 1.5 * 10, `frames stored: ${detail}`);
});
