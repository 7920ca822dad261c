// Where frames live in the data dir, relative to it (what rows store). Pure: a worker without the data dir
// names the same files.

/** Final home of a processed frame, grouped by UTC day so no directory grows without bound. */
export function storedFramePath(id: number, timestamp: number): string {
  const day = new Date(timestamp * 1000).toISOString().slice(0, 10).replaceAll('-', '/');
  return `screenshots/${day}/${id}.webp`;
}

export const thumbnailFramePath = (id: number): string => `thumbnails/${id}.webp`;

export const isIncomingPath = (relative: string | null): boolean => relative?.startsWith('screenshots/incoming/') ?? false;
