import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { GreyImage } from '../stage.js';
import { parseTsvWords, textFromTsvWords, tidyOcrText, toPgm, type OcrEngine, type OcrResult } from './ocr-engine.js';

/** The native `tesseract` command (Debian package tesseract-ocr), one process per frame, image on stdin. */
export class TesseractCliEngine implements OcrEngine {
  readonly name = 'tesseract-cli';

  constructor(
    private readonly command = 'tesseract',
    private readonly languages = 'eng',
  ) {}

  static async create(command = 'tesseract', languages = 'eng'): Promise<TesseractCliEngine> {
    try {
      await promisify(execFile)(command, ['--version']);
    } catch {
      throw new Error(`OPENRECALL_OCR_ENGINE=tesseract-cli needs the "${command}" command (Debian: apt-get install tesseract-ocr)`);
    }
    return new TesseractCliEngine(command, languages);
  }

  async recognize(image: GreyImage): Promise<string> {
    return tidyOcrText(await this.run(image, []));
  }

  /** One run with the `tsv` output (words and their boxes); the text is laid out from the words. */
  async recognizeWords(image: GreyImage): Promise<OcrResult> {
    return textFromTsvWords(parseTsvWords(await this.run(image, ['tsv'])));
  }

  private run(image: GreyImage, configs: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, ['stdin', 'stdout', '-l', this.languages, ...configs], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
        else reject(new Error(`tesseract exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`));
      });
      child.stdin.on('error', () => {}); // the close handler reports the failure
      child.stdin.end(toPgm(image));
    });
  }

  async close(): Promise<void> {}
}
