import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';
import { startXSession, type XSession } from './client/helpers/x-session.js';

const TOKEN = 'doctor-test-token-0123456789';
/** No graphical session unless a test gives one. */
const NO_DISPLAY = { DISPLAY: '', WAYLAND_DISPLAY: '', XDG_SESSION_TYPE: '' };

interface Check {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
}

async function doctor(env: Record<string, string>): Promise<{ code: number | null; checks: Map<string, Check>; text: string }> {
  const json = runCli(['doctor', '--json'], { ...NO_DISPLAY, ...env });
  const { code } = await json.exited;
  const parsed = JSON.parse(json.output().slice(json.output().indexOf('{'))) as { ok: boolean; checks: Check[] };
  assert.equal(parsed.ok, code === 0, 'ok in the JSON matches the exit code');
  const text = runCli(['doctor'], { ...NO_DISPLAY, ...env });
  const textCode = (await text.exited).code;
  assert.equal(textCode, code, 'the text form exits the same way');
  return { code, checks: new Map(parsed.checks.map((c) => [c.check, c])), text: text.output() };
}

function privateDir(): string {
  const dir = tempDir();
  fs.chmodSync(dir, 0o700);
  return dir;
}

describe('openrecall doctor', () => {
  let server: ServerProcess;
  let dataDir: string;
  let x: XSession | undefined;
  before(async () => {
    dataDir = privateDir();
    server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_API_TOKEN: TOKEN });
  });
  after(async () => {
    await server.stop();
    await x?.close();
  });

  it('against a running server with the right token and a private data dir: ok lines, exit 0', async () => {
    const { code, checks, text } = await doctor({ OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: TOKEN });
    assert.equal(code, 0, text);
    for (const name of ['node', 'config', 'data dir', 'disk', 'server', 'token', 'ocr', 'redaction']) {
      assert.equal(checks.get(name)?.status, 'ok', `${name}: ${checks.get(name)?.message}`);
    }
    assert.match(checks.get('server')!.message, /OpenRecall \d+\.\d+\.\d+ at http:\/\/127\.0\.0\.1:\d+\/api/);
    assert.match(checks.get('data dir')!.message, /writable and owner-only \(mode 700\)/);
    assert.match(checks.get('token')!.message, /accepted/);
    assert.match(checks.get('redaction')!.message, /^OPENRECALL_REDACT=secrets: secrets are hidden in text and pixels$/);
    assert.equal(checks.get('display')?.status, 'warn', 'no display here is a warning, not a failure');
    assert.match(text, /^ok {4}node {11}Node\.js /m, 'one line per check: status, name, message');
    assert.match(text, /no check failed/);
  });

  it('a missing or wrong token: "token missing or wrong", exit 1', async () => {
    for (const token of ['', 'a-wrong-token-of-enough-length']) {
      const { code, checks } = await doctor({ OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: token });
      assert.equal(code, 1);
      assert.equal(checks.get('server')?.status, 'ok', 'health needs no token');
      assert.equal(checks.get('token')?.status, 'fail');
      assert.match(checks.get('token')!.message, /token missing or wrong/);
      assert.match(checks.get('token')!.message, /OPENRECALL_API_TOKEN/);
    }
  });

  it('without a server: a fail line saying how to start one, exit 1', async () => {
    const { code, checks, text } = await doctor({ OPENRECALL_DATA_DIR: privateDir(), OPENRECALL_API_URL: 'http://127.0.0.1:9/api' });
    assert.equal(code, 1);
    assert.equal(checks.get('server')?.status, 'fail');
    assert.match(checks.get('server')!.message, /no server answering at http:\/\/127\.0\.0\.1:9\/api .*start it with "openrecall server"/);
    assert.match(text, /^fail {2}server /m);
    assert.match(text, /1 check\(s\) failed/);
  });

  it('a data dir that cannot be created (its path runs through a regular file), one that is a file, one others can read (a failure)', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a directory');
    const under = await doctor({ OPENRECALL_DATA_DIR: path.join(file, 'data'), OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: TOKEN });
    assert.equal(under.code, 1);
    assert.equal(under.checks.get('data dir')?.status, 'fail');
    assert.match(under.checks.get('data dir')!.message, /a file, not a directory.*OPENRECALL_DATA_DIR/);

    const itself = await doctor({ OPENRECALL_DATA_DIR: file, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: TOKEN });
    assert.equal(itself.checks.get('data dir')?.status, 'fail');
    assert.match(itself.checks.get('data dir')!.message, /is a file, not a directory/);

    const open = tempDir();
    fs.chmodSync(open, 0o755);
    const shared = await doctor({ OPENRECALL_DATA_DIR: open, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: TOKEN });
    assert.equal(shared.checks.get('data dir')?.status, 'fail', 'other users could read the screenshots');
    assert.match(shared.checks.get('data dir')!.message, /can be read by other users: .*\(mode 755\).*chmod -R go-rwx /);
    assert.equal(shared.code, 1);
  });

  it('the OCR engine: the tesseract CLI found when chosen, a fail line when it is missing; a bad setting is a config failure', async () => {
    const base = { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: TOKEN, OPENRECALL_OCR_ENGINE: 'tesseract-cli' };
    const found = await doctor(base);
    assert.equal(found.checks.get('ocr')?.status, 'ok');
    assert.match(found.checks.get('ocr')!.message, /tesseract CLI: tesseract \d/);

    const bin = tempDir(); // a PATH with node but no tesseract
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const missing = await doctor({ ...base, PATH: bin });
    assert.equal(missing.code, 1);
    assert.equal(missing.checks.get('ocr')?.status, 'fail');
    assert.match(missing.checks.get('ocr')!.message, /apt-get install tesseract-ocr/);

    const bad = await doctor({ ...base, OPENRECALL_OCR_ENGINE: 'magic' });
    assert.equal(bad.code, 1);
    assert.equal(bad.checks.get('config')?.status, 'fail');
    assert.match(bad.checks.get('config')!.message, /OPENRECALL_OCR_ENGINE="magic" is not valid/);
  });

  it('under an X session (Xvfb + openbox): display, active window and idle time readable; a display that does not answer, or Wayland, is a warning', async () => {
    x = await startXSession();
    await x.openWindow('Doctor test window');
    const env = { ...x.env, XAUTHORITY: '/dev/null', OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: TOKEN };
    const { code, checks } = await doctor(env);
    assert.equal(code, 0);
    assert.equal(checks.get('display')?.status, 'ok');
    assert.match(checks.get('display')!.message, new RegExp(`X11 display ${x.display} reachable`));
    assert.equal(checks.get('window')?.status, 'ok', checks.get('window')?.message);
    assert.match(checks.get('window')!.message, /"Doctor test window"/);
    assert.equal(checks.get('idle')?.status, 'ok');
    assert.match(checks.get('idle')!.message, /idle time readable \(\d+ s/);

    const gone = await doctor({ ...env, DISPLAY: ':4242' });
    assert.equal(gone.checks.get('display')?.status, 'warn');
    assert.match(gone.checks.get('display')!.message, /cannot use display :4242/);
    const wayland = await doctor({ ...env, XDG_SESSION_TYPE: 'wayland' });
    assert.match(wayland.checks.get('display')!.message, /Wayland/);
  });
});
