/** Where the API serves a frame's image and thumbnail: the one place these URLs are built. */
export function entryUrls(id: number): { image_url: string; thumbnail_url: string } {
  return { image_url: `/api/entries/${id}/image`, thumbnail_url: `/api/entries/${id}/thumbnail` };
}

/**
 * A stored frame in its API shape: the fields the response shows plus its URLs. Entries (the whole row),
 * timeline frames and search hits (a few fields) all come through here.
 */
export function entryResource<T extends { id: number; redactions?: string | null }>(row: T): T & { image_url: string; thumbnail_url: string } {
  if (row.redactions === undefined) return { ...row, ...entryUrls(row.id) };
  return { ...row, redacted: redactedSummary(row.redactions), ...entryUrls(row.id) };
}

/** "N items redacted" by kind, from a frame's redaction record (JSON: items of kind, rule, field, boxes). */
export function redactedSummary(json: string | null): { count: number; kinds: Array<{ kind: string; count: number }> } {
  let items: Array<{ kind?: unknown }> = [];
  try {
    const parsed = json ? (JSON.parse(json) as { items?: unknown }) : {};
    if (Array.isArray(parsed.items)) items = parsed.items as Array<{ kind?: unknown }>;
  } catch {
    // an unreadable record counts as nothing redacted
  }
  const counts = new Map<string, number>();
  for (const item of items) counts.set(String(item.kind), (counts.get(String(item.kind)) ?? 0) + 1);
  return { count: items.length, kinds: [...counts].map(([kind, count]) => ({ kind, count })).sort((a, b) => b.count - a.count) };
}
