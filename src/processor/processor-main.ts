// Entry point of the processor: the child process that runs the pipeline (decode, OCR, AI stages) at a lower
// CPU priority than the HTTP server, with its own connection to the same database.
import fs from 'node:fs';
import os from 'node:os';
import { useOwnerOnlyUmask } from '../files/owner-only.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { type LoadedEmbedder, loadEmbedder } from '../ai/semantic-status.js';
import { createLogger } from '../log.js';
import { receiveKeys } from '../encryption/key-pipe.js';
import type { Store } from '../store/ports.js';
import type { ProcessingHost } from './processing-host.js';
import type { FromProcessor, ToProcessor } from './processor-protocol.js';

const log = createLogger('processor');
const send = (message: FromProcessor) => process.send?.(message);

useOwnerOnlyUmask(); // inherited from the server already; set again so the child never depends on how it was started

// The server decides when to stop (and Ctrl-C reaches the whole process group): ignore the signals themselves.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
// The server is gone (crashed or killed): stop at once; its frames are recovered when it starts again (SQLite)
// or when their lease runs out (PostgreSQL).
process.on('disconnect', () => process.exit(0));

let store: Store | undefined;
let host: ProcessingHost | undefined;
/** The embedding model, once loaded: the server's queries are embedded with it before the rest has started. */
let embedder: EmbeddingProvider | undefined;

process.on('message', (message: ToProcessor) => {
  switch (message.type) {
    case 'start':
      start(message).catch((error: unknown) => {
        send({ type: 'failed', message: (error as Error).message });
        process.exit(1);
      });
      break;
    case 'notify':
      host?.worker.notify();
      break;
    case 'embed':
      void embedQuery(message);
      break;
    case 'compact':
      host?.compaction?.compactAllNow().then(
        () => host?.worker.notify(),
        (error: unknown) => log(`compaction request failed: ${(error as Error).message}`),
      );
      break;
    case 'stop':
      void stop(message.graceMs);
      break;
  }
});

/**
 * Makes this whole process yield the CPU to the server's request handling. On Linux a nice value belongs to
 * a thread, and threads inherit it from their creator: renice the threads that exist (V8 and libuv helpers
 * started before this code ran); threads made later (OCR workers, libvips) inherit it from the main thread.
 */
function lowerPriority(nice: number): void {
  try {
    if (process.platform === 'linux') {
      for (const tid of fs.readdirSync('/proc/self/task')) os.setPriority(Number(tid), nice);
    } else {
      os.setPriority(nice);
    }
  } catch {
    // not permitted here: run at normal priority
  }
}

/**
 * The embedding model first, alone: search by meaning waits for it, and the server is told as soon as it is loaded
 * (`semantic`), not once the codec, the store, the OCR workers and compaction's recovery are ready too. Their modules
 * (sharp, tesseract.js, the pipeline) load only after it, so they do not compete with it for this process's CPU;
 * uploads wait in the queue meanwhile, and keyword search never needed this process.
 */
async function start({ config, keys: piped }: Extract<ToProcessor, { type: 'start' }>): Promise<void> {
  // The keys are taken out of their pipe first (microseconds): they wait in the kernel's pipe buffer no longer than
  // it takes, not for the model.
  const keysReceived = piped ? receiveKeys(piped) : undefined;
  keysReceived?.catch(() => {}); // awaited below; a failure is reported there
  // The model loads at the server's priority (a few seconds, once; on a busy machine a niced load took twice as
  // long); everything after it, OCR first, yields the CPU to the server's requests.
  let loaded: LoadedEmbedder;
  try {
    loaded = await loadEmbedder(config.ai.embedding);
  } finally {
    lowerPriority(10);
  }
  embedder = loaded.provider;
  send({ type: 'semantic', semantic: loaded.status });
  const keys = await keysReceived;
  const [{ decodeEachImageOnce }, { ImageStore }, { openDataDir }, { openStore }, { startProcessing }] = await Promise.all([
    import('../images/codec.js'),
    import('../images/image-store.js'),
    import('../files/open-data-dir.js'),
    import('../store/open-store.js'),
    import('./processing-host.js'),
  ]);
  // Frames are decoded once each: libvips' operation cache would only hold on to their memory.
  await decodeEachImageOnce();
  const images = new ImageStore(openDataDir(config.dataDir, keys?.fileCipher));
  store = await openStore({
    ...(keys ? { databaseKey: keys.databaseKey } : {}),
    databaseUrl: config.databaseUrl,
    sqliteFile: images.paths.dbFile,
    dataDir: config.dataDir,
    log,
    applicationName: 'openrecall-processor',
  });
  host = await startProcessing(config, store, log, {
    ...(keys ? { fileCipher: keys.fileCipher } : {}),
    onStage: (stage, seconds, ok) => send({ type: 'stage', stage, seconds, ok }),
    embedder: loaded,
  });
  send({ type: 'ready', semantic: host.semantic });
}

/** How much of a search query is embedded (about what the built-in model reads in one call). */
const QUERY_CHARS = 500;

async function embedQuery({ id, text }: Extract<ToProcessor, { type: 'embed' }>): Promise<void> {
  try {
    // The embedding model is loaded here only, once: the server asks this process to embed its search queries.
    if (!embedder) throw new Error('no embedding model loaded');
    // A query's meaning is in its first words: one model call, so a long query never waits on several.
    const [vector] = await embedder.embed([text.slice(0, QUERY_CHARS)]);
    send({ type: 'embedded', id, vector: vector! });
  } catch (error) {
    send({ type: 'embedded', id, error: (error as Error).message });
  }
}

async function stop(graceMs: number): Promise<void> {
  const report = (await host?.stop(graceMs)) ?? { finished: 0, released: 0 };
  await store?.close();
  send({ type: 'stopped', report });
  process.disconnect?.();
  process.exit(0);
}
