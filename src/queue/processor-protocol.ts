import type { ServerConfig } from '../config.js';
import type { ShutdownReport } from './processing-worker.js';

/** Frames interrupted this many times (x max attempts) are failed rather than retried forever. */
export const CRASH_LIMIT_FACTOR = 2;

/** Messages between the server process and its processor child (over the fork IPC channel). */
export type ToProcessor =
  | { type: 'start'; config: ServerConfig }
  | { type: 'notify' }
  /** `openrecall compact`: compact every processed frame now, whatever its age. */
  | { type: 'compact' }
  | { type: 'stop'; graceMs: number };

export type FromProcessor =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  /** One pipeline stage run finished (for /metrics). */
  | { type: 'stage'; stage: string; seconds: number; ok: boolean }
  | { type: 'stopped'; report: ShutdownReport };
