import type { FastifyBaseLogger } from 'fastify';
import type { Database } from './database.ts';

/**
 * Vacuum and analyze for the embedded database. A PostgreSQL server runs autovacuum; PGlite
 * runs inside our process without it, so there every update's old row version stayed for
 * good (tables and indexes only grew, and each index scan stepped over more of them) and the
 * planner never had statistics (it planned the dispatcher's batch updates as full scans of
 * the table). The pass below does what autovacuum would, by its default thresholds.
 */

/** A table's activity counters (pg_stat_user_tables) and size estimate (pg_class). */
export interface TableCounters {
  /** schema-qualified and quoted, ready for a statement */
  table: string;
  /** pg_class.reltuples: -1 until the table is first vacuumed or analyzed */
  estimatedRows: number;
  deadRows: number;
  insertedSinceVacuum: number;
  modifiedSinceAnalyze: number;
  /** transactions since the table's oldest unfrozen row version */
  xidAge: number;
}

export interface MaintenanceDecision {
  vacuum: boolean;
  analyze: boolean;
}

// PostgreSQL's defaults: autovacuum_vacuum_threshold / _scale_factor, autovacuum_vacuum_insert_threshold
// / _scale_factor, autovacuum_analyze_threshold / _scale_factor, autovacuum_freeze_max_age
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;
const VACUUM_INSERT_THRESHOLD = 1000;
const VACUUM_INSERT_SCALE = 0.2;
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;
const FREEZE_MAX_AGE = 200_000_000;

/** Autovacuum's rule: what a table needs now, from its counters. */
export function maintenanceDue(counters: TableCounters): MaintenanceDecision {
  const rows = Math.max(counters.estimatedRows, 0);
  return {
    vacuum:
      counters.deadRows > VACUUM_THRESHOLD + VACUUM_SCALE * rows ||
      counters.insertedSinceVacuum > VACUUM_INSERT_THRESHOLD + VACUUM_INSERT_SCALE * rows ||
      counters.xidAge > FREEZE_MAX_AGE,
    analyze: counters.modifiedSinceAnalyze > ANALYZE_THRESHOLD + ANALYZE_SCALE * rows,
  };
}

export interface MaintainedTable extends MaintenanceDecision {
  table: string;
}

/**
 * One pass over the tables of the current schema: vacuums (and analyzes) or only analyzes
 * each table that is due, one statement per table. Answers what it did.
 */
export async function runMaintenancePass(db: Database): Promise<MaintainedTable[]> {
  const tables = await db.query<TableCounters>(
    `SELECT format('%I.%I', s.schemaname, s.relname) AS table, c.reltuples::float8 AS "estimatedRows",
            s.n_dead_tup::float8 AS "deadRows", s.n_ins_since_vacuum::float8 AS "insertedSinceVacuum",
            s.n_mod_since_analyze::float8 AS "modifiedSinceAnalyze", age(c.relfrozenxid)::float8 AS "xidAge"
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE s.schemaname = current_schema()
      ORDER BY s.relname`,
  );
  const maintained: MaintainedTable[] = [];
  for (const counters of tables) {
    const due = maintenanceDue(counters);
    if (due.vacuum) await db.query(`VACUUM (ANALYZE ${due.analyze ? 'true' : 'false'}) ${counters.table}`);
    else if (due.analyze) await db.query(`ANALYZE ${counters.table}`);
    else continue;
    maintained.push({ table: counters.table, ...due });
  }
  return maintained;
}

/**
 * Runs a pass every `intervalMs` until stopped; a pass in progress finishes first. A failed
 * pass is logged and the next one tries again.
 */
export function startMaintenance(db: Database, log: FastifyBaseLogger, intervalMs: number): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = () => {
    timer = setTimeout(() => {
      running = runMaintenancePass(db)
        .then((maintained) => {
          if (maintained.length > 0) log.info({ maintained }, 'database maintenance');
        })
        .catch((error: unknown) => log.error({ err: error }, 'database maintenance failed'))
        .finally(() => {
          if (!stopped) schedule();
        });
    }, intervalMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
