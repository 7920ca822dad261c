#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the `prepare` script).
// CommonJS on purpose (bin/package.json): it runs before Node's ES module loader has used libuv's thread pool, so
// the pool's size can still be set here. Every upload in flight holds a pool thread in its fsync; with the default
// 4, the folder and WAL fsyncs (group-sync.ts) queued behind them and a durable 202 took several fsyncs' time.
process.env.UV_THREADPOOL_SIZE ??= '32';

import('../dist/cli.js')
  .then(({ main }) => main(process.argv.slice(2)))
  .then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err) => {
      console.error(`openrecall: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
