import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { buildApp, type App } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import type { Database } from './db/database.ts';
import { startMaintenance } from './db/maintenance.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import { aiFollowUpComposer } from './modules/ai/conversation.ts';
import { startInboundSmtp } from './modules/inbound/smtp.ts';
import { runImportCommand } from './modules/imports/cli.ts';
import { runSmsNumberCommand } from './modules/organizations/cli.ts';
import { startWorker } from './worker/worker.ts';

/** Something `start` runs beside (or instead of) the HTTP server, stopped on shutdown. */
interface Stoppable {
  stop(): Promise<void>;
}

/** `openlead import`'s exit code when it finished but refused some rows (1: it failed; 2: a bad setting). */
const IMPORT_REFUSED_ROWS = 3;

/** A failure while starting, already described in one line (`startup error: …`). */
class StartupError extends Error {}

/**
 * An error as one line: its message, or for an AggregateError (a connection to a host name
 * tried on several addresses, as `localhost` is) each inner error's message.
 */
function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return [...new Set(error.errors.map(describe))].join('; ');
  if (error instanceof Error) return error.message || String((error as { code?: unknown }).code ?? error.name);
  return String(error);
}

/** Runs one step of the start, naming it in the error when it fails. */
async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new StartupError(`${name}: ${describe(error)}`, { cause: error });
  }
}

/** Resolves true when `work` settles within `ms`, false when the time ran out first. */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function start(config: Config): Promise<void> {
  const running: Stoppable[] = [];
  let db: Database | undefined;
  let app: App | undefined;
  try {
    db = await step('database', () => openDatabase(config));
    // the first statement is the one that connects to a server
    await step('database', () => migrate(db!));
    app = await buildApp({ config, db });
    const { server, ctx } = app;
    // PGlite has no autovacuum: without this its tables only grow and are never analyzed
    if (db.kind === 'pglite' && config.pgliteMaintenanceSeconds > 0) running.push(startMaintenance(db, server.log, config.pgliteMaintenanceSeconds * 1000));
    // with a model configured, it writes the follow-ups whose step has no template of its own
    if (config.roles.includes('worker')) running.push(startWorker(ctx, config.openai ? { composer: aiFollowUpComposer(ctx) } : {}));
    if (config.roles.includes('inbound')) {
      const smtp = await step(`inbound SMTP listener on ${config.host}:${config.inboundSmtpPort}`, () =>
        startInboundSmtp(ctx, { host: config.host, port: config.inboundSmtpPort }),
      );
      running.push(smtp);
      server.log.info({ port: smtp.port }, 'inbound SMTP listening');
    }
    if (config.roles.includes('api')) {
      await step(`HTTP listener on ${config.host}:${config.port}`, () => server.listen({ host: config.host, port: config.port }));
    }
    server.log.info({ roles: config.roles, database: db.kind }, 'openlead started');
  } catch (error) {
    // close what already started (a listener, the worker, the database) before exiting
    const started = app;
    const opened = db;
    await within(config.shutdownTimeoutMs, Promise.allSettled([...running.map((service) => service.stop()), started?.server.close()]));
    if (opened) await within(2000, opened.close());
    throw error instanceof StartupError ? error : new StartupError(describe(error), { cause: error });
  }

  const { server } = app;
  const database = db;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const began = Date.now();
    // not ready from now on; the listener closes while the worker drains, not after it
    app.markShuttingDown();
    server.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    const drained = await within(
      config.shutdownTimeoutMs,
      Promise.allSettled([...running.map((service) => service.stop()), server.close()]),
    );
    if (!drained) {
      // Messages still `sending` are safe: their lease expires and a worker sends them again
      // with the same idempotency key, which the carrier dedupes.
      server.log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timeout: stopped waiting for work in flight');
      server.server.closeAllConnections();
    }
    const closed = await within(2000, database.close());
    server.log.info({ durationMs: Date.now() - began, drained, databaseClosed: closed }, 'shutdown finished');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('openlead').description('AI lead management and follow-up engine').version(version, '-V, --version', 'print the version and exit');

program
  .command('start')
  .description('run the service (api, worker and inbound in one process by default)')
  .option('--role <roles>', 'comma-separated roles to run: api, worker, inbound (default: all)')
  .action(async (options: { role?: string }) => {
    await start(loadConfig({ ...process.env, ...(options.role ? { ROLE: options.role } : {}) }));
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const db = await openDatabase(loadConfig());
    const applied = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    await db.close();
  });

program
  .command('import <file>')
  .description('import leads from a CSV file, routed through a lead-management configuration')
  .requiredOption('--configuration <id>', 'the configuration every row is routed through')
  .action(async (file: string, options: { configuration: string }) => {
    const config = { ...loadConfig(), logLevel: 'warn' };
    const db = await openDatabase(config);
    await migrate(db);
    const { server, ctx } = await buildApp({ config, db });
    try {
      const report = await runImportCommand(ctx, file, options.configuration, process.stderr);
      for (const { line, error } of report.errors.slice(0, 20)) console.log(`line ${line}: ${error}`);
      if (report.failed > 20) console.log(`… and ${report.failed - 20} more refused rows`);
      console.log(`imported ${report.rows} rows in ${(report.durationMs / 1000).toFixed(1)} s: ${report.created} created, ${report.updated} updated, ${report.failed} refused`);
      // a script importing files learns that some rows did not go in without reading the output
      if (report.failed > 0) process.exitCode = IMPORT_REFUSED_ROWS;
    } catch (error) {
      console.error(`import failed: ${(error as Error).message}`);
      process.exitCode = 1;
    } finally {
      await server.close();
      await db.close();
    }
  });

program
  .command('sms-number <organizationId> [number]')
  .description("give an organization its own sender number for texts and calls (E.164), take it back with --clear, or print it")
  .option('--clear', 'send from the shared TWILIO_FROM again')
  .action(async (organizationId: string, number: string | undefined, options: { clear?: boolean }) => {
    const config = loadConfig();
    const db = await openDatabase(config);
    try {
      await migrate(db);
      console.log(await runSmsNumberCommand(db, config, organizationId, number, options.clear === true));
    } finally {
      await db.close();
    }
  });

// A failure is one line on stderr, not a stack trace: 2 for a bad setting, 1 otherwise
// (LOG_LEVEL=debug or trace adds the stack).
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  console.error(error instanceof StartupError ? `startup error: ${error.message}` : `error: ${describe(error)}`);
  if (/^(debug|trace)$/i.test(process.env.LOG_LEVEL ?? '')) console.error((error as Error)?.stack);
  process.exit(1);
}
