import { compareFrames, type Comparison, type GreyImage } from './similarity.js';

/** The last frame kept for a monitor: what a new capture is compared with. */
export interface KeptFrame {
  grey: GreyImage;
  app: string;
  title: string;
  keptAtMs: number;
}

export interface Candidate {
  grey: GreyImage;
  app: string;
  title: string;
}

export interface KeepOptions {
  similarityThreshold: number;
  /** 0: never keep an unchanged screen again. */
  maxSkipMs: number;
  /** No input for the idle time: an unchanged screen is not kept again on the max-skip clock. */
  userIdle: boolean;
}

export type KeepReason = 'first frame' | 'window changed' | 'new screen size' | 'content changed' | 'unchanged for too long';

export type KeepDecision = { keep: true; reason: KeepReason; comparison?: Comparison } | { keep: false; comparison: Comparison };

/**
 * Whether a capture is kept. Compared with the last *kept* frame (not the last capture), so slow drift adds
 * up and a blinking cursor does not. A new app or title is kept at once; a screen that did not change is kept
 * again after `maxSkipMs` so that a long-open window still shows in the timeline, but not while the user is
 * away (no input), so an unattended screen does not fill the store.
 */
export function keepDecision(last: KeptFrame | undefined, next: Candidate, nowMs: number, options: KeepOptions): KeepDecision {
  if (!last) return { keep: true, reason: 'first frame' };
  if (last.app !== next.app || last.title !== next.title) return { keep: true, reason: 'window changed' };
  if (last.grey.width !== next.grey.width || last.grey.height !== next.grey.height) return { keep: true, reason: 'new screen size' };
  const comparison = compareFrames(last.grey, next.grey);
  if (comparison.similarity < options.similarityThreshold) return { keep: true, reason: 'content changed', comparison };
  if (options.maxSkipMs > 0 && !options.userIdle && nowMs - last.keptAtMs >= options.maxSkipMs) {
    return { keep: true, reason: 'unchanged for too long', comparison };
  }
  return { keep: false, comparison };
}
