import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import type { BackgroundWork } from './lib/background.ts';
import type { Clock } from './lib/clock.ts';
import type { PrincipalCache } from './modules/auth/principal-cache.ts';
import type { TokenIssuer } from './modules/auth/tokens.ts';

/** What every module's routes and services are given: no globals anywhere. */
export interface AppContext {
  config: Config;
  db: Database;
  clock: Clock;
  tokens: TokenIssuer;
  principals: PrincipalCache;
  log: FastifyBaseLogger;
  background: BackgroundWork;
}
