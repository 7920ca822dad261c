/** Where the API serves a frame's image and thumbnail: the one place these URLs are built. */
export function entryUrls(id: number): { image_url: string; thumbnail_url: string } {
  return { image_url: `/api/entries/${id}/image`, thumbnail_url: `/api/entries/${id}/thumbnail` };
}

/**
 * A stored frame in its API shape: the fields the response shows plus its URLs. Entries (the whole row),
 * timeline frames and search hits (a few fields) all come through here.
 */
export function entryResource<T extends { id: number }>(row: T): T & { image_url: string; thumbnail_url: string } {
  return { ...row, ...entryUrls(row.id) };
}
