// A server's vector index at work until it is SIGKILLed: frames embedded and deleted, searches that record them in
// the index file's log, merges and tombstone compactions (small thresholds, so they happen often).
//   node --import tsx test/helpers/vector-index-crash-child.ts <dataDir> <key hex | plain> <seed>
import { VectorIndex, vectorIndexFileName } from '../../src/search/vector-index.js';
import { openDataDir } from '../../src/files/open-data-dir.js';
import { openDataDirDatabase } from './sqlite-data-dir.js';
import { addFrames, cipherFor, MODEL, vector } from './vector-index-files.js';

const [root, key, seedText] = process.argv.slice(2) as [string, string, string];
let seed = Number(seedText);
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;

const store = openDataDirDatabase(root);
const index = new VectorIndex(MODEL, store.embeddings, {
  file: { dataDir: openDataDir(root, cipherFor(key)), path: `index/${vectorIndexFileName(MODEL)}` },
  batchRows: 7,
  mergeMinBytes: 4096,
  mergeShare: 0.1,
  tombstoneShare: 0.04,
});
await index.whenReady();
process.stdout.write('ready\n');
let top = 0;
for (let round = 0; ; round++) {
  const ids = await addFrames(store, 1 + Math.floor(random() * 12), 1_900_000_000 + round * 20);
  top = Math.max(top, ...ids);
  if (round % 2 === 0) {
    const victim = 1 + Math.floor(random() * top);
    await store.frames.delete(victim);
    await index.search(vector(victim), 5); // meets it: its record becomes a tombstone
  }
  await index.search(vector(Math.floor(random() * 1e6)), 5);
}
