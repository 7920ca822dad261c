import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeGreyscale } from '../src/pipeline/stage.js';
import { TesseractCliEngine } from '../src/pipeline/ocr/tesseract-cli-engine.js';
import { TesseractJsEngine } from '../src/pipeline/ocr/tesseract-js-engine.js';
import { renderTextImage, solidPng } from './helpers/images.js';
import { pickWords, wordRecall } from './helpers/words.js';

/** A 1920x1080 screen of UI-sized text: eight words a line, at the sizes applications use. */
async function screenWithWords(words: string[]) {
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 8) lines.push(words.slice(i, i + 8).join(' '));
  return renderTextImage(lines, { width: 1920, height: 1080, fontSize: 16 });
}

describe('OCR engines on a rendered screen with known words', () => {
  const words = pickWords(120, 3);

  it('tesseract.js (bundled English model, offline) finds at least 95 % of the words', async () => {
    const engine = await TesseractJsEngine.create(1);
    try {
      const text = await engine.recognize(await decodeGreyscale(await screenWithWords(words)));
      const recall = wordRecall(words, text);
      assert.ok(recall >= 0.95, `recall ${recall.toFixed(3)}; text: ${text.slice(0, 400)}`);
    } finally {
      await engine.close();
    }
  });

  it('the native tesseract CLI engine finds at least 95 % of the words', async () => {
    const engine = await TesseractCliEngine.create();
    const text = await engine.recognize(await decodeGreyscale(await screenWithWords(words)));
    assert.ok(wordRecall(words, text) >= 0.95, text.slice(0, 400));
  });

  it('returns an empty string for a blank screen', async () => {
    const engine = await TesseractJsEngine.create(1);
    try {
      assert.equal(await engine.recognize(await decodeGreyscale(await solidPng(800, 600, '#ffffff'))), '');
    } finally {
      await engine.close();
    }
  });
});
