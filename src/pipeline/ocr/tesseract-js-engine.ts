import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createWorker, OEM, type Worker } from 'tesseract.js';
import type { GreyImage } from '../stage.js';
import { resolveLanguages, type LanguageFile } from './languages.js';
import { locateWords, parseTsvWords, tidyOcrText, toPgm, type OcrEngine, type OcrResult } from './ocr-engine.js';

const require = createRequire(import.meta.url);

/** The English model shipped in the @tesseract.js-data/eng npm package: nothing is downloaded at run time. */
export function bundledLanguagePath(): string {
  return path.join(path.dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
}

export class OcrEngineClosedError extends Error {
  constructor() {
    super('OCR engine is shut down');
  }
}

/**
 * tesseract.js (Tesseract compiled to WebAssembly): a pool of warm workers, each in its own worker thread,
 * so recognition never blocks the HTTP event loop. (Our own small pool rather than tesseract.js's scheduler,
 * which keeps dispatching to terminated workers after shutdown.)
 */
export class TesseractJsEngine implements OcrEngine {
  readonly name = 'tesseract-js';
  private readonly idle: Worker[];
  private readonly waiting: Array<{ resolve: (worker: Worker) => void; reject: (error: Error) => void }> = [];
  private closed = false;

  private constructor(private readonly workers: Worker[]) {
    this.idle = [...workers];
  }

  /** `languages`: Tesseract codes joined by "+"; each model is read from disk (npm package or Debian), never fetched. */
  static async create(workers: number, languages = 'eng'): Promise<TesseractJsEngine> {
    const files = resolveLanguages(languages);
    const { langPath, cleanup } = languageDirectory(files);
    try {
      const started = await Promise.all(
        // gzip: false names files <code>.traineddata; tesseract.js still gunzips any that are compressed.
        Array.from({ length: workers }, () => createWorker(languages, OEM.LSTM_ONLY, { langPath, cacheMethod: 'none', gzip: false })),
      );
      return new TesseractJsEngine(started);
    } finally {
      cleanup(); // the workers hold the models in memory now
    }
  }

  async recognize(image: GreyImage): Promise<string> {
    const worker = await this.acquire();
    try {
      const result = await worker.recognize(toPgm(image), {}, { text: true });
      return tidyOcrText(result.data.text ?? '');
    } finally {
      this.release(worker);
    }
  }

  async recognizeWords(image: GreyImage): Promise<OcrResult> {
    const worker = await this.acquire();
    try {
      // TSV rather than the block tree: one string to parse instead of an object per symbol.
      const result = await worker.recognize(toPgm(image), {}, { text: true, tsv: true });
      const text = tidyOcrText(result.data.text ?? '');
      return { text, words: locateWords(text, parseTsvWords(result.data.tsv ?? '')) };
    } finally {
      this.release(worker);
    }
  }

  private acquire(): Promise<Worker> {
    if (this.closed) return Promise.reject(new OcrEngineClosedError());
    const worker = this.idle.pop();
    if (worker) return Promise.resolve(worker);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(worker: Worker): void {
    if (this.closed) return;
    const next = this.waiting.shift();
    if (next) next.resolve(worker);
    else this.idle.push(worker);
  }

  /** Terminates the worker threads; frames still waiting for a worker are refused (the queue re-runs them). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new OcrEngineClosedError());
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => {})));
  }
}

/**
 * tesseract.js reads every language from one directory (<dir>/<code>.traineddata), while the models live in
 * several (one npm package each, Debian's tessdata): a temporary directory of links joins them.
 */
function languageDirectory(files: LanguageFile[]): { langPath: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openrecall-tessdata-'));
  for (const { code, file } of files) fs.symlinkSync(file, path.join(dir, `${code}.traineddata`));
  return { langPath: dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
