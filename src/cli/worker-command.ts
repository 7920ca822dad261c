import fs from 'node:fs';
import { ApiClient } from '../api-client/client.js';
import { RemoteFrameFiles } from '../api-client/remote-frame-files.js';
import { apiToken, apiUrl, ConfigError, loadServerConfig, workerToken } from '../config.js';
import { decodeEachImageOnce } from '../images/codec.js';
import { ImageStore } from '../images/image-store.js';
import { openDataDir } from '../files/open-data-dir.js';
import { openMemory, type OpenedMemory } from './open-memory.js';
import { createLogger } from '../log.js';
import { checkOcrLanguages } from '../pipeline/ocr/languages.js';
import { EncryptionStartError, openEncryption, type EncryptionKeys } from '../encryption/open-encryption.js';
import { startProcessing } from '../processor/processing-host.js';
import { newWorkerId } from '../processor/processing-worker.js';
import { openStore } from '../store/open-store.js';
import { runUntilSignal } from './server-command.js';
import { UsageError } from './usage-error.js';
import { LockFollowingWorker } from './worker-lock.js';

/**
 * The worker reads the servers' uploads and writes the processed frames in the data dir they share: directly
 * when it is mounted here, otherwise through a server's HTTP API (OPENRECALL_API_URL, and
 * OPENRECALL_WORKER_TOKEN or OPENRECALL_API_TOKEN), sending its id with every write.
 */
async function filesThroughServer(images: ImageStore, workerId: string): Promise<RemoteFrameFiles | undefined> {
  if (fs.existsSync(images.paths.screenshots)) return undefined;
  if (!process.env.OPENRECALL_API_URL) {
    throw new ConfigError(
      `OPENRECALL_DATA_DIR=${images.paths.root} has no screenshots/: mount the data dir the servers share there, or set OPENRECALL_API_URL (and OPENRECALL_WORKER_TOKEN or OPENRECALL_API_TOKEN) to reach the frames through a server`,
    );
  }
  const token = workerToken() ?? apiToken();
  const client = new ApiClient(apiUrl(), token ? { token } : {});
  // Fails now, with the reason (unreachable, wrong token), rather than on every frame later.
  await client.workerPing();
  return new RemoteFrameFiles(client, workerId);
}

/**
 * `openrecall worker`: the processing stages alone (OCR, AI description, embedding), on any machine that reaches
 * the PostgreSQL database and mounts the servers' data dir (or reaches a server's API). Frames are claimed with a lease; LISTEN/NOTIFY wakes
 * the worker when any server queues one. SIGINT/SIGTERM finish the frames in flight (within
 * OPENRECALL_SHUTDOWN_GRACE_SECONDS) and hand the rest back. `openrecall lock` on a server does the same, then
 * wipes the worker's keys; the unlock reads them again from the worker's key file or keyring (worker-lock.ts).
 */
export async function workerCommand(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`unknown option ${args[0]}; usage: openrecall worker`);
  const config = loadServerConfig();
  if (!config.databaseUrl) {
    throw new ConfigError(
      'openrecall worker needs OPENRECALL_DATABASE_URL=postgres://… (the database the servers share); with SQLite, `openrecall server` processes its own frames',
    );
  }
  const workerId = newWorkerId();
  const remoteFiles = await filesThroughServer(new ImageStore(openDataDir(config.dataDir)), workerId);
  // Its paths only: the files are read and written by the processing host, with the keys of the moment.
  const images = new ImageStore(openDataDir(config.dataDir));
  checkOcrLanguages(config.ocrEngine, config.ocrLanguages);
  await decodeEachImageOnce();
  const log = createLogger('worker');
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    sqliteFile: images.paths.dbFile,
    dataDir: config.dataDir,
    log,
    applicationName: 'openrecall-worker',
  });
  // A mounted data dir is opened with its keys (a remote worker's frames are decrypted by the server it reaches).
  // Not while the memory is locked: the keys are read at the unlock (a key never held needs no wipe).
  const lockedNow = (await store.memoryLock?.locked()) ?? false;
  let memory: OpenedMemory | undefined;
  try {
    memory = remoteFiles || lockedNow ? undefined : await openMemory(config.dataDir, config.encryption);
  } catch (error) {
    await store.close();
    throw error;
  }
  // Keys read again at each unlock come from the worker's own source (key file or keyring), never a prompt.
  const openKeys = async (): Promise<EncryptionKeys | undefined> => {
    if (remoteFiles) return undefined;
    const opened = await openEncryption(config.encryption ?? { mode: 'off' }, config.dataDir);
    if (!opened.encrypted) return undefined;
    if (opened.locked) throw new EncryptionStartError(`${config.dataDir} opens only with a passphrase: restart the worker to type it`);
    return opened.keys;
  };
  const follower = new LockFollowingWorker({
    lock: store.memoryLock,
    openKeys,
    graceMs: config.shutdownGraceMs,
    log,
    async start(keys) {
      const fileCipher = keys?.fileCipher;
      const host = await startProcessing(config, store, log, { workerId, ...(remoteFiles ? { remoteFiles } : {}), ...(fileCipher ? { fileCipher } : {}) });
      const where = remoteFiles
        ? `frames through ${apiUrl()}; old frames are redacted (openrecall redact) where the data dir is mounted, not here`
        : `data dir ${config.dataDir}`;
      log(
        `worker ${host.workerId} ready (${where}; OCR: ${config.ocrEngine} ${config.ocrLanguages} x${config.workers}, semantic: ${host.semantic.enabled ? host.semantic.model : 'off'}, lease ${config.leaseSeconds} s)`,
      );
      return host;
    },
  });
  try {
    await follower.start(memory?.keys);
    if (!follower.running) log(`worker ${workerId} waits: the memory is locked (openrecall unlock on a server resumes it)`);
    return await runUntilSignal(log, `finishing frames in flight (grace ${config.shutdownGraceMs / 1000} s)`, async () => {
      const report = await follower.stop();
      log(`stopped: ${report.finished} frame(s) finished, ${report.released} returned to PENDING`);
    });
  } finally {
    await store.close();
  }
}
