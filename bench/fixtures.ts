import { chromium } from 'playwright-core';
import { CHROMIUM_PATH, QUIET_CHROMIUM_ARGS } from '../test/helpers/chromium.js';
import { WORDS } from '../test/helpers/words.js';

export interface Screenshot {
  png: Buffer;
  /** Every word rendered on the page, for recall. */
  words: string[];
}

function words(seed: number, count: number): string[] {
  let x = seed * 2654435761 || 1;
  return Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return WORDS[x % WORDS.length]!;
  });
}

/** An application-like page: sidebar, heading, paragraphs, a table and a terminal pane, all known words. */
function page(seed: number): { html: string; words: string[] } {
  const sidebar = words(seed + 1, 10);
  const heading = words(seed + 2, 6);
  const paragraphs = [0, 1, 2, 3].map((i) => words(seed * 10 + i, 45));
  const table = [0, 1, 2, 3].map((i) => words(seed * 20 + i, 3));
  const terminal = [0, 1, 2].map((i) => words(seed * 30 + i, 7));
  const html = `<html><body style="margin:0;font-family:'DejaVu Sans',sans-serif;background:#fff;color:#1f2328">
  <div style="height:36px;background:#24292f;color:#fff;font-size:14px;padding:9px 16px;box-sizing:border-box">${heading.slice(0, 3).join(' ')}</div>
  <div style="display:flex;height:calc(100vh - 36px)">
   <div style="width:240px;background:#f6f8fa;padding:16px;font-size:14px;line-height:30px">${sidebar.join('<br>')}</div>
   <div style="flex:1;padding:24px 32px;font-size:15px;line-height:1.55">
    <h2 style="margin-top:0">${heading.join(' ')}</h2>
    ${paragraphs.map((p) => `<p>${p.join(' ')}</p>`).join('')}
    <table style="border-collapse:collapse;font-size:14px;margin:12px 0">${table.map((r) => `<tr>${r.map((c) => `<td style="border:1px solid #d0d7de;padding:6px 12px">${c}</td>`).join('')}</tr>`).join('')}</table>
    <pre style="background:#0d1117;color:#e6edf3;padding:12px;font-size:13px">${terminal.map((l) => `$ ${l.join(' ')}`).join('\n')}</pre>
   </div></div></body></html>`;
  return { html, words: [...sidebar, ...heading, ...paragraphs.flat(), ...table.flat(), ...terminal.flat()] };
}

/** Renders `count` distinct 1920x1080 screenshots in headless Chromium (Debian's /usr/bin/chromium). */
export async function renderScreenshots(count: number): Promise<Screenshot[]> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--headless', ...QUIET_CHROMIUM_ARGS] });
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const tab = await context.newPage();
    const shots: Screenshot[] = [];
    for (let i = 0; i < count; i++) {
      const { html, words: known } = page(i + 1);
      await tab.setContent(html);
      shots.push({ png: await tab.screenshot({ type: 'png' }), words: known });
    }
    return shots;
  } finally {
    await browser.close();
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
