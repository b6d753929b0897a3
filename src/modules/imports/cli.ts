import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AppContext } from '../../context.ts';
import { isId } from '../../lib/ids.ts';
import { getActiveConfiguration } from '../lead-management/service.ts';
import { importCsv, type ImportProgress, type ImportReport } from './csv.ts';
import { organizationOfConfiguration } from './store.ts';

const BAR_WIDTH = 30;
const number = (n: number) => n.toLocaleString('en-US');

function progressLine(progress: ImportProgress, fraction: number, seconds: number): string {
  const filled = Math.round(Math.min(1, fraction) * BAR_WIDTH);
  const rate = seconds > 0 ? Math.round(progress.rows / seconds) : 0;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ` +
    `${number(progress.rows)} rows  created ${number(progress.created)}  updated ${number(progress.updated)}  ` +
    `failed ${number(progress.failed)}  ${number(rate)} rows/s`
  );
}

/**
 * `openlead import FILE.csv --configuration ID`: the same import as the API, with a progress
 * bar on stderr, redrawn in place on a terminal; into a file or a pipe only the final line is
 * written, since the carriage returns would leave every redraw glued together there.
 */
export async function runImportCommand(ctx: AppContext, file: string, configurationId: string, err: NodeJS.WriteStream): Promise<ImportReport> {
  const organizationId = isId(configurationId) ? await organizationOfConfiguration(ctx.db, configurationId) : undefined;
  const configuration = organizationId ? await getActiveConfiguration(ctx, organizationId, configurationId) : undefined;
  if (!configuration) throw new Error(`no active lead management configuration ${configurationId}`);
  const size = (await stat(file)).size;
  const input = createReadStream(file);
  let bytes = 0;
  input.on('data', (chunk) => (bytes += chunk.length));
  const started = performance.now();
  const line = (progress: ImportProgress) => progressLine(progress, size > 0 ? bytes / size : 1, (performance.now() - started) / 1000);
  const report = await importCsv(ctx, configuration, input, err.isTTY ? (progress) => err.write(`\r${line(progress)}`) : undefined);
  err.write(err.isTTY ? `\r${line(report)}\n` : `${line(report)}\n`);
  return report;
}
