import { Command } from 'commander';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { startMaintenance } from './db/maintenance.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import { aiFollowUpComposer } from './modules/ai/conversation.ts';
import { startInboundSmtp } from './modules/inbound/smtp.ts';
import { runImportCommand } from './modules/imports/cli.ts';
import { startWorker } from './worker/worker.ts';

/** Something `start` runs beside (or instead of) the HTTP server, stopped on shutdown. */
interface Stoppable {
  stop(): Promise<void>;
}

async function start(config: Config): Promise<void> {
  const db = await openDatabase(config);
  await migrate(db);
  const { server, ctx } = await buildApp({ config, db });
  const running: Stoppable[] = [];
  // PGlite has no autovacuum: without this its tables only grow and are never analyzed
  if (db.kind === 'pglite' && config.pgliteMaintenanceSeconds > 0) running.push(startMaintenance(db, server.log, config.pgliteMaintenanceSeconds * 1000));
  // with a model configured, it writes the follow-ups whose step has no template of its own
  if (config.roles.includes('worker')) running.push(startWorker(ctx, config.openai ? { composer: aiFollowUpComposer(ctx) } : {}));
  if (config.roles.includes('inbound')) {
    const smtp = await startInboundSmtp(ctx, { host: config.host, port: config.inboundSmtpPort });
    running.push(smtp);
    server.log.info({ port: smtp.port }, 'inbound SMTP listening');
  }
  if (config.roles.includes('api')) {
    await server.listen({ host: config.host, port: config.port });
  }
  server.log.info({ roles: config.roles, database: db.kind }, 'openlead started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ signal }, 'shutting down');
    await Promise.allSettled(running.map((service) => service.stop()));
    await server.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

const program = new Command('openlead').description('AI lead management and follow-up engine');

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
    } catch (error) {
      console.error(`import failed: ${(error as Error).message}`);
      process.exitCode = 1;
    } finally {
      await server.close();
      await db.close();
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
