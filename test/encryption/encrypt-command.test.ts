import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { everyFile, fileHashes, plaintextFound } from '../helpers/data-dir-scan.js';
import { renderTextImage } from '../helpers/images.js';
import { TEST_DATABASE_URL } from '../helpers/postgres.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Words shown on the screens (and in window titles) only: after `encrypt`, no byte of the data dir may hold one. */
const WORDS = ['pelican', 'marmalade', 'zeppelin', 'quixotic', 'harpsichord', 'tangerine'];
/** The steps `openrecall encrypt` can be made to SIGKILL itself at (OPENRECALL_TEST_KILL_AT), in the order it reaches them. */
const KILL_POINTS = ['record', 'db-copied', 'db-rekeyed', 'db-renamed', 'file-temp:2', 'file:3', 'final'];

interface Frame {
  id: number;
  word: string;
  /** SHA-256 of the served image's decoded pixels (RGBA). */
  pixels: string;
}

const pixelHash = async (image: Buffer) =>
  crypto
    .createHash('sha256')
    .update(await sharp(image).ensureAlpha().raw().toBuffer())
    .digest('hex');

async function servedPixels(api: string, id: number): Promise<string> {
  const response = await fetch(`${api}/entries/${id}/image`);
  assert.equal(response.status, 200, `frame ${id}: ${response.status}`);
  return pixelHash(Buffer.from(await response.arrayBuffer()));
}

const run = async (args: string[], env: Record<string, string>) => {
  const cli = runCli(args, env);
  const exit = await cli.exited;
  return { ...exit, output: cli.output() };
};

const lines = (output: string) => output.trim().split('\n').filter(Boolean);

describe('openrecall encrypt: a plain data dir of a real server, encrypted in place, killed at every step', { timeout: 900_000 }, () => {
  const base = tempDir();
  const original = path.join(base, 'plain');
  const keyFile = path.join(base, 'openrecall.key');
  const plainEnv = { OPENRECALL_COMPACT_AFTER_MINUTES: '50000000' };
  const encryptedEnv = { ...plainEnv, OPENRECALL_ENCRYPTION: 'on', OPENRECALL_ENCRYPTION_KEY_FILE: keyFile };
  const frames: Frame[] = [];
  let server: ServerProcess | undefined;

  /** A copy of the plain data dir, so each case starts from the same memory. */
  const copyOfOriginal = (name: string) => {
    const dir = path.join(base, name);
    fs.cpSync(original, dir, { recursive: true });
    return dir;
  };
  const dirEnv = (dir: string, env: Record<string, string> = encryptedEnv) => ({ OPENRECALL_DATA_DIR: dir, ...env });

  async function addFrames(words: string[]): Promise<void> {
    server = await startServerProcess(original, plainEnv);
    for (const word of words) {
      const image = await renderTextImage([`${word} is on the screen`, `the note about ${word} number ${frames.length}`]);
      const accepted = await upload(server.api, { image, captureId: `enc-${word}`, title: `${word} window` });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      frames.push({ id: (accepted.body as { task_id: number }).task_id, word, pixels: '' });
    }
    await waitUntil(async () => (await queueCounts(server!.api)).completed === frames.length, {
      what: `${frames.length} frames COMPLETED`,
      timeoutMs: 300_000,
    });
  }

  before(async () => {
    // Three frames, compacted (layers, manifests), then one more left as a plain WebP: both kinds of stored frame.
    await addFrames(WORDS.slice(0, 3));
    await server!.stop();
    const compact = await run(['compact'], dirEnv(original, plainEnv));
    assert.equal(compact.code, 0, compact.output);
    assert.match(compact.output, /3 frame\(s\) compacted/);
    await addFrames(WORDS.slice(3, 4));
    for (const frame of frames) frame.pixels = await servedPixels(server!.api, frame.id);
    await server!.stop();
    server = undefined;
    const files = everyFile(original).map((f) => path.relative(original, f));
    assert.ok(
      files.some((f) => f.startsWith('compact/layers/')) && files.some((f) => f.startsWith('screenshots/2')) && files.some((f) => f.startsWith('thumbnails/')),
      files.join(', '),
    );
    assert.notDeepEqual(plaintextFound(original, WORDS), [], 'the plain data dir shows its words and images (the scan can fail)');
  });

  after(async () => {
    await server?.stop();
  });

  /** A server (plain or with the key) and an offline command each stop with one line naming `openrecall encrypt`; no file changes. */
  async function assertRefusedHalfEncrypted(dir: string, when: string): Promise<void> {
    // The killed run's lock names a dead process: a command may take it over (and remove it); no other file may change.
    const withoutLock = () => new Map([...fileHashes(dir)].filter(([file]) => file !== 'server.lock'));
    const before = withoutLock();
    for (const [what, args, env] of [
      ['a server with the key', ['server'], { ...encryptedEnv, OPENRECALL_PORT: '0' }],
      ['a plain server', ['server'], { ...plainEnv, OPENRECALL_PORT: '0' }],
      ['compact (an offline command)', ['compact'], encryptedEnv],
    ] as const) {
      const refused = await run([...args], dirEnv(dir, env));
      assert.notEqual(refused.code, 0, `${when}: ${what} started on a half-encrypted data dir:\n${refused.output}`);
      assert.equal(lines(refused.output).length, 1, `${when}: ${what}: one line\n${refused.output}`);
      assert.match(refused.output, /half encrypted.*run `openrecall encrypt` again/, `${when}: ${what}`);
    }
    assert.deepEqual(withoutLock(), before, `${when}: the refused starts changed no file`);
  }

  /** Everything kept, nothing readable: a server with the key serves every frame's pixels and finds every word. */
  async function assertEncryptedAndWhole(dir: string): Promise<void> {
    assert.deepEqual(plaintextFound(dir, WORDS), [], 'no image or SQLite header, no screen word in any file');
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'encryption.json'), 'utf8')) as { state?: string };
    assert.equal(record.state, undefined, 'the record is no longer marked converting');
    const plainStart = await run(['server'], dirEnv(dir, { ...plainEnv, OPENRECALL_PORT: '0' }));
    assert.notEqual(plainStart.code, 0);
    assert.match(plainStart.output, /is encrypted: start with OPENRECALL_ENCRYPTION=on/);

    const running = await startServerProcess(dir, encryptedEnv);
    server = running;
    const api = running.api;
    try {
      for (const frame of frames) {
        assert.equal(await servedPixels(api, frame.id), frame.pixels, `frame ${frame.id} (${frame.word}): the same pixels`);
        const found = await getJson<{ total: number }>(`${api}/search?q=${frame.word}`);
        assert.equal(found.status, 200);
        assert.ok(found.body.total >= 1, `search finds "${frame.word}": ${JSON.stringify(found.body)}`);
      }
      assert.equal((await getJson(`${api}/timeline`)).body.count, frames.length);
      assert.equal((await fetch(`${api}/entries/${frames[0]!.id}/thumbnail`)).status, 200);
    } finally {
      await running.stop();
      server = undefined;
    }
    assert.deepEqual(plaintextFound(dir, WORDS), [], 'nor after a server ran on it');
  }

  it('refuses, changing nothing, while a server holds the data dir, without a key source, or with a key file of the wrong size', async () => {
    const dir = copyOfOriginal('refusals');
    const before = fileHashes(dir);

    const noSource = await run(['encrypt'], dirEnv(dir, plainEnv));
    assert.equal(noSource.code, 2, noSource.output);
    assert.match(noSource.output, /choose what opens the encrypted data dir/);
    assert.equal(lines(noSource.output).length, 1, noSource.output);

    const shortKey = path.join(base, 'short.key');
    fs.writeFileSync(shortKey, crypto.randomBytes(16), { mode: 0o600 });
    const wrongSize = await run(['encrypt'], dirEnv(dir, { ...plainEnv, OPENRECALL_ENCRYPTION_KEY_FILE: shortKey }));
    assert.notEqual(wrongSize.code, 0);
    assert.match(wrongSize.output, /holds 16 bytes/);
    assert.equal(lines(wrongSize.output).length, 1, wrongSize.output);
    assert.deepEqual(fileHashes(dir), before, 'no file changed by the refused runs');

    server = await startServerProcess(dir, plainEnv);
    const files = () => new Map([...fileHashes(dir)].filter(([file]) => !file.startsWith('db/') && file !== 'server.lock'));
    const whileRunning = files();
    const held = await run(['encrypt'], dirEnv(dir));
    await server.stop();
    server = undefined;
    assert.equal(held.code, 1, held.output);
    assert.match(held.output, /another OpenRecall server \(pid \d+\) is using .*openrecall encrypt needs the data dir to itself/);
    assert.equal(lines(held.output).length, 1, held.output);
    assert.equal(fs.existsSync(path.join(dir, 'encryption.json')), false, 'no key record written');
    assert.deepEqual(files(), whileRunning, 'no image, thumbnail or layer touched');
    assert.ok(
      fs
        .readFileSync(path.join(dir, 'db', 'recall.db'))
        .subarray(0, 15)
        .equals(Buffer.from('SQLite format 3')),
      'the database is still plain',
    );
  });

  it('killed at each step (SIGKILL), a half-encrypted data dir is refused everywhere, and running it again finishes the job', async () => {
    const dir = copyOfOriginal('killed-at-steps');
    const output: string[] = [];
    for (const [index, point] of KILL_POINTS.entries()) {
      const killed = await run(['encrypt'], dirEnv(dir, { ...encryptedEnv, OPENRECALL_TEST_KILL_AT: point }));
      output.push(killed.output);
      assert.equal(killed.signal, 'SIGKILL', `killed at ${point}:\n${killed.output}`);
      await assertRefusedHalfEncrypted(dir, `after a kill at ${point}`);
      if (index === 0) {
        // A key that is not the one the conversion began with: refused, nothing changed.
        const wrongKey = path.join(base, 'wrong.key');
        fs.writeFileSync(wrongKey, crypto.randomBytes(32), { mode: 0o600 });
        const before = fileHashes(dir);
        const wrong = await run(['encrypt'], dirEnv(dir, { ...encryptedEnv, OPENRECALL_ENCRYPTION_KEY_FILE: wrongKey }));
        assert.equal(wrong.code, 1, wrong.output);
        assert.match(wrong.output, /does not open the data dir/);
        assert.equal(lines(wrong.output).length, 1, wrong.output);
        assert.deepEqual(fileHashes(dir), before, 'a wrong key changed nothing');
      }
    }
    assert.match(output[1]!, /finishing the encryption/, 'a second run resumes');
    const finished = await run(['encrypt'], dirEnv(dir));
    assert.equal(finished.code, 0, finished.output);
    assert.match(
      finished.output,
      /is encrypted \(database: already encrypted; files: 0 sealed, \d+ sealed before\)/,
      'the last kill left only the record to switch',
    );
    assert.deepEqual(
      everyFile(dir).filter((f) => f.endsWith('.encrypting')),
      [],
      'no temporary left',
    );
    await assertEncryptedAndWhole(dir);

    const before = fileHashes(dir);
    const again = await run(['encrypt'], dirEnv(dir));
    assert.equal(again.code, 1, again.output);
    assert.match(again.output, /is encrypted already/);
    assert.equal(lines(again.output).length, 1, again.output);
    assert.deepEqual(fileHashes(dir), before, 'an encrypted data dir is left as it is');
  });

  it('killed at a random moment, then run again: every frame kept, nothing readable', async (t) => {
    const dir = copyOfOriginal('killed-at-random');
    // How long the conversion takes here (from the line printed once the key record is written to the end), then a
    // kill somewhere inside that span of a second run: the database or the files half done.
    const timing = runCli(['encrypt'], dirEnv(copyOfOriginal('timing')));
    await timing.waitFor(/in place/);
    const started = Date.now();
    assert.equal((await timing.exited).code, 0, timing.output());
    const delay = Math.floor(Math.random() * (Date.now() - started));

    const cli = runCli(['encrypt'], dirEnv(dir));
    await cli.waitFor(/in place/);
    await new Promise((resolve) => setTimeout(resolve, delay));
    cli.child.kill('SIGKILL');
    const exit = await cli.exited;
    // Killed after the key record: half encrypted, or (a kill between the final switch and the exit) done.
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'encryption.json'), 'utf8')) as { state?: string };
    const halfEncrypted = record.state === 'converting';
    t.diagnostic(
      `SIGKILL ${delay} ms after the key record: ${exit.signal !== 'SIGKILL' ? 'the run had finished' : halfEncrypted ? 'half encrypted' : 'after the final switch'}`,
    );
    if (halfEncrypted) {
      assert.equal(exit.signal, 'SIGKILL', 'only a kill leaves the data dir half encrypted');
      await assertRefusedHalfEncrypted(dir, `after a kill at ${delay} ms`);
    }
    const finished = await run(['encrypt'], dirEnv(dir));
    if (halfEncrypted) assert.equal(finished.code, 0, `after a kill at ${delay} ms:\n${finished.output}`);
    else assert.match(finished.output, /encrypted already/, `the record was switched before the kill at ${delay} ms`);
    await assertEncryptedAndWhole(dir);
  });

  it('shows a progress line per tenth on a pipe, and the database and files it did', async () => {
    const dir = copyOfOriginal('progress');
    const done = await run(['encrypt'], dirEnv(dir));
    assert.equal(done.code, 0, done.output);
    const progress = lines(done.output).filter((line) => line.startsWith('encrypting: '));
    assert.ok(progress.length >= 2, done.output);
    assert.match(progress.at(-1)!, /^encrypting: (\d+)\/\1 files$/);
    assert.match(done.output, /database: encrypted; files: \d+ sealed, 0 sealed before/);
    assert.deepEqual(plaintextFound(dir, WORDS), []);
  });

  it('with OPENRECALL_DATABASE_URL (PostgreSQL holds the text), seals the files only and says the text in PostgreSQL stays as it is', async () => {
    const dir = copyOfOriginal('postgres');
    fs.rmSync(path.join(dir, 'db'), { recursive: true });
    const done = await run(['encrypt'], dirEnv(dir, { ...encryptedEnv, OPENRECALL_DATABASE_URL: TEST_DATABASE_URL }));
    assert.equal(done.code, 0, done.output);
    assert.match(done.output, /database: no database; files: \d+ sealed/);
    assert.match(done.output, /the text in PostgreSQL \(OPENRECALL_DATABASE_URL\) stays as it is: see SECURITY.md/);
    assert.deepEqual(plaintextFound(dir, WORDS), [], 'no image header and no word in the files');
    assert.equal(fs.existsSync(path.join(dir, 'db')), false, 'no database made');
  });
});
