import type { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import type { AppContext } from '../../context.ts';
import type { RoutingConfiguration } from '../lead-management/service.ts';
import { contactFromFields, type IncomingContact } from '../intake/contact.ts';
import { routeLeads } from '../intake/route.ts';

/** Rows routed per transaction: big enough to amortise round trips, small enough to keep locks short. */
export const IMPORT_BATCH_SIZE = 2000;
/** Batches written concurrently on a PostgreSQL server (PGlite has one connection). */
export const BATCHES_IN_FLIGHT = 3;
/** The longest row read, in characters; a longer one is refused (custom fields keep at most 64 KiB anyway). */
export const MAX_RECORD_CHARACTERS = 1 << 20;
/** Row errors listed in the report; the count goes on beyond it. */
export const MAX_REPORTED_ERRORS = 1000;

export interface ImportProgress {
  rows: number;
  created: number;
  updated: number;
  failed: number;
}

export interface ImportReport extends ImportProgress {
  /** per-row refusals: the file line and why (good rows are kept regardless) */
  errors: Array<{ line: number; error: string }>;
  durationMs: number;
}

/**
 * Streams a CSV (header row, any column order; known columns map onto the lead, the rest
 * become custom fields) through a configuration in batches. A bad row is reported and
 * skipped; good rows are kept.
 */
export async function importCsv(
  ctx: AppContext,
  configuration: RoutingConfiguration,
  input: Readable,
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportReport> {
  const started = performance.now();
  const report: ImportReport = { rows: 0, created: 0, updated: 0, failed: 0, errors: [], durationMs: 0 };
  const fail = (line: number, error: string) => {
    report.failed += 1;
    if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push({ line, error });
  };
  const parser = parse({
    columns: (header: string[]) => header.map((name) => name.trim()),
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    // a row is buffered whole before it is routed: past this it is refused, so an unclosed
    // quote in a huge file costs one buffer, not the file's size in memory
    max_record_size: MAX_RECORD_CHARACTERS,
    info: true,
  });
  let lastSkipped = { line: 0, code: '' };
  parser.on('skip', (error: CsvError) => {
    const line = Number(error.lines ?? 0);
    // an over-long row is refused once, not once per buffer of it
    if (line === lastSkipped.line && error.code === lastSkipped.code) return;
    lastSkipped = { line, code: error.code };
    report.rows += 1;
    fail(line, error.message);
  });

  const route = async (rows: Array<{ line: number; contact: IncomingContact }>) => {
    const outcomes = await routeLeads(ctx, configuration, rows.map((r) => r.contact), 'import', { useAi: false });
    outcomes.forEach((outcome, i) => {
      if (!outcome.ok) fail(rows[i].line, outcome.error.message);
      else if (outcome.result.created) report.created += 1;
      else report.updated += 1;
    });
    onProgress?.(report);
  };
  // On a server, parsing the next batches overlaps with writing the previous ones; a person
  // split across concurrent batches is settled by the dedupe key (the loser is re-routed).
  const maxInFlight = ctx.db.kind === 'postgres' ? BATCHES_IN_FLIGHT : 1;
  const inFlight = new Set<Promise<void>>();
  let batch: Array<{ line: number; contact: IncomingContact }> = [];
  const flush = () => {
    if (batch.length === 0) return;
    const routing: Promise<void> = route(batch).finally(() => inFlight.delete(routing));
    routing.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    inFlight.add(routing);
    batch = [];
  };

  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    report.rows += 1;
    batch.push({ line: info.lines, contact: contactFromFields(Object.entries(record)) });
    if (batch.length >= IMPORT_BATCH_SIZE) {
      flush();
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
  }
  flush();
  await Promise.all(inFlight);
  report.durationMs = Math.round(performance.now() - started);
  return report;
}
