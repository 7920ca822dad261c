import fs from 'node:fs';
import path from 'node:path';

/** One relative import of a module: where it points and whether it is erased at compile time (`import type`). */
export interface ImportEdge {
  target: string;
  typeOnly: boolean;
  /** `import('./x.js')`: loaded when the code runs it, not with the importing module. */
  dynamic: boolean;
}

// `import … from './x.js'`, `export … from './x.js'`, `import './x.js'` and `import('./x.js')`; package imports are
// not followed. The `from` clause may span lines (multi-line import lists).
const STATIC = /^\s*(import|export)\s+(type\s+)?([^;]*?)\bfrom\s+'(\.{1,2}\/[^']+)'/gms;
const BARE = /^\s*import\s+'(\.{1,2}\/[^']+)'/gm;
const DYNAMIC = /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** `import { type A, type B }` is as erased as `import type { A, B }`. */
function allTypes(names: string): boolean {
  return (
    /^\{[^}]*\}\s*$/.test(names.trim()) &&
    names
      .replace(/[{}\s]/g, '')
      .split(',')
      .filter(Boolean)
      .every((n) => n.startsWith('type'))
  );
}

// The same forms naming a package (not `node:` built-ins); a dynamic `import('pkg')` is left out on purpose.
const PACKAGE = /^\s*(import|export)\s+(type\s+)?([^;]*?)\bfrom\s+'((?!\.|node:)[^']+)'|^\s*import\s+'((?!\.|node:)[^']+)'/gms;

/** The npm packages each .ts file under `root` loads with itself (static value imports), keyed like `importGraph`. */
export function packageImports(root: string): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  for (const file of listTs(root)) {
    const names: string[] = [];
    for (const m of fs.readFileSync(file, 'utf8').matchAll(PACKAGE)) {
      if (m[5]) names.push(packageName(m[5]));
      else if (!m[2] && !allTypes(m[3]!)) names.push(packageName(m[4]!));
    }
    packages.set(path.relative(root, file), names);
  }
  return packages;
}

/** `@scope/name/deep/path.js` -> `@scope/name`; `name/path` -> `name`. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function listTs(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** The import graph of every .ts file under `root`, keyed by path relative to `root`. */
export function importGraph(root: string): Map<string, ImportEdge[]> {
  const graph = new Map<string, ImportEdge[]>();
  for (const file of listTs(root)) {
    const source = fs.readFileSync(file, 'utf8');
    const resolve = (spec: string) => path.relative(root, path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    const edges: ImportEdge[] = [];
    for (const m of source.matchAll(STATIC)) {
      edges.push({ target: resolve(m[4]!), typeOnly: Boolean(m[2]) || allTypes(m[3]!), dynamic: false });
    }
    for (const m of source.matchAll(BARE)) edges.push({ target: resolve(m[1]!), typeOnly: false, dynamic: false });
    for (const m of source.matchAll(DYNAMIC)) edges.push({ target: resolve(m[1]!), typeOnly: false, dynamic: true });
    graph.set(path.relative(root, file), edges);
  }
  return graph;
}

/** Every import cycle (type imports included: they tie the modules together just the same), each as a path a -> … -> a. */
export function findCycles(graph: Map<string, ImportEdge[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const { target } of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}
