import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActiveWindow } from '../../src/client/capture/window-info.js';
import { loadClientConfig } from '../../src/client/config.js';
import { buildRules, DEFAULT_EXCLUDED_APPS, DEFAULT_EXCLUDED_TITLES, exclusionFor, parseList } from '../../src/client/privacy.js';

const win = (app: string, title: string, appNames: string[] = [app]): ActiveWindow => ({ app, title, appNames });

test('user rules are case-insensitive substrings of the app (any of its names) or of the title', () => {
  const rules = loadClientConfig({ OPENRECALL_EXCLUDE_APPS: ' Signal , slack', OPENRECALL_EXCLUDE_TITLES: 'My Bank,,payroll ' }).privacy;
  assert.match(exclusionFor(win('Signal', 'Chats'), rules)?.rule ?? '', /app matches "signal"/);
  assert.ok(exclusionFor(win('Slack', 'general'), rules));
  assert.ok(exclusionFor(win('Firefox', 'Online banking - MY BANK - Firefox'), rules));
  assert.ok(exclusionFor(win('LibreOffice', 'Payroll 2026.ods'), rules));
  // matches the process name even when the class differs
  assert.ok(exclusionFor(win('Electron', 'Chats', ['Electron', 'signal-desktop']), rules));
  assert.equal(exclusionFor(win('Firefox', 'Recipes - Firefox'), rules), undefined);
});

test('private browsing windows and password managers are excluded by default', () => {
  const rules = loadClientConfig({}).privacy;
  for (const title of [
    'Mozilla Firefox Private Browsing',
    'New Tab - Google Chrome (Incognito)',
    'Bing - [InPrivate] - Microsoft Edge',
    'Brave Search - Brave (Private)',
    'Tor Browser',
  ]) {
    assert.ok(exclusionFor(win('browser', title), rules), title);
  }
  for (const app of ['KeePassXC', '1Password', 'Bitwarden', 'org.gnome.seahorse.Application']) {
    assert.ok(exclusionFor(win(app, 'Vault'), rules), app);
  }
  assert.equal(exclusionFor(win('Firefox', 'News - Mozilla Firefox'), rules), undefined);
  assert.equal(exclusionFor(win('', ''), rules), undefined, 'no window: nothing to exclude');
});

test('OPENRECALL_EXCLUDE_DEFAULTS=false keeps only the user rules', () => {
  const rules = loadClientConfig({ OPENRECALL_EXCLUDE_DEFAULTS: 'false', OPENRECALL_EXCLUDE_TITLES: 'secret' }).privacy;
  assert.deepEqual(rules, { excludeApps: [], excludeTitles: ['secret'] });
  assert.equal(exclusionFor(win('KeePassXC', 'Incognito'), rules), undefined);
  const withDefaults = buildRules([], [], true);
  assert.equal(withDefaults.excludeApps.length, DEFAULT_EXCLUDED_APPS.length);
  assert.equal(withDefaults.excludeTitles.length, DEFAULT_EXCLUDED_TITLES.length);
  assert.deepEqual(parseList(' A, b ,,C '), ['a', 'b', 'c']);
});

test('client configuration: defaults and fractional intervals', () => {
  const defaults = loadClientConfig({});
  assert.equal(defaults.captureIntervalMs, 10_000);
  assert.equal(defaults.similarityThreshold, 0.999);
  assert.equal(defaults.idleMs, 5000);
  assert.equal(defaults.primaryMonitorOnly, true);
  assert.equal(defaults.backoffMaxMs, 60_000);
  assert.equal(defaults.bufferMaxBytes, 1024 * 1024 * 1024);
  const custom = loadClientConfig({ OPENRECALL_CAPTURE_INTERVAL: '0.5', OPENRECALL_DATA_DIR: '/tmp/x', OPENRECALL_PORT: '9999' });
  assert.equal(custom.captureIntervalMs, 500);
  assert.equal(custom.bufferDir, '/tmp/x/buffer');
  assert.equal(custom.apiUrl, 'http://127.0.0.1:9999/api');
  assert.throws(() => loadClientConfig({ OPENRECALL_SIMILARITY_THRESHOLD: '1.5' }), /OPENRECALL_SIMILARITY_THRESHOLD/);
});
