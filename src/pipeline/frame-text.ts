/**
 * The frame's text from what the client sent and what OCR read. A client's own text of the screen (MyRecall v3
 * reads the accessibility tree) is exact where OCR guesses, so with enough of it OCR is not run at all; a thin
 * tree (a canvas, a game, a remote desktop: a few words) says little, and OCR runs as well.
 */

/** At least this many words of client text and OCR is skipped. */
export const SUBSTANTIAL_WORDS = 12;

export function wordCount(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

export function needsOcr(suppliedText: string | null | undefined): boolean {
  return wordCount(suppliedText ?? '') < SUBSTANTIAL_WORDS;
}

/** Client text first, then OCR text, then the browser URL on its own line (so a search for the site finds the frame). */
export function composeFrameText(parts: { supplied?: string | null; ocr?: string | null; url?: string | null }): string {
  if (!parts.supplied && !parts.url) return parts.ocr ?? ''; // OCR alone, exactly as read
  return [parts.supplied, parts.ocr, parts.url]
    .map((part) => part?.trim() ?? '')
    .filter((part) => part.length > 0)
    .join('\n');
}
