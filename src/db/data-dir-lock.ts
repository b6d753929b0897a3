import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

const LOCK_FILE = 'openlead.pid';

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

/**
 * Makes the embedded database in `directory` this process's alone. PGlite keeps the database
 * in its own memory and writes it back as it goes, so a second process on the same directory
 * (a second server, a worker, the CLI import) would silently lose one side's writes. The lock
 * file holds the owner's pid; a lock left by a process that is gone (a crash) is taken over.
 * Answers the release.
 */
export async function lockDataDir(directory: string): Promise<() => Promise<void>> {
  const file = path.join(directory, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        if ((await ownerOf(file)) === process.pid) await unlink(file).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await ownerOf(file);
      // our own pid is a previous life's (in a container the server is pid 1 every time)
      if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
        throw new Error(
          `the embedded database in ${directory} is in use by process ${owner}; stop it first, or run several processes on PostgreSQL (DATABASE_URL)`,
        );
      }
      // the owner is gone: take the lock over, once (another process may be doing the same)
      if (attempt > 0) throw new Error(`could not take over the stale lock ${file}`);
      await unlink(file).catch(() => {});
    }
  }
}
