import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadServerConfig } from '../src/config.js';
import { repoRoot } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const unitDir = path.join(repoRoot, 'deploy', 'systemd');
const serverUnit = path.join(unitDir, 'openrecall-server.service');
const clientUnit = path.join(unitDir, 'openrecall-client.service');

/** A unit file as section -> key -> values (a key may repeat, e.g. Environment=). */
function parseUnit(file: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = line.match(/^\[(.+)\]$/);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `${path.basename(file)}: "${line}" is not key=value inside a section`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

const one = (unit: Map<string, Map<string, string[]>>, section: string, key: string) => {
  const values = unit.get(section)?.get(key);
  assert.ok(values?.length, `[${section}] ${key}= is set`);
  return values.at(-1)!;
};

/** systemd's time spans as used here: "30", "30s", "1min", "1min 30s". */
function seconds(span: string): number {
  let total = 0;
  for (const [, n, unit] of span.matchAll(/(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m|h)?/g)) {
    total += Number(n) * ({ ms: 0.001, s: 1, sec: 1, min: 60, m: 60, h: 3600 } as Record<string, number>)[unit ?? 's']!;
  }
  return total;
}

function hasSystemdAnalyze(): boolean {
  return spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * `systemd-analyze verify` parses the unit, checks its dependencies and that ExecStart's program exists
 * (`/usr/bin/env`; `openrecall` itself is resolved on PATH at run time). A user unit needs XDG_RUNTIME_DIR.
 */
function verify(unit: string, user: boolean): { status: number | null; output: string } {
  const runtime = tempDir('openrecall-xdg-');
  fs.chmodSync(runtime, 0o700);
  const args = [...(user ? ['--user'] : []), 'verify', unit];
  const result = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

describe('systemd units (deploy/systemd)', () => {
  it('the server unit: restarts on failure, hardened, writable data dir only, SIGTERM with more time than the shutdown grace', () => {
    const unit = parseUnit(serverUnit);
    assert.equal(one(unit, 'Service', 'ExecStart'), '/usr/bin/env openrecall server');
    assert.equal(one(unit, 'Service', 'Restart'), 'on-failure');
    assert.equal(one(unit, 'Service', 'NoNewPrivileges'), 'yes');
    assert.equal(one(unit, 'Service', 'ProtectSystem'), 'strict');
    assert.equal(one(unit, 'Service', 'PrivateTmp'), 'yes');
    assert.equal(one(unit, 'Service', 'KillSignal'), 'SIGTERM');
    assert.notEqual(one(unit, 'Service', 'User'), 'root');
    assert.equal(one(unit, 'Install', 'WantedBy'), 'multi-user.target');

    // The data dir the server is told to use is exactly what ProtectSystem=strict leaves writable.
    const env = Object.fromEntries(
      unit
        .get('Service')!
        .get('Environment')!
        .map((e) => e.split('=', 2) as [string, string]),
    );
    const dataDir = env.OPENRECALL_DATA_DIR!;
    assert.ok(dataDir, 'OPENRECALL_DATA_DIR is set');
    assert.deepEqual(one(unit, 'Service', 'ReadWritePaths').split(/\s+/), [dataDir]);
    assert.equal(`/var/lib/${one(unit, 'Service', 'StateDirectory')}`, dataDir, 'systemd creates the data dir');

    // Stopping: the default grace (and the one configured in the unit's environment, if any) fits in TimeoutStopSec.
    const grace = loadServerConfig(env).shutdownGraceMs / 1000;
    const timeout = seconds(one(unit, 'Service', 'TimeoutStopSec'));
    assert.ok(timeout > grace + 5, `TimeoutStopSec ${timeout} s leaves room after the ${grace} s grace`);
  });

  it('the client unit: a user service bound to the graphical session (for its DISPLAY)', () => {
    const unit = parseUnit(clientUnit);
    assert.equal(one(unit, 'Service', 'ExecStart'), '/usr/bin/env openrecall client');
    assert.equal(one(unit, 'Unit', 'After'), 'graphical-session.target');
    assert.equal(one(unit, 'Unit', 'PartOf'), 'graphical-session.target');
    assert.equal(one(unit, 'Install', 'WantedBy'), 'graphical-session.target');
    assert.equal(one(unit, 'Service', 'Restart'), 'on-failure');
    assert.equal(unit.get('Service')!.has('User'), false, 'a user unit runs as its user');
    // The client stops within 5 s (its STOP_DEADLINE_MS); systemd must wait longer than that.
    assert.ok(seconds(one(unit, 'Service', 'TimeoutStopSec')) > 5);
  });

  it('systemd-analyze verify accepts both units without a warning', { skip: !hasSystemdAnalyze() && 'systemd-analyze not installed' }, () => {
    for (const [unit, user] of [
      [serverUnit, false],
      [clientUnit, true],
    ] as const) {
      const { status, output } = verify(unit, user);
      assert.equal(status, 0, output);
      assert.equal(output, '', `no warnings for ${path.basename(unit)}`);
    }
  });

  it('systemd-analyze verify does report a broken unit (so the check above can fail)', {
    skip: !hasSystemdAnalyze() && 'systemd-analyze not installed',
  }, () => {
    const dir = tempDir();
    const broken = path.join(dir, 'openrecall-server.service');
    fs.writeFileSync(broken, fs.readFileSync(serverUnit, 'utf8').replace('Restart=on-failure', 'Restrat=on-failure'));
    assert.match(verify(broken, false).output, /Unknown key 'Restrat'/);
    fs.writeFileSync(broken, fs.readFileSync(serverUnit, 'utf8').replace('/usr/bin/env openrecall', '/nonexistent/openrecall'));
    assert.notEqual(verify(broken, false).status, 0);
  });
});
