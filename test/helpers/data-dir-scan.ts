import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * What a stolen disk would show first: image and SQLite headers. A JPEG's is its start of image and the first
 * marker (4 bytes, like the others): 3 bytes alone turn up by chance in a megabyte of ciphertext one time in 16.
 */
const JPEG_FIRST_MARKERS = [0xc0, 0xc2, 0xc4, 0xdb, 0xfe, ...Array.from({ length: 16 }, (_, i) => 0xe0 + i)];
const HEADERS: Array<[string, Buffer]> = [
  ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47])],
  ...JPEG_FIRST_MARKERS.map((marker): [string, Buffer] => ['JPEG', Buffer.from([0xff, 0xd8, 0xff, marker])]),
  ['WebP', Buffer.from('WEBP')],
  ['RIFF', Buffer.from('RIFF')],
  ['SQLite', Buffer.from('SQLite format 3')],
];

export function everyFile(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? everyFile(full) : entry.isFile() ? [full] : [];
  });
}

/** What a stolen disk shows: every file of the data dir, raw, searched for image/SQLite headers and `words` (any case). */
export function plaintextFound(dataDir: string, words: string[]): string[] {
  const found: string[] = [];
  for (const file of everyFile(dataDir)) {
    const bytes = fs.readFileSync(file);
    const lower = Buffer.from(bytes.toString('latin1').toLowerCase(), 'latin1');
    for (const name of new Set(HEADERS.filter(([, header]) => bytes.includes(header)).map(([n]) => n)))
      found.push(`${path.relative(dataDir, file)}: ${name} header`);
    for (const word of words) if (lower.includes(Buffer.from(word.toLowerCase()))) found.push(`${path.relative(dataDir, file)}: "${word}"`);
  }
  return found;
}

/** Every file of the data dir with the SHA-256 of its bytes: compare two to see that nothing changed. */
export const fileHashes = (dataDir: string) =>
  new Map(everyFile(dataDir).map((file) => [path.relative(dataDir, file), crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')]));
