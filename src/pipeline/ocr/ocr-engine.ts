import type { GreyImage } from '../stage.js';

/** Turns a frame's pixels into text. Implementations own their threads or processes. */
export interface OcrEngine {
  readonly name: string;
  recognize(image: GreyImage): Promise<string>;
  close(): Promise<void>;
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
