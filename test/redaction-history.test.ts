import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeGreyscale } from '../src/pipeline/stage.js';
import { TesseractJsEngine } from '../src/pipeline/ocr/tesseract-js-engine.js';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const FRAMES = 4;
const secretOf = (i: number) => `Walrus${i}Cobalt${i}x`;
const screen = (i: number) =>
  renderTextImage([`Meeting notes number ${i} about the harbour project`, `Password: ${secretOf(i)}`, 'Ordinary closing words stay readable'], {
    width: 1100,
    height: 300,
    fontSize: 24,
    seed: i + 1,
  });

/** Frames stored with redaction off (as before it existed), then `openrecall redact`, killed mid-run and resumed. */
describe('openrecall redact on frames stored before redaction', () => {
  const dataDir = tempDir();
  const env = { OPENRECALL_OCR_ENGINE: 'tesseract-js' };
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('redacts text, search and images of every old frame, resuming after a crash', async () => {
    server = await startServerProcess(dataDir, { ...env, OPENRECALL_REDACT: 'off' });
    for (let i = 0; i < FRAMES; i++) await upload(server.api, { image: await screen(i), title: `Notes ${i}` });
    const entries = async () => (await getJson(`${server!.api}/entries?limit=50`)).body.entries as any[];
    await waitUntil(async () => (await entries()).filter((e) => e.status === 'COMPLETED').length === FRAMES, { what: 'frames stored unredacted' });
    assert.ok(
      (await entries()).every((e) => e.text.includes(secretOf(0).slice(0, 6)) && e.redaction_version === null),
      'stored as seen while redaction was off',
    );
    const hits = async (q: string) => (await getJson(`${server!.api}/search?q=${encodeURIComponent(q)}`)).body.results.length;
    assert.equal(await hits(secretOf(2)), 1);
    await server.stop();

    // Redaction on: the server works through the old frames by itself once its queue is empty; kill it mid-way.
    server = await startServerProcess(dataDir, env);
    const left = async () => (await getJson(`${server!.api}/queue/status`)).body.backfill.redaction as number;
    await waitUntil(async () => (await left()) < FRAMES, { what: 'a first old frame redacted', intervalMs: 50 });
    await server.stop('SIGKILL');

    server = await startServerProcess(dataDir, env);
    const before = await left();
    const command = runCli(['redact'], { OPENRECALL_API_URL: server.api });
    const { code } = await command.exited;
    assert.equal(code, 0, command.output());
    assert.match(command.output(), /redaction complete: \d+ frame\(s\) redacted/);
    assert.ok(before > 0 && before < FRAMES, `${before} of ${FRAMES} frames left after the crash`);
    assert.equal(await left(), 0);

    const all = await entries();
    assert.equal(all.length, FRAMES);
    for (const e of all) {
      assert.equal(e.redaction_version, 1, `frame ${e.id} marked`);
      assert.ok(!/Walrus\dCobalt/.test(e.text), e.text);
      assert.match(e.text, /harbour project/);
      assert.equal(e.redacted.count, 1);
      assert.equal(e.redacted.kinds[0].kind, 'password');
    }
    for (let i = 0; i < FRAMES; i++) assert.equal(await hits(secretOf(i)), 0, secretOf(i));
    assert.equal(await hits('harbour'), FRAMES);

    const ocr = await TesseractJsEngine.create(1);
    try {
      const image = Buffer.from(await (await fetch(`${server.api}/entries/${all[0].id}/image`)).arrayBuffer());
      const text = await ocr.recognize(await decodeGreyscale(image));
      assert.match(text, /harbour project/);
      assert.ok(!/Walrus|Cobalt/.test(text), text);
    } finally {
      await ocr.close();
    }
  });
});
