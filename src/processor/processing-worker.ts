import type { FrameFiles } from '../images/frame-files.js';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { ClaimedFrame, isDiskFull, LeaseLostError, PermanentStageError, type Pipeline } from '../pipeline/stage.js';
import { type FramesRepository, type FrameRow, type Lease, StoreUnavailableError } from '../store/ports.js';

/** A worker id unique across machines and restarts: host, process, and a random part. */
export const newWorkerId = () => `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** Expired leases are looked for at most this often (ms). */
const REQUEUE_INTERVAL_MS = 5000;

export interface ProcessingWorkerOptions {
  /** Frames processed at once. */
  concurrency: number;
  lifoThreshold: number;
  maxAttempts: number;
  /** Who this worker is and how long a claim lasts without renewal (renewed every third of it while working). */
  lease: Lease;
  /** A frame whose lease ran out this many times is FAILED rather than re-queued (it probably kills its worker). */
  crashLimit: number;
  /** How often to look for work when nobody says there is some (another process may have queued frames). */
  pollIntervalMs?: number;
  log: (message: string) => void;
  /**
   * Low-priority work for when no frame is waiting and no backfill runs (compaction). Returns undefined when
   * there is nothing to do; never runs alongside a backfill, so a COMPLETED frame's file is not moved under a stage.
   */
  idleWork?: () => Promise<unknown> | undefined;
}

/** The key under which idle work is tracked with the frames in flight. */
const IDLE_WORK = -1;

export interface ShutdownReport {
  finished: number;
  released: number;
}

/**
 * Claims frames from the queue and runs them through the pipeline, `concurrency` at a time.
 * The claim (a single IMMEDIATE transaction) is what makes a frame belong to exactly one worker.
 */
export class ProcessingWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly abandoned = new Set<number>();
  private lastRequeue = 0;
  /** Failed backfill attempts per frame (kept in memory: a restart simply tries again). */
  private readonly backfillFailures = new Map<number, number>();
  private backfillPausedUntil = 0;
  private backfillStreak = 0;
  /** While the disk is full, no new frame is claimed before this time (ms). */
  private diskFullUntil = 0;
  private running = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();

  constructor(
    private readonly frames: FramesRepository,
    private readonly pipeline: Pipeline,
    private readonly images: FrameFiles,
    private readonly options: ProcessingWorkerOptions,
  ) {}

  get busy(): number {
    return this.inFlight.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** New work arrived: claim it now rather than at the next poll. */
  notify(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        while (this.running && this.inFlight.size < this.options.concurrency && Date.now() >= this.diskFullUntil) {
          await this.requeueExpired();
          const claimed = await this.frames.claimNext(this.options.lifoThreshold, this.options.lease);
          if (!claimed) break;
          this.launch(claimed.entry);
        }
        if (this.running && this.inFlight.size === 0 && Date.now() >= this.diskFullUntil) await this.backfillNext();
        if (this.running && this.inFlight.size === 0 && Date.now() >= this.diskFullUntil) this.idleNext();
      } catch (error) {
        // Claiming writes to the database: a full disk (or a busy database) pauses the loop instead of crashing
        // the processor; the claim's transaction rolled back, so no frame is affected.
        const message = error instanceof Error ? error.message : String(error);
        if (isDiskFull(error)) {
          if (Date.now() >= this.diskFullUntil) this.options.log(`disk full: cannot claim frames (${message}); trying again in 5 s`);
          this.diskFullUntil = Date.now() + 5000;
        } else {
          this.options.log(`claiming frames failed: ${message}; trying again shortly`);
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollIntervalMs ?? 1000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Frames of workers that died (their lease ran out) go back to the queue; checked every few seconds. */
  private async requeueExpired(): Promise<void> {
    if (Date.now() - this.lastRequeue < REQUEUE_INTERVAL_MS) return;
    this.lastRequeue = Date.now();
    const { requeued, failed } = await this.frames.requeueExpired(this.options.crashLimit);
    if (requeued || failed) this.options.log(`requeued ${requeued} frame(s) whose lease expired${failed ? `, failed ${failed} that kept crashing` : ''}`);
  }

  /**
   * With the queue empty, gives one COMPLETED frame the stages it lacks (a provider switched on later). The
   * frame stays COMPLETED; stages it already has (image, OCR) skip themselves.
   */
  private async backfillNext(): Promise<void> {
    if (Date.now() < this.backfillPausedUntil) return;
    for (const stage of this.pipeline.stages) {
      const [id] = (await stage.backfill?.candidates(1)) ?? [];
      if (id === undefined) continue;
      const entry = await this.frames.get(id);
      if (entry?.status !== 'COMPLETED') continue;
      this.launch(entry, true);
      return;
    }
  }

  private idleNext(): void {
    const work = this.options.idleWork?.();
    if (!work) return;
    const tracked = work.then(
      (done) => {
        this.inFlight.delete(IDLE_WORK);
        // More to do: come back at once rather than at the next poll.
        if (typeof done === 'number' && done > 0) this.notify();
      },
      (error: unknown) => {
        this.inFlight.delete(IDLE_WORK);
        if (isDiskFull(error)) this.diskFullUntil = Date.now() + 5000;
        this.options.log(`background work failed: ${(error as Error).message}`);
      },
    );
    this.inFlight.set(IDLE_WORK, tracked);
  }

  private launch(entry: FrameRow, backfill = false): void {
    const work = (backfill ? this.backfillOne(entry) : this.processOne(entry)).finally(() => {
      this.inFlight.delete(entry.id);
      this.notify();
    });
    this.inFlight.set(entry.id, work);
  }

  private async processOne(entry: FrameRow): Promise<void> {
    const { workerId } = this.options.lease;
    let lost = false;
    const leaseLost = () => {
      if (lost || this.abandoned.has(entry.id)) return;
      lost = true;
      this.options.log(`frame ${entry.id}: lease lost (another worker took it over); abandoning it`);
    };
    const renewal = setInterval(
      () => {
        // A frame handed back at shutdown is no longer this worker's: the database may be closed already.
        if (this.abandoned.has(entry.id) || lost) return;
        this.frames.renewLease(entry.id, this.options.lease).then(
          (held) => {
            if (!held) leaseLost();
          },
          (error: unknown) => this.options.log(`frame ${entry.id}: lease renewal failed: ${(error as Error).message}`),
        );
      },
      (this.options.lease.seconds * 1000) / 3,
    );
    const claimed = new ClaimedFrame(entry, this.images, async (patch) => {
      if (this.abandoned.has(entry.id) || lost) return false;
      return this.frames.saveResults(entry.id, patch, workerId);
    });
    try {
      await this.pipeline.process(claimed);
      if (this.abandoned.has(entry.id)) return;
      if (!(await this.frames.complete(entry.id, workerId))) leaseLost();
    } catch (error) {
      if (this.abandoned.has(entry.id)) return;
      if (error instanceof LeaseLostError || lost) {
        leaseLost();
        return;
      }
      await this.recordFailure(entry, error, leaseLost).catch((reason: unknown) => this.databaseAway(entry.id, reason));
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * The database went away while a frame was worked on: nothing more can be written now. The frame stays
   * PROCESSING under this worker's lease, which is no longer renewed, so it returns to the queue by itself.
   */
  private databaseAway(id: number, error: unknown): void {
    if (!(error instanceof StoreUnavailableError)) throw error;
    this.options.log(`frame ${id}: ${error.message}; it returns to the queue when its lease runs out`);
  }

  /** Records a failed attempt; `leaseLost` when the store says another worker holds the frame now. */
  private async recordFailure(entry: FrameRow, error: unknown, leaseLost: () => void): Promise<void> {
    const { workerId } = this.options.lease;
    if (error instanceof StoreUnavailableError) return this.databaseAway(entry.id, error);
    const message = error instanceof Error ? error.message : String(error);
    if (isDiskFull(error)) {
      // Not the frame's fault: back to PENDING without counting the attempt, and pause until space may be back.
      await this.frames.release(entry.id, workerId);
      if (Date.now() >= this.diskFullUntil) this.options.log(`disk full while processing frame ${entry.id}: pausing processing for 5 s (${message})`);
      this.diskFullUntil = Date.now() + 5000;
      return;
    }
    if (error instanceof PermanentStageError) {
      await this.frames.failPermanently(entry.id, message, workerId);
      this.options.log(`frame ${entry.id} failed: ${message}`);
      return;
    }
    const status = await this.frames.failAttempt(entry.id, message, this.options.maxAttempts, workerId);
    if (status === undefined) return leaseLost();
    this.options.log(`frame ${entry.id} attempt ${entry.attempts} failed (${status === 'FAILED' ? 'giving up' : 'will retry'}): ${message}`);
  }

  private async backfillOne(entry: FrameRow): Promise<void> {
    const claimed = new ClaimedFrame(entry, this.images, async (patch) => {
      if (this.abandoned.has(entry.id)) return false;
      await this.frames.saveResults(entry.id, patch);
      // A backfill write finds no row when the frame was deleted meanwhile: nothing to refuse.
      return true;
    });
    try {
      await this.pipeline.process(claimed);
      this.backfillFailures.delete(entry.id);
      this.backfillStreak = 0;
    } catch (error) {
      if (this.abandoned.has(entry.id)) return;
      const message = error instanceof Error ? error.message : String(error);
      const failures = (this.backfillFailures.get(entry.id) ?? 0) + 1;
      this.backfillFailures.set(entry.id, failures);
      // A provider that is down must not burn through every old frame: back off before the next try.
      this.backfillPausedUntil = Date.now() + Math.min(300_000, 1000 * 2 ** this.backfillStreak++);
      if (error instanceof StoreUnavailableError) return this.databaseAway(entry.id, error);
      if (failures >= this.options.maxAttempts || error instanceof PermanentStageError) {
        await this.frames.failCompleted(entry.id, message).catch((reason: unknown) => this.databaseAway(entry.id, reason));
        this.backfillFailures.delete(entry.id);
        this.options.log(`frame ${entry.id} failed in backfill: ${message}`);
      }
    }
  }

  /**
   * Stops claiming, waits up to `graceMs` for frames in flight, and hands the rest back to the queue
   * (their attempt is not counted). Afterwards nothing of this worker touches the database.
   */
  async stop(graceMs: number): Promise<ShutdownReport> {
    this.running = false;
    this.notify();
    await this.loopDone;
    const pending = [...this.inFlight.values()];
    const frames = [...this.inFlight.keys()].filter((id) => id !== IDLE_WORK).length;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(pending), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    const unfinished = [...this.inFlight.keys()].filter((id) => id !== IDLE_WORK);
    for (const id of unfinished) {
      this.abandoned.add(id);
      await this.frames.release(id, this.options.lease.workerId).catch((reason: unknown) => this.databaseAway(id, reason));
    }
    return { finished: frames - unfinished.length, released: unfinished.length };
  }
}
