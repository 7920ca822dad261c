/**
 * The similarity a frame found only by the vectors must reach to count as a match (below it, it is `related`).
 * Two floors: when the query's words are on some screen, the user typed what they saw, and a frame without
 * those words must be very close in meaning to join them; when no screen has the words (a paraphrase),
 * meaning is all there is and the floor is lower. Similarities depend on the model, so the floors do too: the
 * built-in model's were calibrated with bench/retrieval.ts (BENCHMARKS.md, "Search you can trust");
 * OPENRECALL_VECTOR_FLOOR and OPENRECALL_VECTOR_FLOOR_WITH_MATCHES set them for any model.
 */
export interface VectorFloor {
  /** When keyword search found nothing (and in semantic mode). */
  withoutMatches: number;
  /** When keyword search found frames. */
  withMatches: number;
}

const CALIBRATED: Array<[prefix: string, floor: VectorFloor]> = [['builtin:use-lite-512', { withoutMatches: 0.3, withMatches: 0.5 }]];

/** Other models have no calibrated floor: every vector hit counts, as before, unless the variables set one. */
const UNCALIBRATED: VectorFloor = { withoutMatches: -1, withMatches: -1 };

export function vectorFloor(model: string, configured: Partial<VectorFloor> = {}): VectorFloor {
  const known = CALIBRATED.find(([prefix]) => model.startsWith(prefix))?.[1] ?? UNCALIBRATED;
  const withoutMatches = configured.withoutMatches ?? known.withoutMatches;
  return { withoutMatches, withMatches: configured.withMatches ?? Math.max(known.withMatches, withoutMatches) };
}
