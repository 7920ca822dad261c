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
 * Files of src/ that may use node:fs on things outside the data dir (or the database, which SQLite encrypts), with
 * the reason. Every other module reads and writes files through the DataDir (src/files/data-dir.ts).
 */
const FILE_IO_ALLOWED: Record<string, string> = {
  'ai/builtin-embeddings.ts': 'reads the embedding model files (models/, shipped, not the memory)',
  'cli/doctor-command.ts': 'probes whether the data dir folder can be created and written, before anything is stored',
  'cli/export-command.ts': 'writes the export zip where the user asks, outside the data dir',
  'cli/import-command.ts': 'reads the folder or zip the user imports from, outside the data dir',
  'cli/import-export-zip.ts': 'reads the zip the user imports from, outside the data dir',
  'client/capture/kwin-window.ts': 'the KWin script it loads, in its own temporary folder (no screen content)',
  'client/capture/portal.ts': "the portal's screenshot file (its own temporary folder) and /proc",
  'encryption/key-record.ts': 'encryption.json: the wrapped data key, read before any key is known (it cannot be sealed)',
  'encryption/key-sources.ts': 'the key file the user names (OPENRECALL_ENCRYPTION_KEY_FILE), outside the data dir',
  'encryption/key-pipe.ts': "the processor child's key pipe (its fd 4, from its server): no file",
  'client/capture/window-info.ts': '/proc/<pid>/comm of the active window',
  'client/capture/wlroots.ts': '/proc/<pid>/comm of the active window',
  'client/capture/x11-connection.ts': 'the X11 authority file',
  'client/control.ts': 'the client-paused flag (a date, no screen content)',
  'client/heartbeat.ts': 'client-id and the applied settings revision (no screen content)',
  'pipeline/ocr/tesseract-js-engine.ts': 'OCR language models unpacked to a temporary folder',
  'server/compose.ts': 'the TLS certificate and key the user names',
  'store/encrypt-sqlite-file.ts': "`openrecall encrypt`: reads the database file's header (plain or not)",
  'store/repage-sqlite-file.ts': '`openrecall repage-db`: removes its copy when the copy fails its check',
  'store/database-file-copy.ts': '`openrecall encrypt` and `repage-db`: the database file replaced by its copy (fsync, rename, the old WAL removed)',
  'server/routes/web.ts': 'the built web UI assets (dist/web)',
  'version.ts': 'package.json',
};

/** Writes, removals and content reads through node:fs: the DataDir's job. */
const FILE_IO =
  /\b(?:fs|fsp|promises)\s*\.\s*(?:promises\s*\.\s*)?(writeFile|writeFileSync|createWriteStream|open|openSync|rename|renameSync|unlink|unlinkSync|rm|rmSync|rmdir|rmdirSync|copyFile|copyFileSync|cp|cpSync|appendFile|appendFileSync|truncate|truncateSync|ftruncate|ftruncateSync|write|writeSync|writev|writevSync|readFile|readFileSync|createReadStream|read|readSync)\s*\(|import\s*\{[^}]*\b(writeFile|createWriteStream|open|rename|unlink|rm|copyFile|appendFile|truncate|readFile|createReadStream)\b[^}]*\}\s*from\s*'(?:node:)?fs(?:\/promises)?'/;
/** The files/ helpers that bypass the cipher: only the DataDir (and the database's fsyncs) may use them. */
const RAW_FILE_HELPERS = /from '[./]*files\/(atomic-write|no-follow)\.js'/;
const RAW_HELPERS_ALLOWED: Record<string, string> = {
  'store/sqlite/database.ts': 'fsyncs the database folder',
  'store/sqlite/wal-sync.ts': 'fsyncs the WAL (SQLite encrypts it)',
  'store/database-file-copy.ts': "fsyncs the database folder after a copy (encrypted, or in 8 KB pages) takes the original's name",
  'client/control.ts': 'the client-paused flag (a date, no screen content)',
  'encryption/key-record.ts': 'writes encryption.json atomically and durably (wrapped keys only; cannot be sealed)',
  'encryption/key-sources.ts': 'creates the key file the user names, atomically and 0600',
  'services/data-files-service.ts': 'NotARegularFileError only (the type of a refused path)',
};

function fileIoViolations(files: Map<string, string>, allowed = { io: FILE_IO_ALLOWED, helpers: RAW_HELPERS_ALLOWED }): string[] {
  const violations: string[] = [];
  for (const [file, text] of files) {
    const posix = file.split(path.sep).join('/');
    if (posix.startsWith('files/')) continue;
    const match = FILE_IO.exec(text);
    if (match && !(posix in allowed.io)) violations.push(`${posix}: ${match[0].replace(/\s+/g, ' ').slice(0, 60)}`);
    if (RAW_FILE_HELPERS.test(text) && !(posix in allowed.helpers)) violations.push(`${posix}: ${RAW_FILE_HELPERS.exec(text)![0]}`);
  }
  return violations;
}

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
  client: ['api', 'files', 'images', 'encryption', 'api-client', 'cli/usage-error.ts'],
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

  it('reads and writes data-dir files only through the DataDir (src/files/): node:fs writes and reads elsewhere only on the allow-list', () => {
    const texts = new Map([...graph.keys()].map((file) => [file, fs.readFileSync(path.join(src, file), 'utf8')]));
    assert.deepEqual(fileIoViolations(texts), []);
    // The allow-list stays short: an entry whose file no longer needs it must go.
    const nothingAllowed = { io: {}, helpers: {} };
    const needed = (file: string) => fileIoViolations(new Map([[file, texts.get(path.join(...file.split('/'))) ?? '']]), nothingAllowed).length > 0;
    assert.deepEqual(
      Object.keys({ ...FILE_IO_ALLOWED, ...RAW_HELPERS_ALLOWED }).filter((file) => !needed(file)),
      [],
    );
  });

  it('the file check fails on a write, a removal, a stream or a read of a file outside src/files, and on a raw files/ helper', () => {
    const fake = new Map([
      [path.join('images', 'a.ts'), "import fs from 'node:fs';\nfs.writeFileSync(target, bytes);"],
      [path.join('services', 'b.ts'), "import fs from 'node:fs';\nawait fs.promises.rm(file, { force: true });"],
      [path.join('server', 'c.ts'), "import { createReadStream } from 'node:fs';\nreply.send(createReadStream(p));"],
      [path.join('retention', 'd.ts'), "import fs from 'fs';\nconst text = fs.readFileSync(p, 'utf8');"],
      [path.join('pipeline', 'e.ts'), "import { writeFileAtomic } from '../files/atomic-write.js';"],
      [path.join('files', 'f.ts'), "import fs from 'node:fs';\nfs.renameSync(a, b);"],
      [path.join('services', 'g.ts'), "import fs from 'node:fs';\nconst s = fs.statSync(p);"],
    ]);
    assert.deepEqual(fileIoViolations(fake), [
      'images/a.ts: fs.writeFileSync(',
      'services/b.ts: fs.promises.rm(',
      "server/c.ts: import { createReadStream } from 'node:fs'",
      'retention/d.ts: fs.readFileSync(',
      "pipeline/e.ts: from '../files/atomic-write.js'",
    ]);
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
