// Preloaded into the benchmarked server (NODE_OPTIONS=--import, as --trace-gc is not allowed there): one
// stderr line per V8 collection, "gc-pause <pid> <kind> <ms>", which bench/ingest.ts adds up.
import { constants, PerformanceObserver } from 'node:perf_hooks';

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    process.stderr.write(`gc-pause ${process.pid} ${KINDS[entry.detail?.kind] ?? 'other'} ${entry.duration.toFixed(3)}\n`);
  }
}).observe({ entryTypes: ['gc'] });
