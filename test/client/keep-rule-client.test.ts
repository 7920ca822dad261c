// The capture client's keep rule wired end to end (buffer, encoding, counters, state, log are real; the screen,
// the idle time and the clock are scripted): a resolution change mid-run, the periodic keep of an unchanged
// screen, and idleness that never hides a screen that changes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { IdleSource } from '../../src/client/capture/idle.js';
import type { MonitorInfo, RawFrame, ScreenSource } from '../../src/client/capture/screen.js';
import type { WindowInfoSource } from '../../src/client/capture/window-info.js';
import { CaptureClient } from '../../src/client/client.js';
import type { Clock } from '../../src/client/clock.js';
import { loadClientConfig } from '../../src/client/config.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bufferItems } from './helpers/client-process.js';

/** One monitor whose size and picture (text-like stripes drawn from `lines`) the test sets. */
class ScriptedScreen implements ScreenSource {
  width = 640;
  height = 360;
  lines = 3;
  async monitors(): Promise<MonitorInfo[]> {
    return [{ key: 'laptop', name: 'laptop', index: 0, x: 0, y: 0, width: this.width, height: this.height, primary: true }];
  }
  async capture(): Promise<RawFrame> {
    const data = Buffer.alloc(this.width * this.height * 4, 255);
    for (let line = 0; line < this.lines; line++) {
      for (let y = 20 + line * 24; y < 36 + line * 24 && y < this.height; y++) {
        for (let x = 20; x < Math.min(this.width - 20, 420); x += 3) data.fill(0, (y * this.width + x) * 4, (y * this.width + x) * 4 + 3);
      }
    }
    return { width: this.width, height: this.height, data };
  }
}

function setup(env: Record<string, string> = {}) {
  const dataDir = tempDir();
  const lines: string[] = [];
  const screen = new ScriptedScreen();
  let nowMs = 1_700_000_000_000;
  let idleMs = 0;
  const clock: Clock = { now: () => nowMs, sleep: async () => {} };
  const idle: IdleSource = { read: async () => ({ idleMs, locked: false }), close() {} };
  const windows: WindowInfoSource = { active: async () => ({ app: 'Chat', title: 'Team chat', appNames: ['Chat'] }), close() {} };
  const config = loadClientConfig({ OPENRECALL_DATA_DIR: dataDir, OPENRECALL_CLIENT_IMAGE_FORMAT: 'png', ...env });
  const client = new CaptureClient(config, { screen, windows, idle, clock }, (m) => lines.push(m));
  client.buffer.open();
  const bufferDir = path.join(dataDir, 'buffer');
  return {
    client,
    screen,
    lines,
    kept: () => bufferItems(bufferDir).length,
    advance: (ms: number) => void (nowMs += ms),
    setIdle: (ms: number) => void (idleMs = ms),
  };
}

test('a monitor that changes resolution mid-run is compared as a new screen and never crashes', async () => {
  const { client, screen, kept, advance } = setup();
  await client.tick();
  advance(1000);
  await client.tick();
  assert.equal(kept(), 1, 'unchanged: one frame');
  for (const [width, height] of [
    [1920, 1080],
    [1280, 720],
    [17, 9],
    [1280, 720],
  ] as const) {
    screen.width = width;
    screen.height = height;
    advance(1000);
    await client.tick();
  }
  assert.equal(kept(), 5, 'each new size is a new screen');
  advance(1000);
  await client.tick();
  assert.equal(kept(), 5, 'and is compared as usual afterwards');
  const status = client.status() as { frames: { captureErrors: number; skippedSimilar: number } };
  assert.equal(status.frames.captureErrors, 0);
  assert.equal(status.frames.skippedSimilar, 2);
});

test('an unchanged screen is kept again after OPENRECALL_MAX_SKIP_SECONDS, not before', async () => {
  const { client, kept, advance } = setup({ OPENRECALL_MAX_SKIP_SECONDS: '60', OPENRECALL_IDLE_SECONDS: '0' });
  await client.tick();
  for (let s = 10; s < 60; s += 10) {
    advance(10_000);
    await client.tick();
  }
  assert.equal(kept(), 1);
  advance(10_000);
  await client.tick();
  assert.equal(kept(), 2, 'kept at 60 s');
  advance(10_000);
  await client.tick();
  assert.equal(kept(), 2, 'and the clock starts again from that frame');
});

test('no input: an unchanged screen is idle (no periodic frame), a new line is still kept, and the idle log is said once', async () => {
  const { client, screen, lines, kept, advance, setIdle } = setup({ OPENRECALL_MAX_SKIP_SECONDS: '30' });
  await client.tick();
  setIdle(60_000);
  for (let i = 0; i < 10; i++) {
    advance(10_000);
    await client.tick();
  }
  assert.equal(kept(), 1, 'no periodic frame while nobody is there');
  assert.equal(client.status().state, 'idle');
  for (let message = 0; message < 3; message++) {
    screen.lines++;
    advance(10_000);
    await client.tick();
    assert.equal(kept(), 2 + message, `message ${message} kept without any input`);
    advance(10_000);
    await client.tick();
    assert.equal(client.status().state, 'idle');
  }
  assert.equal(lines.filter((l) => /user idle and screen unchanged/.test(l)).length, 1);
  assert.equal(lines.filter((l) => /capturing again/.test(l)).length, 0);
  setIdle(0);
  advance(10_000);
  await client.tick();
  assert.equal(client.status().state, 'capturing');
  assert.equal(lines.filter((l) => /capturing again/.test(l)).length, 1);
});
