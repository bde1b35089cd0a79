/**
 * Reads tabular data files (CSV/TSV, JSON array, JSONL/NDJSON, Parquet) with DuckDB and streams
 * them column-wise in chunks: numeric columns as Float64Array (plain arrays only when a chunk has
 * nulls), timestamps/dates as epoch milliseconds, everything else as strings or booleans.
 */
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBValue, type DuckDBVector } from '@duckdb/node-api';
import { CliError } from './output.js';

/** Formats the reader understands, by extension. */
export type DataFormat = 'csv' | 'json' | 'jsonl' | 'parquet';

/** One chunk of columns (same length each). */
export type ColumnChunk = Record<string, Float64Array | unknown[]>;

/** Detects the format from the file extension, or throws a CliError naming the file. */
export function dataFormat(path: string): DataFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new CliError(
    `${path}: unknown data file type "${ext}" (expected .csv, .tsv, .json, .jsonl, .ndjson or .parquet)`,
  );
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

function source(path: string, format: DataFormat): string {
  const p = sqlString(path);
  switch (format) {
    case 'csv':
      return `read_csv(${p}, auto_detect = true, sample_size = 20480)`;
    case 'json':
      return `read_json(${p}, format = 'array')`;
    case 'jsonl':
      return `read_json(${p}, format = 'newline_delimited')`;
    case 'parquet':
      return `read_parquet(${p})`;
  }
}

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*)$/;

/** Options of {@link readDataFile}. */
export interface ReadOptions {
  /** Rows to skip. */
  offset?: number;
  /** Maximum rows to read. */
  limit?: number;
  /** Called after each chunk with rows read so far and the total when known (Parquet). */
  onProgress?: (rowsRead: number, totalRows: number | undefined) => void;
}

/**
 * Streams a data file through `onChunk` (with the names of its date/timestamp columns, whose
 * values are epoch milliseconds); returns the number of rows read.
 */
export async function readDataFile(
  file: string,
  cwd: string,
  onChunk: (columns: ColumnChunk, rows: number, dates: readonly string[]) => void,
  options: ReadOptions = {},
): Promise<number> {
  const path = resolve(cwd, file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new CliError(`${file}: no such data file`);
  const format = dataFormat(path);
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    const from = source(path, format);
    let described: { name: string; type: string }[];
    try {
      const d = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`);
      described = d
        .getRowObjectsJS()
        .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    } catch (error) {
      throw new CliError(
        `${file}: cannot read as ${format}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        undefined,
        { cause: error },
      );
    }
    const kinds = described.map((c) =>
      NUMERIC.test(c.type)
        ? 'number'
        : TEMPORAL.test(c.type)
          ? 'number'
          : c.type === 'BOOLEAN'
            ? 'boolean'
            : c.type === 'VARCHAR'
              ? 'string'
              : 'other',
    );
    const dates = described.filter((c) => TEMPORAL.test(c.type)).map((c) => c.name);
    const select = described
      .map((c, i) => {
        const id = ident(c.name);
        if (TEMPORAL.test(c.type)) return `CAST(epoch_ms(CAST(${id} AS TIMESTAMP)) AS DOUBLE) AS ${id}`;
        if (kinds[i] === 'number') return `CAST(${id} AS DOUBLE) AS ${id}`;
        if (kinds[i] === 'other') return `CAST(${id} AS VARCHAR) AS ${id}`;
        return id;
      })
      .join(', ');
    let total: number | undefined;
    if (format === 'parquet' && options.onProgress) {
      const c = await conn.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM ${from}`);
      total = Number(c.getRowObjectsJS()[0]?.n);
      if (options.offset) total = Math.max(0, total - options.offset);
      if (options.limit !== undefined) total = Math.min(total, options.limit);
    }
    const limit =
      options.limit !== undefined
        ? ` LIMIT ${Math.floor(options.limit)}`
        : options.offset
          ? ' LIMIT 9223372036854775807'
          : '';
    const offset = options.offset ? ` OFFSET ${Math.floor(options.offset)}` : '';
    const result = await conn.stream(`SELECT ${select} FROM ${from}${limit}${offset}`);
    let read = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const columns: ColumnChunk = {};
      described.forEach((c, i) => {
        const vector = chunk.getColumnVector(i) as DuckDBVector<DuckDBValue>;
        if (kinds[i] === 'number') {
          const out = new Float64Array(n);
          let hasNull = false;
          for (let r = 0; r < n; r++) {
            const v = vector.getItem(r) as number | null;
            if (v === null) {
              hasNull = true;
              break;
            }
            out[r] = v;
          }
          columns[c.name] = hasNull
            ? Array.from({ length: n }, (_, r) => vector.getItem(r) as number | null)
            : out;
        } else {
          columns[c.name] = Array.from({ length: n }, (_, r) => vector.getItem(r));
        }
      });
      onChunk(columns, n, dates);
      read += n;
      options.onProgress?.(read, total);
    }
    return read;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
