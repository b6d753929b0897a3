import { Command } from 'commander';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
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
  if (config.roles.includes('worker')) running.push(startWorker(ctx));
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
