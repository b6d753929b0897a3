/**
 * `npm run bench [name...]`: runs bench/<name>.bench.ts (all of them when no name is given),
 * one after the other. Each file's default export is an async function that prints its results.
 */
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const available = (await readdir(benchDir))
  .filter((file) => file.endsWith('.bench.ts'))
  .map((file) => file.slice(0, -'.bench.ts'.length))
  .sort();
const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}

for (const name of requested.length > 0 ? requested : available) {
  console.log(`\n== ${name}`);
  const bench = (await import(`./${name}.bench.ts`)) as { default: () => Promise<void> };
  await bench.default();
}
