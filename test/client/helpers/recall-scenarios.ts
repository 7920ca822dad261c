// The screen scenarios of the memory-recall benchmark. Each shows screen states carrying marker words, each
// state held `holdMs`, with no keyboard or mouse input; each returns the number of distinct states shown.
import { filler, sleep, type Markers, type PageWindow, type Rig, type TerminalWindow } from './memory-recall.js';

const para = (words: string[], i: number) => `<p><b>${words.join(' ')}</b> ${filler(i)}</p>`;

/** A document paged in the same window (same app, same title). */
export async function documentPaged(doc: PageWindow, markers: Markers, pages: number, holdMs: number): Promise<number> {
  for (let page = 0; page < pages; page++) {
    const words = markers.take(3);
    const lines = Array.from({ length: 14 }, (_, i) => (i === 4 + page ? para(words, i) : `<p>${filler(i + page * 14)}</p>`));
    await doc.show(lines.join(''));
    markers.show(words);
    await sleep(holdMs);
  }
  return pages;
}

/** A long document scrolled down by three lines at a time; each scroll reveals lines with new markers. */
export async function scrolled(doc: PageWindow, markers: Markers, steps: number, holdMs: number): Promise<number> {
  const linePx = 30 * 1.45;
  const visible = 20;
  const revealed: string[][] = Array.from({ length: steps }, () => markers.take(3));
  const lines: string[] = [];
  for (let i = 0; i < visible + steps * 3 + 10; i++) {
    const step = Math.floor((i - visible) / 3);
    lines.push(i >= visible && (i - visible) % 3 === 1 && step < steps ? para(revealed[step]!, i) : `<p>${filler(i + 100)}</p>`);
  }
  await doc.show(lines.join(''), 0);
  await sleep(holdMs);
  for (let step = 0; step < steps; step++) {
    await doc.show(lines.join(''), Math.round((step + 1) * 3 * linePx));
    markers.show(revealed[step]!);
    await sleep(holdMs);
  }
  return steps + 1;
}

/** Chat messages arriving one by one in the same window. */
export async function chat(window: PageWindow, markers: Markers, messages: number, holdMs: number): Promise<number> {
  const shown: string[] = [];
  for (let i = 0; i < messages; i++) {
    const words = markers.take(3);
    shown.push(`<div class="msg">${i % 2 ? 'Alice' : 'Bob'}: ${words.join(' ')}</div>`);
    await window.show(shown.join(''));
    markers.show(words);
    await sleep(holdMs);
  }
  return messages;
}

/** Blocks of terminal output. */
export async function terminalBlocks(term: TerminalWindow, markers: Markers, blocks: number, holdMs: number): Promise<number> {
  for (let i = 0; i < blocks; i++) {
    const words = markers.take(3);
    await term.print(words.map((w, j) => `step ${i}.${j}  ${w}  done`).join('\n'));
    markers.show(words);
    await sleep(holdMs);
  }
  return blocks;
}

/** Switching between apps; each window got new content while it was hidden. */
export async function switching(doc: PageWindow, term: TerminalWindow, chatWindow: PageWindow, markers: Markers, holdMs: number): Promise<number> {
  const steps: Array<() => Promise<void>> = [
    async () => {
      const words = markers.take(3);
      await doc.show(`<p>${filler(1)}</p>${para(words, 2)}<p>${filler(3)}</p>`);
      await doc.activate();
      markers.show(words);
    },
    async () => {
      const words = markers.take(3);
      await term.print(`switched: ${words.join('  ')}`);
      await term.activate();
      markers.show(words);
    },
    async () => {
      const words = markers.take(3);
      await chatWindow.show(`<div class="msg">Carol: ${words.join(' ')}</div>`);
      await chatWindow.activate();
      markers.show(words);
    },
    async () => {
      await term.activate();
    },
  ];
  for (const step of steps) {
    await step();
    await sleep(holdMs);
  }
  return steps.length;
}

/** Brings a window to the front and lets that change be captured: then nothing changes (a static screen). */
export async function settleOn(window: PageWindow, settleMs: number): Promise<void> {
  await window.activate();
  await sleep(settleMs);
}

/** The terminal (started with a blinking cursor) in front with a prompt line; then only its cursor blinks. */
export async function settleOnCursor(term: TerminalWindow, settleMs: number): Promise<void> {
  await term.activate();
  await term.print('waiting for input');
  await sleep(settleMs);
}

export type { Rig };
