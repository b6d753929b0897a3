/**
 * Where a benchmark's CPU went, on Linux: user + system time from /proc of given processes,
 * of every PostgreSQL server process on the machine (backends and background processes,
 * so other databases' work on the same server counts too), and of this process. Without
 * /proc it answers nothing and the benchmark prints its rates alone.
 */
import { readdir, readFile } from 'node:fs/promises';

/** /proc reports in clock ticks; Linux fixes USER_HZ at 100 for userspace. */
const TICKS_PER_SECOND = 100;

interface ProcessTimes {
  name: string;
  seconds: number;
}

async function processTimes(pid: number | string): Promise<ProcessTimes | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (name) state ppid …": the name may hold spaces, so fields count from its ")"
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, close), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

async function postgresSeconds(): Promise<Map<string, number>> {
  const seconds = new Map<string, number>();
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
  for (const pid of pids) {
    const times = await processTimes(pid);
    if (times?.name === 'postgres') seconds.set(pid, times.seconds);
  }
  return seconds;
}

export interface CpuUse {
  /** CPU seconds of the watched processes together */
  watched: number;
  postgres: number;
  /** this process */
  self: number;
}

/**
 * Starts counting; the returned function answers the CPU seconds used since, or undefined
 * where /proc is missing. Watched processes must still run when it is called.
 */
export async function watchCpu(pids: number[]): Promise<() => Promise<CpuUse | undefined>> {
  if (!(await processTimes('self'))) return async () => undefined;
  const watchedAt = async () => (await Promise.all(pids.map(processTimes))).reduce((sum, times) => sum + (times?.seconds ?? 0), 0);
  const watchedBefore = await watchedAt();
  const postgresBefore = await postgresSeconds();
  const selfBefore = process.cpuUsage();
  return async () => {
    const self = process.cpuUsage(selfBefore);
    let postgres = 0;
    // a server process started meanwhile counts from zero; one that ended meanwhile is lost
    for (const [pid, seconds] of await postgresSeconds()) postgres += seconds - (postgresBefore.get(pid) ?? 0);
    return { watched: (await watchedAt()) - watchedBefore, postgres, self: (self.user + self.system) / 1e6 };
  };
}
