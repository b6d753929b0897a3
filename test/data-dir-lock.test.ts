import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawnWorker, waitFor, type WorkerProcess } from './support/worker-processes.ts';

// every process here runs on the embedded database, whatever database the suite runs on
const embedded = (dataDir: string) => ({ DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', INBOUND_SMTP_PORT: '0', LOG_LEVEL: 'info' });

/** The process's exit code, or 'running' if it has not exited within 30 s. */
async function exitCode(process: WorkerProcess): Promise<number | null | 'running'> {
  if (process.child.exitCode !== null) return process.child.exitCode;
  let timer: NodeJS.Timeout | undefined;
  const exit = new Promise<number | null>((resolve) => process.child.once('exit', (code) => resolve(code)));
  const timeout = new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), 30_000)));
  try {
    return await Promise.race([exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the embedded database belongs to one process', () => {
  let dataDir: string;
  const started: WorkerProcess[] = [];
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'openlead-lock-'));
  });
  after(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a second process on the same DATA_DIR refuses to start and names the owner; the owner is untouched', async () => {
    const first = spawnWorker(embedded(dataDir), 'api');
    started.push(first);
    assert.ok(await waitFor(async () => first.output().includes('openlead started'), 60_000, 100), first.output());

    const second = spawnWorker(embedded(dataDir), 'api');
    started.push(second);
    const code = await exitCode(second);
    assert.ok(code !== 'running' && code !== 0, `the second process exited with ${code}`);
    assert.match(second.output(), new RegExp(`in use by process ${first.child.pid}`));
    assert.equal(first.child.exitCode, null, 'the owner still runs');

    await first.stop();
    assert.equal(existsSync(path.join(dataDir, 'openlead.pid')), false, 'a clean stop releases the lock');
    const third = spawnWorker(embedded(dataDir), 'api');
    started.push(third);
    assert.ok(await waitFor(async () => third.output().includes('openlead started'), 60_000, 100), third.output());
    await third.stop();
  });

  test('processes starting on one directory at the same instant: exactly one takes it, fresh or over a stale lock', async () => {
    const tryAtOnce = async (directory: string) => {
      // all up before the instant, and each holds what it gets well past it, so one at a time
      // would show as one winner and the rest refused, never as two winners
      const startAt = Date.now() + 2_000;
      const outputs = await Promise.all(
        Array.from({ length: 4 }, () => {
          const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/lock-data-dir.ts', directory, String(startAt), '2500']);
          let output = '';
          child.stdout.on('data', (chunk) => (output += chunk));
          return new Promise<string>((resolve) => child.once('exit', () => resolve(output)));
        }),
      );
      return outputs.filter((output) => output.startsWith('GOT')).length;
    };
    for (let round = 0; round < 3; round++) {
      const directory = await mkdtemp(path.join(tmpdir(), 'openlead-lock-race-'));
      try {
        assert.equal(await tryAtOnce(directory), 1, `round ${round}, a fresh directory`);
        const gone = spawn(process.execPath, ['-e', '']);
        await new Promise((resolve) => gone.once('exit', resolve));
        await writeFile(path.join(directory, 'openlead.pid'), String(gone.pid));
        assert.equal(await tryAtOnce(directory), 1, `round ${round}, over a stale lock`);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    }
  });

  test('a lock left by a process that is gone (a crash) is taken over', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeFile(path.join(dataDir, 'openlead.pid'), String(gone.pid));
    const next = spawnWorker(embedded(dataDir), 'api');
    started.push(next);
    assert.ok(await waitFor(async () => next.output().includes('openlead started'), 60_000, 100), next.output());
    await next.stop();
  });

  test("a lock whose pid now belongs to another live process (pid reuse after a crash) is taken over; the owner's own is not", { skip: !existsSync('/proc/self/stat') }, async () => {
    // this test process stands in for the unrelated process that got the crashed owner's pid
    const stat = await readFile(`/proc/${process.pid}/stat`, 'utf8');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const lockFile = path.join(dataDir, 'openlead.pid');

    await writeFile(lockFile, `${process.pid} ${startTime}`);
    const refused = spawnWorker(embedded(dataDir), 'api');
    started.push(refused);
    const code = await exitCode(refused);
    assert.ok(code !== 'running' && code !== 0, `a lock naming a live process as it started is held: exited with ${code}`);
    assert.match(refused.output(), new RegExp(`in use by process ${process.pid}`));

    await writeFile(lockFile, `${process.pid} ${Number(startTime) - 1}`);
    const next = spawnWorker(embedded(dataDir), 'api');
    started.push(next);
    assert.ok(await waitFor(async () => next.output().includes('openlead started'), 60_000, 100), next.output());
    await next.stop();
  });
});
