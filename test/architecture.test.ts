import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findCycles, importGraph } from './helpers/import-graph.js';
import { repoRoot } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const src = path.join(repoRoot, 'src');
const folder = (file: string) => file.split(path.sep)[0]!;

/** What each layer must not import: layers point one way (cli -> server/services -> pipeline/search -> store -> adapters). */
const FORBIDDEN: Record<string, string[]> = {
  store: ['services', 'search', 'pipeline', 'server', 'processor', 'cli', 'client', 'api-client', 'web'],
  search: ['services', 'server', 'processor', 'cli', 'client'],
  pipeline: ['services', 'server', 'cli', 'client'],
  services: ['server', 'processor', 'cli', 'client'],
  redaction: ['services', 'search', 'pipeline', 'store', 'server', 'processor', 'cli', 'client', 'images', 'web'],
  api: ['services', 'search', 'pipeline', 'store', 'server', 'processor', 'cli', 'client'],
};

/** The shared modules at the top of src/ (settings, errors, logging), which every folder may use. */
const SHARED_ROOT = new Set(['config.ts', 'env.ts', 'errors.ts', 'log.ts', 'version.ts']);
// `redaction` is pure rules over text (no outside thing), a leaf every layer that handles text may use.
const ADAPTERS = ['api', 'files', 'encryption', 'images', 'ai', 'redaction'];

/**
 * Every folder's layer: what it may import besides itself and the shared root modules (a folder, or one file
 * of a folder). Anything else is an upward or sideways edge. `src/cli.ts` is the entry point: it may import anything.
 */
const ALLOWED: Record<string, string[]> = {
  '(shared)': ['ai/config.ts'],
  api: [],
  redaction: [],
  web: ['api'],
  files: [],
  // The key sources and the AEAD file cipher: an adapter over node:crypto, the keyring and Argon2id.
  encryption: ['files'],
  images: ['files'],
  ai: ['files', 'images'],
  store: ADAPTERS,
  pipeline: [...ADAPTERS, 'store'],
  search: [...ADAPTERS, 'store'],
  retention: [...ADAPTERS, 'store'],
  services: [...ADAPTERS, 'store', 'pipeline', 'search', 'retention'],
  mcp: [...ADAPTERS, 'search', 'services'],
  processor: [...ADAPTERS, 'store', 'pipeline', 'search', 'retention', 'services'],
  server: [...ADAPTERS, 'store', 'pipeline', 'search', 'retention', 'services', 'processor', 'mcp'],
  'api-client': ['api', 'files', 'images'],
  client: ['api', 'files', 'images', 'api-client', 'cli/usage-error.ts'],
  cli: [...ADAPTERS, 'store', 'pipeline', 'search', 'retention', 'services', 'processor', 'mcp', 'server', 'api-client', 'client'],
};

/** The layer of a module: its folder, `(shared)` for the shared root modules, `(entry)` for src/cli.ts. */
function layer(file: string): string {
  if (!file.includes(path.sep)) return SHARED_ROOT.has(file) ? '(shared)' : '(entry)';
  return folder(file);
}

/** Edges that leave their layer for one it may not use. */
function layerViolations(graph: Map<string, { target: string }[]>): string[] {
  const bad: string[] = [];
  for (const [file, edges] of graph) {
    const from = layer(file);
    if (from === '(entry)') continue;
    const allowed = ALLOWED[from];
    for (const { target } of edges) {
      const to = layer(target);
      if (to === from || to === '(shared)') continue;
      if (!allowed?.includes(to) && !allowed?.includes(target.split(path.sep).join('/'))) bad.push(`${file} -> ${target}`);
    }
  }
  return bad;
}

/** The entry points outside src/store that may open a concrete store: none; src/store/open-store.ts is the one way in. */
function concreteStoreImports(graph: Map<string, { target: string }[]>): string[] {
  const bad: string[] = [];
  for (const [file, edges] of graph) {
    if (folder(file) === 'store') continue;
    for (const { target } of edges) if (/^store[\\/](sqlite|postgres)[\\/]/.test(target)) bad.push(`${file} -> ${target}`);
  }
  return bad;
}

describe('the module structure of src/', () => {
  const graph = importGraph(src);

  it('reads the imports it checks (sanity: the graph knows the known edges)', () => {
    assert.ok(graph.size > 50, `${graph.size} modules found`);
    const server = graph.get(path.join('server', 'server.ts'))!.map((e) => e.target);
    assert.ok(server.includes(path.join('processor', 'processor-supervisor.ts')), 'server.ts imports the processor supervisor');
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = 1;\n");
    fs.writeFileSync(path.join(dir, 'b.ts'), "import type {\n  A,\n} from './a.js';\nexport const b = 2;\n");
    fs.writeFileSync(path.join(dir, 'c.ts'), "import { a } from './a.js';\n");
    assert.deepEqual(findCycles(importGraph(dir)), ['a.ts -> b.ts -> a.ts']);
  });

  it('has no import cycles', () => {
    assert.deepEqual(findCycles(graph), []);
  });

  it('imports only downward: store/ never reaches up into services, search, pipeline or server', () => {
    const upward: string[] = [];
    for (const [file, edges] of graph) {
      const banned = FORBIDDEN[folder(file)] ?? [];
      for (const { target } of edges) if (banned.includes(folder(target))) upward.push(`${file} -> ${target}`);
    }
    assert.deepEqual(upward, []);
  });

  it('gives every folder a layer, and every import stays within what its layer may use', () => {
    const folders = new Set([...graph.keys()].filter((f) => f.includes(path.sep)).map(folder));
    assert.deepEqual(
      [...folders].filter((f) => !(f in ALLOWED)),
      [],
      'a folder without a layer in ALLOWED',
    );
    assert.deepEqual(layerViolations(graph), []);
  });

  it('the layer check fails on an upward import (store -> services) and a sideways one (client -> server)', () => {
    const fake = new Map([
      [path.join('store', 'x.ts'), [{ target: path.join('services', 'y.ts') }]],
      [path.join('client', 'x.ts'), [{ target: path.join('server', 'y.ts') }, { target: path.join('cli', 'usage-error.ts') }]],
    ]);
    assert.deepEqual(layerViolations(fake), [
      `${path.join('store', 'x.ts')} -> ${path.join('services', 'y.ts')}`,
      `${path.join('client', 'x.ts')} -> ${path.join('server', 'y.ts')}`,
    ]);
  });

  it('opens a concrete store (store/sqlite, store/postgres) only inside src/store: everyone else goes through open-store.ts and the ports', () => {
    assert.deepEqual(concreteStoreImports(graph), []);
    assert.deepEqual(concreteStoreImports(new Map([[path.join('server', 'x.ts'), [{ target: path.join('store', 'sqlite', 'database.ts') }]]])), [
      `${path.join('server', 'x.ts')} -> ${path.join('store', 'sqlite', 'database.ts')}`,
    ]);
  });

  it('keeps SQL inside store/: no other module prepares statements or opens better-sqlite3', () => {
    const offenders: string[] = [];
    for (const file of graph.keys()) {
      if (folder(file) === 'store') continue;
      const text = fs.readFileSync(path.join(src, file), 'utf8');
      if (/\.(prepare|pragma|exec)\(\s*[`'"]|from 'better-sqlite3-multiple-ciphers'|`\s*(SELECT|INSERT|UPDATE|DELETE)\s/.test(text)) offenders.push(file);
    }
    assert.deepEqual(offenders, []);
  });

  it('the web UI takes nothing but types from outside src/web (no server code or TypeBox in the browser bundle)', () => {
    const leaks: string[] = [];
    for (const [file, edges] of graph) {
      if (folder(file) !== 'web') continue;
      for (const edge of edges) if (folder(edge.target) !== 'web' && !edge.typeOnly) leaks.push(`${file} -> ${edge.target}`);
    }
    assert.deepEqual(leaks, []);
    const webTypes = [...graph.get(path.join('web', 'api.ts'))!].filter((e) => folder(e.target) === 'api');
    assert.ok(webTypes.length > 0, 'web/api.ts takes its response types from the contract');
  });
});
