#!/usr/bin/env node
// Builds the web UI into dist/web: src/web/main.ts and styles.css bundled and minified by esbuild under
// content-hashed names (served with long-lived caching), and index.html pointing at them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src', 'web');
const out = path.join(root, 'dist', 'web');
const assets = path.join(out, 'assets');

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: { app: path.join(source, 'main.ts'), style: path.join(source, 'styles.css') },
  outdir: assets,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});

const outputs = Object.entries(result.metafile.outputs);
const published = (entry, ext) => {
  const found = outputs.find(([file, info]) => file.endsWith(ext) && info.entryPoint?.endsWith(entry));
  if (!found) throw new Error(`build-web: no output for ${entry}`);
  return `/assets/${path.basename(found[0])}`;
};

const icon = fs.readFileSync(path.join(source, 'icon.svg'));
const iconName = `icon-${(await import('node:crypto')).createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
fs.writeFileSync(path.join(assets, iconName), icon);

const html = fs
  .readFileSync(path.join(source, 'index.html'), 'utf8')
  .replaceAll('{{js}}', published('main.ts', '.js'))
  .replaceAll('{{css}}', published('styles.css', '.css'))
  .replaceAll('{{icon}}', `/assets/${iconName}`);
fs.writeFileSync(path.join(out, 'index.html'), html);

const size = outputs.filter(([f]) => !f.endsWith('.map')).reduce((sum, [, info]) => sum + info.bytes, 0);
console.log(`build-web: dist/web (${(size / 1024).toFixed(1)} KB of JS and CSS)`);
