import type { EncryptionKeys } from '../encryption/open-encryption.js';
import type { Logger } from '../log.js';
import type { ProcessingHost } from '../processor/processing-host.js';
import type { ShutdownReport } from '../processor/processing-worker.js';
import type { MemoryLockRepository } from '../store/ports.js';

/** A change notification can be lost (a connection dropped meanwhile): the mark is read again this often too. */
const POLL_MS = 5_000;

export interface WorkerLockParts {
  /** The mark the servers set at `openrecall lock` (absent: never locked). */
  lock: MemoryLockRepository | undefined;
  /**
   * The keys from the worker's own source (its key file or the keyring, read again), or undefined for a data dir
   * that is not encrypted (or a worker that reaches its frames through a server). Throws when they cannot be read.
   */
  openKeys(): Promise<EncryptionKeys | undefined>;
  /** The processing stages with these keys' file cipher. */
  start(keys: EncryptionKeys | undefined): Promise<ProcessingHost>;
  graceMs: number;
  log: Logger;
}

/**
 * `openrecall worker` following the servers' lock: unlocked, the processing host runs with the keys; locked, the
 * host stops (frames in flight finish within the grace period, the rest are handed back: their leases released),
 * then the keys are zeroed in place, the same wipe as the server's. Nothing runs without keys: the host starts only
 * once the keys are read again from the worker's own source, at the unlock.
 */
export class LockFollowingWorker {
  private host: ProcessingHost | undefined;
  private keys: EncryptionKeys | undefined;
  private turn: Promise<void> = Promise.resolve();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private unlockFailure: string | undefined;

  constructor(private readonly parts: WorkerLockParts) {}

  get running(): ProcessingHost | undefined {
    return this.host;
  }

  /** Follows the mark from now on; resolves once the current state is applied (the host running, or locked). */
  async start(keys: EncryptionKeys | undefined): Promise<void> {
    this.keys = keys;
    const { lock } = this.parts;
    if (lock) {
      this.unsubscribe = await lock.onChange(() => void this.check());
      this.timer = setInterval(() => void this.check(), POLL_MS);
      this.timer.unref();
    }
    // A failure here (the host does not start) stops the command; later ones are logged.
    this.turn = this.apply();
    await this.turn;
  }

  /** Stops following, stops the host (grace period) and wipes the keys. */
  async stop(): Promise<ShutdownReport> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.unsubscribe?.();
    await this.turn;
    const report = (await this.host?.stop(this.parts.graceMs)) ?? { finished: 0, released: 0 };
    this.host = undefined;
    this.keys?.wipe();
    this.keys = undefined;
    return report;
  }

  private check(): Promise<void> {
    this.turn = this.turn.then(() => this.apply()).catch((error: Error) => this.parts.log(`following the lock failed: ${error.message}`));
    return this.turn;
  }

  private async apply(): Promise<void> {
    if (this.stopped) return;
    const locked = (await this.parts.lock?.locked()) ?? false;
    if (locked) {
      if (this.host || this.keys) await this.lockNow();
    } else if (!this.host) {
      await this.unlockNow();
    }
  }

  private async lockNow(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    if (host) {
      const report = await host.stop(this.parts.graceMs);
      this.parts.log(`locked: ${report.finished} frame(s) finished, ${report.released} returned to PENDING`);
    }
    this.keys?.wipe();
    this.keys = undefined;
    this.unlockFailure = undefined;
    this.parts.log('locked: the keys are wiped from memory; waiting for the unlock');
  }

  private async unlockNow(): Promise<void> {
    if (!this.keys) {
      try {
        this.keys = await this.parts.openKeys();
      } catch (error) {
        const message = (error as Error).message;
        // Logged once per cause, not at every poll.
        if (message !== this.unlockFailure) this.parts.log(`unlocked, but this worker's keys cannot be read (${message}): it stays locked`);
        this.unlockFailure = message;
        return;
      }
    }
    this.unlockFailure = undefined;
    this.host = await this.parts.start(this.keys);
  }
}
