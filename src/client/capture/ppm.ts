import type { RawFrame } from './screen.js';

/** A binary PPM (P6, maxval 255, as grim writes it) as an RGBA frame. */
export function ppmToRgba(ppm: Buffer): RawFrame {
  // Header: "P6", width, height, maxval, separated by whitespace (and '#' comments), then one whitespace byte.
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4 && i < ppm.length) {
    const c = ppm[i]!;
    if (c === 0x23) {
      while (i < ppm.length && ppm[i] !== 0x0a) i++;
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      i++;
    } else {
      const start = i;
      while (i < ppm.length && ![0x20, 0x0a, 0x0d, 0x09].includes(ppm[i]!)) i++;
      fields.push(ppm.toString('ascii', start, i));
    }
  }
  const [magic, w, h, max] = fields;
  const width = Number(w);
  const height = Number(h);
  if (magic !== 'P6' || !(width > 0) || !(height > 0) || max !== '255') throw new Error(`not a P6 PPM with maxval 255 (${fields.join(' ')})`);
  const start = i + 1;
  const pixels = width * height;
  if (ppm.length < start + pixels * 3) throw new Error(`truncated PPM: ${ppm.length - start} of ${pixels * 3} pixel bytes`);
  const data = Buffer.allocUnsafe(pixels * 4);
  for (let p = 0, s = start, d = 0; p < pixels; p++, s += 3, d += 4) {
    data[d] = ppm[s]!;
    data[d + 1] = ppm[s + 1]!;
    data[d + 2] = ppm[s + 2]!;
    data[d + 3] = 255;
  }
  return { width, height, data };
}
