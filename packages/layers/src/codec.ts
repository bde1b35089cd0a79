import { type CodecOptions, fromStorable, toStorable } from '@prodprobe/sanitize';
import type { z } from 'zod';
import { LayersError } from './errors.js';
import { type LayerReport, layerReportSchema, type OnnxInspection, onnxInspectionSchema } from './schemas.js';

// The codec's default limits are sized for log lines; a report keeps whole tensors (base64 strings
// of megabytes) and stage outputs of any length, and a cut value would no longer load. Only the
// depth limit stays, so a deeply nested stage output cannot overflow the stack.
const unlimited = Number.MAX_SAFE_INTEGER;
const reportCodec: CodecOptions = {
  limits: { maxStringLength: unlimited, maxArrayLength: unlimited, maxKeys: unlimited, maxNodes: unlimited },
};

/**
 * Writes a report (an ONNX inspection or a pipeline `LayerReport`) as JSON that loads back exactly,
 * in the lossless storage encoding of `@prodprobe/sanitize` (`toStorable`), pretty-printed.
 * Plain JSON would turn NaN and Infinity into null, hiding the very failures a report is about;
 * here they and the other values JSON cannot hold are objects tagged with the key `"$pp"`:
 * `{ "$pp": "NaN" }`, `{ "$pp": "undefined" }`, `{ "$pp": "bigint", "v": "123" }`,
 * `{ "$pp": "Float32Array", "v": [...] }`, ...
 * @param indent spaces per level, `0` for one line. @default 2
 */
export function serializeReport(report: OnnxInspection | LayerReport, indent = 2): string {
  return JSON.stringify(toStorable(report, reportCodec), null, indent);
}

function zodMessage(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function parseText(json: string | unknown): unknown {
  if (typeof json !== 'string') return fromStorable(json);
  let tree: unknown;
  try {
    tree = JSON.parse(json);
  } catch (cause) {
    throw new LayersError('BAD_REPORT', `report is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return fromStorable(tree);
}

/**
 * Reads an ONNX inspection from JSON text (as written by {@link serializeReport}, or by
 * `prodprobe layers inspect --json`, whose non-finite numbers are strings) or from the tree
 * `JSON.parse` made of such text (tagged values are decoded in both cases).
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

/** Reads a pipeline `LayerReport` from JSON text written by {@link serializeReport} or the tree `JSON.parse` made of it. */
export function parseLayerReport(json: string | unknown): LayerReport {
  const result = layerReportSchema.safeParse(parseText(json));
  if (!result.success) {
    throw new LayersError('BAD_REPORT', `not a pipeline layer report: ${zodMessage(result.error)}`, {
      cause: result.error,
    });
  }
  return result.data;
}
