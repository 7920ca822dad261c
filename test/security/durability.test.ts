import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GroupSync } from '../../src/files/group-sync.js';
import { getJson, queueCounts, upload, waitUntil } from '../helpers/api.js';
import { solidPng } from '../helpers/images.js';
import { cliPath, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { incomingUploads } from '../helpers/upload-reserve.js';

// A 202 is durable: the client deletes its copy on it. The file is renamed, the row written, and the file, the
// folder and the WAL fsynced (side by side), before the answer is written to the socket; a processed frame and its
// thumbnail are on disk before the original upload is removed. A SIGKILL shows nothing is answered before it is
// stored; strace shows the order of the syncs, which is what survives a power cut; a row whose file a power cut
// lost or tore gives way to its client's retry.

describe('group commit', () => {
  it('callers share fsyncs, two at most in flight, and each is answered by one that started after it asked', async () => {
    const started: number[] = [];
    let asked = 0;
    const releases: (() => void)[] = [];
    const group = new GroupSync(() => {
      started.push(asked);
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    const answered: number[] = [];
    const ask = () => {
      const me = ++asked;
      return group.sync().then(() => answered.push(me));
    };
    const first = ask(); // starts flush 1
    const second = ask(); // flush 1 may not cover it: starts flush 2 at once, beside flush 1
    const rest = [ask(), ask()]; // two in flight: these wait for one shared flush
    await waitUntil(() => releases.length === 2, { what: 'flushes 1 and 2' });
    assert.deepEqual(started, [1, 2], 'flush 2 started when its caller asked, not after flush 1 finished');
    releases[0]!();
    await first;
    assert.deepEqual(answered, [1], 'flush 1 answers only the caller that came before it');
    await waitUntil(() => releases.length === 3, { what: 'flush 3' });
    assert.equal(started[2], 4, 'flush 3 started after both waiting callers asked');
    releases[1]!();
    await second;
    assert.deepEqual(answered, [1, 2]);
    releases[2]!();
    await Promise.all(rest);
    assert.deepEqual(answered, [1, 2, 3, 4]);
    assert.equal(started.length, 3, 'four callers, three fsyncs');
  });

  it('a failed fsync fails its callers, and the next callers get a new one', async () => {
    let calls = 0;
    const group = new GroupSync(async () => {
      calls++;
      if (calls === 1) throw Object.assign(new Error('EIO'), { code: 'EIO' });
    });
    await assert.rejects(group.sync(), /EIO/);
    await group.sync();
    assert.equal(calls, 2);
  });
});

type Entries = { entries: { id: number; capture_id: string | null; status: string }[] };

describe('a 202 survives a SIGKILL right after it (issue 18, item 4)', () => {
  it('every frame answered 202 is there after a restart, and is processed', async () => {
    const dataDir = tempDir();
    // 40 at once: their rows are committed in batches (pending-inserts.ts), each 202 only after its batch.
    const env = { OPENRECALL_OCR_ENGINE: 'none', OPENRECALL_MAX_CONCURRENT_UPLOADS: '64' };
    const server = await startServerProcess(dataDir, env);
    const ids = Array.from({ length: 40 }, (_, i) => `sigkill-${i}-${Date.now()}`);
    const images = await Promise.all(ids.map((_, i) => solidPng(200, 120, `#${(i * 6).toString(16).padStart(2, '0')}4080`)));
    const answers = await Promise.all(ids.map((captureId, i) => upload(server.api, { image: images[i]!, captureId })));
    server.child.kill('SIGKILL'); // right after the last 202
    await server.exited;
    assert.deepEqual(
      answers.map((a) => a.status),
      ids.map(() => 202),
    );

    const again = await startServerProcess(dataDir, env);
    try {
      const { body } = await getJson<Entries>(`${again.api}/entries?limit=100`);
      assert.deepEqual(body.entries.map((e) => e.capture_id).sort(), [...ids].sort());
      await waitUntil(async () => (await queueCounts(again.api)).completed === ids.length, { what: 'the frames processed after the restart' });
      assert.equal((await queueCounts(again.api)).failed, 0);
    } finally {
      await again.stop();
    }
  });
});

describe('a row whose upload file is gone at start', () => {
  it('is deleted at start, so the retry of its frame is accepted, and no frame answered 202 is lost', async () => {
    const dataDir = tempDir();
    const incoming = path.join(dataDir, 'screenshots', 'incoming');
    const server = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
    // The processor stopped: the frames stay PENDING, pointing at their uploads.
    const processor = Number(fs.readFileSync(`/proc/${server.child.pid}/task/${server.child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    process.kill(processor, 'SIGSTOP');
    const files = () => new Set(incomingUploads(dataDir));
    const kept = `kept-${Date.now()}`;
    const lost = `lost-${Date.now()}`;
    assert.equal((await upload(server.api, { image: await solidPng(200, 120, '#203040'), captureId: kept })).status, 202);
    const before = files();
    assert.equal((await upload(server.api, { image: await solidPng(200, 120, '#405060'), captureId: lost })).status, 202);
    const lostFile = [...files()].find((name) => !before.has(name))!;
    server.child.kill('SIGKILL');
    process.kill(processor, 'SIGKILL');
    await server.exited;
    // The row reached the disk, the file did not: a power cut before a renamed upload's folder was synced (a
    // PostgreSQL server, or a SQLite one before uploads were written in place), or a file removed by hand. (Such a
    // frame's client got no 202; here it did, which is what lets the test name the frame's file.)
    fs.rmSync(path.join(incoming, lostFile));

    const again = await startServerProcess(dataDir, { OPENRECALL_OCR_ENGINE: 'none' });
    try {
      await again.waitFor(/deleted 1 frame\(s\) whose upload a crash lost/);
      const { body } = await getJson<Entries>(`${again.api}/entries?limit=100`);
      assert.deepEqual(
        body.entries.map((e) => e.capture_id),
        [kept],
        'the frame whose file is gone has no row; the other is kept',
      );
      const retry = await upload(again.api, { image: await solidPng(200, 120, '#405060'), captureId: lost });
      assert.equal(retry.status, 202, 'the retry is accepted, not answered as a duplicate of a frame without a file');
      await waitUntil(async () => (await queueCounts(again.api)).completed === 2, { what: 'both frames processed' });
      assert.equal((await queueCounts(again.api)).failed, 0);
    } finally {
      await again.stop();
    }
  });
});

describe('a row whose upload a crash left torn (the file is fsynced beside the row)', () => {
  it('gives way to the retry of its frame, while a frame whose file is whole is still answered as a duplicate', async () => {
    const dataDir = tempDir();
    const incoming = path.join(dataDir, 'screenshots', 'incoming');
    const env = { OPENRECALL_OCR_ENGINE: 'none' };
    const server = await startServerProcess(dataDir, env);
    const processor = Number(fs.readFileSync(`/proc/${server.child.pid}/task/${server.child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    process.kill(processor, 'SIGSTOP');
    const files = () => new Set(incomingUploads(dataDir));
    const kept = `kept-${Date.now()}`;
    const torn = `torn-${Date.now()}`;
    const keptImage = await solidPng(200, 120, '#203040');
    const tornImage = await solidPng(200, 120, '#405060');
    assert.equal((await upload(server.api, { image: keptImage, captureId: kept })).status, 202);
    const before = files();
    assert.equal((await upload(server.api, { image: tornImage, captureId: torn })).status, 202);
    const tornFile = path.join(incoming, [...files()].find((name) => !before.has(name))!);
    server.child.kill('SIGKILL');
    process.kill(processor, 'SIGKILL');
    await server.exited;
    // A power cut before the file's fsync finished: the row and the file's name reached the disk, half its bytes did
    // not. (Its client got no 202 then; here it did, which is what lets the test name the frame's file.)
    const whole = fs.readFileSync(tornFile);
    fs.writeFileSync(tornFile, whole.subarray(0, whole.length >> 1));

    const again = await startServerProcess(dataDir, env);
    try {
      // The processor may meet the torn copy first (and fail it): the retry replaces it in any state.
      assert.equal((await upload(again.api, { image: keptImage, captureId: kept })).status, 200, 'a frame whose file is whole is a duplicate');
      const retry = await upload(again.api, { image: tornImage, captureId: torn });
      assert.equal(retry.status, 202, 'the retry is stored, not answered as a duplicate of a torn copy');
      assert.ok(!fs.existsSync(tornFile), 'the torn copy is gone');
      await waitUntil(async () => (await queueCounts(again.api)).completed === 2, { what: 'both frames processed' });
      assert.equal((await queueCounts(again.api)).failed, 0);
      const { body } = await getJson<Entries>(`${again.api}/entries?limit=100`);
      assert.deepEqual(body.entries.map((e) => e.capture_id).sort(), [kept, torn].sort());
    } finally {
      await again.stop();
    }
  });
});

/** One system call as strace printed it, with its position in the trace (where it finished). */
interface Call {
  at: number;
  pid: string;
  text: string;
}

/** strace -f output as finished calls; an `<unfinished ...>` call is joined to its `resumed` line and placed there. */
function parseTrace(trace: string): Call[] {
  const pending = new Map<string, string>();
  const calls: Call[] = [];
  for (const line of trace.split('\n')) {
    const match = line.match(/^(\d+)\s+(.*)$/);
    if (!match) continue;
    const [, pid, text] = match as unknown as [string, string, string];
    if (text.endsWith('<unfinished ...>')) {
      pending.set(pid, text.slice(0, -'<unfinished ...>'.length).trimEnd());
      continue;
    }
    const resumed = text.match(/^<\.\.\. \w+ resumed>(.*)$/);
    if (resumed) {
      calls.push({ at: calls.length, pid, text: `${pending.get(pid) ?? ''}${resumed[1]}` });
      pending.delete(pid);
      continue;
    }
    calls.push({ at: calls.length, pid, text });
  }
  return calls;
}

class Trace {
  constructor(readonly calls: Call[]) {}

  /** The first call after position `after` whose text matches, with the match. */
  find(pattern: RegExp, after = -1, what = String(pattern)): { call: Call; match: RegExpMatchArray } {
    for (const call of this.calls) {
      if (call.at <= after) continue;
      const match = call.text.match(pattern);
      if (match) return { call, match };
    }
    throw new Error(`no ${what} after call ${after} in the trace`);
  }

  /** The position of the first successful fsync (or fdatasync) of a file or folder matching `file` after `after`. strace -y names it. */
  syncOf(file: string, after: number, what: string): number {
    return this.find(new RegExp(`^f(?:data)?sync\\(\\d+<${file}>\\)\\s*= 0`), after, `fsync of ${what}`).call.at;
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('the order of the syncs, seen by strace (issue 18, item 4)', () => {
  const dataDir = fs.realpathSync(tempDir());
  const traceFile = path.join(tempDir(), 'server.strace');
  let strace: ChildProcess;
  let trace: Trace;
  let serverPid: number;
  let api: string;

  before(async () => {
    // The real server (and its processor child, -f) under strace; -y names the file behind every descriptor.
    strace = spawn(
      'strace',
      [
        '-f',
        '-y',
        '-s',
        '64',
        '-o',
        traceFile,
        '-e',
        'trace=openat,fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat,pwrite64,write,writev,sendto,sendmsg',
        process.execPath,
        cliPath,
        'server',
      ],
      {
        env: {
          ...process.env,
          OPENRECALL_DEBUG: 'false',
          OPENRECALL_EMBEDDING_PROVIDER: 'none',
          OPENRECALL_OCR_ENGINE: 'none',
          OPENRECALL_DATA_DIR: dataDir,
          OPENRECALL_PORT: '0',
          OPENRECALL_WORKERS: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    strace.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    strace.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    const url = await waitUntil(() => output.match(/listening on (http:\/\/\S+)/)?.[1], {
      timeoutMs: 120_000,
      what: `the traced server to listen; output: ${output}`,
    });
    api = `${url}/api`;
    serverPid = Number(fs.readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    assert.ok(serverPid > 0, 'the server runs as strace’s child');

    const answer = await upload(api, { image: await solidPng(240, 160, '#884422'), captureId: 'traced-frame' });
    assert.equal(answer.status, 202);
    await waitUntil(async () => (await queueCounts(api)).completed === 1, { what: 'the traced frame processed' });
    process.kill(serverPid, 'SIGTERM');
    await new Promise((resolve) => strace.once('exit', resolve));
    trace = new Trace(parseTrace(fs.readFileSync(traceFile, 'utf8')));
  });
  after(() => {
    if (strace.exitCode === null) process.kill(serverPid, 'SIGKILL');
  });

  it('upload: file created and its name synced ahead → written in place → row written → file and WAL fsynced (side by side) → 202 on the socket', () => {
    const incoming = escapeRegExp(path.join(dataDir, 'screenshots', 'incoming'));
    const wal = escapeRegExp(path.join(dataDir, 'db', 'recall.db-wal'));
    // A SQLite server writes each upload in a file created ahead in screenshots/incoming, and never renames it.
    const written = trace.find(new RegExp(`^(?:write|writev|pwrite64)\\(\\d+<(${incoming}/[^>]+\\.png)>, `), -1, 'the upload written');
    const file = escapeRegExp(written.match[1]!);
    const created = trace.find(new RegExp(`^openat\\(AT_FDCWD(?:<[^>]*>)?, "${file}", [^)]*O_CREAT[^)]*O_EXCL`), -1, 'the upload file created').call.at;
    const nameSynced = trace.syncOf(incoming, created, 'screenshots/incoming after the file was created');
    const lastWrite = trace.calls.filter((c) => new RegExp(`^(?:write|writev|pwrite64)\\(\\d+<${file}>, `).test(c.text)).at(-1)!.at;
    const fileSync = trace.syncOf(file, lastWrite, 'the upload file');
    const rowWrite = trace.find(new RegExp(`^pwrite64\\(\\d+<${wal}>, `), written.call.at, 'the row written to the WAL').call.at;
    const walSync = trace.syncOf(wal, rowWrite, 'the WAL');
    const answered = trace.find(/^(write|writev|sendto|sendmsg)\(\d+.*HTTP\/1\.1 202 /, -1, 'the 202 written to the socket').call.at;

    assert.ok(
      nameSynced < written.call.at,
      `the folder is fsynced after the file's creation (call ${nameSynced}) and before it is written (call ${written.call.at})`,
    );
    assert.ok(
      !trace.calls.some((c) => /^rename/.test(c.text) && c.text.includes(written.match[1]!)),
      'the upload is not renamed (no rename, no folder fsync on the way to its 202)',
    );
    assert.ok(lastWrite < rowWrite, 'the row is written after the whole file (a claimed frame finds its bytes)');
    // A power cut before it leaves a row whose file is torn: the client's retry replaces it (tested above).
    assert.ok(fileSync < answered, `the 202 is written after the file is fsynced (file fsync at call ${fileSync}, 202 at ${answered})`);
    assert.ok(walSync < answered, `the 202 is written after the WAL is fsynced (WAL fsync at call ${walSync}, 202 at ${answered})`);
  });

  it('processing: the WebP and the thumbnail, their folders and the row are synced before the original upload is removed', () => {
    const incoming = escapeRegExp(path.join(dataDir, 'screenshots', 'incoming'));
    const original = trace.find(new RegExp(`^(?:write|writev|pwrite64)\\(\\d+<(${incoming}/[^>]+\\.png)>, `), -1, 'the stored upload').match[1]!;
    const removed = trace.find(new RegExp(`^unlink\\w*\\((?:AT_FDCWD(?:<[^>]*>)?, )?"${escapeRegExp(original)}"`), -1, 'the removal of the original').call.at;

    let lastRename = -1;
    for (const [what, folder] of [
      ['the WebP', String.raw`${escapeRegExp(dataDir)}/screenshots/\d{4}/\d\d/\d\d`],
      ['the thumbnail', escapeRegExp(path.join(dataDir, 'thumbnails'))],
    ] as const) {
      const rename = trace.find(
        new RegExp(`^rename\\w*\\(.*"(${folder}/\\d+\\.webp(?:\\.[^"]+)?\\.tmp)".*"(${folder}/\\d+\\.webp)"\\)\\s*= 0`),
        -1,
        `the rename of ${what}`,
      );
      const fileSync = trace.syncOf(escapeRegExp(rename.match[1]!), -1, what);
      const folderSync = trace.syncOf(escapeRegExp(path.dirname(rename.match[2]!)), rename.call.at, `${what}’s folder`);
      assert.ok(fileSync < rename.call.at, `${what}: fsync before the rename`);
      assert.ok(folderSync < removed, `${what}: its folder fsynced (call ${folderSync}) before the original is removed (call ${removed})`);
      lastRename = Math.max(lastRename, rename.call.at);
    }
    const rowSync = trace.syncOf(escapeRegExp(path.join(dataDir, 'db', 'recall.db-wal')), lastRename, 'the WAL after the path switch');
    assert.ok(rowSync < removed, 'the row’s new path is synced before the original is removed');
  });
});
