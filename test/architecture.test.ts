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

  it('keeps SQL inside store/: no other module prepares statements or opens better-sqlite3', () => {
    const offenders: string[] = [];
    for (const file of graph.keys()) {
      if (folder(file) === 'store') continue;
      const text = fs.readFileSync(path.join(src, file), 'utf8');
      if (/\.(prepare|pragma|exec)\(\s*[`'"]|from 'better-sqlite3'|`\s*(SELECT|INSERT|UPDATE|DELETE)\s/.test(text)) offenders.push(file);
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
