import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { importGraph, packageImports } from './helpers/import-graph.js';
import { repoRoot } from './helpers/server-process.js';

const src = path.join(repoRoot, 'src');
const graph = importGraph(src);
const packages = packageImports(src);

/** Every module loaded with `entry` (static value imports, followed), with the path that reaches it. */
function loadedWith(entry: string): Map<string, string> {
  const reached = new Map<string, string>([[entry, entry]]);
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const edge of graph.get(file) ?? []) {
      if (edge.typeOnly || edge.dynamic || reached.has(edge.target)) continue;
      reached.set(edge.target, `${reached.get(file)} -> ${edge.target}`);
      queue.push(edge.target);
    }
  }
  return reached;
}

/** The given packages and modules that loading `entry` brings in, each with the import path that does. */
function heavyLoads(entry: string, heavy: string[]): string[] {
  const found: string[] = [];
  for (const [file, via] of loadedWith(entry)) {
    if (heavy.includes(file)) found.push(via);
    for (const name of packages.get(file) ?? []) if (heavy.includes(name)) found.push(`${via} -> ${name}`);
  }
  return found;
}

// Each costs a spawned process 0.1 to 0.3 s of CPU to load (BENCHMARKS.md, "What a process loads").
const SCHEMAS = 'typebox';
const IMAGES = 'sharp';
const MCP = '@modelcontextprotocol/sdk';
const HTTP = 'fastify';
const CAPTURE = 'node-screenshots';
const OCR = 'tesseract.js';
const SQLITE = 'better-sqlite3-multiple-ciphers';

describe('what a process loads at its start', () => {
  it('the CLI entry (help, version, every command before it runs) loads no schema, image, HTTP or capture package', () => {
    assert.deepEqual(heavyLoads('cli.ts', [SCHEMAS, IMAGES, MCP, HTTP, CAPTURE, OCR, SQLITE]), []);
  });

  it('pause, resume and client status load no capture, image codec or schemas (they talk to the running client)', () => {
    assert.deepEqual(heavyLoads('client/cli.ts', [SCHEMAS, IMAGES, CAPTURE, HTTP, 'client/client.ts', 'images/codec.ts']), []);
  });

  it('status and the MCP relay load no schemas, images or MCP tools', () => {
    assert.deepEqual(heavyLoads('cli/status-command.ts', [SCHEMAS, IMAGES, HTTP]), []);
    assert.deepEqual(heavyLoads('cli/mcp-command.ts', [SCHEMAS, IMAGES, HTTP, 'mcp/tools.ts']), []);
  });

  it('a server start refused for its settings loads none of the server', () => {
    assert.deepEqual(heavyLoads('cli/server-command.ts', [HTTP, SCHEMAS, SQLITE, IMAGES, 'server/server.ts']), []);
    assert.deepEqual(heavyLoads('cli/worker-command.ts', ['server/server.ts', HTTP]), []);
  });

  it('the server loads its app while the processor starts, the locked app only when locked, MCP and sharp on use', () => {
    assert.deepEqual(heavyLoads('server/server.ts', ['server/compose.ts', 'server/locked-app.ts', HTTP, MCP, IMAGES]), []);
    assert.deepEqual(heavyLoads('server/compose.ts', [MCP, IMAGES, 'mcp/server.ts', 'mcp/tools.ts']), []);
  });

  it('the codec loads sharp at its first use', () => {
    assert.deepEqual(heavyLoads('images/codec.ts', [IMAGES]), []);
  });

  it('finds a heavy package and the import path that loads it', () => {
    assert.ok(heavyLoads('server/app.ts', [HTTP]).some((via) => via.startsWith('server/app.ts -> fastify')));
  });
});
