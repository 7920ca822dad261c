// The change detector on real rendered screens (librsvg text, 1920x1080): what it must keep (new text) and
// what it must skip (nothing new, a blinking cursor, the mouse pointer), at the default threshold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { loadClientConfig } from '../../src/client/config.js';
import { keepDecision, type KeptFrame } from '../../src/client/keep-rule.js';
import { compareFrames, greyThumbnail, isSimilar, type GreyImage } from '../../src/client/similarity.js';

const THRESHOLD = loadClientConfig({}).similarityThreshold;
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Screen {
  width?: number;
  height?: number;
  lines?: string[];
  /** First line's baseline (scrolling moves it). */
  top?: number;
  fontSize?: number;
  mono?: boolean;
  /** Extra SVG drawn on top: a cursor, a pointer, a dialog. */
  overlay?: string;
  tabs?: { names: string[]; active: number };
}

async function screen(s: Screen): Promise<GreyImage> {
  const { width = 1920, height = 1080, lines = [], top = 140, fontSize = 20, mono = false, overlay = '' } = s;
  const lineHeight = Math.round(fontSize * 1.5);
  const family = mono ? 'DejaVu Sans Mono' : 'DejaVu Sans';
  const text = lines
    .map((line, i) => ({ line, y: top + i * lineHeight }))
    .filter(({ y }) => y > 90 && y < height)
    .map(({ line, y }) => `<text x="40" y="${y}" font-family="${family}" font-size="${fontSize}" fill="#1a1a1a">${escapeXml(line)}</text>`)
    .join('');
  const tabs = (s.tabs?.names ?? ['Inbox'])
    .map(
      (name, i) =>
        `<rect x="${10 + i * 220}" y="50" width="210" height="36" fill="${i === (s.tabs?.active ?? 0) ? '#ffffff' : '#cbd5e0'}"/><text x="${22 + i * 220}" y="74" font-family="DejaVu Sans" font-size="16">${name}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#ffffff"/><rect width="100%" height="90" fill="#e2e8f0"/>
    <text x="20" y="30" font-family="DejaVu Sans" font-size="18">Window title bar</text>${tabs}${text}${overlay}</svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return greyThumbnail(data, info.width, info.height);
}

const chatLines = (n: number) =>
  Array.from(
    { length: n },
    (_, i) =>
      `${i % 2 ? 'Alice' : 'Bob'}: message ${i} about the ${['budget', 'garden', 'rocket', 'harbor', 'violin', 'meadow', 'lantern', 'walnut'][i % 8]} plans`,
  );
const prose = (word: string, n = 24) => Array.from({ length: n }, (_, i) => `${word} ${i}: meeting notes, budget figures and a to-do list for the week`);
const cursor = (x: number, y: number) => `<rect x="${x}" y="${y}" width="10" height="20" fill="#1a1a1a"/>`;
const caret = (x: number, y: number) => `<rect x="${x}" y="${y}" width="2" height="24" fill="#1a1a1a"/>`;
const pointer = (x: number, y: number) => `<path d="M${x} ${y} l0 19 l4 -4 l3 7 l3 -1 l-3 -7 l6 0 z" fill="#000" stroke="#fff"/>`;

const changed = (a: GreyImage, b: GreyImage) => !isSimilar(a, b, THRESHOLD);

test('greyThumbnail box-filters RGBA to luma at most 960 px wide', () => {
  const width = 1920;
  const height = 1080;
  const data = Buffer.alloc(width * height * 4, 255);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) data.set([0, 0, 0, 255], (y * width + x) * 4); // one black 2x2 block
  const grey = greyThumbnail(data, width, height);
  assert.deepEqual([grey.width, grey.height], [960, 540]);
  assert.equal(grey.data[0], 0);
  assert.equal(grey.data[1], 255);
  const small = greyThumbnail(Buffer.alloc(1280 * 720 * 4, 255), 1280, 720);
  assert.deepEqual([small.width, small.height], [640, 360]);
  const red = greyThumbnail(Buffer.from([255, 0, 0, 255]), 1, 1); // BT.601 luma ~ 0.3
  assert.equal(red.data[0], 76);
});

test('an unchanged screen scores 1 and is skipped', async () => {
  const a = await screen({ lines: prose('Alpha') });
  const b = await screen({ lines: prose('Alpha') });
  assert.deepEqual(compareFrames(a, b), { similarity: 1, changedTiles: 0, ignoredTiles: 0, tiles: 60 * 34 });
  assert.ok(isSimilar(a, b, THRESHOLD));
  assert.equal(isSimilar(undefined, a, THRESHOLD), false, 'the first frame of a monitor is always kept');
});

test('must keep: one new chat line, a terminal output block, a new page, a scroll, a dialog, another tab', async () => {
  const chat6 = await screen({ lines: chatLines(6) });
  assert.ok(changed(chat6, await screen({ lines: chatLines(7) })), 'one new chat line');

  const term = ['$ make test', 'compiling 12 files', 'linking openrecall'];
  const termBefore = await screen({ lines: term, mono: true, fontSize: 16, overlay: cursor(40, 196) });
  const termAfter = await screen({ lines: [...term, 'ok 1 upload', 'ok 2 search', 'ok 3 timeline'], mono: true, fontSize: 16, overlay: cursor(40, 268) });
  assert.ok(changed(termBefore, termAfter), 'a block of terminal output');
  const oneShortLine = await screen({ lines: [...term, 'done'], mono: true, fontSize: 16, overlay: cursor(40, 220) });
  assert.ok(changed(termBefore, oneShortLine), 'even one short terminal line');

  // Same layout, entirely different text: the pair the former SSIM detector scored 0.947.
  const page1 = await screen({ lines: prose('Alpha') });
  assert.ok(changed(page1, await screen({ lines: prose('Omega') })), 'a document paged');
  assert.ok(changed(page1, await screen({ lines: prose('Alpha', 40), top: 140 - 3 * 30 })), 'a scroll by three lines');

  const dialog = `<rect x="760" y="420" width="400" height="160" fill="#f7fafc" stroke="#4a5568"/><text x="790" y="480" font-family="DejaVu Sans" font-size="18">Save changes?</text>`;
  assert.ok(changed(page1, await screen({ lines: prose('Alpha'), overlay: dialog })), 'a dialog opening');

  const tab0 = await screen({ lines: prose('Alpha'), tabs: { names: ['Inbox', 'Report', 'Calendar'], active: 0 } });
  const tab1 = await screen({ lines: prose('Report'), tabs: { names: ['Inbox', 'Report', 'Calendar'], active: 1 } });
  assert.ok(changed(tab0, tab1), 'a different tab of the same window');
});

test('must skip: a blinking text cursor, a caret, the mouse pointer moving', async () => {
  const lines = prose('Alpha', 10);
  const plain = await screen({ lines });
  const withCursor = await screen({ lines, overlay: cursor(700, 395) });
  const withCaret = await screen({ lines, overlay: caret(700, 392) });
  for (const [name, frame] of [
    ['block cursor', withCursor],
    ['caret', withCaret],
  ] as const) {
    const c = compareFrames(plain, frame);
    assert.ok(c.ignoredTiles > 0 && c.changedTiles === 0, `${name}: ${JSON.stringify(c)}`);
    assert.ok(!changed(plain, frame), `${name} on`);
    assert.ok(!changed(frame, plain), `${name} off`);
  }
  const pointerA = await screen({ lines, overlay: pointer(500, 400) });
  const pointerB = await screen({ lines, overlay: pointer(1300, 700) });
  assert.ok(!changed(pointerA, pointerB), 'the pointer moved across the screen');
  assert.ok(!changed(plain, pointerB), 'the pointer appeared');
});

test('compared with the last kept frame, a cursor blinking for long never adds up; typed text does', async () => {
  const lines = prose('Alpha', 10);
  const kept: KeptFrame = { grey: await screen({ lines, overlay: cursor(40, 395) }), app: 'Editor', title: 'notes', keptAtMs: 0 };
  const options = { similarityThreshold: THRESHOLD, maxSkipMs: 300_000, userIdle: false };
  const off = await screen({ lines });
  for (let i = 1; i <= 4; i++) assert.equal(keepDecision(kept, { grey: off, app: 'Editor', title: 'notes' }, i * 1000, options).keep, false);
  // Typing a word one letter at a time at the cursor: the first letter is cursor-sized, the word is not.
  const typed = (word: string) => screen({ lines: [...lines.slice(0, 9), `${lines[9]} ${word}`], overlay: cursor(40 + 10 * word.length, 395) });
  const decisions = [];
  for (const word of ['w', 'wo', 'word', 'words and more'])
    decisions.push(keepDecision(kept, { grey: await typed(word), app: 'Editor', title: 'notes' }, 5000, options).keep);
  assert.equal(decisions.at(-1), true, `typed text is kept eventually: ${decisions}`);
});

test('a new app or title is kept at once; an unchanged screen is kept again after the max skip time, unless the user is idle', async () => {
  const grey = await screen({ lines: prose('Alpha', 5) });
  const kept: KeptFrame = { grey, app: 'Editor', title: 'notes', keptAtMs: 1_000 };
  const options = { similarityThreshold: THRESHOLD, maxSkipMs: 300_000, userIdle: false };
  assert.deepEqual(keepDecision(kept, { grey, app: 'Browser', title: 'notes' }, 2_000, options), { keep: true, reason: 'window changed' });
  assert.deepEqual(keepDecision(kept, { grey, app: 'Editor', title: 'todo' }, 2_000, options), { keep: true, reason: 'window changed' });
  assert.equal(keepDecision(kept, { grey, app: 'Editor', title: 'notes' }, 300_999, options).keep, false);
  const late = keepDecision(kept, { grey, app: 'Editor', title: 'notes' }, 301_000, options);
  assert.equal(late.keep && late.reason, 'unchanged for too long');
  assert.equal(keepDecision(kept, { grey, app: 'Editor', title: 'notes' }, 301_000, { ...options, userIdle: true }).keep, false);
  assert.equal(keepDecision(kept, { grey, app: 'Editor', title: 'notes' }, 1e9, { ...options, maxSkipMs: 0 }).keep, false);
});

test('a monitor that changes resolution is a new screen; odd sizes never throw', async () => {
  const big = await screen({ lines: prose('Alpha') });
  const small = await screen({ lines: prose('Alpha'), width: 1280, height: 720 });
  assert.equal(compareFrames(big, small).similarity, 0);
  assert.equal(compareFrames(small, big).similarity, 0);
  const kept: KeptFrame = { grey: big, app: 'Editor', title: 'notes', keptAtMs: 0 };
  assert.deepEqual(
    keepDecision(kept, { grey: small, app: 'Editor', title: 'notes' }, 1000, { similarityThreshold: THRESHOLD, maxSkipMs: 0, userIdle: false }),
    {
      keep: true,
      reason: 'new screen size',
    },
  );
  for (const [w, h] of [
    [1, 1],
    [5, 3],
    [17, 33],
    [961, 1],
  ] as const) {
    const a = greyThumbnail(new Uint8Array(w * h * 4), w, h);
    const b = greyThumbnail(new Uint8Array(w * h * 4).fill(255), w, h);
    assert.equal(compareFrames(a, a).similarity, 1);
    assert.ok(compareFrames(a, b).similarity < 1 || compareFrames(a, b).ignoredTiles > 0, `${w}x${h}`);
  }
});

test('OPENRECALL_SIMILARITY_THRESHOLD keeps its range and OPENRECALL_MAX_SKIP_SECONDS is validated', () => {
  assert.throws(() => loadClientConfig({ OPENRECALL_SIMILARITY_THRESHOLD: '1.5' }), /OPENRECALL_SIMILARITY_THRESHOLD/);
  assert.throws(() => loadClientConfig({ OPENRECALL_SIMILARITY_THRESHOLD: '-0.1' }), /OPENRECALL_SIMILARITY_THRESHOLD/);
  assert.throws(() => loadClientConfig({ OPENRECALL_MAX_SKIP_SECONDS: 'soon' }), /OPENRECALL_MAX_SKIP_SECONDS/);
  assert.equal(loadClientConfig({ OPENRECALL_MAX_SKIP_SECONDS: '0' }).maxSkipMs, 0);
  assert.equal(loadClientConfig({}).maxSkipMs, 300_000);
});
