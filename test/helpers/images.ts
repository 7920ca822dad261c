import sharp from 'sharp';

export interface TextImageOptions {
  width?: number;
  height?: number;
  fontSize?: number;
  background?: string;
  /** Adds unique noise in a corner so that two renders of the same text are different frames. */
  seed?: number;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Renders lines of text like a simple application window (real fonts via librsvg), as PNG. */
export async function renderTextImage(lines: string[], options: TextImageOptions = {}): Promise<Buffer> {
  const { width = 1280, height = 720, fontSize = 22, background = '#ffffff', seed = 0 } = options;
  const lineHeight = Math.round(fontSize * 1.6);
  const text = lines
    .map((line, i) => `<text x="40" y="${90 + i * lineHeight}" font-family="DejaVu Sans" font-size="${fontSize}" fill="#1a1a1a">${escapeXml(line)}</text>`)
    .join('');
  const noise = seed
    ? `<rect x="${width - 12}" y="${height - 12}" width="8" height="8" fill="#${((seed * 2654435761) % 0xffffff).toString(16).padStart(6, '0')}"/>`
    : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="${background}"/>
    <rect width="100%" height="44" fill="#2d3748"/><text x="20" y="29" font-family="DejaVu Sans" font-size="18" fill="#f7fafc">Notes</text>
    ${text}${noise}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A tiny valid PNG of one colour. */
export function solidPng(width = 64, height = 48, color = '#3366cc'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } })
    .png()
    .toBuffer();
}

export function solidJpeg(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#cc6633' } })
    .jpeg()
    .toBuffer();
}

export function solidWebp(width = 64, height = 48, lossless = false): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#33cc66' } })
    .webp({ lossless })
    .toBuffer();
}
