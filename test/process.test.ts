import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startFakeOpenAI } from './support/fake-openai.ts';
import { startFakeTwilio, type FakeTwilio } from './support/fake-twilio.ts';
import { freePort, waitFor, workerSchema, type WorkerSchema } from './support/worker-processes.ts';

// `openlead start` as its own process, the way a container or a unit file runs it: what a
// signal and a failed start do to it.

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const linux = process.platform === 'linux';

interface Started {
  child: ChildProcess;
  output(): string;
  /** resolves with the exit code (or signal) once the process has exited */
  exited: Promise<number | string>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

function launch(command: string, args: string[], env: Record<string, string>): Started {
  const base = { ...process.env };
  delete base.DATABASE_URL; // the embedded database in a DATA_DIR of its own, unless `env` says otherwise
  const child = spawn(command, args, { cwd: repoRoot, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => output,
    exited,
    waitForOutput: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        const gone = () => {
          cleanup();
          if (pattern.test(output)) resolve();
          else reject(new Error(`exited before ${pattern}; output:\n${output}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', gone);
        };
        waiters.add(check);
        child.once('exit', gone);
        check();
      }),
  };
}

/** A JSON POST to a started process, with a bearer token when given. */
async function postJson(url: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Every process below `pid` (Linux /proc), children first. */
function descendants(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(file)) return [];
  const children = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when nothing accepts a TCP connection on 127.0.0.1:`port`. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Where a started process keeps its data: a DATA_DIR of its own, or with DATABASE_URL a schema of its own. */
interface Storage {
  env: Record<string, string>;
  drop(): Promise<void>;
}

async function storage(): Promise<Storage> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'openlead-process-'));
  let schema: WorkerSchema | undefined;
  if (process.env.DATABASE_URL) schema = await workerSchema(process.env.DATABASE_URL, 2);
  return {
    env: { DATA_DIR: dataDir, ...(schema ? { DATABASE_URL: schema.databaseUrl } : {}) },
    drop: async () => {
      await schema?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function ports() {
  return { PORT: String(await freePort()), INBOUND_SMTP_PORT: String(await freePort()) };
}

const quiet = { LOG_LEVEL: 'info', JWT_SECRET: 'process-test-secret-of-thirty-two-chars', PGLITE_MAINTENANCE_SECONDS: '0', WORKER_POLL_MS: '50' };

describe('the service as a process', () => {
  let store: Storage;
  const leftovers: number[] = [];
  before(async () => {
    store = await storage();
  });
  after(async () => {
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await store.drop();
  });

  test('SIGTERM to `npm start` (the pid Docker and systemd signal) stops the server and frees its port', { skip: !linux && 'reads /proc', timeout: 60_000 }, async () => {
    const listen = await ports();
    const npm = launch('npm', ['start'], { ...quiet, ...store.env, ...listen });
    try {
      await npm.waitForOutput(/openlead started/);
      const below = descendants(npm.child.pid!);
      leftovers.push(...below);
      assert.ok(below.length > 0);
      npm.child.kill('SIGTERM');
      await Promise.race([npm.exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      const stopped = await waitFor(async () => below.every((pid) => !alive(pid)), 5_000, 100);
      assert.ok(stopped, `still running after SIGTERM to npm: ${below.filter(alive).join(', ')}\n${npm.output()}`);
      assert.ok(await refused(Number(listen.PORT)), 'the HTTP port is free');
      assert.match(npm.output(), /shutdown finished/);
      assert.equal(await npm.exited, 0);
    } finally {
      // whatever outlived npm would hold the port and the data directory for the next test
      for (const pid of [npm.child.pid!, ...leftovers]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  describe('shutting down while a carrier is slow', () => {
    let twilio: FakeTwilio;
    before(async () => {
      twilio = await startFakeTwilio();
    });
    after(() => twilio.close());

    test('/readyz answers 503 and new work is refused as soon as shutdown begins, and the drain is cut off at SHUTDOWN_TIMEOUT_MS', { timeout: 60_000 }, async () => {
      const listen = await ports();
      const port = Number(listen.PORT);
      const base = `http://127.0.0.1:${port}`;
      const server = launch(process.execPath, ['bin/openlead.mjs', 'start'], {
        ...quiet,
        ...store.env,
        ...listen,
        SHUTDOWN_TIMEOUT_MS: '1500',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: twilio.from,
        TWILIO_BASE_URL: twilio.baseUrl,
      });
      const release = twilio.hold();
      let socket: Socket | undefined;
      try {
        await server.waitForOutput(/openlead started/);
        const post = (url: string, body: unknown, token?: string) => postJson(base + url, body, token);
        const registered = await post('/api/auth/register', { email: 'ada@example.com', password: 'a long password', organizationName: 'Acme' });
        const token: string = registered.body.data.token;
        const lead = await post('/api/leads', { phone: '+14155550100', firstName: 'Ada' }, token);
        assert.equal(lead.status, 201);
        const message = await post(`/api/leads/${lead.body.data._id}/messages`, { content: 'Hello', channel: 'text', overrideBusinessHours: true, sendWhenOff: true }, token);
        assert.equal(message.status, 201);
        // the worker takes it and waits on the carrier, which holds every request
        const sending = await waitFor(async () => {
          const response = await fetch(`${base}/api/leads/${lead.body.data._id}/messages`, { headers: { authorization: `Bearer ${token}` } });
          return ((await response.json()) as any).data.some((m: any) => m.status === 'sending');
        }, 10_000, 50);
        assert.ok(sending, server.output());
        await new Promise((resolve) => setTimeout(resolve, 200));

        // a request in flight on an open connection when the signal comes: its body is not all sent yet
        const body = JSON.stringify({ phone: '+14155550101', firstName: 'Grace' });
        socket = connect(port, '127.0.0.1');
        let answers = '';
        socket.on('data', (chunk) => (answers += chunk.toString()));
        socket.on('error', () => {});
        await new Promise((resolve) => socket!.once('connect', resolve));
        socket.write(
          `POST /api/leads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 100));

        const signalled = Date.now();
        server.child.kill('SIGTERM');
        await server.waitForOutput(/shutting down/, 5_000);
        // no new connection is taken while the worker drains
        assert.ok(await waitFor(() => refused(port), 1_000, 20), `still accepting connections during the drain\n${server.output()}`);
        // the request in flight is answered; the next one on that connection, /readyz, is 503
        socket.write(`${body.slice(10)}GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        assert.ok(await waitFor(async () => (answers.match(/HTTP\/1\.1 \d{3} /g) ?? []).length >= 2 || socket!.destroyed, 3_000, 20), answers);
        const statuses = [...answers.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
        assert.deepEqual(statuses, [201, 503], answers);

        const code = await Promise.race([server.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
        const took = Date.now() - signalled;
        assert.equal(code, 0, server.output());
        assert.ok(took < 1500 + 3000, `took ${took} ms`);
        assert.match(server.output(), /shutdown timeout/);
        assert.match(server.output(), /shutdown finished/);
      } finally {
        socket?.destroy();
        release();
        if (alive(server.child.pid!)) server.child.kill('SIGKILL');
      }
    });
  });

  test('OPENAI_BASE_URL without OPENAI_API_KEY: the model at that endpoint (a local server) writes, and no key is sent', { timeout: 60_000 }, async () => {
    const model = await startFakeOpenAI();
    model.fallbackBehavior = { answer: 'Hello from the local model' };
    const listen = await ports();
    const base = `http://127.0.0.1:${listen.PORT}`;
    const server = launch(process.execPath, ['bin/openlead.mjs', 'start'], { ...quiet, ...store.env, ...listen, ROLE: 'api', OPENAI_API_KEY: '', OPENAI_BASE_URL: model.baseUrl });
    try {
      await server.waitForOutput(/openlead started/);
      const post = (url: string, body: unknown, token?: string) => postJson(base + url, body, token);
      const registered = await post('/api/auth/register', { email: 'grace@example.com', password: 'a long password', organizationName: 'Local AI' });
      const token: string = registered.body.data.token;
      const prompt = await post('/api/prompts', { name: 'Solar', content: 'You sell rooftop solar.' }, token);
      const answer = await post('/api/ai/playground', { promptId: prompt.body.data._id, message: 'Hi, how much?' }, token);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.data.reply, 'Hello from the local model');
      assert.equal(model.requests.length, 1);
      assert.deepEqual(model.authorizations, [undefined]);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await model.close();
    }
  });

  test('without JWT_SECRET a secret is generated once and kept: a token from one life of the service works in the next', { timeout: 90_000 }, async () => {
    const own = await storage();
    const listen = await ports();
    const base = `http://127.0.0.1:${listen.PORT}`;
    const start = () => launch(process.execPath, ['bin/openlead.mjs', 'start'], { ...quiet, ...own.env, ...listen, ROLE: 'api', JWT_SECRET: '' });
    const stop = async (server: ReturnType<typeof start>) => {
      server.child.kill('SIGTERM');
      await server.exited;
    };
    const me = (token: string) => fetch(`${base}/api/auth/verify-token`, { headers: { authorization: `Bearer ${token}` } }).then((response) => response.status);
    try {
      const first = start();
      let token: string;
      try {
        await first.waitForOutput(/openlead started/);
        const registered = await postJson(`${base}/api/auth/register`, { email: 'kept@example.com', password: 'a long password', organizationName: 'Kept' });
        token = registered.body.data.token;
        assert.equal(await me(token), 200);
      } finally {
        await stop(first);
      }
      const second = start();
      try {
        await second.waitForOutput(/openlead started/);
        assert.equal(await me(token), 200, 'the secret that signed the token is the one that checks it now');
      } finally {
        await stop(second);
      }
    } finally {
      await own.drop();
    }
  });

  test('`openlead import` lists refused rows and exits 3 when some were refused, 0 when none were', { timeout: 120_000 }, async () => {
    const own = await storage();
    const listen = await ports();
    const base = `http://127.0.0.1:${listen.PORT}`;
    const server = launch(process.execPath, ['bin/openlead.mjs', 'start'], { ...quiet, ...own.env, ...listen, ROLE: 'api' });
    const dir = mkdtempSync(path.join(tmpdir(), 'openlead-cli-import-'));
    try {
      let configurationId: string;
      try {
        await server.waitForOutput(/openlead started/);
        const token: string = (await postJson(`${base}/api/auth/register`, { email: 'cli@example.com', password: 'a long password', organizationName: 'Cli' })).body.data.token;
        const prompt = await postJson(`${base}/api/prompts`, { name: 'Solar', content: 'You sell rooftop solar.' }, token);
        const configuration = await postJson(`${base}/api/lead-management`, { configurationName: 'Csv', initialStage: 'New Lead', defaultProcess: prompt.body.data._id }, token);
        assert.equal(configuration.status, 201, JSON.stringify(configuration.body));
        configurationId = configuration.body.data._id;
      } finally {
        // the embedded database is one process's: the command runs once the server has stopped
        server.child.kill('SIGTERM');
        await server.exited;
      }
      const importFile = async (name: string, csv: string) => {
        writeFileSync(path.join(dir, name), csv);
        const command = launch(process.execPath, ['bin/openlead.mjs', 'import', path.join(dir, name), '--configuration', configurationId], { ...quiet, ...own.env });
        return { code: await command.exited, output: command.output() };
      };
      const partly = await importFile('partly.csv', 'phone,firstName\n+12125550301,Ann\n12,Bad\n');
      assert.equal(partly.code, 3, partly.output);
      assert.match(partly.output, /line 3: phone is not a valid phone number/);
      assert.match(partly.output, /1 created, 0 updated, 1 refused/);
      const clean = await importFile('clean.csv', 'phone,firstName\n+12125550302,Bo\n');
      assert.equal(clean.code, 0, clean.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await own.drop();
    }
  });

  describe('a start that fails prints one line and exits non-zero, closing what it had started', () => {
    const oneLine = (output: string) => output.trim().split('\n').filter((line) => !line.startsWith('{'));

    test('a bad setting: exit 2', { timeout: 30_000 }, async () => {
      const run = launch(process.execPath, ['bin/openlead.mjs', 'start'], { LOG_LEVEL: 'nonsense', DATA_DIR: store.env.DATA_DIR });
      assert.equal(await run.exited, 2);
      assert.deepEqual(oneLine(run.output()), ['configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "nonsense"']);
    });

    test('an unreachable PostgreSQL server: exit 1', { timeout: 30_000 }, async () => {
      const run = launch(process.execPath, ['bin/openlead.mjs', 'start'], { ...quiet, ...(await ports()), DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/none` });
      assert.equal(await run.exited, 1);
      assert.match(run.output().trim(), /^startup error: database: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    });

    test('the HTTP port in use, after the inbound SMTP listener started: exit 1', { timeout: 60_000 }, async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as { port: number }).port;
      try {
        const smtpPort = await freePort();
        const run = launch(process.execPath, ['bin/openlead.mjs', 'start'], { ...quiet, ...store.env, PORT: String(port), INBOUND_SMTP_PORT: String(smtpPort) });
        assert.equal(await run.exited, 1);
        assert.match(run.output(), /inbound SMTP listening/);
        assert.deepEqual(oneLine(run.output()), [`startup error: HTTP listener on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`]);
        assert.doesNotMatch(run.output(), /\n\s+at /);
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    });

    test('the inbound SMTP port in use: one line naming it, no logged stack, exit 1', { timeout: 60_000 }, async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as { port: number }).port;
      try {
        const run = launch(process.execPath, ['bin/openlead.mjs', 'start'], { ...quiet, ...store.env, PORT: String(await freePort()), INBOUND_SMTP_PORT: String(port) });
        assert.equal(await run.exited, 1);
        assert.deepEqual(oneLine(run.output()), [`startup error: inbound SMTP listener on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`]);
        assert.doesNotMatch(run.output(), /"stack"|\n\s+at /, 'no stack trace, logged or printed');
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    });
  });
});
