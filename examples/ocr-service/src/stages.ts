import { Agent, get } from 'node:http';
import { definePipeline, type Pipeline } from '@prodprobe/layers';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import type { Config } from './config.js';
import {
  cropToText,
  decodeGray,
  type GrayImage,
  TENSOR_HEIGHT,
  TENSOR_SIZE,
  TENSOR_WIDTH,
  writeTensor,
} from './image.js';
import { createTensorCache, imageKey, TENSOR_FORMAT } from './tensor-cache.js';

/** `POST /classify`: a text line as a base64 PNG, or the key of a PNG in the blob store. */
export const requestSchema = z.union([
  z.object({ id: z.string().max(128).optional(), png: z.base64().min(1).max(1_000_000) }),
  z.object({ id: z.string().max(128).optional(), blob: z.string().regex(/^[\w.-]{1,128}$/) }),
]);
export type ClassifyRequest = z.infer<typeof requestSchema>;

/** What the service answers: is the line upright (0) or upside down (180)? */
export interface Orientation {
  angle: 0 | 180;
  confidence: number;
  probabilities: [number, number];
}

/** A failed prediction, as the service judges it: the classifier gave no probability. */
export function isFailedPrediction(o: Orientation): string | false {
  return Number.isFinite(o.confidence) ? false : 'the classifier returned NaN probabilities';
}

interface Tensor {
  dims: number[];
  data: Float32Array;
}

// Shared by every request when `reuseTensorBuffer` is on. After a run the buffer is poisoned with
// NaN, so that a read of a released buffer shows up instead of passing silently.
const sharedTensor = new Float32Array(TENSOR_SIZE);
const releaseTensor = (data: Float32Array) => {
  if (data === sharedTensor) data.fill(Number.NaN);
};

function fetchBlob(store: NonNullable<Config['blobStore']>, key: string): Promise<Buffer> {
  // Keep-alive saves the connection setup on the next fetch; without it, one connection per
  // fetch, closed after it (agent: false).
  const agent = store.keepAlive ? new Agent({ keepAlive: true }) : false;
  return new Promise((resolve, reject) => {
    const url = `${store.url}/blobs/${encodeURIComponent(key)}`;
    const req = get(url, { agent, timeout: store.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(Buffer.concat(chunks))
          : reject(new Error(`blob store: ${res.statusCode} for ${key}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(new Error(`blob store: no answer for ${key} in ${store.timeoutMs} ms`)),
    );
    req.on('error', reject);
  });
}

/**
 * The service's pipeline, one stage per step, named as the team names them. `config` decides the
 * data sources (blob store, tensor cache) and the tensor buffer; `session` is the loaded classifier.
 */
export function createPipeline(
  config: Config,
  session: ort.InferenceSession,
): Pipeline<unknown, Orientation> {
  const cache = createTensorCache(config.tensorCache);
  const store = config.blobStore;
  const output = session.outputNames[0]!;
  const decoded = (png: Uint8Array) => ({ key: imageKey(png), image: decodeGray(png) });
  return definePipeline<unknown, Orientation>([
    { name: 'request', kind: 'validation', run: requestSchema },
    {
      name: 'image',
      kind: 'features',
      run: (req: ClassifyRequest, ctx) => {
        if ('png' in req) return decoded(Buffer.from(req.png, 'base64'));
        if (!store) throw new Error('a blob request, but no blob store is configured');
        const t0 = performance.now();
        return fetchBlob(store, req.blob).then((png) => {
          ctx.source('blob-store', { ms: performance.now() - t0 });
          return decoded(png);
        });
      },
    },
    {
      name: 'crop',
      kind: 'preprocessing',
      run: ({ key, image }: { key: string; image: GrayImage }) => ({ key, image: cropToText(image) }),
    },
    {
      name: 'tensor',
      kind: 'preprocessing',
      run: ({ key, image }: { key: string; image: GrayImage }, ctx): Tensor => {
        const hit = cache.enabled ? cache.get(key) : undefined;
        if (hit) {
          ctx.source('tensor-cache', { version: hit.version, asOf: hit.asOf, hit: true });
          return { dims: hit.dims, data: Float32Array.from(hit.data) };
        }
        const dims = [1, 3, TENSOR_HEIGHT, TENSOR_WIDTH];
        const data = writeTensor(
          image,
          config.reuseTensorBuffer ? sharedTensor : new Float32Array(TENSOR_SIZE),
        );
        if (cache.enabled) {
          const asOf = new Date().toISOString();
          ctx.source('tensor-cache', { version: TENSOR_FORMAT, asOf, hit: false });
          cache.set(key, { version: TENSOR_FORMAT, asOf, dims, data: Array.from(data) });
        }
        return { dims, data };
      },
    },
    {
      name: 'classify',
      kind: 'inference',
      run: async (t: Tensor) => {
        try {
          const out = await session.run({ x: new ort.Tensor('float32', t.data, t.dims) });
          return Float32Array.from(out[output]!.data as Float32Array);
        } finally {
          releaseTensor(t.data);
        }
      },
      onnx: {
        model: config.modelPath,
        feeds: (t) => {
          const { dims, data } = t as Tensor;
          return { x: { type: 'float32', dims, data } };
        },
      },
    },
    {
      name: 'orientation',
      kind: 'postprocessing',
      run: (p: Float32Array): Orientation => {
        const p0 = p[0]!;
        const p180 = p[1]!;
        return { angle: p180 > p0 ? 180 : 0, confidence: Math.max(p0, p180), probabilities: [p0, p180] };
      },
    },
  ]);
}

/** Loads the classifier of a configuration. */
export function loadSession(config: Config): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(config.modelPath);
}
