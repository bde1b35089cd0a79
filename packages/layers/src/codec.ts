import type { z } from 'zod';
import { LayersError } from './errors.js';
import { type LayerReport, layerReportSchema, type OnnxInspection, onnxInspectionSchema } from './schemas.js';

const typedArrays = {
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
} as const;

function encodeValue(this: unknown, key: string, value: unknown): unknown {
  // Read the raw value: JSON.stringify has already applied toJSON (Date) before calling the replacer.
  const raw = (this as Record<string, unknown>)[key];
  if (typeof raw === 'number' && !Number.isFinite(raw)) return { $number: String(raw) };
  if (Object.is(raw, -0)) return { $number: '-0' };
  if (raw === undefined) return { $undefined: true };
  if (typeof raw === 'bigint') return { $bigint: raw.toString() };
  if (raw instanceof Date) return { $date: Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString() };
  if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
    const name = raw.constructor.name;
    return { $typedArray: name, values: Array.from(raw as unknown as ArrayLike<number | bigint>) };
  }
  return value;
}

// A walk rather than a JSON.parse reviver: a reviver that returns undefined deletes the property,
// and `undefined` must stay distinct from missing.
function decodeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decodeValue(value[i]);
    return value;
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = decodeValue(o[k]);
  const keys = Object.keys(o);
  if (keys.length === 1) {
    if (typeof o.$number === 'string') return Number(o.$number);
    if (o.$undefined === true) return undefined;
    if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
    if (typeof o.$date === 'string') return new Date(o.$date === 'Invalid Date' ? Number.NaN : o.$date);
  }
  if (keys.length === 2 && typeof o.$typedArray === 'string' && Array.isArray(o.values)) {
    const ctor = typedArrays[o.$typedArray as keyof typeof typedArrays];
    if (ctor) return (ctor as unknown as { from(v: unknown[]): unknown }).from(o.values);
  }
  return value;
}

/**
 * Writes a report (an ONNX inspection or a pipeline `LayerReport`) as JSON that loads back exactly.
 * Plain JSON would turn NaN and Infinity into null, hiding the very failures a report is about, so
 * values JSON cannot hold are written as tagged objects: `{ "$number": "NaN" | "Infinity" | "-Infinity" | "-0" }`,
 * `{ "$undefined": true }`, `{ "$bigint": "123" }`, `{ "$date": "<ISO>" }` and
 * `{ "$typedArray": "Float32Array", "values": [...] }`.
 */
export function serializeReport(report: OnnxInspection | LayerReport, indent = 2): string {
  return JSON.stringify(report, encodeValue, indent);
}

function zodMessage(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function parseText(json: string | unknown): unknown {
  if (typeof json !== 'string') return json;
  try {
    return decodeValue(JSON.parse(json));
  } catch (cause) {
    throw new LayersError('BAD_REPORT', `report is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Reads an ONNX inspection from JSON text (as written by {@link serializeReport}, or by
 * `prodprobe layers inspect --json`, whose non-finite numbers are strings) or from a parsed object.
 * Throws `LayersError('BAD_REPORT')` naming the first fields that do not match.
 */
export function parseOnnxInspection(json: string | unknown): OnnxInspection {
  const result = onnxInspectionSchema.safeParse(parseText(json));
  if (!result.success) {
    throw new LayersError('BAD_REPORT', `not an ONNX inspection report: ${zodMessage(result.error)}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** Reads a pipeline `LayerReport` from JSON text written by {@link serializeReport} or a parsed object. */
export function parseLayerReport(json: string | unknown): LayerReport {
  const result = layerReportSchema.safeParse(parseText(json));
  if (!result.success) {
    throw new LayersError('BAD_REPORT', `not a pipeline layer report: ${zodMessage(result.error)}`, {
      cause: result.error,
    });
  }
  return result.data;
}
