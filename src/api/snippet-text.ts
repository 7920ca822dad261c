/**
 * Plain text from a search hit's snippet (HTML-escaped text with matches in <mark>): the marks become `open` and
 * `close`, other tags go, entities are decoded.
 */
export function snippetText(html: string, open: string, close: string): string {
  return html
    .replace(/<mark>/g, open)
    .replace(/<\/mark>/g, close)
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
