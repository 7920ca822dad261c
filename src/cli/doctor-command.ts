import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Health } from '../api/index.js';
import { ApiClient, ApiClientError } from '../api-client/client.js';
import { loadClientConfig } from '../client/config.js';
import { checkDisplay } from '../client/display.js';
import { apiUrl, ConfigError, dataPaths, loadServerConfig, type ServerConfig } from '../config.js';
import { looseDataDirEntries, octal } from '../files/owner-only.js';
import { VERSION } from '../version.js';
import type { CheckResult, CheckStatus } from './doctor-check.js';
import { ocrLanguagesCheck, semanticCheck } from './doctor-semantic.js';
import { checkCompactedFrames } from './compaction-check.js';
import { findDamagedFiles } from './damaged-files-check.js';
import { openEncryption } from '../encryption/open-encryption.js';
import { KEY_RECORD_FILE } from '../encryption/key-record.js';
import type { DataDir } from '../files/data-dir.js';
import { openDataDir } from '../files/open-data-dir.js';
import { probePostgres } from '../store/open-store.js';
import type { DatabaseKey } from '../encryption/data-key.js';

export type { CheckResult, CheckStatus } from './doctor-check.js';

const MIN_NODE = [20, 12] as const;
const GB = 1024 ** 3;
const execFileAsync = promisify(execFile);

/**
 * `openrecall doctor [--json]`: checks the environment the server and client run in, one line per check
 * (ok / warn / fail) saying what to fix. Exits 0 when no check failed.
 */
export async function doctorCommand(args: string[]): Promise<number> {
  const results = await runChecks(process.env);
  if (args.includes('--json')) {
    console.log(JSON.stringify({ ok: results.every((r) => r.status !== 'fail'), checks: results }, null, 2));
  } else {
    for (const r of results) console.log(`${r.status.padEnd(4)}  ${r.check.padEnd(14)} ${r.message}`);
    const failed = results.filter((r) => r.status === 'fail').length;
    const warned = results.filter((r) => r.status === 'warn').length;
    console.log(failed ? `\n${failed} check(s) failed, ${warned} warning(s)` : `\nno check failed${warned ? ` (${warned} warning(s))` : ''}`);
  }
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

export async function runChecks(env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const add = (check: string, status: CheckStatus, message: string) => results.push({ check, status, message });

  // Node.js
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const nodeOk = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  add(
    'node',
    nodeOk ? 'ok' : 'fail',
    nodeOk ? `Node.js ${process.versions.node}` : `Node.js ${process.versions.node} is too old: install Node.js ${MIN_NODE.join('.')} or newer`,
  );

  // Configuration (a bad OPENRECALL_* value stops the server or client at start)
  let server: ServerConfig | undefined;
  try {
    server = loadServerConfig(env);
    loadClientConfig(env);
    add('config', 'ok', 'OPENRECALL_* settings are valid');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    add('config', 'fail', `${error.message}`);
  }

  await displayChecks(env, add);
  if (server?.databaseUrl) {
    const probe = await probePostgres(server.databaseUrl);
    add('database', probe.status, probe.message);
  }
  if (server) {
    dataDirCheck(server.dataDir, add);
    diskCheck(server, add);
    const memory = await encryptionCheck(server, add);
    if (memory) {
      await compactionCheck(server.dataDir, memory, add);
      if (memory.files.cipher.kind === 'aead') await damagedFilesCheck(memory.files, add);
    }
  }
  await serverChecks(env, add);
  if (server) await ocrCheck(server, add);
  if (server) await ocrLanguagesCheck(server, add);
  if (server) await semanticCheck(server, add);
  return results;
}

type Add = (check: string, status: CheckStatus, message: string) => void;

interface DoctorMemory {
  files: DataDir;
  databaseKey?: DatabaseKey;
}

/** Opens the data dir's keys the way the server would (never creating them, never asking for a passphrase). */
async function encryptionCheck(server: ServerConfig, add: Add): Promise<DoctorMemory | undefined> {
  const config = server.encryption ?? { mode: 'off' as const };
  if (!fs.existsSync(path.join(server.dataDir, KEY_RECORD_FILE))) {
    if (config.mode === 'on') add('encryption', 'warn', 'OPENRECALL_ENCRYPTION=on but the data dir has no key yet: the first server start makes it');
    return { files: openDataDir(server.dataDir) };
  }
  try {
    const opened = await openEncryption(config, server.dataDir);
    if (!opened.encrypted) return { files: openDataDir(server.dataDir) };
    if (opened.locked) {
      add('encryption', 'warn', 'encrypted with a passphrase: its files are not checked here (the server unlocks it)');
      return undefined;
    }
    add('encryption', 'ok', `encrypted at rest (key from the ${opened.keys.source})`);
    return { files: openDataDir(server.dataDir, opened.keys.fileCipher), databaseKey: opened.keys.databaseKey };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    add('encryption', 'fail', error.message);
    return undefined;
  }
}

/** How long doctor spends reading sealed files: a large memory is sampled, and says so. */
const DAMAGE_CHECK_BUDGET_MS = 20_000;

async function damagedFilesCheck(files: DataDir, add: Add): Promise<void> {
  const report = await findDamagedFiles(files, DAMAGE_CHECK_BUDGET_MS);
  const scope = `${report.checked} encrypted file(s)${report.partial ? ` (stopped after ${DAMAGE_CHECK_BUDGET_MS / 1000} s; the rest not checked)` : ''}`;
  if (report.damaged.length === 0) {
    add('damaged files', 'ok', `${scope} read and authenticated`);
    return;
  }
  const shown = report.damaged.slice(0, 10).join(', ');
  add(
    'damaged files',
    'fail',
    `${report.damaged.length} of ${scope} do not authenticate (changed or cut short): ${shown}${report.damaged.length > 10 ? ', …' : ''}. Restore them from a backup, or delete those entries`,
  );
}

async function compactionCheck(dataDir: string, memory: DoctorMemory, add: Add): Promise<void> {
  const damage = await checkCompactedFrames(dataDir, memory.files, memory.databaseKey);
  if (!damage) return;
  if (damage.problems.length === 0) {
    add('compaction', 'ok', `${damage.frames} compacted frame(s) in ${damage.layers} layer file(s), all intact`);
    return;
  }
  const shown = damage.affected.slice(0, 20).join(', ');
  add(
    'compaction',
    'fail',
    `${damage.affected.length} compacted frame(s) cannot be rebuilt (entries ${shown}${damage.affected.length > 20 ? ', …' : ''}): ${damage.problems.slice(0, 3).join('; ')}${damage.problems.length > 3 ? `; and ${damage.problems.length - 3} more` : ''}. Restore the files from a backup, or delete those entries`,
  );
}

async function displayChecks(env: NodeJS.ProcessEnv, add: Add): Promise<void> {
  const display = await checkDisplay(env);
  if (!display.ok) {
    add('display', 'warn', `${display.reason}; the capture client cannot run in this session (the server can)`);
    add('window', 'warn', 'not checked: no usable display');
    add('idle', 'warn', 'not checked: no usable display');
    return;
  }
  if (display.kind === 'wlroots') {
    add('display', 'ok', `wlroots backend: frames through grim (${display.reason})`);
    const { logindIdleCheck, wlrootsWindowCheck } = await import('./doctor-wayland.js');
    await wlrootsWindowCheck(env, add);
    await logindIdleCheck(env, add);
    return;
  }
  if (display.kind === 'portal') {
    add('display', 'ok', `portal backend: frames through xdg-desktop-portal's ScreenCast (asked once, then restored) or Screenshot portal (${display.reason})`);
    const { logindIdleCheck, portalWindowCheck } = await import('./doctor-wayland.js');
    await portalWindowCheck(env, add);
    await logindIdleCheck(env, add);
    return;
  }
  if (display.kind !== 'x11') {
    add('display', 'ok', `${display.kind} screen capture`);
    return;
  }
  add('display', 'ok', `X11 display ${env.DISPLAY} reachable (x11 backend: ${display.reason})`);

  const { X11Connection } = await import('../client/capture/x11-connection.js');
  const { X11WindowInfo } = await import('../client/capture/window-info.js');
  const { X11Idle } = await import('../client/capture/idle.js');
  try {
    const x = await X11Connection.connect(env, 3000);
    let managed: boolean;
    try {
      managed = !!(await x.getProperty(x.root, '_NET_SUPPORTING_WM_CHECK'));
    } finally {
      x.close();
    }
    const windows = new X11WindowInfo(env);
    try {
      const active = await windows.active();
      if (!managed) {
        add('window', 'warn', 'no EWMH window manager on this display: app and window title cannot be recorded; run a window manager/desktop');
      } else if (!active.app && !active.title) {
        add('window', 'warn', 'window manager found, but no window is focused right now (frames get an empty app and title)');
      } else {
        add('window', 'ok', `active window readable: ${active.app || '?'} - "${truncate(active.title, 60)}"`);
      }
    } finally {
      windows.close();
    }
  } catch (error) {
    add('window', 'fail', `the active window cannot be read (${(error as Error).message}); the client refuses to capture without it`);
  }
  const idle = new X11Idle(env);
  try {
    const state = await idle.read();
    add('idle', 'ok', `idle time readable (${Math.round(state.idleMs / 1000)} s since the last input${state.locked ? ', screen locked' : ''})`);
  } catch (error) {
    add('idle', 'warn', `idle time cannot be read (${(error as Error).message}): the client will capture even while you are away`);
  } finally {
    idle.close();
  }
}

/** The nearest existing ancestor of a path (to test whether it could be created). */
function nearestExisting(p: string): string {
  let current = p;
  while (!fs.existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

function dataDirCheck(dataDir: string, add: Add): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dataDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') {
      add('data dir', 'fail', `${dataDir} cannot exist: part of its path is a file, not a directory; set OPENRECALL_DATA_DIR to a directory path`);
      return;
    }
    if (code !== 'ENOENT') {
      add('data dir', 'fail', `${dataDir} cannot be read (${code}); check its permissions or set OPENRECALL_DATA_DIR`);
      return;
    }
  }
  if (!stat) {
    const ancestor = nearestExisting(dataDir);
    const creatable = fs.statSync(ancestor).isDirectory() && canWrite(ancestor);
    add(
      'data dir',
      creatable ? 'warn' : 'fail',
      creatable
        ? `${dataDir} does not exist yet: the server creates it at first start`
        : `${dataDir} does not exist and cannot be created (${ancestor} is ${fs.statSync(ancestor).isDirectory() ? 'not writable' : 'a file'}); set OPENRECALL_DATA_DIR to a writable directory`,
    );
    return;
  }
  if (!stat.isDirectory()) {
    add('data dir', 'fail', `${dataDir} is a file, not a directory; set OPENRECALL_DATA_DIR to a directory`);
    return;
  }
  if (!canWrite(dataDir)) {
    add('data dir', 'fail', `${dataDir} is not writable by this user; fix its owner/permissions (chown, chmod u+rwx) or set OPENRECALL_DATA_DIR`);
    return;
  }
  const mode = octal(stat.mode);
  const loose = looseDataDirEntries(dataDir, dataPaths(dataDir).db);
  if (loose.length > 0) {
    const named = loose.map((entry) => `${path.relative(dataDir, entry.path) || '.'} (mode ${octal(entry.mode)})`).join(', ');
    add(
      'data dir',
      'fail',
      `${dataDir} can be read by other users: ${named}; your screenshots are private: run chmod -R go-rwx ${dataDir} (the server also does it at start)`,
    );
  } else {
    add('data dir', 'ok', `${dataDir} is writable and owner-only (mode ${mode})`);
  }
}

/** Really writes a file: access() says yes to root even on a read-only file system. */
function canWrite(dir: string): boolean {
  const probe = path.join(dir, `.openrecall-doctor-${process.pid}`);
  try {
    fs.writeFileSync(probe, 'ok');
    fs.rmSync(probe, { force: true });
    return true;
  } catch {
    return false;
  }
}

function diskCheck(config: ServerConfig, add: Add): void {
  const where = nearestExisting(config.dataDir);
  let free: number;
  try {
    const stats = fs.statfsSync(where);
    free = stats.bavail * stats.bsize;
  } catch (error) {
    add('disk', 'warn', `free space of ${where} cannot be read (${(error as Error).message})`);
    return;
  }
  const text = `${(free / GB).toFixed(1)} GB free on the data dir's file system`;
  if (free < 0.5 * GB)
    add('disk', 'fail', `${text}: uploads fail when the disk is full; free space, or set OPENRECALL_MAX_STORAGE_GB / OPENRECALL_RETENTION_DAYS`);
  else if (free < 5 * GB) add('disk', 'warn', `${text}: a day of screenshots can take a few hundred MB; consider OPENRECALL_MAX_STORAGE_GB`);
  else add('disk', 'ok', text);
}

async function serverChecks(env: NodeJS.ProcessEnv, add: Add): Promise<void> {
  let base: string;
  try {
    base = apiUrl(env);
  } catch (error) {
    add('server', 'fail', (error as Error).message);
    return;
  }
  // The token as given (a malformed one is reported by the config check, and must still be tried here).
  const token = env.OPENRECALL_API_TOKEN?.trim();
  const client = new ApiClient(base, token ? { token, timeoutMs: 5000 } : { timeoutMs: 5000 });
  let health: Health;
  try {
    health = await client.health();
  } catch (error) {
    if (!(error instanceof ApiClientError)) throw error;
    const hint = error.kind === 'unreachable' ? '' : ': is OPENRECALL_API_URL an OpenRecall server?';
    add('server', 'fail', `${error.message}${hint}`);
    add('token', 'warn', 'not checked: no server');
    return;
  }
  if (health.version && health.version !== VERSION) {
    add('server', 'warn', `OpenRecall ${health.version} at ${base}, but this command is ${VERSION}: upgrade the older one`);
  } else {
    add('server', 'ok', `OpenRecall ${health.version ?? '?'} at ${base}`);
  }

  // A protected route tells whether the token is needed and accepted.
  try {
    await client.queueStatus();
    add('token', 'ok', token ? 'OPENRECALL_API_TOKEN accepted' : 'the server needs no token');
  } catch (error) {
    if (!(error instanceof ApiClientError)) throw error;
    add('token', error.kind === 'unauthorized' ? 'fail' : 'warn', error.kind === 'unauthorized' ? error.message : `not checked: ${error.message}`);
  }
}

function redactCheck(config: ServerConfig, add: Add): void {
  if (config.redact === 'off')
    add('redaction', 'warn', 'OPENRECALL_REDACT=off: passwords, keys and card numbers on screen are stored, indexed and shown as seen');
  else
    add(
      'redaction',
      'ok',
      `OPENRECALL_REDACT=${config.redact}: ${config.redact === 'secrets' ? 'secrets' : 'secrets and personal data'} are hidden in text and pixels`,
    );
}

async function ocrCheck(config: ServerConfig, add: Add): Promise<void> {
  redactCheck(config, add);
  if (config.ocrEngine === 'none') {
    add('ocr', 'warn', 'OPENRECALL_OCR_ENGINE=none: frames get no text, keyword search finds only app names and titles');
    return;
  }
  if (config.ocrEngine === 'tesseract-cli') {
    try {
      const { stdout, stderr } = await execFileAsync('tesseract', ['--version'], { timeout: 10_000 });
      const version = `${stdout}${stderr}`.split('\n')[0]?.trim();
      add('ocr', 'ok', `tesseract CLI: ${version}`);
    } catch {
      add(
        'ocr',
        'fail',
        'OPENRECALL_OCR_ENGINE=tesseract-cli but the tesseract command is missing: install it (apt-get install tesseract-ocr) or use tesseract-js',
      );
    }
    return;
  }
  try {
    const { bundledLanguagePath } = await import('../pipeline/ocr/tesseract-js-engine.js');
    const dir = bundledLanguagePath();
    if (!fs.existsSync(path.join(dir, 'eng.traineddata.gz')) && !fs.existsSync(path.join(dir, 'eng.traineddata'))) throw new Error(`no model in ${dir}`);
    add('ocr', 'ok', 'tesseract.js with the bundled English model');
  } catch (error) {
    add('ocr', 'fail', `tesseract.js or its bundled model is missing (${(error as Error).message}): run npm install`);
  }
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
