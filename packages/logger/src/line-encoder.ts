import {
  encode,
  type FlatPolicy,
  inputHash,
  redactErrorText,
  type SanitizePolicyInput,
} from '@prodprobe/sanitize';
import { isoTime } from './iso-time.js';
import type { PredictionInput, SourceReadInput } from './logger.js';
import { LOG_SCHEMA_VERSION } from './schema.js';
import { inputStatsJsonOf, lastFusedStatsJson, sanitizedJsonWithStats } from './stats-json.js';

/** What the JSON line of an entry depends on besides the entry: plain data, so a worker thread gets the same lines. */
export interface LineSettings {
  modelVersion: string;
  host: string;
  pid: number;
  envFingerprint: string | undefined;
  includeInput: boolean;
  maxStatsFields: number;
  maxErrorMessageLength: number;
}

/** Why an entry was kept, as `keptBy` says it. */
export type KeptReason = 'error' | 'latency' | 'non-finite-output' | 'sample';

/** A sanitizer as the logger takes it (`createSanitizer`'s, or a look-alike with `sanitize` only). */
export interface LineSanitizer {
  sanitize(value: unknown): unknown;
  readonly flat?: FlatPolicy;
  /** What `serializeInWorker` builds the worker's sanitizer from. */
  readonly policy?: SanitizePolicyInput;
}

/** Writes the JSON line of a kept entry (with its `\n`). */
export interface LineEncoder {
  /** `,"samplingWeight":…,"keptBy":…` and the fixed tail: computed once per reason, passed to `line`. */
  keptJson(keptBy: KeptReason, weight: number): string;
  line(entry: PredictionInput, t: number, keptJson: string, memoryJson: string, failed: boolean): string;
}

/** `sanitizer.flat` as `createSanitizer` sets it (a look-alike from elsewhere takes the generic path). */
function isFlatPolicy(value: unknown): value is FlatPolicy {
  const p = value as FlatPolicy | undefined;
  return typeof p?.numberDigits === 'number' && p.fields instanceof Map;
}

function errorFields(error: unknown, maxLength: number): { name: string; message: string } {
  let name: string;
  let message: string;
  if (error instanceof Error) {
    name = error.name;
    message = error.message;
  } else if (error !== null && typeof error === 'object') {
    const e = error as { name?: unknown; message?: unknown };
    name = typeof e.name === 'string' ? e.name : 'Error';
    message = typeof e.message === 'string' ? e.message : encode(error);
  } else {
    name = typeof error === 'string' ? 'Error' : typeof error;
    message = typeof error === 'string' ? error : encode(error);
  }
  if (message.length > maxLength) message = message.slice(0, maxLength);
  // Messages often quote the input ("invalid email a@b.c"): free-text PII detectors run on them,
  // and long numbers (ids of every kind) go too.
  return { name, message: redactErrorText(message) };
}

function numberJson(n: number): string {
  return n - n === 0 && !Object.is(n, -0) ? String(n) : encode(n);
}

/** `{"<stage>":ms,...}`: finite times only (a stage time is never NaN; a bad value is left out, not guessed). */
function stagesJson(stages: Readonly<Record<string, number>>): string {
  let out = '';
  for (const name in stages) {
    const ms = stages[name];
    if (typeof ms !== 'number' || !Number.isFinite(ms)) continue;
    out += `${out ? ',' : ''}${JSON.stringify(name)}:${ms}`;
  }
  return `{${out}}`;
}

/** The sources read, with the fields the schema knows, each of its type (others are left out). */
function sourcesJson(sources: readonly SourceReadInput[]): string {
  const parts: string[] = [];
  for (const s of sources) {
    if (typeof s?.name !== 'string') continue;
    let part = `{"name":${JSON.stringify(s.name)}`;
    if (typeof s.stage === 'string') part += `,"stage":${JSON.stringify(s.stage)}`;
    if (typeof s.version === 'string') part += `,"version":${JSON.stringify(s.version)}`;
    if (typeof s.asOf === 'string') part += `,"asOf":${JSON.stringify(s.asOf)}`;
    if (typeof s.hit === 'boolean') part += `,"hit":${s.hit}`;
    if (typeof s.ms === 'number' && Number.isFinite(s.ms)) part += `,"ms":${s.ms}`;
    parts.push(`${part}}`);
  }
  return `[${parts.join(',')}]`;
}

/** The one writer of prediction lines, used by the logger and by its serialization worker. */
export function createLineEncoder(s: LineSettings, sanitizer: LineSanitizer): LineEncoder {
  // A flat policy (the default one included) is also written by a one-walk path (sanitize + stats
  // + encode together); anything else takes the generic path.
  const flat = isFlatPolicy(sanitizer.flat) ? sanitizer.flat : undefined;
  const { includeInput, maxStatsFields, maxErrorMessageLength } = s;
  // Fixed parts of every line, serialised once (fewer pieces to join on every line).
  const headJson = `{"schemaVersion":${LOG_SCHEMA_VERSION},"kind":"prediction","timestamp":"`;
  const modelHashJson = `,"modelVersion":${JSON.stringify(s.modelVersion)},"inputHash":"`;
  const tailJson =
    `,"host":${JSON.stringify(s.host)},"pid":${s.pid}` +
    (s.envFingerprint !== undefined ? `,"envFingerprint":${JSON.stringify(s.envFingerprint)}` : '');
  return {
    keptJson: (keptBy, weight) => `,"samplingWeight":${weight},"keptBy":"${keptBy}"${tailJson}`,
    line(entry, t, keptJson, memoryJson, failed) {
      const input = entry.input;
      let inputJson = flat ? sanitizedJsonWithStats(input, flat, maxStatsFields) : undefined;
      let statsJson: string;
      if (inputJson !== undefined) {
        statsJson = lastFusedStatsJson();
      } else {
        const cleanInput = sanitizer.sanitize(input);
        statsJson = inputStatsJsonOf(input, cleanInput, maxStatsFields);
        inputJson = includeInput ? encode(cleanInput) : '';
      }
      let line = `${headJson}${isoTime(t)}","requestId":${JSON.stringify(entry.requestId)}${modelHashJson}${inputHash(input)}","inputStats":${statsJson}`;
      if (includeInput) line += `,"input":${inputJson}`;
      if (failed) {
        line += `,"ok":false,"error":${JSON.stringify(errorFields(entry.error, maxErrorMessageLength))}`;
      } else {
        line += ',"ok":true';
        const output = entry.output;
        if (output !== undefined) {
          const outputJson = flat ? sanitizedJsonWithStats(output, flat) : undefined;
          line += `,"output":${outputJson ?? encode(sanitizer.sanitize(output))}`;
        }
      }
      if (typeof entry.latencyMs === 'number') line += `,"latencyMs":${numberJson(entry.latencyMs)}`;
      if (entry.stages !== undefined) line += `,"stages":${stagesJson(entry.stages)}`;
      if (entry.sources !== undefined && entry.sources.length > 0)
        line += `,"sources":${sourcesJson(entry.sources)}`;
      if (typeof entry.failedStage === 'string')
        line += `,"failedStage":${JSON.stringify(entry.failedStage)}`;
      line += keptJson + memoryJson;
      if (entry.metadata !== undefined) line += `,"metadata":${encode(entry.metadata)}`;
      return `${line}}\n`;
    },
  };
}
