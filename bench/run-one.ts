// Child-process entry of the report: imports one bench module, runs its `bench()` and writes the
// rows as JSON to a file (stdout stays the bench's own detail, kept as its log).
// Usage: node --import tsx bench/run-one.ts <bench file> <rows.json> [--quick]
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Bench } from './rows.js';

const [file, out] = process.argv.slice(2) as [string, string];
const mod = (await import(pathToFileURL(file).href)) as { bench?: Bench };
if (typeof mod.bench !== 'function') throw new Error(`${file} exports no bench()`);
const rows = await mod.bench({ quick: process.argv.includes('--quick') });
writeFileSync(out, JSON.stringify(rows));
