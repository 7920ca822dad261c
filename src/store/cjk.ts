/**
 * Chinese, Japanese and Korean are written without spaces, so a word is a run of characters inside a longer
 * run, and the word index (one token per run) cannot find it. OCR text of these scripts is therefore also
 * indexed as overlapping bigrams ("系统设计" → 系统 统设 设计), and a query word becomes the phrase of its
 * bigrams: a two-character word is one token, a longer one its bigrams in order. Bigrams cost index space for
 * CJK text only (trigrams over every screen's OCR text would roughly triple the database).
 */
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

export const hasCjk = (text: string) => CJK.test(text);

/** Runs of CJK characters; spaces between two CJK characters (common in OCR output) do not break a run. */
export function cjkRuns(text: string): string[] {
  const runs: string[] = [];
  let run = '';
  let pendingSpace = false;
  for (const ch of text) {
    if (CJK.test(ch)) {
      run += ch;
      pendingSpace = false;
    } else if (/\s/u.test(ch) && run && !pendingSpace) {
      pendingSpace = true;
    } else {
      if (run) runs.push(run);
      run = '';
      pendingSpace = false;
    }
  }
  if (run) runs.push(run);
  return runs;
}

const bigramsOf = (run: string) => {
  const chars = Array.from(run);
  if (chars.length === 1) return chars;
  return chars.slice(0, -1).map((c, i) => c + chars[i + 1]);
};

/** The text to index: every CJK run's bigrams, separated by spaces (undefined when there is no CJK text). */
export function cjkIndexText(text: string | null): string | undefined {
  if (!text || !hasCjk(text)) return undefined;
  return cjkRuns(text)
    .map((run) => bigramsOf(run).join(' '))
    .join(' ');
}

/**
 * FTS5 expression over the bigram index for the CJK parts of query terms (all must match), or undefined when
 * no term has CJK characters. A single character matches as the prefix of a bigram.
 */
export function cjkExpression(terms: string[]): string | undefined {
  const parts: string[] = [];
  for (const term of terms) {
    for (const run of cjkRuns(term)) {
      parts.push(Array.from(run).length === 1 ? `"${run}"*` : `"${bigramsOf(run).join(' ')}"`);
    }
  }
  return parts.length ? parts.join(' AND ') : undefined;
}
