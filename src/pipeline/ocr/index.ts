import type { OcrEngineName } from '../../config.js';
import type { OcrEngine } from './ocr-engine.js';
import { TesseractCliEngine } from './tesseract-cli-engine.js';
import { TesseractJsEngine } from './tesseract-js-engine.js';

export type { OcrEngine } from './ocr-engine.js';

/** Returns the configured engine, or undefined for `none` (frames are stored and indexed without OCR text). */
export async function createOcrEngine(name: OcrEngineName, workers: number, languages = 'eng'): Promise<OcrEngine | undefined> {
  switch (name) {
    case 'tesseract-js':
      return TesseractJsEngine.create(workers, languages);
    case 'tesseract-cli':
      return TesseractCliEngine.create('tesseract', languages);
    case 'none':
      return undefined;
  }
}
