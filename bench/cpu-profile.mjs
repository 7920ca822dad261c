// Preloaded into the benchmarked server (NODE_OPTIONS=--import, as --cpu-prof is not allowed there) with
// CPU_PROFILE_DIR set: each SIGUSR2 starts V8's sampling profiler, the next one writes what it took to
// <dir>/<pid>-<n>.cpuprofile (open in Chrome DevTools, or sum it up with bench/cpu-profile-summary.mjs).
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: Number(process.env.CPU_PROFILE_INTERVAL_US ?? 250) });
  let running = false;
  let written = 0;
  process.on('SIGUSR2', async () => {
    if (!running) {
      running = true;
      await post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await post('Profiler.stop');
    const file = path.join(dir, `${process.pid}-${++written}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    process.stderr.write(`cpu-profile ${process.pid} ${file}\n`);
  });
}
