/**
 * Moments: a document read for ten minutes is ten frames with the same text. Results of one app and window
 * whose words are nearly the same (Jaccard >= 0.9) and that follow each other within ten minutes fold into one
 * result, which opens on its best frame (the first of the group in result order).
 */

export const MOMENT_SIMILARITY = 0.9;
export const MOMENT_GAP_SECONDS = 600;

export interface MomentFrame {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
  text: string | null;
}

export interface Moment<T> {
  /** The best frame: the first of the group in the order given. */
  best: T;
  first: number;
  last: number;
  frames: number;
}

export function wordSet(text: string | null): Set<string> {
  return new Set(
    (text ?? '')
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean),
  );
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const word of small) if (large.has(word)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * Folds ranked candidates into moments, keeping the order of each moment's best frame. `frame` gives a
 * candidate's row (candidates without one are left out).
 */
export function foldMoments<T extends { id: number }>(candidates: T[], frame: (id: number) => MomentFrame | undefined): Array<Moment<T>> {
  type Open = Moment<T> & { text: string | null; words?: Set<string> };
  const moments: Open[] = [];
  const byWindow = new Map<string, Open[]>();
  for (const candidate of candidates) {
    const row = frame(candidate.id);
    if (!row) continue;
    const key = `${row.app ?? ''}\u0000${row.title ?? ''}`;
    const near = (byWindow.get(key) ?? []).filter((m) => row.timestamp >= m.first - MOMENT_GAP_SECONDS && row.timestamp <= m.last + MOMENT_GAP_SECONDS);
    // Words are split only when another frame of the window is near in time: most results have none.
    let words: Set<string> | undefined;
    const same = near.find((m) => jaccard((m.words ??= wordSet(m.text)), (words ??= wordSet(row.text))) >= MOMENT_SIMILARITY);
    if (same) {
      same.first = Math.min(same.first, row.timestamp);
      same.last = Math.max(same.last, row.timestamp);
      same.frames++;
      continue;
    }
    const moment: Open = { best: candidate, first: row.timestamp, last: row.timestamp, frames: 1, text: row.text, ...(words ? { words } : {}) };
    moments.push(moment);
    byWindow.set(key, [...(byWindow.get(key) ?? []), moment]);
  }
  return moments.map(({ best, first, last, frames }) => ({ best, first, last, frames }));
}
