import { LayersError } from './errors.js';
import type { Pipeline } from './pipeline.js';

/** What a team declares once about its model service (see {@link defineService}). */
export interface ServiceDefinition<I = unknown, O = unknown> {
  /** The service's name, shown in reports. */
  name: string;
  /**
   * Builds the pipeline one model version runs: loads its model file and configuration and returns
   * `definePipeline([...])`. Called once per version and cached; a load that fails is retried.
   */
  load(modelVersion: string): Pipeline<I, O> | Promise<Pipeline<I, O>>;
  /**
   * Whether an output is a failure, as the service judges it when it captures: `true` or a reason
   * string. Without it, replay uses `@prodprobe/capture`'s default: an output that is
   * null/undefined or holds NaN or ±Infinity anywhere.
   */
  isFailure?(output: O): boolean | string | null | undefined;
  /** The version `prodprobe layers isolate` runs when none is given. */
  defaultVersion?: string;
}

/** A declared service: what `capture replay`, `capture export-test`, `layers` and `diagnose` take. */
export interface Service<I = unknown, O = unknown> {
  /** Marks the value for loaders that find it by shape (another copy of this package made it). */
  readonly kind: 'prodprobe.service';
  readonly name: string;
  readonly defaultVersion: string | undefined;
  /** The pipeline of `modelVersion`, loaded once. */
  pipeline(modelVersion: string): Promise<Pipeline<I, O>>;
  /** A predict function for `modelVersion` (the `loadModel` of `@prodprobe/capture`'s replay). */
  loadModel(modelVersion: string): Promise<(input: I) => Promise<O>>;
  /** The service's failure check, normalised to a reason or `false`; undefined when it declared none. */
  readonly isFailure: ((output: O) => string | false) | undefined;
}

/**
 * Declares a model service once: its name, how a model version's pipeline is built, and what
 * counts as a failed output. Export it from a module (`export default defineService({...})`) and
 * pass that module to `prodprobe capture replay|export-test|layers isolate|diagnose --pipeline`.
 * @throws LayersError `BAD_PIPELINE` when `name` or `load` is missing.
 */
export function defineService<I = unknown, O = unknown>(definition: ServiceDefinition<I, O>): Service<I, O> {
  if (typeof definition?.name !== 'string' || definition.name.length === 0)
    throw new LayersError('BAD_PIPELINE', 'defineService: name: expected a non-empty string');
  if (typeof definition.load !== 'function')
    throw new LayersError(
      'BAD_PIPELINE',
      'defineService: load: expected a function (modelVersion) => pipeline',
    );
  if (definition.isFailure !== undefined && typeof definition.isFailure !== 'function')
    throw new LayersError('BAD_PIPELINE', 'defineService: isFailure: expected a function');
  const loaded = new Map<string, Promise<Pipeline<I, O>>>();
  const pipeline = (version: string): Promise<Pipeline<I, O>> => {
    let p = loaded.get(version);
    if (p === undefined) {
      p = Promise.resolve()
        .then(() => definition.load(version))
        .then((value) => {
          if (!Array.isArray(value?.stages) || typeof value.run !== 'function')
            throw new LayersError(
              'BAD_PIPELINE',
              `${definition.name}: load("${version}") returned ${value === null ? 'null' : typeof value}, expected definePipeline(...)`,
            );
          return value;
        });
      p.catch(() => loaded.delete(version));
      loaded.set(version, p);
    }
    return p;
  };
  const check = definition.isFailure;
  return Object.freeze({
    kind: 'prodprobe.service' as const,
    name: definition.name,
    defaultVersion: definition.defaultVersion,
    pipeline,
    async loadModel(version: string) {
      const p = await pipeline(version);
      return (input: I) => p.run(input);
    },
    isFailure: check
      ? (output: O): string | false => {
          const verdict = check(output);
          return verdict === true ? 'bad output' : typeof verdict === 'string' && verdict ? verdict : false;
        }
      : undefined,
  });
}

/** True when `value` looks like a {@link Service} (from this copy of the package or another). */
export function isService(value: unknown): value is Service {
  const v = value as Partial<Service> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.kind === 'prodprobe.service' &&
    typeof v.pipeline === 'function' &&
    typeof v.loadModel === 'function' &&
    (v.isFailure === undefined || typeof v.isFailure === 'function')
  );
}
