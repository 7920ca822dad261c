import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { VectorIndex } from '../src/search/vector-index.js';
import { repoRoot } from './helpers/server-process.js';
import { openDataDirDatabase } from './helpers/sqlite-data-dir.js';
import { tempDir } from './helpers/temp-dir.js';
import { addFrames, CIPHER_KEYS, counting, dataDirWithVectors, MODEL, nearest } from './helpers/vector-index-files.js';

/** Runs the child until it is ready and `ms` more, then SIGKILLs it. */
async function runAndKill(root: string, key: string, seed: number, ms: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'test/helpers/vector-index-crash-child.ts'), root, key, String(seed)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('exit', () => reject(new Error(`the child exited before it was ready:\n${output}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, ms));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', output);
}

for (const [name, key] of CIPHER_KEYS) {
  describe(`the vector index file after a SIGKILL (${name})`, { timeout: 600_000 }, () => {
    it('opens from the file, and finds every stored frame and no deleted one, as an index read from the store does', async () => {
      const root = tempDir('openrecall-vector-crash-');
      const setup = await dataDirWithVectors(700, key, root);
      await setup.store.close();
      for (const [round, ms] of [150, 600, 1200, 50].entries()) {
        await runAndKill(root, key, 1000 + round, ms);
        const store = openDataDirDatabase(root);
        try {
          const repo = counting(store.embeddings);
          const fromFile = new VectorIndex(MODEL, repo, { file: setup.file });
          await fromFile.whenReady();
          const reference = new VectorIndex(MODEL, store.embeddings);
          await reference.whenReady();
          assert.ok(repo.rowsRead < reference.size, `round ${round}: the file was used (${repo.rowsRead} of ${reference.size} vectors read)`);
          const top = (await addFrames(store, 1, 2_000_000_000 + round))[0]!;
          // The frames with a stored vector: what an index read from the store holds.
          const stored = new Set(
            (
              await store.embeddings.vectors(
                MODEL,
                Array.from({ length: top }, (_, i) => i + 1),
              )
            ).keys(),
          );
          let checked = 0;
          for (let id = 1; id <= top; id++) {
            const found = await nearest(fromFile, id);
            if (stored.has(id)) assert.equal(found, id, `round ${round}: frame ${id} is found by its own vector`);
            else assert.notEqual(found, id, `round ${round}: deleted frame ${id} is never found`);
            checked++;
          }
          assert.equal(fromFile.size, stored.size, `round ${round}: every frame once`);
          assert.ok(checked > 700);
          await fromFile.close();
        } finally {
          await store.close();
        }
      }
    });
  });
}
