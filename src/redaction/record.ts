import type { Box, Finding, RedactionKind } from './types.js';

/**
 * What a frame keeps about its redaction (entries.redactions, JSON): the kind, the rule and the screen boxes
 * of each value, never the value. The boxes are what the image stage paints; the kinds are what the user sees.
 */
export interface RedactionRecord {
  items: Array<{ kind: RedactionKind; rule: string; field: 'text' | 'title' | 'description'; boxes: Array<[number, number, number, number]> }>;
}

export function recordItems(field: 'text' | 'title' | 'description', findings: Finding[], boxesOf: (f: Finding) => Box[] = () => []): RedactionRecord['items'] {
  return findings.map((f) => ({
    kind: f.kind,
    rule: f.rule,
    field,
    boxes: boxesOf(f).map((b) => [b.x, b.y, b.width, b.height] as [number, number, number, number]),
  }));
}

export function parseRecord(json: string | null | undefined): RedactionRecord {
  if (!json) return { items: [] };
  try {
    const parsed = JSON.parse(json) as RedactionRecord;
    return Array.isArray(parsed.items) ? parsed : { items: [] };
  } catch {
    return { items: [] };
  }
}

export function recordBoxes(record: RedactionRecord): Box[] {
  return record.items.flatMap((i) => i.boxes.map(([x, y, width, height]) => ({ x, y, width, height })));
}
