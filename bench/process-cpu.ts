/**
 * CPU time used by a server's process tree (Linux /proc), so a benchmark can report
 * server CPU per operation beside throughput. Throughput on a shared machine moves with
 * other load; CPU per command barely does, so it compares two servers (or two builds)
 * more steadily. Children that exited and were reaped count through their parent's
 * cutime/cstime. Returns undefined where /proc is not available.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the command name may contain spaces
  } catch {
    return undefined;
  }
}

/** Seconds of CPU (user + system, reaped children included) of `root` and all its live descendants. */
export function treeCpuSeconds(root: number): number | undefined {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    const f = statFields(pid);
    if (!f) continue;
    const ppid = Number(f[1]); // fields after the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14)
    ticks.set(pid, Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  if (!ticks.has(root)) return undefined;
  let total = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop()!;
    total += ticks.get(pid) ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return total / TICKS_PER_SECOND;
}

/** CPU seconds of each thread of one process (its main thread has the process's id), by thread id. */
export function threadCpuSeconds(pid: number): Map<number, number> | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const out = new Map<number, number>();
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Summed treeCpuSeconds of several process trees (e.g. Postfix and Dovecot); undefined when any is unknown or unreadable. */
export function treesCpuSeconds(roots: readonly (number | undefined)[]): number | undefined {
  let sum = 0;
  for (const root of roots) {
    const s = root === undefined ? undefined : treeCpuSeconds(root);
    if (s === undefined) return undefined;
    sum += s;
  }
  return sum;
}

/** CPU milliseconds per item between two readings in seconds, to 2 decimals; undefined without both readings or any item. */
export function cpuMsPer(before: number | undefined, after: number | undefined, items: number): number | undefined {
  if (before === undefined || after === undefined || items === 0) return undefined;
  return Math.round(((after - before) * 1000 * 100) / items) / 100;
}
