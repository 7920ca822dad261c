import os from 'node:os';
import type { SemanticStatus } from '../ai/semantic-status.js';
import { ApiError, notFound } from '../errors.js';
import type { QueueStatus, StorageStatus } from '../api/index.js';
import { FramesRepository } from '../store/frames-repository.js';
import type { CompactionStatus } from './compaction-service.js';

export interface QueueServiceOptions {
  lifoThreshold: number;
  workers: number;
  maxAttempts: number;
  ocrEngine: string;
  version: string;
  onRequeued: () => void;
  backfill?: () => { embedding: number | null; description: number | null };
  storage?: () => StorageStatus;
  semantic?: () => SemanticStatus;
  compaction?: () => CompactionStatus;
}

/** What the queue looks like, and the operator's levers on it. */
export class QueueService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly frames: FramesRepository,
    private readonly options: QueueServiceOptions,
  ) {}

  status(): QueueStatus {
    const now = Date.now() / 1000;
    const queue = this.frames.counts();
    const lastMinute = this.frames.completedSince(now - 60);
    const last5 = this.frames.completedSince(now - 300);
    const oldest = this.frames.oldestPendingReceivedAt();
    return {
      queue,
      config: {
        lifo_threshold: this.options.lifoThreshold,
        current_mode: FramesRepository.modeFor(queue.pending, this.options.lifoThreshold),
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
      backfill: this.options.backfill?.() ?? { embedding: null, description: null },
      system: {
        version: this.options.version,
        uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
        pid: process.pid,
        rss_mb: Math.round(process.memoryUsage.rss() / 1024 / 1024),
        node: process.version,
        platform: `${os.platform()}-${os.arch()}`,
        cpus: os.availableParallelism(),
      },
      ...(this.options.storage ? { storage: this.options.storage() } : {}),
      ...(this.options.semantic ? { semantic: this.options.semantic() } : {}),
      ...(this.options.compaction ? { compaction: this.options.compaction() } : {}),
    };
  }

  /** Wakes the processor, which backfills whenever its queue is empty. */
  startBackfill(): boolean {
    this.options.onRequeued();
    return true;
  }

  retryFailed(): number {
    const retried = this.frames.retryFailed();
    if (retried > 0) this.options.onRequeued();
    return retried;
  }

  retryOne(id: number): void {
    const entry = this.frames.get(id);
    if (!entry) throw notFound(`entry ${id}`);
    if (entry.status !== 'FAILED') throw new ApiError(409, `entry ${id} is ${entry.status}; only FAILED entries can be retried`, 'NOT_FAILED');
    this.frames.retryOne(id);
    this.options.onRequeued();
  }
}
