import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import type { SemanticStatus } from '../ai/semantic-status.js';
import type { ServerConfig } from '../config.js';
import { KEY_PIPE_FD, sendKeys } from '../encryption/key-pipe.js';
import type { EncryptionKeys } from '../encryption/open-encryption.js';
import type { Logger } from '../log.js';
import type { FramesRepository } from '../store/ports.js';
import type { ShutdownReport } from './processing-worker.js';
import type { FromProcessor, ToProcessor } from './processor-protocol.js';

// Run from dist/ (compiled .js) or from src/ under a TypeScript loader (tests).
const ENTRY = fileURLToPath(new URL(`./processor-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** At most one 'new work' message this often: a busy processor ignores them, and each costs both processes CPU. */
const NOTIFY_EVERY_MS = 25;

/**
 * Runs the pipeline in a child process (see processor-main.ts) and keeps it running: a crash of native code
 * in an image decoder or OCR engine costs a restart of the child, never the HTTP server.
 */
export class ProcessorSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private nextEmbedId = 1;
  private lastNotified = 0;
  private notifyTimer: NodeJS.Timeout | undefined;
  private readonly embedding = new Map<number, { resolve: (vector: Float32Array) => void; reject: (error: Error) => void }>();
  /** What the processor said about its embedding model when it last started. */
  semantic: SemanticStatus | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly frames: FramesRepository,
    private readonly log: Logger,
    /** Told of every pipeline stage run in the processor (metrics). */
    private readonly onStage?: (stage: string, seconds: number, ok: boolean) => void,
    /** An encrypted data dir's keys: written to the child on its key pipe (never IPC, env or argv). */
    private readonly keys?: EncryptionKeys,
  ) {}

  /** Starts the processor and resolves once its OCR workers are warm. */
  start(): Promise<void> {
    this.startedAt = Date.now();
    const child = fork(ENTRY, [], {
      // A small young generation: embedding a frame makes tens of MB of short-lived garbage, which a default-sized
      // nursery lets pile up (and promotes) before collecting; 1 MB keeps the built-in model's process ~90 MB smaller.
      execArgv: [...process.execArgv, '--max-semi-space-size=1'],
      // fd KEY_PIPE_FD: the key pipe, only when there are keys.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...(this.keys ? ['pipe' as const] : [])],
      serialization: 'advanced',
      // libvips decodes on several threads; with one malloc arena per thread glibc keeps freed image buffers
      // mapped. Two arenas keep the processor's memory flat.
      // A fixed mmap threshold: large buffers (decoded frames, the embedding model's scratch) are unmapped when
      // freed, instead of glibc raising the threshold and keeping them in its heap.
      env: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', ...process.env },
    });
    this.child = child;
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromProcessor) => {
        if (message.type === 'stage') {
          this.onStage?.(message.stage, message.seconds, message.ok);
        } else if (message.type === 'embedded') {
          const waiter = this.embedding.get(message.id);
          this.embedding.delete(message.id);
          if (message.vector) waiter?.resolve(message.vector);
          else waiter?.reject(new Error(message.error ?? 'no vector'));
        } else if (message.type === 'semantic') {
          // Search by meaning works from here, while the processor's OCR workers still start.
          this.semantic = message.semantic;
        } else if (message.type === 'ready') {
          this.semantic = message.semantic;
          child.off('exit', onEarlyExit);
          child.on('exit', (code, signal) => this.onExit(child, code, signal));
          resolve();
        } else if (message.type === 'failed') {
          reject(new Error(message.message));
        }
      };
      const onEarlyExit = (code: number | null) => reject(new Error(`the processor exited during start-up (code ${code})`));
      child.on('message', onMessage);
      child.once('exit', onEarlyExit);
      const keys = this.keys ? sendKeys(child.stdio[KEY_PIPE_FD] as Writable, this.keys) : undefined;
      this.send({ type: 'start', config: this.config, ...(keys ? { keys } : {}) });
    });
  }

  /** Whether the processor child is running (not exited, not killed). */
  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * New work is queued. The first of a burst is sent at once, the rest as one message at the end of
   * NOTIFY_EVERY_MS: at 160 uploads/s, one IPC message (serialised, a wake-up of the processor) per upload was
   * a measurable share of the HTTP process's CPU.
   */
  notify(): void {
    if (this.notifyTimer) return;
    const wait = this.lastNotified + NOTIFY_EVERY_MS - performance.now();
    if (wait <= 0) {
      this.sendNotify();
      return;
    }
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.sendNotify();
    }, wait);
    this.notifyTimer.unref();
  }

  private sendNotify(): void {
    this.lastNotified = performance.now();
    this.send({ type: 'notify' });
  }

  /**
   * Embeds a search query with the processor's model. The processor may be busy embedding a long frame or
   * restarting: past `timeoutMs` this rejects, and the caller falls back to keyword search.
   */
  embed(text: string, timeoutMs: number): Promise<Float32Array> {
    if (!this.child?.connected) return Promise.reject(new Error('the processor is not running'));
    if (!this.semantic) return Promise.reject(new Error('the processor is still starting (loading the model)'));
    const id = this.nextEmbedId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.embedding.delete(id);
        reject(new Error(`the processor did not embed the query within ${timeoutMs / 1000} s (busy)`));
      }, timeoutMs);
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          fn(value);
        };
      this.embedding.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.send({ type: 'embed', id, text });
    });
  }

  /** `openrecall compact`: the processor compacts every processed frame now. */
  compactNow(): void {
    this.send({ type: 'compact' });
  }

  private send(message: ToProcessor): void {
    if (this.child?.connected) this.child.send(message);
  }

  /**
   * The processor died: start a new one after a back-off. The new one recovers the frames its predecessor
   * left PROCESSING before it claims anything, so nothing here touches the database.
   */
  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    for (const [id, waiter] of this.embedding) {
      this.embedding.delete(id);
      waiter.reject(new Error('the processor exited'));
    }
    if (this.stopping || child !== this.child) return;
    if (Date.now() - this.startedAt > 60_000) this.restarts = 0; // it had been running fine
    this.log(`processor died (${signal ?? `code ${code}`})`);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
    this.log(`restarting the processor in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.start().then(
        () => this.log('processor restarted'),
        (error: unknown) => {
          this.log(`processor restart failed: ${(error as Error).message}`);
          if (!this.stopping) this.scheduleRestart();
        },
      );
    }, delay);
  }

  /** Asks the processor to finish in-flight frames within `graceMs`, then waits for it to exit. */
  async stop(graceMs: number): Promise<ShutdownReport> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.notifyTimer);
    this.notifyTimer = undefined;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return { finished: 0, released: 0 };
    return new Promise((resolve) => {
      let report: ShutdownReport = { finished: 0, released: 0 };
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs + 10_000);
      child.on('message', (message: FromProcessor) => {
        if (message.type === 'stopped') report = message.report;
      });
      child.once('exit', () => {
        clearTimeout(killer);
        // A processor killed by the timer leaves frames PROCESSING: hand them back now (or, should the database
        // be busy, at the next start, which recovers them anyway). A shared database has other workers, whose
        // frames are not ours to take: there, the killed processor's frames return when their lease runs out.
        if (this.config.databaseUrl) return resolve(report);
        this.frames.recoverInterrupted(Number.MAX_SAFE_INTEGER).then(
          ({ requeued }) => resolve({ finished: report.finished, released: report.released + requeued }),
          (error: unknown) => {
            this.log(`could not requeue interrupted frames now (${(error as Error).message}); the next start will`);
            resolve({ finished: report.finished, released: report.released });
          },
        );
      });
      this.send({ type: 'stop', graceMs });
    });
  }
}
