import path from 'node:path';
import { createRequire } from 'node:module';
import { createScheduler, createWorker, OEM, type Scheduler } from 'tesseract.js';
import type { GreyImage } from '../stage.js';
import { tidyOcrText, toPgm, type OcrEngine } from './ocr-engine.js';

const require = createRequire(import.meta.url);

/** The English model shipped in the @tesseract.js-data/eng npm package: nothing is downloaded at run time. */
export function bundledLanguagePath(): string {
  return path.join(path.dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
}

/**
 * tesseract.js (Tesseract compiled to WebAssembly), a pool of warm workers, each in its own worker thread,
 * so recognition never blocks the HTTP event loop.
 */
export class TesseractJsEngine implements OcrEngine {
  readonly name = 'tesseract-js';

  private constructor(private readonly scheduler: Scheduler) {}

  static async create(workers: number): Promise<TesseractJsEngine> {
    const scheduler = createScheduler();
    const langPath = bundledLanguagePath();
    const started = await Promise.all(
      Array.from({ length: workers }, () => createWorker('eng', OEM.LSTM_ONLY, { langPath, cacheMethod: 'none', gzip: true })),
    );
    for (const worker of started) scheduler.addWorker(worker);
    return new TesseractJsEngine(scheduler);
  }

  async recognize(image: GreyImage): Promise<string> {
    const result = await this.scheduler.addJob('recognize', toPgm(image), {}, { text: true });
    return tidyOcrText(result.data.text ?? '');
  }

  async close(): Promise<void> {
    await this.scheduler.terminate();
  }
}
