import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { runCli, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const FRAMES = 3;
const secretOf = (i: number) => `Quokka${i}Zephyr${i}q`;
const screen = (i: number) =>
  renderTextImage([`Quarterly planning notes ${i} for the lighthouse team`, `Password: ${secretOf(i)}`, 'Ordinary closing words stay readable'], {
    width: 1100,
    height: 300,
    fontSize: 24,
    seed: i + 11,
  });

/** Every file under `dir` whose raw bytes contain `needle` (any case: the full-text index keeps terms lowercased). */
function filesContaining(dir: string, needle: string): string[] {
  const forms = [needle, needle.toLowerCase(), needle.toUpperCase()].map((s) => Buffer.from(s));
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = fs.readFileSync(file);
    if (forms.some((form) => bytes.includes(form))) found.push(path.relative(dir, file));
  }
  return found;
}

/** `openrecall redact` leaves nothing of the old text in the data dir: not in the database, its WAL, the FTS segments, or a file. */
describe('openrecall redact scrubs the database files', () => {
  const dataDir = tempDir();
  const env = { OPENRECALL_OCR_ENGINE: 'tesseract-js' };
  let server: ServerProcess | undefined;
  after(async () => {
    await server?.stop('SIGKILL');
  });

  it('no byte of a redacted secret survives in any file of the data dir', async () => {
    server = await startServerProcess(dataDir, { ...env, OPENRECALL_REDACT: 'off' });
    for (let i = 0; i < FRAMES; i++) await upload(server.api, { image: await screen(i), title: `Vault - password: ${secretOf(i)}` });
    const entries = async () => (await getJson(`${server!.api}/entries?limit=50`)).body.entries as any[];
    await waitUntil(async () => (await entries()).filter((e) => e.status === 'COMPLETED').length === FRAMES, { what: 'frames stored unredacted' });
    assert.ok(
      (await entries()).every((e) => e.text.includes(secretOf(0).slice(0, 6))),
      'stored as seen while redaction was off',
    );
    // Deleting and rewriting rows (as redaction does) leaves the old bytes behind: the files have them now.
    assert.ok(filesContaining(dataDir, secretOf(1)).length > 0, 'the secret is in the database files before');
    await server.stop();

    server = await startServerProcess(dataDir, env);
    const command = runCli(['redact'], { OPENRECALL_API_URL: server.api });
    const { code } = await command.exited;
    assert.equal(code, 0, command.output());
    assert.match(command.output(), /redaction complete/);
    const status = (await getJson(`${server.api}/queue/status`)).body;
    assert.equal(status.backfill.redaction, 0);
    assert.equal(status.backfill.redaction_scrub_due, false);

    const all = await entries();
    assert.equal(all.length, FRAMES);
    for (const e of all) {
      assert.ok(!e.text.includes('Quokka') && !e.title.includes('Quokka'), `${e.text} / ${e.title}`);
      assert.match(e.text, /lighthouse team/);
    }
    // While the server runs (db, -wal, -shm open), and after it stopped.
    for (let i = 0; i < FRAMES; i++) assert.deepEqual(filesContaining(dataDir, secretOf(i)), [], `${secretOf(i)} left in the data dir`);
    await server.stop();
    server = undefined;
    for (let i = 0; i < FRAMES; i++) assert.deepEqual(filesContaining(dataDir, secretOf(i)), [], `${secretOf(i)} left in the data dir`);
    const names = fs.readdirSync(path.join(dataDir, 'db'));
    assert.ok(names.includes('recall.db'), names.join(', '));
  });
});
