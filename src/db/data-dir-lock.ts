import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const LOCK_FILE = 'openlead.pid';
/** Processes starting on one directory at the same moment each get a turn; then it gives up. */
const MAX_ATTEMPTS = 3;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerOf(file: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

const uniqueName = (file: string, kind: string) => `${file}.${kind}.${process.pid}.${randomBytes(4).toString('hex')}`;

/**
 * Drops a lock judged stale, unless it was replaced meanwhile: it is moved aside first (one
 * atomic step), and put back if what was moved is not the lock that was judged (a process
 * starting at the same moment may have taken the directory over already).
 */
async function dropStale(file: string, stalePid: number | undefined): Promise<void> {
  const aside = uniqueName(file, 'stale');
  try {
    await rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((await ownerOf(aside)) !== stalePid) await link(aside, file).catch(() => {});
  await unlink(aside).catch(() => {});
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
  const mine = uniqueName(file, 'new');
  await writeFile(mine, String(process.pid));
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await link(mine, file);
        return async () => {
          if ((await ownerOf(file)) === process.pid) await unlink(file).catch(() => {});
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await ownerOf(file);
      // our own pid is a previous life's (in a container the server is pid 1 every time)
      if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
        throw new Error(
          `the embedded database in ${directory} is in use by process ${owner}; stop it first, or run several processes on PostgreSQL (DATABASE_URL)`,
        );
      }
      await dropStale(file, owner);
    }
    throw new Error(`could not lock the embedded database in ${directory}: other processes are starting on it at the same time`);
  } finally {
    await unlink(mine).catch(() => {});
  }
}
