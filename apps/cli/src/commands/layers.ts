import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  analyseModel,
  compareRuns,
  type FeedSpec,
  LayersError,
  type OnnxInspection,
  parseFeeds,
  parseOnnxInspection,
  type RunComparison,
  randomFeeds,
  serializeReport,
} from '@prodprobe/layers';
import { inspectOnnx } from '@prodprobe/layers/onnx';
import type { Command } from 'commander';
import { readText } from '../files.js';
import { CliError, colorEnabled, ExitCode, type Io, painter, printJson } from '../output.js';
import { type RegisterCommand, setExitCode } from '../program.js';
import { registerIsolate } from './layers-isolate.js';

interface FeedOptions {
  input?: string;
  randomInput?: boolean;
  seed?: string;
  shape?: string[];
}

const fmt = (v: number | null | undefined): string => {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(4).replace(/\.?0+$/, '');
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function wrap<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((error: unknown) => {
    if (error instanceof LayersError) throw new CliError(error.message, ExitCode.usage, { cause: error });
    throw error;
  });
}

function parseShapes(values: string[] | undefined): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const v of values ?? []) {
    const m = /^([^=]+)=(\d+(?:[x,]\d+)*)$/.exec(v);
    if (!m) throw new CliError(`--shape ${v}: expected <input>=<d1>x<d2>..., e.g. x=1x3x48x192`);
    shapes[m[1]!] = m[2]!.split(/[x,]/).map(Number);
  }
  return shapes;
}

async function loadFeeds(io: Io, modelPath: string, opts: FeedOptions): Promise<Record<string, FeedSpec>> {
  if (opts.input && opts.randomInput) throw new CliError('use either --input or --random-input, not both');
  if (opts.input) return parseFeeds(await readText(io, opts.input, '--input'));
  if (!opts.randomInput)
    throw new CliError(`${modelPath}: give the model's inputs with --input feeds.json or use --random-input`);
  const seed = opts.seed === undefined ? 0 : Number(opts.seed);
  if (!Number.isInteger(seed)) throw new CliError(`--seed ${opts.seed}: expected an integer`);
  const bytes = await readFile(resolve(io.cwd, modelPath)).catch((cause: unknown) => {
    throw new CliError(`cannot read model ${modelPath}: ${(cause as Error).message}`, ExitCode.usage, {
      cause,
    });
  });
  return randomFeeds(analyseModel(bytes).inputs, { seed, shapes: parseShapes(opts.shape) });
}

function inspectionText(io: Io, report: OnnxInspection): string {
  const paint = painter(colorEnabled(io.stdout, io.env));
  const first = report.firstNonFinite;
  const rows: string[][] = [
    [
      '#',
      'node',
      'op',
      'output',
      'dtype',
      'shape',
      'min',
      'max',
      'mean',
      'std',
      'NaN',
      '+Inf',
      '-Inf',
      'zeros',
    ],
  ];
  const marks: (string | null)[] = [null];
  for (const node of report.nodes) {
    for (const o of node.outputs) {
      const s = o.stats;
      rows.push([
        String(node.index),
        node.name,
        node.opType,
        o.name,
        o.dtype,
        `[${o.shape.join(',')}]`,
        fmt(s?.min),
        fmt(s?.max),
        fmt(s?.mean),
        fmt(s?.std),
        String(s?.nan ?? '-'),
        String(s?.posInf ?? '-'),
        String(s?.negInf ?? '-'),
        String(s?.zero ?? '-'),
      ]);
      const bad = s !== null && s.nan + s.posInf + s.negInf > 0;
      marks.push(first && first.node === node.name && first.output === o.name ? 'first' : bad ? 'bad' : null);
    }
  }
  const lines = table(rows)
    .split('\n')
    .map((line, i) =>
      marks[i] === 'first'
        ? paint('red', `${line}  <- first non-finite`)
        : marks[i] === 'bad'
          ? paint('yellow', line)
          : i === 0
            ? paint('bold', line)
            : line,
    );
  const out = [
    `model ${report.model.path ?? '(bytes)'}  sha256 ${report.model.sha256.slice(0, 12)}`,
    ...lines,
    '',
  ];
  if (first) {
    out.push(paint('red', `first non-finite: node ${first.node} (${first.opType}) output ${first.output}`));
    for (const i of first.inputs) {
      const s = i.stats;
      out.push(
        `  input  ${i.name}: ${i.health}${s ? ` min=${fmt(s.min)} max=${fmt(s.max)} zeros=${s.zero}` : ''}`,
      );
    }
    for (const o of first.outputs) {
      const s = o.stats;
      out.push(
        `  output ${o.name}: ${o.health}${s ? ` NaN=${s.nan} +Inf=${s.posInf} -Inf=${s.negInf}` : ''}`,
      );
    }
  } else out.push(paint('green', 'no node produced NaN or Inf from finite inputs'));
  if (report.notInspected.length > 0) {
    const byReason = new Map<string, number>();
    for (const n of report.notInspected) byReason.set(n.reason, (byReason.get(n.reason) ?? 0) + 1);
    out.push(
      `not inspected: ${[...byReason].map(([r, n]) => `${n} ${r}`).join(', ')} (see --json for the list)`,
    );
  }
  out.push(`observer effect: ${report.observerEffect.note}`);
  return `${out.join('\n')}\n`;
}

function comparisonText(io: Io, cmp: RunComparison): string {
  const paint = painter(colorEnabled(io.stdout, io.env));
  const rows: string[][] = [
    ['node', 'op', 'output', 'basis', 'status', 'max abs err', 'max rel err', 'min tol to pass'],
  ];
  const marks: boolean[] = [false];
  for (const node of cmp.nodes) {
    for (const o of node.outputs) {
      rows.push([
        node.node,
        node.opType,
        o.name,
        o.basis,
        o.status,
        fmt(o.maxAbsError),
        fmt(o.maxRelError),
        fmt(o.minPassingTolerance),
      ]);
      marks.push(cmp.firstDivergence?.node === node.node && cmp.firstDivergence.output === o.name);
    }
  }
  const lines = table(rows)
    .split('\n')
    .map((l, i) => (marks[i] ? paint('red', `${l}  <- first divergence`) : i === 0 ? paint('bold', l) : l));
  const d = cmp.firstDivergence;
  lines.push(
    '',
    d
      ? paint(
          'red',
          `first divergence: node ${d.node} (${d.opType}) output ${d.output}: ${d.status}, max abs ${fmt(d.maxAbsError)}, max rel ${fmt(d.maxRelError)} (rtol=${cmp.rtol}, atol=${cmp.atol})`,
        )
      : paint('green', `all compared outputs within rtol=${cmp.rtol}, atol=${cmp.atol}`),
  );
  if (cmp.statsOnly > 0)
    lines.push(
      `${cmp.statsOnly} outputs compared on stats only (a report without tensors; use --keep-tensors)`,
    );
  if (cmp.missing.length > 0) lines.push(`${cmp.missing.length} outputs of a are missing in b`);
  return `${lines.join('\n')}\n`;
}

function parseTol(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0)) throw new CliError(`--${name} ${v}: expected a number >= 0`);
  return n;
}

/** `prodprobe layers isolate|inspect|compare`: stage isolation, node-by-node ONNX inspection and comparison. */
export const registerLayers: RegisterCommand = (program, io) => {
  const layers = program
    .command('layers')
    .description(
      'find the pipeline stage that fails (isolate), the ONNX node where NaN/Inf start (inspect), or where two runs diverge (compare)',
    );
  registerIsolate(layers, io);

  layers
    .command('inspect')
    .description(
      'run an ONNX model with every intermediate output exposed; exit 1 when a node produced NaN/Inf',
    )
    .argument('<model>', 'model.onnx')
    .option('--input <feeds.json>', 'feeds: { "<input>": { "dims": [..], "data": [..], "type": "float32" } }')
    .option('--random-input', 'feed random values (uniform [0,1) floats, ints 0..9)')
    .option('--seed <n>', 'seed for --random-input', '0')
    .option('--shape <input=dims...>', 'shape for a symbolic input with --random-input, e.g. x=1x3x48x192')
    .option('--batch-size <n>', 'most intermediate outputs per run (bounds memory)')
    .option('--keep-tensors', 'keep full tensors in the saved report (for element-wise compare)')
    .option('--save <report.json>', 'save the report (NaN/Infinity kept as tagged values)')
    .action(
      async (
        model: string,
        opts: FeedOptions & { batchSize?: string; keepTensors?: boolean; save?: string },
        command: Command,
      ) => {
        const json = Boolean(command.optsWithGlobals().json);
        const batchSize = opts.batchSize === undefined ? undefined : Number(opts.batchSize);
        const report = await wrap(async () => {
          const feeds = await loadFeeds(io, model, opts);
          return inspectOnnx(resolve(io.cwd, model), feeds, {
            ...(batchSize === undefined ? {} : { batchSize }),
            keepTensors: opts.keepTensors ?? false,
            // A model split into several parts shows progress, on a TTY only and never with --json.
            onProgress: (done, total) => {
              if (total > 1 && io.stderr.isTTY === true && !json)
                io.stderr.write(`\rinspected part ${done}/${total}${done === total ? '\n' : ''}`);
            },
          });
        });
        report.model.path = model;
        if (opts.save) {
          await writeFile(resolve(io.cwd, opts.save), serializeReport(report));
          io.stderr.write(`saved report to ${opts.save}\n`);
        }
        if (json) printJson(io, report);
        else io.stdout.write(inspectionText(io, report));
        if (report.firstNonFinite) setExitCode(command, ExitCode.finding);
      },
    );

  layers
    .command('compare')
    .description('compare two inspections node by node; exit 1 when a node diverges')
    .argument('<a>', 'a saved report (.json) or a model (.onnx)')
    .argument('<b>', 'a saved report (.json) or a model (.onnx)')
    .option('--input <feeds.json>', 'feeds for .onnx arguments')
    .option('--random-input', 'random feeds for .onnx arguments (same seed for both)')
    .option('--seed <n>', 'seed for --random-input', '0')
    .option('--shape <input=dims...>', 'shape for a symbolic input with --random-input')
    .option('--rtol <x>', 'relative tolerance', '1e-5')
    .option('--atol <x>', 'absolute tolerance', '1e-5')
    .option('--equal-nan', 'count NaN in both at the same place as equal')
    .action(
      async (
        a: string,
        b: string,
        opts: FeedOptions & { rtol?: string; atol?: string; equalNan?: boolean },
        command: Command,
      ) => {
        const json = Boolean(command.optsWithGlobals().json);
        const rtol = parseTol('rtol', opts.rtol);
        const atol = parseTol('atol', opts.atol);
        const load = async (file: string): Promise<OnnxInspection> => {
          if (file.endsWith('.json')) return parseOnnxInspection(await readText(io, file, 'report'));
          const feeds = await loadFeeds(io, file, opts);
          io.stderr.write(`inspecting ${file}\n`);
          return inspectOnnx(resolve(io.cwd, file), feeds, { keepTensors: true });
        };
        const cmp = await wrap(async () =>
          compareRuns(await load(a), await load(b), { rtol, atol, equalNan: opts.equalNan ?? false }),
        );
        if (json) printJson(io, cmp);
        else io.stdout.write(comparisonText(io, cmp));
        if (cmp.firstDivergence) setExitCode(command, ExitCode.finding);
      },
    );
};
