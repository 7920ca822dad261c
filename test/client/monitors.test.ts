// Monitors come and go (a laptop docked, a projector unplugged). Xvfb cannot hot-plug outputs, so the screen
// is a scripted ScreenSource here; everything else (buffer, change detection, encoding) is the real thing.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { IdleSource } from '../../src/client/capture/idle.js';
import { orderMonitors, primaryMonitor, type MonitorInfo, type RawFrame, type ScreenSource } from '../../src/client/capture/screen.js';
import type { WindowInfoSource } from '../../src/client/capture/window-info.js';
import { CaptureClient } from '../../src/client/client.js';
import { systemClock } from '../../src/client/clock.js';
import { loadClientConfig } from '../../src/client/config.js';
import { tempDir } from '../helpers/temp-dir.js';
import { bufferItems } from './helpers/client-process.js';

function solid(width: number, height: number, value: number): RawFrame {
  return { width, height, data: Buffer.alloc(width * height * 4, value) };
}

class ScriptedScreen implements ScreenSource {
  plugged: Array<Omit<MonitorInfo, 'index'>> = [];
  content = new Map<string, number>();
  unplugDuringCapture = new Set<string>();
  async monitors() {
    return orderMonitors(this.plugged);
  }
  async capture(m: MonitorInfo) {
    if (this.unplugDuringCapture.has(m.key) || !this.plugged.some((p) => p.key === m.key)) throw new Error(`monitor ${m.name} is no longer connected`);
    return solid(m.width, m.height, this.content.get(m.key) ?? 0);
  }
}

const monitor = (key: string, x: number, primary = false) => ({ key, name: key, x, y: 0, width: 320, height: 200, primary });
const windows: WindowInfoSource = { active: async () => ({ app: 'Editor', title: 'notes', appNames: ['Editor'] }), close() {} };
const idle: IdleSource = { read: async () => ({ idleMs: 0, locked: false }), close() {} };

function setup(env: Record<string, string> = {}) {
  const dataDir = tempDir();
  const lines: string[] = [];
  const screen = new ScriptedScreen();
  const config = loadClientConfig({ OPENRECALL_DATA_DIR: dataDir, OPENRECALL_PRIMARY_MONITOR_ONLY: 'false', OPENRECALL_CLIENT_IMAGE_FORMAT: 'png', ...env });
  const client = new CaptureClient(config, { screen, windows, idle, clock: systemClock }, (m) => lines.push(m));
  client.buffer.open();
  return { client, screen, lines, bufferDir: path.join(dataDir, 'buffer') };
}

test('monitors plugged in and out between rounds: no crash, each keeps its own change detection', async () => {
  const { client, screen, lines, bufferDir } = setup();
  screen.plugged = [monitor('laptop', 0, true)];
  await client.tick();
  assert.equal(bufferItems(bufferDir).length, 1);
  await client.tick(); // unchanged
  assert.equal(bufferItems(bufferDir).length, 1);

  screen.plugged.push(monitor('projector', 320));
  await client.tick(); // the new monitor's first frame is kept, the laptop's unchanged one is not
  const items = bufferItems(bufferDir);
  assert.equal(items.length, 2);
  assert.match(items[1]!, /^[0-9a-z]{9}-1-/, 'the projector is monitor 1');
  assert.ok(lines.some((l) => /monitors changed: 0: laptop 320x200 primary, 1: projector 320x200/.test(l)));

  screen.plugged = [];
  await client.tick();
  assert.equal(client.status().state, 'no-monitor');
  assert.ok(lines.some((l) => /monitors changed: none/.test(l)));

  screen.plugged = [monitor('projector', 320)];
  await client.tick(); // back: a fresh baseline, so its frame is kept again
  assert.equal(bufferItems(bufferDir).length, 3);
  assert.equal((client.status().frames as { captured: number }).captured, 3);
});

test('a monitor unplugged between listing and capture is logged and skipped; the others are captured', async () => {
  const { client, screen, lines, bufferDir } = setup();
  screen.plugged = [monitor('laptop', 0, true), monitor('projector', 320)];
  screen.unplugDuringCapture.add('projector');
  await client.tick();
  assert.equal(bufferItems(bufferDir).length, 1);
  assert.ok(lines.some((l) => /could not capture monitor 1 \(projector\): monitor projector is no longer connected/.test(l)));
  assert.equal((client.status().frames as { captureErrors: number }).captureErrors, 1);
});

test('primary monitor only: the primary one, or the one at the origin when none is marked primary', async () => {
  const { client, screen, bufferDir } = setup({ OPENRECALL_PRIMARY_MONITOR_ONLY: 'true' });
  screen.plugged = [monitor('left', -320), monitor('main', 0)];
  await client.tick();
  assert.equal(bufferItems(bufferDir).length, 1);
  assert.equal(primaryMonitor(orderMonitors([monitor('a', 100), monitor('b', 0)]))?.key, 'b');
  assert.equal(primaryMonitor(orderMonitors([monitor('a', 100), monitor('b', 0), monitor('c', 500, true)]))?.key, 'c');
  screen.content.set('main', 200); // a different picture on the primary: kept
  await client.tick();
  assert.equal(bufferItems(bufferDir).length, 2);
});

test('idle time unreadable: capture anyway and say so once; active window unreadable: capture nothing (fail closed)', async () => {
  const dataDir = tempDir();
  const lines: string[] = [];
  const screen = new ScriptedScreen();
  screen.plugged = [monitor('laptop', 0, true)];
  let windowFails = false;
  const flakyWindows: WindowInfoSource = {
    active: async () => {
      if (windowFails) throw new Error('X connection closed');
      return { app: 'Editor', title: `notes ${lines.length}`, appNames: ['Editor'] };
    },
    close() {},
  };
  const noIdle: IdleSource = { read: async () => Promise.reject(new Error('no MIT-SCREEN-SAVER')), close() {} };
  const config = loadClientConfig({ OPENRECALL_DATA_DIR: dataDir, OPENRECALL_CLIENT_IMAGE_FORMAT: 'png' });
  const client = new CaptureClient(config, { screen, windows: flakyWindows, idle: noIdle, clock: systemClock }, (m) => lines.push(m));
  client.buffer.open();
  const bufferDir = path.join(dataDir, 'buffer');
  await client.tick();
  await client.tick();
  assert.equal(bufferItems(bufferDir).length, 2);
  assert.equal(lines.filter((l) => /cannot tell whether the user is idle \(no MIT-SCREEN-SAVER\): capturing regardless/.test(l)).length, 1);

  windowFails = true;
  screen.content.set('laptop', 99);
  await client.tick();
  await client.tick();
  assert.equal(bufferItems(bufferDir).length, 2, 'nothing captured while exclusions cannot be checked');
  assert.equal(lines.filter((l) => /cannot read the active window .*: not capturing/.test(l)).length, 1);
  windowFails = false;
  await client.tick();
  assert.equal(bufferItems(bufferDir).length, 3);
});
