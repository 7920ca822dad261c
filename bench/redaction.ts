// Redaction: a generated corpus of screens (terminals, dashboards, checkout pages, notes; several fonts and sizes)
// with planted secrets and ordinary words, through the real server (tesseract.js OCR, redaction, covered image):
// - secret recall: share of planted secrets neither searchable, nor in the stored text or title, nor legible by
//   tesseract in the served image;
// - ordinary words lost: words OCR reads on the original screen but missing from the stored text;
// - redaction cost per frame (detectors + the word boxes' TSV output) against OCR time.
//   node --import tsx bench/redaction.ts [--frames 48] [--seed 19] [--verbose: print each missed secret]
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { uploadFrame } from '../src/api-client/upload.js';
import { TesseractJsEngine } from '../src/pipeline/ocr/tesseract-js-engine.js';
import { decodeGreyscale } from '../src/pipeline/stage.js';
import { redactText } from '../src/redaction/index.js';
import { getJson, waitUntil } from '../test/helpers/api.js';
import { seededRandom } from '../test/helpers/seeded-random.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { WORDS } from '../test/helpers/words.js';

const { values } = parseArgs({
  options: { frames: { type: 'string', default: '48' }, seed: { type: 'string', default: '19' }, verbose: { type: 'boolean', default: false } },
});
const frames = Number(values.frames);
const random = seededRandom(Number(values.seed));
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
const chars = (alphabet: string, n: number) => Array.from({ length: n }, () => pick([...alphabet])).join('');
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const words = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');

function luhnCard(prefix: string): string {
  const digits = prefix + chars('0123456789', 15 - prefix.length);
  for (let check = 0; check < 10; check++) {
    const candidate = digits + check;
    let sum = 0;
    for (let i = 0; i < 16; i++) {
      let d = Number(candidate[15 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    if (sum % 10 === 0) return candidate.replace(/(\d{4})(?=\d)/g, '$1 ');
  }
  return digits;
}

function germanIban(): string {
  const bban = chars('0123456789', 18);
  const numeric = BigInt(`${bban}131400`); // D=13, E=14, 00
  const check = String(98n - (numeric % 97n)).padStart(2, '0');
  return `DE${check}${bban}`.replace(/(.{4})(?=.)/g, '$1 ');
}

interface Planted {
  kind: string;
  /** The line as shown. */
  line: string;
  /** What must not survive (spaces ignored). */
  secret: string;
}

const SECRETS: Array<() => Planted> = [
  () => ((s) => ({ kind: 'password', line: `Password: ${s}`, secret: s }))(`${chars(ALNUM, 10)}7`),
  () => ((s) => ({ kind: 'password', line: `Passwort: ${s}`, secret: s }))(`${chars(ALNUM, 11)}3`),
  () => ((s) => ({ kind: 'password', line: `Mot de passe : ${s}`, secret: s }))(`${chars(ALNUM, 9)}5`),
  () => ((s) => ({ kind: 'aws', line: `export AWS_SECRET_ACCESS_KEY=${s}`, secret: s }))(chars(`${ALNUM}/+`, 40)),
  () => ((s) => ({ kind: 'aws-id', line: `aws_access_key_id = ${s}`, secret: s }))(`AKIA${chars('ABCDEFGHJKLMNPQRSTUVWXYZ234567', 16)}`),
  () => ((s) => ({ kind: 'github', line: `GITHUB_TOKEN ${s}`, secret: s }))(`ghp_${chars(ALNUM, 36)}`),
  () => ((s) => ({ kind: 'stripe', line: `Secret key ${s}`, secret: s }))(`sk_live_${chars(ALNUM, 24)}`),
  () => ((s) => ({ kind: 'slack', line: `SLACK_BOT=${s}`, secret: s }))(`xoxb-${chars('0123456789', 12)}-${chars('0123456789', 13)}-${chars(ALNUM, 24)}`),
  () => ((s) => ({ kind: 'openai', line: `OPENAI_API_KEY=${s}`, secret: s }))(`sk-proj-${chars(ALNUM, 40)}`),
  () => ((s) => ({ kind: 'card', line: `Card number ${s}`, secret: s }))(luhnCard(pick(['4', '51', '37']))),
  () => ((s) => ({ kind: 'iban', line: `IBAN ${s}`, secret: s }))(germanIban()),
  () => ((s) => ({ kind: 'pin', line: `PIN: ${s}`, secret: s }))(chars('0123456789', 6)),
  () => ((s) => ({ kind: 'db-url', line: `DATABASE_URL=postgres://app:${s}@db.internal:5432/main`, secret: s }))(chars(ALNUM, 14)),
  () => ((s) => ({ kind: 'recovery', line: `Recovery codes: ${s}`, secret: s }))(`${chars(ALNUM, 5)}-${chars(ALNUM, 5)} ${chars(ALNUM, 5)}-${chars(ALNUM, 5)}`),
];

const FONTS = ['DejaVu Sans', 'DejaVu Sans Mono', 'Nimbus Sans', 'DejaVu Serif', 'Nimbus Mono PS'];
const SIZES = [16, 20, 24];
const TEMPLATES = [
  { name: 'terminal', background: '#1e1e1e', ink: '#e6e6e6', header: '#333333', title: 'bash — ~/projects' },
  { name: 'dashboard', background: '#f5f7fa', ink: '#1a202c', header: '#2b6cb0', title: 'Admin dashboard · API keys' },
  { name: 'checkout', background: '#ffffff', ink: '#222222', header: '#38a169', title: 'Checkout · Payment' },
  { name: 'notes', background: '#fffdf5', ink: '#2d2d2d', header: '#744210', title: 'Notes' },
] as const;

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Screen {
  png: Buffer;
  planted: Planted[];
  ordinary: string[];
  template: string;
}

async function renderScreen(i: number): Promise<Screen> {
  const template = TEMPLATES[i % TEMPLATES.length]!;
  const font = FONTS[i % FONTS.length]!;
  const size = SIZES[Math.floor(i / TEMPLATES.length) % SIZES.length]!;
  const planted = Array.from({ length: 3 }, () => pick(SECRETS)());
  const lines: string[] = [];
  const ordinary: string[] = [];
  for (let l = 0; l < 9; l++) {
    const line = words(6);
    ordinary.push(...line.split(' '));
    lines.push(line);
  }
  for (const [k, p] of planted.entries()) lines.splice(2 + k * 3, 0, p.line);
  const lineHeight = Math.round(size * 1.7);
  const height = 90 + lines.length * lineHeight + 40;
  const text = lines
    .map((line, k) => `<text x="40" y="${90 + k * lineHeight}" font-family="${font}" font-size="${size}" fill="${template.ink}">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="${height}"><rect width="100%" height="100%" fill="${template.background}"/>
    <rect width="100%" height="44" fill="${template.header}"/><text x="20" y="29" font-family="DejaVu Sans" font-size="18" fill="#ffffff">${escapeXml(template.title)}</text>${text}</svg>`;
  return { png: await sharp(Buffer.from(svg)).png().toBuffer(), planted, ordinary, template: template.name };
}

const squeeze = (s: string) => s.replace(/\s+/g, '').toLowerCase();
const tokens = (s: string) =>
  new Set(
    s
      .toLowerCase()
      .split(/[^a-z]+/)
      .filter(Boolean),
  );
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

const screens = await Promise.all(Array.from({ length: frames }, (_, i) => renderScreen(i)));

// Ground truth and cost, in this process: OCR of the original screen (plain, then with word boxes) and the detectors.
const engine = await TesseractJsEngine.create(1);
const ocrSeconds: number[] = [];
const boxesSeconds: number[] = [];
const detectSeconds: number[] = [];
const originalText: string[] = [];
for (const screen of screens) {
  const grey = await decodeGreyscale(screen.png);
  let t = performance.now();
  originalText.push(await engine.recognize(grey));
  ocrSeconds.push((performance.now() - t) / 1000);
  t = performance.now();
  const withBoxes = await engine.recognizeWords(grey);
  boxesSeconds.push((performance.now() - t) / 1000);
  t = performance.now();
  await redactText(withBoxes.text);
  detectSeconds.push((performance.now() - t) / 1000);
}

// The real server: upload everything, wait for the queue to drain, then look at what it kept and serves.
const server = await startServerProcess(tempDir('openrecall-bench-redaction-'), { OPENRECALL_OCR_ENGINE: 'tesseract-js' });
const ids: number[] = [];
for (const [i, screen] of screens.entries()) {
  const response = await uploadFrame(server.api, {
    image: screen.png,
    contentType: 'image/png',
    timestamp: Date.now() / 1000 - 600 + i,
    app: 'bench',
    title: `${screen.template} ${i}`,
  });
  ids.push(response.body.task_id!);
}
await waitUntil(async () => (await getJson(`${server.api}/queue/status`)).body.queue.completed === frames, {
  timeoutMs: 1_800_000,
  intervalMs: 200,
  what: 'processing',
});

const leaks: Record<string, number> = { searchable: 0, stored: 0, legible: 0 };
const missedByKind = new Map<string, number>();
const plantedByKind = new Map<string, number>();
let secretsKept = 0;
let planted = 0;
let ordinaryRead = 0;
let ordinaryLost = 0;
for (const [i, id] of ids.entries()) {
  const entry = (await getJson(`${server.api}/entries/${id}`)).body;
  const served = Buffer.from(await (await fetch(`${server.api}/entries/${id}/image`)).arrayBuffer());
  const servedText = squeeze(await engine.recognize(await decodeGreyscale(served)));
  const stored = squeeze(`${entry.text ?? ''} ${entry.title ?? ''}`);
  for (const p of screens[i]!.planted) {
    planted++;
    plantedByKind.set(p.kind, (plantedByKind.get(p.kind) ?? 0) + 1);
    const secret = squeeze(p.secret);
    // The longest run of letters and digits: what a search box would be given.
    const core = p.secret.split(/[^A-Za-z0-9]+/).sort((a, b) => b.length - a.length)[0]!;
    const hits = (await getJson(`${server.api}/search?q=${encodeURIComponent(core)}`)).body.results?.length ?? 0;
    const leak = {
      searchable: hits > 0,
      stored: stored.includes(secret) || stored.includes(core.toLowerCase().slice(0, 8)),
      legible: servedText.includes(core.toLowerCase().slice(0, 8)),
    };
    for (const [k, v] of Object.entries(leak)) if (v) leaks[k]!++;
    if (!leak.searchable && !leak.stored && !leak.legible) secretsKept++;
    else {
      missedByKind.set(p.kind, (missedByKind.get(p.kind) ?? 0) + 1);
      if (values.verbose) console.error(`missed ${p.kind} ${JSON.stringify(leak)}: planted "${p.line}"; stored:\n${entry.text}\n`);
    }
  }
  const read = tokens(originalText[i]!);
  const kept = tokens(entry.text ?? '');
  for (const word of new Set(screens[i]!.ordinary)) {
    if (!read.has(word)) continue; // OCR's own miss, not redaction's
    ordinaryRead++;
    if (!kept.has(word)) ordinaryLost++;
  }
}
await server.stop();
await engine.close();

const ocrMean = mean(ocrSeconds);
const costMean = mean(detectSeconds) + Math.max(0, mean(boxesSeconds) - ocrMean);
console.log(
  JSON.stringify(
    {
      frames,
      planted_secrets: planted,
      secret_recall: round(secretsKept / planted, 4),
      leaks,
      missed_by_kind: Object.fromEntries(missedByKind),
      planted_by_kind: Object.fromEntries(plantedByKind),
      ordinary_words_read_by_ocr: ordinaryRead,
      ordinary_words_lost_pct: round((100 * ordinaryLost) / Math.max(1, ordinaryRead), 3),
      ocr_seconds_per_frame: round(ocrMean),
      detectors_ms_per_frame: round(mean(detectSeconds) * 1000, 2),
      word_boxes_extra_ms_per_frame: round((mean(boxesSeconds) - ocrMean) * 1000, 1),
      redaction_cost_pct_of_ocr: round((100 * costMean) / ocrMean, 2),
    },
    null,
    2,
  ),
);
