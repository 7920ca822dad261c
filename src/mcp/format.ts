import { snippetText } from '../api/snippet-text.js';
/** Capture time for a model: local ISO 8601 with the offset ("2026-03-18T14:05:09+01:00"). */
export function localTime(unixSeconds: number): string {
  const date = new Date(Math.round(unixSeconds * 1000));
  const offset = -date.getTimezoneOffset();
  const pad = (n: number, width = 2) => String(Math.floor(Math.abs(n))).padStart(width, '0');
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}

/** Plain text from a search snippet: matches become **bold**. */
export const boldSnippet = (html: string): string => snippetText(html, '**', '**');

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

/** Largest answer a tool returns, in characters (a model's context is precious). */
export const MAX_RESULT_CHARS = 24_000;

/**
 * JSON of a result whose `key` list is cut from the end until the whole fits in `max` characters, with a note
 * saying how many items were left out and how to get them.
 */
export function fitList<T extends Record<string, unknown>>(result: T, key: keyof T & string, hint: string, max = MAX_RESULT_CHARS): string {
  const items = result[key] as unknown[];
  let kept = items.length;
  let text = JSON.stringify(result, null, 1);
  while (text.length > max && kept > 0) {
    kept = Math.max(0, Math.min(kept - 1, Math.floor((kept * max) / text.length)));
    text = JSON.stringify(
      {
        ...result,
        [key]: items.slice(0, kept),
        note: `truncated: ${items.length - kept} of ${items.length} ${key} left out to keep the answer short; ${hint}`,
      },
      null,
      1,
    );
  }
  return text.length > max ? clip(text, max) : text;
}
