import fs from 'node:fs';

/** One occurrence of a needle: the mapping it is in (its /proc/<pid>/maps line) and where in it. */
export interface MemoryHit {
  needle: string;
  address: string;
  /** The mapping's /proc/<pid>/maps line: range, permissions, and its name ([heap], [stack], a file, or none). */
  mapping: string;
  /** Bytes from the mapping's start. */
  offset: number;
  /** The thread whose stack this mapping is, when it is one ([stack] is the main thread's). */
  thread?: number;
}

/**
 * Every occurrence of each needle in the writable memory of process `pid` (heap, stacks, anonymous mappings:
 * wherever a key could be), read through /proc/<pid>/mem as root can, piece by piece. Nothing in OpenRecall helps:
 * this is what an attacker with the machine's root account sees. (A gcore dump of the server took over two minutes
 * on this machine and stops the process meanwhile; reading the writable mappings directly takes seconds.)
 */
export function findInMemory(pid: number, needles: Record<string, Buffer>): MemoryHit[] {
  const hits: MemoryHit[] = [];
  const longest = Math.max(...Object.values(needles).map((n) => n.length));
  const stacks = threadStacks(pid);
  const fd = fs.openSync(`/proc/${pid}/mem`, 'r');
  const piece = Buffer.alloc(16 * 1024 * 1024 + longest);
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const match = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(line);
      if (!match || !match[3]!.startsWith('rw') || line.includes('[vvar') || line.includes('[vsyscall]')) continue;
      const start = parseInt(match[1]!, 16);
      const end = parseInt(match[2]!, 16);
      const thread = [...stacks].find(([, sp]) => sp >= start && sp < end)?.[0];
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
          for (let i = window.indexOf(needle); i !== -1; i = window.indexOf(needle, i + 1)) {
            if (!last && i >= piece.length - longest + 1) continue;
            const offset = at - start + i;
            hits.push({ needle: name, address: (at + i).toString(16), mapping: line.trim(), offset, ...(thread !== undefined ? { thread } : {}) });
          }
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return hits;
}

/** How many times each needle occurs in the writable memory of process `pid` (findInMemory, counted). */
export function occurrencesInMemory(pid: number, needles: Record<string, Buffer>): Record<string, number> {
  return countHits(needles, findInMemory(pid, needles));
}

export function countHits(needles: Record<string, Buffer>, hits: MemoryHit[]): Record<string, number> {
  const counts = Object.fromEntries(Object.keys(needles).map((name) => [name, 0]));
  for (const hit of hits) counts[hit.needle]!++;
  return counts;
}

/** Where each hit is, one line each: what a failed "no key left" assertion prints. */
export const describeHits = (hits: MemoryHit[]) =>
  hits
    .map((h) => `${h.needle} at 0x${h.address} (+0x${h.offset.toString(16)} in ${h.mapping}${h.thread !== undefined ? `, thread ${h.thread}` : ''})`)
    .join('\n');

/** Each thread's stack pointer (field 29 of /proc/<pid>/task/<tid>/stat; 0 where the kernel hides it). */
function threadStacks(pid: number): Map<number, number> {
  const stacks = new Map<number, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const sp = Number(fields[29 - 3]);
      if (sp > 0) stacks.set(Number(tid), sp);
    }
  } catch {
    // the process is gone, or its tasks are not readable: no thread names
  }
  return stacks;
}

export const canReadMemory = (() => {
  try {
    fs.closeSync(fs.openSync(`/proc/${process.pid}/mem`, 'r'));
    return process.platform === 'linux';
  } catch {
    return false;
  }
})();
