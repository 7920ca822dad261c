import { ConfigError, isLoopbackHost, type ServerConfig } from '../config.js';
import { tightenDataDir, tightenTreeInBackground } from '../files/owner-only.js';
import { ImageStore } from '../images/image-store.js';
import { openDataDir } from '../files/open-data-dir.js';
import { createLogger, type Logger } from '../log.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { loadEmbedder, type SemanticStatus } from '../ai/semantic-status.js';
import { ProcessorQueryEmbedder } from '../search/processor-query-embedder.js';
import { builtinModelName } from '../ai/builtin-embeddings.js';
import { checkOcrLanguages } from '../pipeline/ocr/languages.js';
import { deleteLostUploads } from '../services/lost-uploads.js';
import { ProcessorSupervisor } from '../processor/processor-supervisor.js';
import { lockDataDir } from '../store/data-dir-lock.js';
import { openStore, sqliteDatabaseOf, type Db } from '../store/open-store.js';
import type { Store } from '../store/ports.js';
import { VERSION } from '../version.js';
import type { App } from './app.js';
import { openEncryption, PassphraseNeededError, reopenEncryption, type EncryptionKeys } from '../encryption/open-encryption.js';
import type { FastifyInstance } from 'fastify';
import type { LockControl } from './routes/lock.js';
import { HostPolicy } from './allowed-hosts.js';

/** An unreferenced upload this old on a shared data dir belongs to no server's request in flight. */
const ORPHAN_AGE_SHARED_MS = 3_600_000;

export interface RunningServer {
  app: App;
  store: Store;
  /** The SQLite connection (tests inspect it). */
  db: Db;
  url: string;
  processor: ProcessorSupervisor;
  /** Stops taking requests, lets in-flight frames finish within the grace period, closes everything. */
  close(): Promise<void>;
}

/** What `openrecall server` runs: the real app, or the locked app until the memory is unlocked. */
export interface ServerHandle {
  url: string;
  close(): Promise<void>;
}

/**
 * The keys first (a wrong or missing key stops here, before anything of the data dir is touched). A data dir only
 * a passphrase opens serves the unlock page on the port; once unlocked, that app closes and the real one starts.
 * An encrypted data dir's server can be locked again (`openrecall lock`, POST /api/lock): the real app stops taking
 * requests, the processor child stops (its keys die with it), the store closes, every key buffer is zeroed, and the
 * locked app takes the port back. Its unlock then takes the passphrase, or reads the configured key file or keyring.
 */
export async function startServerOrLocked(config: ServerConfig, log: Logger = createLogger('server')): Promise<ServerHandle> {
  checkExposure(config, log);
  const encryption = config.encryption ?? { mode: 'off' as const };
  const opened = await openEncryption(encryption, config.dataDir);
  if (!opened.encrypted) return startServer(config, log, null);

  let port = config.port;
  let url = '';
  let current: { kind: 'running'; server: RunningServer; keys: EncryptionKeys; locking: boolean } | { kind: 'locked'; app: FastifyInstance } | undefined;
  // Lock and unlock run one after the other, never interleaved; close() waits for the one under way.
  let transition: Promise<void> = Promise.resolve();
  const afterReply = () => new Promise<void>((resolve) => setImmediate(resolve));
  const fatal = (what: string) => (error: unknown) => {
    log(`${what} failed: ${(error as Error).message}`);
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  };

  const serveUnlocked = async (keys: EncryptionKeys): Promise<void> => {
    const state = { kind: 'running' as const, keys, locking: false, server: undefined as unknown as RunningServer };
    const lock: NonNullable<StartOptions['lock']> = {
      locking: () => state.locking,
      status: () => ({ encrypted: true, source: keys.source, lockable: true }),
      lock() {
        if (!state.locking) {
          // From here every request gets the locked answer (uploads 503, the rest 423); the reply goes out first.
          state.locking = true;
          transition = transition
            .then(afterReply)
            .then(() => lockNow(state))
            .catch(fatal('locking'));
        }
        return { locked: true, unlock_with: keys.source === 'passphrase' ? 'passphrase' : 'passphrase or configured source' };
      },
    };
    try {
      state.server = await startServer({ ...config, port }, log, keys, { lock });
    } catch (error) {
      keys.wipe();
      throw error;
    }
    current = state;
    url = state.server.url;
    // PostgreSQL: the `openrecall worker` processes sharing the database resume (they re-read their own keys).
    await tellWorkers(state.server.store, false);
    // OPENRECALL_PORT=0 picked a port: the locked app after a lock takes this one.
    const address = state.server.app.server.address();
    if (typeof address === 'object' && address) port = address.port;
  };

  const tellWorkers = (store: Store, locked: boolean) =>
    store.memoryLock?.set(locked).catch((error: Error) => {
      log(`the workers sharing the database could not be told of the ${locked ? 'lock' : 'unlock'}: ${error.message}`);
    });

  const lockNow = async (state: { server: RunningServer; keys: EncryptionKeys }): Promise<void> => {
    // PostgreSQL: first the mark the workers follow (they stop, hand their frames back and wipe their keys).
    await tellWorkers(state.server.store, true);
    // Closes the app (in-flight requests finish), stops the processor child (it exits: its copy of the keys goes
    // with its memory), closes the store (the database cipher frees its key schedule) and releases server.lock.
    await state.server.close();
    state.keys.wipe();
    current = undefined;
    await serveLocked((passphrase) => reopenEncryption(encryption, config.dataDir, passphrase), true);
    log(`locked: the keys are wiped from memory; unlock at ${url}/ or with \`openrecall unlock\``);
  };

  const serveLocked = async (unlock: (passphrase: string | undefined) => Promise<EncryptionKeys>, passphraseOptional: boolean): Promise<void> => {
    // Only a locked server loads it.
    const { buildLockedApp } = await import('./locked-app.js');
    const locked = await buildLockedApp({
      hosts: new HostPolicy({ bindHost: config.host, allowedHosts: config.allowedHosts }),
      unlock,
      passphraseOptional,
      onUnlocked(keys) {
        // The reply to POST /api/unlock goes out first; then the port changes hands.
        transition = transition
          .then(afterReply)
          .then(() => locked.close())
          .then(() => serveUnlocked(keys))
          .catch(fatal('starting after unlock'));
      },
    });
    // The same port (OPENRECALL_PORT=0 picked one: every later app keeps it).
    url = await locked.listen({ host: config.host, port });
    const address = locked.server.address();
    port = typeof address === 'object' && address ? address.port : port;
    current = { kind: 'locked', app: locked };
  };

  if (opened.locked) {
    await serveLocked(async (passphrase) => {
      if (passphrase === undefined) throw new PassphraseNeededError();
      return opened.unlock(passphrase);
    }, false);
    log(`OpenRecall ${VERSION} locked on ${url}: the data dir ${config.dataDir} is encrypted; unlock it at ${url}/ or with \`openrecall unlock\``);
  } else {
    await serveUnlocked(opened.keys);
  }
  return {
    get url() {
      return url;
    },
    async close() {
      await transition;
      const state = current;
      current = undefined;
      if (state?.kind === 'running') {
        await state.server.close();
        state.keys.wipe();
      } else if (state?.kind === 'locked') {
        await state.app.close();
      }
    },
  };
}

export interface StartOptions {
  /** `openrecall lock` for this server (only `startServerOrLocked` gives it: it can bring the locked app up). */
  lock?: LockControl & { locking(): boolean };
}

/**
 * Wires the server together: data dir, database, recovery, processor child process, HTTP. `keys`: the data dir's
 * keys (null: not encrypted); when not given they are opened here, and a locked data dir is refused.
 */
export async function startServer(
  config: ServerConfig,
  log: Logger = createLogger('server'),
  given?: EncryptionKeys | null,
  options: StartOptions = {},
): Promise<RunningServer> {
  checkExposure(config, log);
  checkOcrLanguages(config.ocrEngine, config.ocrLanguages);
  const keys = given === undefined ? await keysOrRefuse(config) : given;
  const images = new ImageStore(openDataDir(config.dataDir, keys?.fileCipher));
  const loose = tightenDataDir(config.dataDir, images.paths.db);
  if (loose.changed.length > 0) {
    log(
      `data dir was readable by other users: made owner-only (0700 folders, 0600 files): ${loose.changed.join(', ')}${loose.rootWasLoose ? '; the files below are tightened in the background' : ''}`,
    );
  }
  images.ensureDirectories();
  const releaseLock = lockDataDir(config.dataDir, config.databaseUrl);
  let store: Store | undefined;
  let processor: ProcessorSupervisor | undefined;
  try {
    const opened = await openStore({
      databaseUrl: config.databaseUrl,
      sqliteFile: images.paths.dbFile,
      dataDir: config.dataDir,
      log,
      checkpoints: false,
      applicationName: 'openrecall-server',
      ...(keys ? { databaseKey: keys.databaseKey } : {}),
    });
    store = opened;
    const repo = store.frames;

    // Another server's upload in flight is an unreferenced file too: on a shared data dir only old ones go.
    const orphans = images.removeOrphanIncoming(await repo.referencedUploads(), config.databaseUrl ? ORPHAN_AGE_SHARED_MS : 0);
    if (orphans) log(`removed ${orphans} orphan upload file(s)`);
    if (!config.databaseUrl) {
      const lost = await deleteLostUploads(repo, images);
      if (lost) log(`deleted ${lost} frame(s) whose upload a crash lost before its 202 (their clients still hold them and retry)`);
    }

    // The built-in model lives in the processor only (queries are embedded there, over IPC). Other providers are
    // loaded here too, and the built-in one when this server has no processor: a bad local model stops start-up.
    const inProcessor = config.ai.embedding.provider === 'builtin' && !config.noProcessing;
    const own = inProcessor ? undefined : await loadEmbedder(config.ai.embedding);
    let embedder: EmbeddingProvider | undefined = own?.provider;

    let observeStage: (stage: string, seconds: number, ok: boolean) => void = () => {};
    const running = new ProcessorSupervisor(config, repo, log, (stage, seconds, ok) => observeStage(stage, seconds, ok), keys ?? undefined);
    processor = running;
    // The processor loads the model (seconds; more on a busy machine) while the server already answers: uploads
    // and keyword search at once, search by meaning once the processor is ready.
    let processorStarted: Promise<void> = Promise.resolve();
    if (config.noProcessing) log('processing off (--no-processing): frames wait for `openrecall worker` processes');
    else processorStarted = running.start();
    processorStarted.catch(() => {}); // awaited below, after listen; this keeps an early failure from going unhandled
    const builtinModel = builtinModelName(config.ai.embedding.model);
    // The app's modules load while the processor child starts (another process, another core).
    const { composeApp } = await import('./compose.js');
    const semanticStatus = (): SemanticStatus =>
      (inProcessor ? running.semantic : own?.status) ?? {
        enabled: false,
        provider: config.ai.embedding.provider,
        model: inProcessor ? builtinModel : null,
        reason: inProcessor ? 'starting: the processor is loading the model' : 'the processor has not started',
      };
    if (inProcessor) embedder = new ProcessorQueryEmbedder(builtinModel, running);
    const { app, retention, metrics } = await composeApp(config, {
      store,
      images,
      log,
      processor: { notify: () => running.notify(), compactNow: () => running.compactNow() },
      ...(embedder ? { embedder } : {}),
      semantic: semanticStatus,
      ...(options.lock ? { lock: options.lock } : {}),
    });
    observeStage = (stage, seconds, ok) => metrics.observeStage(stage, seconds, ok);
    const url = await app.listen({ host: config.host, port: config.port });
    if (inProcessor) log(`answering on ${url} while the processor starts: keyword search and uploads now, search by meaning once it is ready`);
    try {
      await processorStarted;
    } catch (error) {
      await app.close();
      throw error;
    }
    const semantic = semanticStatus();
    if (!semantic.enabled && semantic.provider !== 'none') log(`semantic search off: ${semantic.reason}; keyword search works`);
    log(
      `OpenRecall ${VERSION} listening on ${url} (data: ${config.dataDir}, OCR: ${config.ocrEngine} ${config.ocrLanguages} x${config.workers}, semantic search: ${semantic.enabled ? semantic.model : 'off'})`,
    );
    if (loose.rootWasLoose) {
      tightenTreeInBackground(config.dataDir).then(
        (changed) => log(`data dir tightened: ${changed} more folder(s) and file(s) made owner-only`),
        (error: unknown) => log(`tightening the data dir failed: ${(error as Error).message}`),
      );
    }
    // Retention's first run (and the walk of thumbnails/) happens in the background: start-up does not wait for it.
    retention.start().catch((error: unknown) => log(`retention run failed: ${(error as Error).message}`));

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const [, report] = await Promise.all([app.close(), running.stop(config.shutdownGraceMs), retention.stop()]);
        log(`shutdown: ${report.finished} frame(s) finished, ${report.released} returned to PENDING`);
        await embedder?.close?.();
        await opened.close();
        await images.close();
        releaseLock();
      })());
    return {
      app,
      store: opened,
      get db(): Db {
        return sqliteDatabaseOf(opened);
      },
      url,
      processor: running,
      close,
    };
  } catch (error) {
    await processor?.stop(0);
    await store?.close();
    releaseLock();
    throw error;
  }
}

async function keysOrRefuse(config: ServerConfig): Promise<EncryptionKeys | null> {
  const opened = await openEncryption(config.encryption ?? { mode: 'off' }, config.dataDir);
  if (!opened.encrypted) return null;
  if (opened.locked) throw new ConfigError(`${config.dataDir} is encrypted with a passphrase: start it with \`openrecall server\` and unlock it`);
  return opened.keys;
}

/**
 * Without a token the server must stay on this machine: a non-loopback OPENRECALL_HOST needs
 * OPENRECALL_API_TOKEN, or an explicit --insecure-no-auth (which is logged loudly).
 */
function checkExposure(config: ServerConfig, log: Logger): void {
  if (config.apiToken !== undefined || isLoopbackHost(config.host)) return;
  if (!config.insecureNoAuth) {
    throw new ConfigError(
      `OPENRECALL_HOST="${config.host}" exposes the server beyond this machine without OPENRECALL_API_TOKEN: set a token (openssl rand -hex 32), or pass --insecure-no-auth to run open anyway`,
    );
  }
  log(
    `WARNING: --insecure-no-auth: serving every screenshot and search on ${config.host} WITHOUT AUTHENTICATION; anyone who can reach this port can read your screen history`,
  );
}
