#!/usr/bin/env -S node --max-semi-space-size=4
// The flag (also in package.json's start script): a small young generation. An upload's body arrives in Buffers whose
// memory lies outside the JS heap; with the default young generation the server scavenged a few times a minute, the
// dead Buffers' memory piled up, and V8 ran a full collection about every second instead (up to 14 ms pauses and
// 20 ms marking steps, 42-49 in a 48 s ingest run). With 4 MB: 1 full collection, and 115 scavenges of 1.6 ms on average.
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
