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

/** The pid a lock file holds: undefined when there is no such file, 0 when it holds none. */
async function ownerOf(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
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
 * Whether a lock file's pid is a live process other than this one: ours is a previous life's
 * (in a container the server is pid 1 every time).
 */
const isHeld = (owner: number) => owner > 0 && owner !== process.pid && isRunning(owner);

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
    if (holder !== undefined && !isHeld(holder)) await unlink(guard).catch(() => {});
    return;
  }
  try {
    // gone meanwhile: someone may be taking the free place this instant, so leave it alone
    const owner = await ownerOf(file);
    if (owner !== undefined && !isHeld(owner)) await unlink(file).catch(() => {});
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/**
 * Makes the embedded database in `directory` this process's alone. PGlite keeps the database
 * in its own memory and writes it back as it goes, so a second process on the same directory
 * (a second server, a worker, the CLI import) would silently lose one side's writes. The lock
 * file holds the owner's pid; a lock left by a process that is gone (a crash) is taken over.
 * Answers the release.
 */
export async function lockDataDir(directory: string): Promise<() => Promise<void>> {
  const file = path.join(directory, LOCK_FILE);
  // written aside and linked into place, so the lock never exists without its pid
  const mine = uniqueName(file);
  await writeFile(mine, String(process.pid));
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (await createHolding(file, mine)) {
        return async () => {
          if ((await ownerOf(file)) === process.pid) await unlink(file).catch(() => {});
        };
      }
      const owner = await ownerOf(file);
      if (owner === undefined) continue; // released meanwhile: try again at once
      if (isHeld(owner)) {
        throw new Error(
          `the embedded database in ${directory} is in use by process ${owner}; stop it first, or run several processes on PostgreSQL (DATABASE_URL)`,
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
