import os from 'node:os';
import type { SemanticStatus } from '../ai/semantic-status.js';
import { ApiError, notFound } from '../errors.js';
import type { QueueStatus, StorageStatus } from '../api/index.js';
import { type FramesRepository, modeFor } from '../store/ports.js';
import type { CompactionStatus } from './compaction-service.js';

export interface QueueServiceOptions {
  lifoThreshold: number;
  workers: number;
  maxAttempts: number;
  ocrEngine: string;
  version: string;
  onRequeued: () => void;
  backfill?: () => Promise<{ embedding: number | null; description: number | null; redaction: number | null }>;
  storage?: () => Promise<StorageStatus>;
  semantic?: () => SemanticStatus;
  compaction?: () => Promise<CompactionStatus>;
}

/** What the queue looks like, and the operator's levers on it. */
export class QueueService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly frames: FramesRepository,
    private readonly options: QueueServiceOptions,
  ) {}

  async status(): Promise<QueueStatus> {
    const now = Date.now() / 1000;
    const queue = await this.frames.counts();
    const lastMinute = await this.frames.completedSince(now - 60);
    const last5 = await this.frames.completedSince(now - 300);
    const oldest = await this.frames.oldestPendingReceivedAt();
    return {
      queue,
      config: {
        lifo_threshold: this.options.lifoThreshold,
        current_mode: modeFor(queue.pending, this.options.lifoThreshold),
        workers: this.options.workers,
        max_attempts: this.options.maxAttempts,
        ocr_engine: this.options.ocrEngine,
      },
      throughput: {
        completed_last_minute: lastMinute,
        completed_last_5_minutes: last5,
        frames_per_minute: Math.round((last5 / 5) * 10) / 10,
      },
      oldest_pending_age_seconds: oldest === null ? null : Math.max(0, Math.round((now - oldest) * 10) / 10),
      backfill: (await this.options.backfill?.()) ?? { embedding: null, description: null, redaction: null },
      system: {
        version: this.options.version,
        uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
        pid: process.pid,
        rss_mb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
        node: process.version,
        platform: `${os.platform()}-${os.arch()}`,
        cpus: os.availableParallelism(),
      },
      ...(this.options.storage ? { storage: await this.options.storage() } : {}),
      ...(this.options.semantic ? { semantic: this.options.semantic() } : {}),
      ...(this.options.compaction ? { compaction: await this.options.compaction() } : {}),
    };
  }

  /** Wakes the processor, which backfills whenever its queue is empty. */
  startBackfill(): boolean {
    this.options.onRequeued();
    return true;
  }

  async retryFailed(): Promise<number> {
    const retried = await this.frames.retryFailed();
    if (retried > 0) this.options.onRequeued();
    return retried;
  }

  async retryOne(id: number): Promise<void> {
    const entry = await this.frames.get(id);
    if (!entry) throw notFound(`entry ${id}`);
    if (entry.status !== 'FAILED') throw new ApiError(409, `entry ${id} is ${entry.status}; only FAILED entries can be retried`, 'NOT_FAILED');
    await this.frames.retryOne(id);
    this.options.onRequeued();
  }
}
