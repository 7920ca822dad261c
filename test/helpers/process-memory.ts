import fs from 'node:fs';

/**
 * How many times each needle occurs in the writable memory of process `pid` (heap, stacks, anonymous mappings:
 * wherever a key could be), read through /proc/<pid>/mem as root can, piece by piece. Nothing in OpenRecall helps:
 * this is what an attacker with the machine's root account sees. (A gcore dump of the server took over two minutes
 * on this machine and stops the process meanwhile; reading the writable mappings directly takes seconds.)
 */
export function occurrencesInMemory(pid: number, needles: Record<string, Buffer>): Record<string, number> {
  const counts = Object.fromEntries(Object.keys(needles).map((name) => [name, 0]));
  const longest = Math.max(...Object.values(needles).map((n) => n.length));
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  const piece = Buffer.alloc(16 * 1024 * 1024 + longest);
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const match = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(line);
      if (!match || !match[3]!.startsWith('rw') || line.includes('[vvar') || line.includes('[vsyscall]')) continue;
      const start = parseInt(match[1]!, 16);
      const end = parseInt(match[2]!, 16);
      // Pieces overlap by longest-1 bytes; a match is counted in the piece where it starts before the overlap.
      for (let at = start; at < end; at += piece.length - longest + 1) {
        let read: number;
        try {
          read = fs.readSync(fd, piece, 0, Math.min(piece.length, end - at), at);
        } catch {
          break; // an unreadable mapping (a guard page)
        }
        const window = piece.subarray(0, read);
        const last = at + piece.length - longest + 1 >= end;
        for (const [name, needle] of Object.entries(needles)) {
          for (let i = window.indexOf(needle); i !== -1; i = window.indexOf(needle, i + 1)) if (last || i < piece.length - longest + 1) counts[name]!++;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return counts;
}

export const canReadMemory = (() => {
  try {
    fs.closeSync(fs.openSync(`/proc/${process.pid}/mem`, 'r'));
    return process.platform === 'linux';
  } catch {
    return false;
  }
})();
