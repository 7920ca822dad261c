/**
 * Moments: a document read for ten minutes is ten frames with the same text. Results of one app and window
 * whose words are nearly the same (Jaccard >= 0.9) and that follow each other within ten minutes fold into one
 * result, which opens on its best frame (the first of the group in result order).
 */

export const MOMENT_SIMILARITY = 0.9;
export const MOMENT_GAP_SECONDS = 600;

/** What folding reads of every candidate; the text only of those `mayFold` names. */
export interface MomentFrame {
  id: number;
  timestamp: number;
  app: string | null;
  title: string | null;
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

const windowOf = (frame: MomentFrame) => `${frame.app ?? ''}\u0000${frame.title ?? ''}`;

/**
 * The frames whose words folding may compare: those with another frame of their window within the gap. A
 * frame joins a moment only within the gap of the moment's span, whose frames follow each other within the gap,
 * so it is within the gap of one of them; a moment's best frame is compared only once another frame is near it.
 * Only these frames' texts need reading.
 */
export function mayFold(frames: MomentFrame[]): number[] {
  const byWindow = new Map<string, MomentFrame[]>();
  for (const frame of frames) {
    const key = windowOf(frame);
    const list = byWindow.get(key);
    if (list) list.push(frame);
    else byWindow.set(key, [frame]);
  }
  const ids: number[] = [];
  for (const list of byWindow.values()) {
    if (list.length < 2) continue;
    list.sort((a, b) => a.timestamp - b.timestamp);
    list.forEach((frame, i) => {
      const before = list[i - 1];
      const after = list[i + 1];
      if ((before && frame.timestamp - before.timestamp <= MOMENT_GAP_SECONDS) || (after && after.timestamp - frame.timestamp <= MOMENT_GAP_SECONDS)) {
        ids.push(frame.id);
      }
    });
  }
  return ids;
}

/**
 * Folds ranked candidates into moments, keeping the order of each moment's best frame. `frame` gives a
 * candidate's window and time (candidates without one are left out), `text` its text, asked only of the frames
 * `mayFold` names.
 */
export function foldMoments<T extends { id: number }>(
  candidates: T[],
  frame: (id: number) => MomentFrame | undefined,
  text: (id: number) => string | null,
): Array<Moment<T>> {
  type Open = Moment<T> & { id: number; words?: Set<string> };
  const moments: Open[] = [];
  const byWindow = new Map<string, Open[]>();
  for (const candidate of candidates) {
    const row = frame(candidate.id);
    if (!row) continue;
    const key = windowOf(row);
    const near = (byWindow.get(key) ?? []).filter((m) => row.timestamp >= m.first - MOMENT_GAP_SECONDS && row.timestamp <= m.last + MOMENT_GAP_SECONDS);
    // Words are split only when another frame of the window is near in time: most results have none.
    let words: Set<string> | undefined;
    const same = near.find((m) => jaccard((m.words ??= wordSet(text(m.id))), (words ??= wordSet(text(row.id)))) >= MOMENT_SIMILARITY);
    if (same) {
      same.first = Math.min(same.first, row.timestamp);
      same.last = Math.max(same.last, row.timestamp);
      same.frames++;
      continue;
    }
    const moment: Open = { best: candidate, id: row.id, first: row.timestamp, last: row.timestamp, frames: 1, ...(words ? { words } : {}) };
    moments.push(moment);
    byWindow.set(key, [...(byWindow.get(key) ?? []), moment]);
  }
  return moments.map(({ best, first, last, frames }) => ({ best, first, last, frames }));
}
