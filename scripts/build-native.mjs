#!/usr/bin/env node
// Builds the SQLite extension native/openrecall_bm25.c (FTS5's bm25 with a capped count of each phrase's matches:
// issue 24) and native/openrecall_idset.c (sets of frame ids for filtered searches) into one library in dist/native/,
// against the SQLite headers better-sqlite3-multiple-ciphers is built with: sqlite3ext.h from its deps/sqlite3/, and
// fts5.h, which is not a file there but part of its amalgamation (sqlite3.c): it is cut out into dist/native/include/
// at each build (never committed).
// Without a C compiler (CC, else cc, gcc or clang) the build succeeds all the same, printing one line: the store then
// ranks with FTS5's own bm25 (src/store/sqlite/database.ts finds no extension file).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['openrecall_bm25.c', 'openrecall_idset.c'].map((file) => path.join(root, 'native', file));
const sqliteDir = path.join(root, 'node_modules', 'better-sqlite3-multiple-ciphers', 'deps', 'sqlite3');
const out = path.join(root, 'dist', 'native');
const include = path.join(out, 'include');
// The name src/store/sqlite/database.ts loads (bm25-extension.ts): one per platform's shared library suffix.
const suffix = process.platform === 'win32' ? 'dll' : process.platform === 'darwin' ? 'dylib' : 'so';
const target = path.join(out, `openrecall_bm25.${suffix}`);

const skip = (why) => {
  fs.rmSync(target, { force: true });
  console.log(`build-native: ${why}; keyword search ranks with FTS5's bm25 (every match counted)`);
  process.exit(0);
};

const compiler = [process.env.CC, 'cc', 'gcc', 'clang'].find((cc) => cc && spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0);
if (!compiler) skip('no C compiler (CC, cc, gcc, clang)');
if (!fs.existsSync(path.join(sqliteDir, 'sqlite3ext.h'))) skip(`no SQLite headers in ${sqliteDir}`);

// fts5.h: the lines between the amalgamation's markers (the first copy; the file holds it twice).
const amalgamation = fs.readFileSync(path.join(sqliteDir, 'sqlite3.c'), 'utf8');
const begin = amalgamation.indexOf('/******** Begin file fts5.h *********/');
const end = amalgamation.indexOf('/******** End of fts5.h *********/', begin);
if (begin < 0 || end < 0) skip('no fts5.h in the SQLite amalgamation');
fs.mkdirSync(include, { recursive: true });
fs.writeFileSync(path.join(include, 'fts5.h'), `${amalgamation.slice(begin, end)}\n`);

const args = ['-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-I', include, '-I', sqliteDir, '-o', `${target}.tmp`, ...sources];
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
else args.push('-lm');
const built = spawnSync(compiler, args, { stdio: ['ignore', 'inherit', 'inherit'] });
if (built.status !== 0) {
  fs.rmSync(`${target}.tmp`, { force: true });
  skip(`${compiler} failed (status ${built.status})`);
}
fs.renameSync(`${target}.tmp`, target);
