import { z } from 'zod';
import { LayersError } from './errors.js';
import type { ModelInput } from './onnx-graph.js';
import { type TensorDtype, typedArrayFor } from './tensor-stats.js';

/**
 * One input tensor as plain data: what a feeds JSON file holds, and what `inspectOnnx` accepts besides
 * onnxruntime tensors. `data` is flat, row-major.
 */
export interface FeedSpec {
  type: TensorDtype;
  dims: number[];
  data: ArrayLike<number | bigint | boolean | string> | ArrayBufferView;
}

const jsonNumber = z.union([
  z.number(),
  z.enum(['NaN', 'Infinity', '-Infinity', '+Infinity']).transform((s) => Number(s)),
  z.boolean(),
  z.string().regex(/^-?\d+$/, 'expected a number, "NaN", "Infinity" or "-Infinity"'),
]);

/** Schema of a feeds JSON file: `{ "<input name>": { "dims": [..], "data": [..], "type": "float32" } }`. */
export const feedsFileSchema = z.record(
  z.string(),
  z.object({
    type: z
      .enum([
        'float32',
        'float64',
        'float16',
        'int8',
        'uint8',
        'int16',
        'uint16',
        'int32',
        'uint32',
        'int64',
        'uint64',
        'bool',
        'string',
      ])
      .default('float32'),
    dims: z.array(z.number().int().nonnegative()),
    data: z.array(z.union([jsonNumber, z.string()])),
  }),
);

function castData(type: TensorDtype, data: unknown[], where: string): FeedSpec['data'] {
  if (type === 'string') return data.map(String);
  const ctor = typedArrayFor(type);
  if (!ctor) throw new LayersError('BAD_FEED', `${where}: unsupported dtype "${type}"`);
  if (type === 'int64' || type === 'uint64') {
    return (ctor as typeof BigInt64Array).from(
      data.map((v) => BigInt(typeof v === 'boolean' ? Number(v) : (v as number | string))),
    );
  }
  if (type === 'float16') {
    throw new LayersError('BAD_FEED', `${where}: float16 feeds from JSON are not supported; use float32`);
  }
  return (ctor as typeof Float64Array).from(data.map((v) => Number(v)));
}

/**
 * Parses a feeds JSON document (text or parsed) into {@link FeedSpec}s. Data entries may be the strings
 * `"NaN"`, `"Infinity"` and `"-Infinity"` (JSON has no such numbers) and int64 values may be strings.
 * Throws `LayersError('BAD_FEED')` naming the field that is wrong.
 */
export function parseFeeds(json: string | unknown): Record<string, FeedSpec> {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (cause) {
      throw new LayersError('BAD_FEED', `feeds are not valid JSON: ${(cause as Error).message}`, { cause });
    }
  }
  const result = feedsFileSchema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0]!;
    throw new LayersError(
      'BAD_FEED',
      `feeds: ${first.path.length ? first.path.join('.') : '(root)'}: ${first.message}` +
        ' (expected { "<input name>": { "dims": [..], "data": [..], "type": "float32" } })',
      { cause: result.error },
    );
  }
  const feeds: Record<string, FeedSpec> = {};
  for (const [name, f] of Object.entries(result.data)) {
    const size = f.dims.reduce((a, b) => a * b, 1);
    if (size !== f.data.length) {
      throw new LayersError(
        'BAD_FEED',
        `feeds.${name}.data has ${f.data.length} values but dims [${f.dims}] need ${size}`,
      );
    }
    feeds[name] = { type: f.type, dims: f.dims, data: castData(f.type, f.data, `feeds.${name}`) };
  }
  return feeds;
}

/** mulberry32: a tiny deterministic PRNG, so `--random-input --seed N` is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link randomFeeds}. */
export interface RandomFeedsOptions {
  /**
   * Seed of the generator.
   * @default 0
   */
  seed?: number;
  /** Shapes to use per input, needed where the model's dims are symbolic. */
  shapes?: Record<string, number[]>;
  /**
   * Size used for a symbolic or unknown dimension with no shape given.
   * @default 1
   */
  dynamicDim?: number;
}

/**
 * Random feeds for a model's inputs: floats uniform in [0, 1), integers in 0..9, booleans fair.
 * Symbolic dims take `shapes[name]` or `dynamicDim`.
 */
export function randomFeeds(
  inputs: ModelInput[],
  options: RandomFeedsOptions = {},
): Record<string, FeedSpec> {
  const random = prng(options.seed ?? 0);
  const feeds: Record<string, FeedSpec> = {};
  for (const input of inputs) {
    const given = options.shapes?.[input.name];
    const dims =
      given ?? (input.dims ?? []).map((d) => (typeof d === 'number' ? d : (options.dynamicDim ?? 1)));
    const size = dims.reduce((a, b) => a * b, 1);
    const type = input.dtype === 'unknown' || input.dtype === 'bfloat16' ? 'float32' : input.dtype;
    const values: (number | string)[] = [];
    for (let i = 0; i < size; i++) {
      const r = random();
      if (type === 'string') values.push(`s${Math.floor(r * 10)}`);
      else if (type === 'bool') values.push(r < 0.5 ? 0 : 1);
      else if (type.startsWith('float')) values.push(r);
      else values.push(Math.floor(r * 10));
    }
    feeds[input.name] = {
      type: type === 'float16' ? 'float32' : type,
      dims,
      data: castData(type === 'float16' ? 'float32' : type, values, `random feed ${input.name}`),
    };
  }
  return feeds;
}

/**
 * Checks feeds against the model's inputs before anything runs: unknown or missing names, wrong dtype,
 * wrong rank, or a fixed dimension of another size all throw `LayersError('BAD_FEED')`.
 */
export function checkFeeds(
  inputs: ModelInput[],
  feeds: Record<string, { type: string; dims: readonly number[] }>,
): void {
  const expected = inputs.map(
    (i) => `${i.name} (${i.dtype}[${(i.dims ?? []).map((d) => d ?? '?').join(',')}])`,
  );
  for (const name of Object.keys(feeds)) {
    if (!inputs.some((i) => i.name === name)) {
      throw new LayersError(
        'BAD_FEED',
        `feed "${name}" is not an input of the model; inputs are ${expected.join(', ')}`,
      );
    }
  }
  for (const input of inputs) {
    const feed = feeds[input.name];
    if (!feed) {
      throw new LayersError(
        'BAD_FEED',
        `missing feed for input "${input.name}"; inputs are ${expected.join(', ')}`,
      );
    }
    if (input.dtype !== 'unknown' && feed.type !== input.dtype) {
      throw new LayersError(
        'BAD_FEED',
        `feed "${input.name}" has dtype ${feed.type}, the model expects ${input.dtype}`,
      );
    }
    if (input.dims) {
      if (feed.dims.length !== input.dims.length) {
        throw new LayersError(
          'BAD_FEED',
          `feed "${input.name}" has rank ${feed.dims.length} (dims [${feed.dims}]), the model expects rank ${input.dims.length} ([${input.dims.map((d) => d ?? '?')}])`,
        );
      }
      input.dims.forEach((d, axis) => {
        if (typeof d === 'number' && feed.dims[axis] !== d) {
          throw new LayersError(
            'BAD_FEED',
            `feed "${input.name}" has size ${feed.dims[axis]} on axis ${axis}, the model expects ${d}`,
          );
        }
      });
    }
  }
}
