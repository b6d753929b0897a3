/**
 * A process that takes the DATA_DIR lock of `argv[2]` at the instant `argv[3]` (ms since the
 * epoch, so several processes try at once), prints GOT or REFUSED, and holds what it got for
 * `argv[4]` ms. For the lock's race tests.
 */
import { lockDataDir } from '../../src/db/data-dir-lock.ts';

const [directory, startAt, holdMs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
try {
  const release = await lockDataDir(directory);
  console.log('GOT');
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  await release();
} catch (error) {
  console.log('REFUSED', (error as Error).message);
}
