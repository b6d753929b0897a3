import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const LOCK_FILE = 'openlead.pid';
/** Processes starting on one directory at the same moment take turns this many times, then give up. */
const MAX_ATTEMPTS = 50;
const RETRY_MS = 20;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When a process started (Linux: ticks since boot, from /proc), so a lock can tell its owner
 * from an unrelated process that got the same pid after a crash; undefined where the system
 * does not say.
 */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Who a lock file names: a pid (0 when it holds none), with the owner's start time when known. */
interface LockOwner {
  pid: number;
  startTime?: string;
}

/** The owner a lock file names; undefined when there is no such file. */
async function ownerOf(file: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pidText, startTime] = text.trim().split(' ');
  const pid = Number.parseInt(pidText, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, startTime } : { pid: 0 };
}

const uniqueName = (file: string) => `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;

/** Creates `file` holding this process's pid, in one step; false when it exists. */
async function createHolding(file: string, mine: string): Promise<boolean> {
  try {
    await link(mine, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Whether a lock's owner is a live process other than this one: ours is a previous life's
 * (in a container the server is pid 1 every time), and so is a live process that started at
 * another time than the owner did.
 */
async function isHeld(owner: LockOwner): Promise<boolean> {
  if (owner.pid === 0 || owner.pid === process.pid || !isRunning(owner.pid)) return false;
  if (owner.startTime === undefined) return true;
  const running = await startTimeOf(owner.pid);
  return running === undefined || running === owner.startTime;
}

/**
 * Drops the lock if it is still stale, under a takeover guard (a second lock file): only the
 * guard's holder deletes the lock, after looking again, so a lock another process has just
 * taken is never deleted. A guard whose holder is gone (it died holding it) is dropped; one
 * that vanished was released, and a new one may already stand in its place.
 */
async function dropStale(file: string, mine: string): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createHolding(guard, mine))) {
    const holder = await ownerOf(guard);
    if (holder !== undefined && !(await isHeld(holder))) await unlink(guard).catch(() => {});
    return;
  }
  try {
    // gone meanwhile: someone may be taking the free place this instant, so leave it alone
    const owner = await ownerOf(file);
    if (owner !== undefined && !(await isHeld(owner))) await unlink(file).catch(() => {});
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/**
 * Makes the embedded database in `directory` this process's alone. PGlite keeps the database
 * in its own memory and writes it back as it goes, so a second process on the same directory
 * (a second server, a worker, the CLI import) would silently lose one side's writes. The lock
 * file holds the owner's pid and start time; a lock left by a process that is gone (a crash),
 * even one whose pid another process now has, is taken over.
 * Answers the release.
 */
export async function lockDataDir(directory: string): Promise<() => Promise<void>> {
  const file = path.join(directory, LOCK_FILE);
  // written aside and linked into place, so the lock never exists without its pid
  const mine = uniqueName(file);
  const startTime = await startTimeOf(process.pid);
  await writeFile(mine, startTime === undefined ? String(process.pid) : `${process.pid} ${startTime}`);
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await createHolding(file, mine)) {
        return async () => {
          if ((await ownerOf(file))?.pid === process.pid) await unlink(file).catch(() => {});
        };
      }
      const owner = await ownerOf(file);
      if (owner === undefined) continue; // released meanwhile: try again at once
      if (await isHeld(owner)) {
        throw new Error(
          `the embedded database in ${directory} is in use by process ${owner.pid}; stop it first, or run several processes on PostgreSQL (DATABASE_URL)`,
        );
      }
      await dropStale(file, mine);
      await new Promise((resolve) => setTimeout(resolve, attempt === 0 ? 0 : RETRY_MS));
    }
    throw new Error(`could not lock the embedded database in ${directory}: other processes are starting on it at the same time`);
  } finally {
    await unlink(mine).catch(() => {});
  }
}
