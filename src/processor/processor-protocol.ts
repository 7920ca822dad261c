import type { SemanticStatus } from '../ai/semantic-status.js';
import type { ServerConfig } from '../config.js';
import type { PipedKeys } from '../encryption/key-pipe.js';
import type { ShutdownReport } from './processing-worker.js';

/** Frames interrupted this many times (x max attempts) are failed rather than retried forever. */
export const CRASH_LIMIT_FACTOR = 2;

/** Messages between the server process and its processor child (over the fork IPC channel). */
export type ToProcessor =
  /**
   * `keys`: an encrypted data dir's subkeys wait on the key pipe (key-pipe.ts), never in a message (the child never
   * opens the key sources itself).
   */
  | { type: 'start'; config: ServerConfig; keys?: PipedKeys }
  | { type: 'notify' }
  /** Embed a search query with the model the processor holds (the server keeps no copy of it). */
  | { type: 'embed'; id: number; text: string }
  /** `openrecall compact`: compact every processed frame now, whatever its age. */
  | { type: 'compact' }
  | { type: 'stop'; graceMs: number };

export type FromProcessor =
  /** The embedding model is loaded (or failed to: `semantic` says why): queries can be embedded from now on. */
  | { type: 'semantic'; semantic: SemanticStatus }
  /** Everything has started: the model, the store, the OCR workers; frames are being claimed. */
  | { type: 'ready'; semantic: SemanticStatus }
  | { type: 'embedded'; id: number; vector?: Float32Array; error?: string }
  | { type: 'failed'; message: string }
  /** One pipeline stage run finished (for /metrics). */
  | { type: 'stage'; stage: string; seconds: number; ok: boolean }
  | { type: 'stopped'; report: ShutdownReport };
