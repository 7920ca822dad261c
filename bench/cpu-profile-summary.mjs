// Self time of .cpuprofile files (bench/cpu-profile.mjs) by function and by module, largest first.
//   node bench/cpu-profile-summary.mjs [--top 40] <file.cpuprofile>...
const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 40;
const byFunction = new Map();
const byModule = new Map();
/** Time with a module anywhere on the stack (each module counted once a sample). */
const underModule = new Map();
let total = 0;
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
const moduleOf = (url) => {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url;
};
for (const file of args) {
  const profile = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(file, 'utf8')));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id);
    total += us;
    const name = `${callFrame.functionName || '(anonymous)'} ${moduleOf(callFrame.url)}:${callFrame.lineNumber + 1}`;
    add(byFunction, name, us);
    add(byModule, callFrame.url ? moduleOf(callFrame.url) : callFrame.functionName, us);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const frame = nodes.get(at).callFrame;
      if (frame.url) seen.add(moduleOf(frame.url));
    }
    for (const m of seen) add(underModule, m, us);
  }
}
const print = (title, map) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
};
print('self time by module', byModule);
print('self time by function', byFunction);
print('time with the module on the stack', underModule);
