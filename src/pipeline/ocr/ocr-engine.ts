import type { LocatedWord } from '../../redaction/index.js';
import type { GreyImage } from '../stage.js';

/** The text on screen and where each of its words sits (what redaction paints over). */
export interface OcrResult {
  text: string;
  words: LocatedWord[];
}

/** Turns a frame's pixels into text. Implementations own their threads or processes. */
export interface OcrEngine {
  readonly name: string;
  recognize(image: GreyImage): Promise<string>;
  /** The text with its words' offsets and boxes. */
  recognizeWords(image: GreyImage): Promise<OcrResult>;
  close(): Promise<void>;
}

interface TsvWord {
  text: string;
  /** block, paragraph, line: a change starts a new line of text. */
  line: string;
  paragraph: string;
  box: LocatedWord['box'];
}

/** Tesseract's TSV output, words only (level 5). */
export function parseTsvWords(tsv: string): TsvWord[] {
  const words: TsvWord[] = [];
  for (const row of tsv.split('\n')) {
    const cells = row.split('\t');
    if (cells[0] !== '5' || cells.length < 12) continue;
    const text = tidyOcrText(cells.slice(11).join('\t'));
    if (!text) continue;
    const [, page, block, par, line, , left, top, width, height] = cells;
    words.push({
      text,
      paragraph: `${page}.${block}.${par}`,
      line: `${page}.${block}.${par}.${line}`,
      box: { x: +left!, y: +top!, width: +width!, height: +height! },
    });
  }
  return words;
}

/** Text laid out as Tesseract's own text output does: words by spaces, lines by newlines, paragraphs by a blank line. */
export function textFromTsvWords(words: TsvWord[]): OcrResult {
  let text = '';
  const located: LocatedWord[] = [];
  let previous: TsvWord | undefined;
  for (const word of words) {
    if (previous) text += previous.paragraph !== word.paragraph ? '\n\n' : previous.line !== word.line ? '\n' : ' ';
    located.push({ start: text.length, end: text.length + word.text.length, box: word.box });
    text += word.text;
    previous = word;
  }
  return { text, words: located };
}

/** Finds each word, in order, in a text that holds them in order (Tesseract's own text output). */
export function locateWords(text: string, words: TsvWord[]): LocatedWord[] {
  const located: LocatedWord[] = [];
  let cursor = 0;
  for (const word of words) {
    const at = text.indexOf(word.text, cursor);
    if (at === -1) continue;
    located.push({ start: at, end: at + word.text.length, box: word.box });
    cursor = at + word.text.length;
  }
  return located;
}

/** Binary PGM (P5): the cheapest encoding Tesseract's image reader accepts: a header and the raw pixels. */
export function toPgm(image: GreyImage): Buffer {
  return Buffer.concat([Buffer.from(`P5\n${image.width} ${image.height}\n255\n`), image.data]);
}

/** Tesseract output tidied for storage and indexing: no trailing spaces, no runs of blank lines. */
export function tidyOcrText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
