import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import sharp from 'sharp';
import { describe, it } from 'node:test';
import { getJson, upload, waitUntil } from './helpers/api.js';
import { runCli, startServerProcess } from './helpers/server-process.js';
import { listFilesRecursive, tempDir } from './helpers/temp-dir.js';
import { editingSequence } from './helpers/compaction-frames.js';

const rgb = (image: Buffer) => sharp(image).removeAlpha().raw().toBuffer();
/** Compaction only when asked: frames stay separate files until `openrecall compact`. */
const LATER = { OPENRECALL_COMPACT_AFTER_MINUTES: '100000', OPENRECALL_OCR_ENGINE: 'none' };

async function processFrames(frames: Buffer[]): Promise<{ dataDir: string; ids: number[] }> {
  const dataDir = tempDir();
  const server = await startServerProcess(dataDir, LATER);
  const ids: number[] = [];
  try {
    for (const [i, image] of frames.entries()) {
      ids.push((await upload(server.api, { image, timestamp: Date.now() / 1000 - 3600 + i, monitor: 0 })).body.task_id as number);
    }
    await waitUntil(async () => (await getJson(`${server.api}/queue/status`)).body.queue.completed === frames.length, { what: 'processing' });
  } finally {
    await server.stop();
  }
  return { dataDir, ids };
}

const processed = new Map<number, Promise<{ frames: Buffer[]; dataDir: string; ids: number[] }>>();

/**
 * The editing sequence of `count` frames, uploaded to a real server and processed (not compacted), in a data dir
 * of the test's own: a copy of one processed once per file for each count (the server is stopped, so the copy is
 * what the next process finds on the disk).
 */
async function processedDataDir(count: number): Promise<{ frames: Buffer[]; dataDir: string; ids: number[] }> {
  let once = processed.get(count);
  if (!once) {
    once = editingSequence(count).then(async (frames) => ({ frames, ...(await processFrames(frames)) }));
    processed.set(count, once);
  }
  const { frames, dataDir: original, ids } = await once;
  const dataDir = tempDir();
  fs.cpSync(original, dataDir, { recursive: true });
  return { frames, dataDir, ids };
}

/** Every frame, read through a fresh server, has its original pixels. `startLog`: a line the server must log. */
async function assertAllFramesIntact(dataDir: string, ids: number[], frames: Buffer[], startLog?: RegExp): Promise<void> {
  const server = await startServerProcess(dataDir, LATER);
  try {
    if (startLog) await server.waitFor(startLog);
    for (const [i, id] of ids.entries()) {
      const response = await fetch(`${server.api}/entries/${id}/image`);
      assert.equal(response.status, 200, `frame ${id} answers`);
      assert.deepEqual(await rgb(Buffer.from(await response.arrayBuffer())), await rgb(frames[i]!), `frame ${id} has its pixels`);
    }
  } finally {
    await server.stop();
  }
}

/** Runs test/helpers/compaction-crash-child.ts, a real process that SIGKILLs itself at `point` of a frame. */
async function crashChild(dataDir: string, point: string, framesBefore: number): Promise<{ signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'helpers', 'compaction-crash-child.ts'), dataDir, point, String(framesBefore)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  return { signal, output };
}

/** Pids of a process's children (Linux: /proc). */
function childrenOf(pid: number): number[] {
  const tasks = fs.readdirSync(`/proc/${pid}/task`);
  return tasks.flatMap((task) => fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

/** Running, not gone or a zombie (nothing may reap it in a container). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function imagePathOf(dataDir: string, id: number): string {
  const db = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true });
  try {
    return db.prepare(`SELECT image_path FROM entries WHERE id = ?`).pluck().get(id) as string;
  } finally {
    db.close();
  }
}

/** No file is left that no row accounts for, and no row lacks its file. */
function assertNoOrphans(dataDir: string): void {
  const db = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true });
  try {
    const paths = new Set(db.prepare(`SELECT image_path FROM entries`).pluck().all() as string[]);
    const layers = new Set(db.prepare(`SELECT path FROM compact_layers`).pluck().all() as string[]);
    const onDisk = [
      ...listFilesRecursive(path.join(dataDir, 'screenshots')).map((f) => `screenshots/${f}`),
      ...listFilesRecursive(path.join(dataDir, 'compact')).map((f) => `compact/${f}`),
    ];
    for (const file of onDisk) assert.ok(paths.has(file) || layers.has(file), `${file} belongs to a row`);
    for (const file of [...paths, ...layers]) assert.ok(onDisk.includes(file), `${file} exists`);
    assert.ok(!fs.existsSync(path.join(dataDir, 'compaction.journal')), 'no journal left');
  } finally {
    db.close();
  }
}

describe('compaction survives kill -9', () => {
  for (const point of ['after-files', 'after-commit'] as const) {
    it(`killed ${point.replace('-', ' ')} of a frame: every frame stays readable, the next run finishes the job and leaves no orphan`, async () => {
      const { frames, dataDir, ids } = await processedDataDir(6);

      // A real process compacts two frames, runs the production steps of the third up to that point and is
      // SIGKILLed there (no cleanup of any kind).
      const crashed = await crashChild(dataDir, point, 2);
      assert.equal(crashed.signal, 'SIGKILL', crashed.output);
      assert.match(crashed.output, new RegExp(`compacted 2 frame\\(s\\); crashing ${point} of frame ${ids[2]}`));
      const journal = JSON.parse(crashed.output.match(/^journal (.*)$/m)![1]!) as { entryId: number; original: string; layer: string | null; manifest: string };
      assert.equal(journal.entryId, ids[2]);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dataDir, 'compaction.journal'), 'utf8')), journal, 'the crash left its journal');
      assert.ok(fs.existsSync(path.join(dataDir, journal.manifest)), 'the new files were written');
      assert.ok(fs.existsSync(path.join(dataDir, journal.original)), 'the original file is still there');
      assert.equal(imagePathOf(dataDir, ids[2]!), point === 'after-files' ? journal.original : journal.manifest, 'the row switched only after the commit');

      // A kill in the middle of the manifest's atomic write leaves it as a temporary file beside its name.
      const temporary = `${journal.manifest}.99999.0123abcd.tmp`;
      if (point === 'after-files') fs.renameSync(path.join(dataDir, journal.manifest), path.join(dataDir, temporary));

      // Readable right after the crash (the server's start recovers the journal in its processor).
      const recovered =
        point === 'after-files' ? `undid frame ${ids[2]}, interrupted before its switch` : `finished frame ${ids[2]}, interrupted after its switch`;
      await assertAllFramesIntact(dataDir, ids, frames, new RegExp(recovered));
      assert.ok(!fs.existsSync(path.join(dataDir, 'compaction.journal')), 'the journal is cleaned at start');
      if (point === 'after-files') {
        for (const file of [journal.layer ?? temporary, temporary]) assert.ok(!fs.existsSync(path.join(dataDir, file)), `the unswitched ${file} went`);
      } else assert.ok(!fs.existsSync(path.join(dataDir, journal.original)), 'the switched frame lost its old file');

      const done = runCli(['compact'], { OPENRECALL_DATA_DIR: dataDir, ...LATER });
      assert.equal((await done.exited).code, 0, done.output());
      assert.match(done.output(), new RegExp(`${frames.length} frame\\(s\\) compacted`));
      assertNoOrphans(dataDir);
      await assertAllFramesIntact(dataDir, ids, frames);
    });
  }

  it('a server killed with SIGKILL while compacting in the background loses no frame', async (t) => {
    const { frames, dataDir, ids } = await processedDataDir(8);
    const server = await startServerProcess(dataDir, { ...LATER, OPENRECALL_COMPACT_AFTER_MINUTES: '0' });
    // Kill -9 from outside, the server and its processor (which compacts) both, once the first frame has
    // switched while the others are still being compacted: at best in the middle of a frame (its journal
    // written), else between two frames.
    const db = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true });
    const compacted = () => db.prepare(`SELECT count(*) FROM compact_frames`).pluck().get() as number;
    const journalFile = path.join(dataDir, 'compaction.journal');
    await waitUntil(() => compacted() >= 1, { intervalMs: 10, what: 'first compacted frame' });
    await waitUntil(() => fs.existsSync(journalFile) || compacted() >= frames.length - 1, { intervalMs: 1, what: 'a frame being compacted' });
    const processors = childrenOf(server.child.pid!);
    assert.ok(processors.length > 0, 'the server has its processor');
    for (const pid of processors) process.kill(pid, 'SIGKILL');
    await server.stop('SIGKILL');
    const compactedWhenKilled = compacted();
    db.close();
    assert.ok(compactedWhenKilled < frames.length, 'killed while frames were left to compact');
    await waitUntil(() => processors.every((pid) => !isAlive(pid)), { intervalMs: 20, what: 'the processor to be gone' });
    const midFrame = fs.existsSync(journalFile);
    t.diagnostic(`killed after ${compactedWhenKilled} frame(s), ${midFrame ? 'in the middle of one' : 'between two'}`);
    await assertAllFramesIntact(dataDir, ids, frames, midFrame ? /compaction: (undid|finished) frame \d+, interrupted/ : undefined);
    const done = runCli(['compact'], { OPENRECALL_DATA_DIR: dataDir, ...LATER });
    assert.equal((await done.exited).code, 0, done.output());
    assert.match(done.output(), new RegExp(`${frames.length} frame\\(s\\) compacted`));
    assertNoOrphans(dataDir);
    await assertAllFramesIntact(dataDir, ids, frames);
  });
});

describe('openrecall compact with a server running', () => {
  it('asks the server, follows its progress and ends with every frame compacted and readable', async () => {
    const { frames, dataDir, ids } = await processedDataDir(4);
    const server = await startServerProcess(dataDir, LATER);
    try {
      const run = runCli(['compact'], { OPENRECALL_DATA_DIR: dataDir, OPENRECALL_API_URL: server.api });
      assert.equal((await run.exited).code, 0, run.output());
      assert.match(run.output(), /compacting \(in the server\)/);
      assert.match(run.output(), /4 frame\(s\) compacted: .* 0 frame\(s\) not compacted/);
    } finally {
      await server.stop();
    }
    assertNoOrphans(dataDir);
    await assertAllFramesIntact(dataDir, ids, frames);
  });
});

describe('a frame that cannot be compacted', () => {
  it('is passed over with its reason; the frames after it are compacted', async () => {
    const { frames, dataDir, ids } = await processedDataDir(4);
    const db = new Database(path.join(dataDir, 'db', 'recall.db'));
    const lost = db.prepare(`SELECT image_path FROM entries WHERE id = ?`).pluck().get(ids[0]) as string;
    db.close();
    fs.rmSync(path.join(dataDir, lost));
    const run = runCli(['compact'], { OPENRECALL_DATA_DIR: dataDir, ...LATER });
    assert.equal((await run.exited).code, 0, run.output());
    assert.match(run.output(), new RegExp(`compaction of frame ${ids[0]} failed \\(the frame keeps its file\\): .*ENOENT`));
    assert.match(run.output(), /3 frame\(s\) compacted: .*; 1 frame\(s\) not compacted/);
    await assertAllFramesIntact(dataDir, ids.slice(1), frames.slice(1));
  });
});
