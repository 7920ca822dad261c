// Preload for finding what a process allocates on the V8 heap (collected objects included), e.g. the server
// under the ingest load:
//   NODE_OPTIONS="--import ./bench/heap-sampler.mjs" openrecall server    # sampling starts after HEAP_SAMPLER_DELAY_MS
//   kill -USR2 <server pid>                                               # writes HEAP_SAMPLER_OUT (top 25 sites)
// Each line: megabytes sampled, then the allocating frame and its three callers. The processor child, which
// inherits NODE_OPTIONS, is left alone.
import fs from 'node:fs';
import inspector from 'node:inspector';

const delay = Number(process.env.HEAP_SAMPLER_DELAY_MS ?? 10_000);
const out = process.env.HEAP_SAMPLER_OUT ?? 'heap-sampler.txt';

if (!process.argv[1]?.includes('processor-main')) {
  const session = new inspector.Session();
  session.connect();
  session.post('HeapProfiler.enable');
  const options = { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
  setTimeout(() => session.post('HeapProfiler.startSampling', options), delay).unref();
  process.on('SIGUSR2', () => {
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) return;
      const sites = new Map();
      const frame = (node) =>
        `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/.*node_modules\//, '')}:${node.callFrame.lineNumber + 1}`;
      const walk = (node, callers) => {
        const stack = [frame(node), ...callers];
        if (node.selfSize) {
          const key = stack.slice(0, 4).join(' <- ');
          sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
        }
        for (const child of node.children) walk(child, stack);
      };
      walk(result.profile.head, []);
      const total = [...sites.values()].reduce((a, b) => a + b, 0);
      const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25);
      const lines = [`total ${(total / 1e6).toFixed(1)} MB`, ...top.map(([site, bytes]) => `${(bytes / 1e6).toFixed(2)} MB  ${site}`)];
      fs.writeFileSync(out, `${lines.join('\n')}\n`);
    });
  });
}
