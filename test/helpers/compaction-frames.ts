import { renderTextImage } from './images.js';

/** A notes window whose text grows a line at a time, with a switch to another app and back. */
export async function editingSequence(count: number): Promise<Buffer[]> {
  const words = ['invoice', 'meeting', 'budget', 'quarterly', 'roadmap', 'deadline', 'customer', 'review', 'release', 'kernel', 'harbor', 'lantern'];
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (i === Math.floor(count / 2)) {
      frames.push(await renderTextImage(['Terminal session', '$ make test', 'all 42 tests passed'], { width: 1280, height: 720, background: '#f0f4ff' }));
      continue;
    }
    const lines = Array.from({ length: Math.min(i, count) + 1 }, (_, n) => `${n + 1}. ${words[n % words.length]} notes for item ${n * 7 + 3}`);
    frames.push(await renderTextImage(lines, { width: 1280, height: 720 }));
  }
  return frames;
}
