import {
  highEntropyDetector,
  jwtDetector,
  privateKeyDetector,
  secretlintDetector,
  tokenPrefixDetector,
  urlCredentialsDetector,
} from './detectors/credentials.js';
import { keyValueDetector, labelledDetector } from './detectors/labelled.js';
import { cardDetector, ibanDetector } from './detectors/payment.js';
import { emailDetector, nameDetector, phoneDetector } from './detectors/pii.js';
import type { Box, Detector, Finding, LocatedWord, RedactionPolicy } from './types.js';
import { textViews } from './views.js';

/**
 * The version of the rules below. A frame records the version it was redacted with (entries.redaction_version);
 * raising it makes `openrecall redact` (the redaction backfill) run the new rules over frames stored before.
 */
export const RULES_VERSION = 1;

/** Stands in for a redacted value in stored, indexed and embedded text. */
export const REDACTED = '[redacted]';

export const SECRET_DETECTORS: Detector[] = [
  secretlintDetector,
  jwtDetector,
  tokenPrefixDetector,
  highEntropyDetector,
  urlCredentialsDetector,
  privateKeyDetector,
  cardDetector,
  ibanDetector,
  labelledDetector,
  keyValueDetector,
];
export const PII_DETECTORS: Detector[] = [emailDetector, phoneDetector, nameDetector];

/** A detector failed: the text must not be saved at all (the caller retries the whole step later). */
export class RedactionError extends Error {
  constructor(detector: string, cause: unknown) {
    super(`redaction failed: detector ${detector}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

export interface RedactedText {
  /** The text with every finding replaced by REDACTED. */
  text: string;
  /** Where the values were in the original text, merged where they overlap (kinds only go further). */
  findings: Finding[];
}

export function detectorsFor(policy: RedactionPolicy): Detector[] {
  if (policy.detectors) return policy.detectors;
  return policy.pii ? [...SECRET_DETECTORS, ...PII_DETECTORS] : SECRET_DETECTORS;
}

/**
 * The one entry point for any text that may show a secret (OCR text, window titles, accessibility text):
 * run it before the text is saved, indexed, embedded or sent anywhere, and keep only `text`.
 */
export async function redactText(text: string, policy: RedactionPolicy = { pii: false }, detectors = detectorsFor(policy)): Promise<RedactedText> {
  if (!text.trim()) return { text, findings: [] };
  const views = textViews(text);
  const found: Finding[] = [];
  for (const detector of detectors) {
    try {
      found.push(...(await detector.detect(text, views)));
    } catch (error) {
      throw new RedactionError(detector.name, error);
    }
  }
  const findings = merge(found.filter((f) => f.end > f.start));
  let out = '';
  let cursor = 0;
  for (const f of findings) {
    out += text.slice(cursor, f.start) + REDACTED;
    cursor = f.end;
  }
  return { text: out + text.slice(cursor), findings };
}

/** Overlapping findings become one (the first one's kind: the detectors are listed most specific first). */
function merge(findings: Finding[]): Finding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Finding[] = [];
  for (const f of sorted) {
    const last = merged[merged.length - 1];
    if (last && f.start < last.end) last.end = Math.max(last.end, f.end);
    else merged.push({ ...f });
  }
  return merged;
}

/**
 * The screen boxes of the OCR words a finding covers (any overlap: a word half secret is hidden whole), one
 * box per screen line, so the gaps between a card number's groups are covered too.
 */
export function boxesOf(finding: Finding, words: LocatedWord[]): Box[] {
  const lines: Box[] = [];
  for (const { box } of words.filter((w) => w.start < finding.end && w.end > finding.start)) {
    const line = lines.find((l) => box.y < l.y + l.height && box.y + box.height > l.y && box.x >= l.x);
    if (!line) {
      lines.push({ ...box });
      continue;
    }
    const right = Math.max(line.x + line.width, box.x + box.width);
    const bottom = Math.max(line.y + line.height, box.y + box.height);
    line.y = Math.min(line.y, box.y);
    line.width = right - line.x;
    line.height = bottom - line.y;
  }
  return lines;
}

export type { Box, Finding, LocatedWord, RedactionKind, RedactionPolicy } from './types.js';
