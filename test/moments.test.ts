import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldMoments, MOMENT_GAP_SECONDS, type MomentFrame, mayFold } from '../src/search/moments.js';
import { WORDS } from './helpers/words.js';

interface Frame extends MomentFrame {
  text: string;
}

/**
 * A day of screens as search ranks them: documents read for a while (near-identical frames a minute or a few
 * apart, a word changing now and then), the same document again later, the same title in other apps, and
 * one-off screens, shuffled as relevance would order them.
 */
function history(seed: number): Frame[] {
  let x = seed;
  const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const words = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  const frames: Frame[] = [];
  let t = 1_760_000_000;
  for (let doc = 0; doc < 40; doc++) {
    const app = ['Reader', 'Browser', 'Editor'][Math.floor(random() * 3)]!;
    const title = `doc ${Math.floor(random() * 8)}`;
    let text = words(40);
    const frameCount = 1 + Math.floor(random() * 6);
    for (let i = 0; i < frameCount; i++) {
      if (random() < 0.4) text = [...text.slice(0, 38), ...words(2)]; // one or two words change: still the same moment, or not
      frames.push({ id: frames.length + 1, timestamp: t, app, title, text: text.join(' ') });
      t += Math.floor(random() * MOMENT_GAP_SECONDS * 1.5);
    }
  }
  for (let i = frames.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [frames[i], frames[j]] = [frames[j]!, frames[i]!];
  }
  return frames;
}

describe('moments', () => {
  it('fold into the same moments when only the texts of frames that may fold are read', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const frames = history(seed);
      const byId = new Map(frames.map((f) => [f.id, f]));
      const allTexts = foldMoments(
        frames,
        (id) => byId.get(id),
        (id) => byId.get(id)!.text,
      );
      const readable = new Set(mayFold(frames));
      const someTexts = foldMoments(
        frames,
        (id) => byId.get(id),
        (id) => {
          assert.ok(readable.has(id), `frame ${id}'s text is read although no frame of its window is near it`);
          return byId.get(id)!.text;
        },
      );
      assert.deepEqual(someTexts, allTexts, `seed ${seed}`);
      assert.ok(
        allTexts.some((m) => m.frames > 1),
        'some frames fold',
      );
      assert.ok(readable.size < frames.length, 'some texts are never read');
    }
  });
});
