#!/usr/bin/env node
// `npm test`: installs what the suite needs on a fresh machine, builds, lints, then runs every test file with
// Node's test runner. Only Node built-ins here: this runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

/** Debian packages the tests drive for real: X server, window manager, browser, native OCR, fonts. */
const SYSTEM_PACKAGES = {
  Xvfb: 'xvfb',
  openbox: 'openbox',
  xdotool: 'xdotool',
  xprop: 'x11-utils',
  xmessage: 'x11-utils', // the capture client tests' window
  xterm: 'xterm', // the memory-recall test's terminal
  chromium: 'chromium',
  tesseract: 'tesseract-ocr',
  'fc-list': 'fontconfig',
  'systemd-analyze': 'systemd', // verifies deploy/systemd units
  strace: 'strace', // the durability test checks the order of fsync, rename and the 202 (test/security/durability.test.ts)
  // Wayland capture tests: headless sway, grim (wlr-screencopy), foot windows, a private D-Bus bus.
  sway: 'sway',
  grim: 'grim',
  foot: 'foot',
  'dbus-daemon': 'dbus-daemon',
  // The OS keyring as a key source of encryption at rest (test/encryption/keyring.test.ts): a real Secret Service.
  'gnome-keyring-daemon': 'gnome-keyring',
  // ... and the portal path: xdg-desktop-portal with the wlr backend (and gtk for Access), PipeWire, GStreamer.
  '/usr/libexec/xdg-desktop-portal': 'xdg-desktop-portal',
  '/usr/libexec/xdg-desktop-portal-wlr': 'xdg-desktop-portal-wlr',
  '/usr/libexec/xdg-desktop-portal-gtk': 'xdg-desktop-portal-gtk',
  pipewire: 'pipewire',
  wireplumber: 'wireplumber',
  'gst-launch-1.0': 'gstreamer1.0-tools',
  'gst-inspect-1.0 pipewiresrc': 'gstreamer1.0-pipewire',
  'gst-inspect-1.0 pngenc': 'gstreamer1.0-plugins-good',
  'gst-inspect-1.0 videoconvert': 'gstreamer1.0-plugins-base',
  // ... and GNOME's: headless mutter (ScreenCast over PipeWire without a GPU) with xdg-desktop-portal-gnome's dialog.
  mutter: 'mutter',
  '/usr/libexec/xdg-desktop-portal-gnome': 'xdg-desktop-portal-gnome',
  // ... and KDE's window titles: a KWin script over D-Bus, on kwin_wayland --virtual with zenity windows.
  kwin_wayland: 'kwin-wayland',
  zenity: 'zenity',
  // The Python MyRecall client's requests, sent by a real Python script.
  "python3 -c 'import requests'": 'python3-requests',
};
// Packages without a command to look for: fonts, and Tesseract's Simplified Chinese model (OCR language tests).
const FONT_PACKAGES = ['fonts-dejavu-core', 'fonts-noto-cjk', 'tesseract-ocr-chi-sim'];

/** A command on the PATH; a key with a space is a check to run (it must succeed). */
function has(command) {
  return spawnSync('sh', ['-c', command.includes(' ') ? command : `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function fontsInstalled() {
  if (!has('dpkg-query')) return true;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
  return FONT_PACKAGES.every((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('installed'));
}

function ensureSystemPackages() {
  const missing = Object.entries(SYSTEM_PACKAGES)
    .filter(([command]) => !has(command))
    .map(([, pkg]) => pkg);
  if (!fontsInstalled()) missing.push(...FONT_PACKAGES);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    console.error(`test: missing system packages (${missing.join(' ')}); install them with apt-get as root`);
    process.exit(1);
  }
  console.log(`test: installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...new Set(missing)], { stdio: 'inherit', env });
}

/**
 * The PostgreSQL suites need a server at OPENRECALL_TEST_DATABASE_URL (default: the local one, as postgres, database
 * test). When nothing answers there, this installs Debian's postgresql, starts (or creates) a cluster and lets the
 * local test user in without a password; a URL of the user's own is only checked. The suites never skip.
 */
const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

function postgresAnswers(url) {
  const { hostname, port } = new URL(url);
  return spawnSync('pg_isready', ['-q', '-h', hostname, '-p', port || '5432'], { stdio: 'ignore' }).status === 0;
}

function asPostgres(sql, database = 'postgres') {
  return spawnSync('su', ['postgres', '-c', `psql -v ON_ERROR_STOP=1 -qAt -d ${database} -c "${sql}"`], { encoding: 'utf8' });
}

function ensurePostgres() {
  const url = process.env.OPENRECALL_TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  if (has('pg_isready') && postgresAnswers(url)) return ensureTestDatabase(url);
  if (process.env.OPENRECALL_TEST_DATABASE_URL) {
    console.error(`test: no PostgreSQL answers at OPENRECALL_TEST_DATABASE_URL; start it, or unset the variable to use a local one`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    console.error('test: no PostgreSQL answers at 127.0.0.1:5432; install and start postgresql (the PostgreSQL suites never skip)');
    process.exit(1);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!has('pg_lsclusters')) {
    console.log('test: installing postgresql with apt-get');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], { stdio: 'inherit', env });
  }
  const clusters = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  const version = clusters[0]?.split(/\s+/)[0] ?? fs.readdirSync('/usr/lib/postgresql').sort().at(-1);
  if (clusters.length === 0) execFileSync('pg_createcluster', [version, 'main', '--port', '5432'], { stdio: 'inherit' });
  // Local test connections as postgres without a password, like the machines this suite was written on.
  const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
  const trust = 'host all postgres 127.0.0.1/32 trust';
  const rules = fs.readFileSync(hba, 'utf8');
  if (!rules.includes(trust)) fs.writeFileSync(hba, `${trust}\n${rules}`);
  console.log(`test: starting PostgreSQL ${version}`);
  spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { stdio: 'inherit' });
  for (let i = 0; i < 30 && !postgresAnswers(url); i++) spawnSync('sleep', ['1']);
  if (!postgresAnswers(url)) {
    console.error('test: PostgreSQL did not start (see /var/log/postgresql)');
    process.exit(1);
  }
  ensureTestDatabase(url);
}

function ensureTestDatabase(url) {
  const database = new URL(url).pathname.slice(1) || 'postgres';
  if (process.env.OPENRECALL_TEST_DATABASE_URL || process.getuid?.() !== 0 || !has('psql')) return;
  if (asPostgres(`SELECT 1 FROM pg_database WHERE datname = '${database}'`).stdout.trim() !== '1') {
    asPostgres(`CREATE DATABASE ${database}`);
  }
}

function ensureNodeModules() {
  const lock = path.join(root, 'package-lock.json');
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const stale = !fs.existsSync(marker) || fs.statSync(marker).mtimeMs < fs.statSync(lock).mtimeMs;
  if (stale) {
    console.log('test: installing npm packages (npm ci)');
    execFileSync('npm', ['ci'], { stdio: 'inherit' });
  } else {
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  }
}

/**
 * The files that take longest (the slowest-files report of a full run, 2026-12-04) start first: with two at a
 * time, a run that ends on one of them leaves a core idle for its whole length. Any file not listed (a new
 * one) still runs; the list only orders.
 */
const LONGEST_FIRST = [
  'test/retention.test.ts',
  'test/client/memory-recall.test.ts',
  'test/process.test.ts',
  'test/ai.test.ts',
  'test/compaction-crash.test.ts',
  'test/semantic.test.ts',
  'test/web/ui.test.ts',
  'test/compaction.test.ts',
  'test/client/wayland-capture.test.ts',
  'test/scale/server-faults.test.ts',
  'test/vector-index-crash.test.ts',
  'test/encryption/encrypt-command.test.ts',
  'test/storage-figures-disk.test.ts',
  'test/web/timeline-scale.test.ts',
  'test/client/resilience.test.ts',
];

const rank = (file) => {
  const i = LONGEST_FIRST.indexOf(file);
  return i === -1 ? LONGEST_FIRST.length : i;
};

function testFiles(args) {
  if (args.length > 0) return args;
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) found.push(path.relative(root, full));
    }
  };
  walk(path.join(root, 'test'));
  return found.sort().sort((a, b) => rank(a) - rank(b));
}

/** Biome's lint (and, once the tree is formatted, its format check): zero warnings, or no tests. */
function lint() {
  const result = spawnSync('npm', ['run', '--silent', 'lint'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('test: lint failed (npm run lint)');
    process.exit(result.status ?? 1);
  }
}

ensureSystemPackages();
ensurePostgres();
ensureNodeModules();
lint();
const files = testFiles(process.argv.slice(2));
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    // After the run: the slowest files, to keep the suite within its 15 minutes.
    `--test-reporter=${path.join(root, 'scripts', 'slowest-files-reporter.mjs')}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, OPENRECALL_TEST: '1' } },
);
process.exit(result.status ?? 1);
