import { ELLIPSIS, MARK_END, MARK_START } from '../store/snippet-marks.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function markedSnippetToHtml(snippet: string): string {
  return escapeHtml(snippet.replace(/[\u0003-\u0008]/g, ''))
    .replaceAll(MARK_START, '<mark>')
    .replaceAll(MARK_END, '</mark>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A plain excerpt (first words) for hits that no word index marked, e.g. semantic-only matches. */
export function excerptHtml(text: string | null, words = 30): string {
  if (!text) return '';
  const parts = text.split(/\s+/).filter(Boolean);
  return escapeHtml(parts.slice(0, words).join(' ')) + (parts.length > words ? ` ${ELLIPSIS}` : '');
}

/**
 * Marks query terms in plain text ourselves, for hits no FTS index marked (short terms, semantic matches):
 * the best window of `words` words around the first match, else the beginning.
 */
export function markTermsHtml(text: string | null, terms: string[], words = 24): string {
  if (!text) return '';
  const needles = terms.map((t) => t.toLowerCase()).filter(Boolean);
  const lower = text.toLowerCase();
  let first = -1;
  for (const needle of needles) {
    const at = lower.indexOf(needle);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  if (first < 0) return excerptHtml(text, words);
  const before = text.slice(0, first).split(/\s+/);
  const startWord = Math.max(0, before.length - 1 - Math.floor(words / 3));
  const tokens = text.split(/\s+/);
  const window = tokens.slice(startWord, startWord + words).join(' ');
  let marked = '';
  let i = 0;
  const windowLower = window.toLowerCase();
  while (i < window.length) {
    const hit = needles
      .map((n) => ({ n, at: windowLower.indexOf(n, i) }))
      .filter((h) => h.at >= 0)
      .sort((a, b) => a.at - b.at)[0];
    if (!hit) {
      marked += escapeHtml(window.slice(i));
      break;
    }
    marked += `${escapeHtml(window.slice(i, hit.at))}<mark>${escapeHtml(window.slice(hit.at, hit.at + hit.n.length))}</mark>`;
    i = hit.at + hit.n.length;
  }
  return (startWord > 0 ? `${ELLIPSIS} ` : '') + marked + (startWord + words < tokens.length ? ` ${ELLIPSIS}` : '');
}
