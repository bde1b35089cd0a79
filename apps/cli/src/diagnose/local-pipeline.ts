import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PREPROCESS_PATH } from '@prodprobe/fraud-model';
import type { Pipeline } from '@prodprobe/layers';
import { definePipeline } from '@prodprobe/layers';
import { fraudStages, isFailedPrediction, loadFraudModel } from '@prodprobe/server';
import { CliError } from '../output.js';

/** The service's pipeline, rebuilt locally: what replay and isolation run. */
export interface LocalPipeline {
  /** What the pipeline is built from, for the report. */
  description: string;
  /** ONNX model file, when there is one (for node-by-node inspection). */
  onnxPath?: string;
  load(modelVersion: string): Promise<Pipeline>;
  /** Whether an output is a failure, as the service judged it when it captured. */
  isFailure(output: unknown): string | false;
  /** Name of the ONNX input the forward stage feeds with the preprocess output. */
  onnxInputName?: string;
  /** The command-line flags that rebuild this pipeline (`--model … --preprocess …` or `--pipeline …`). */
  flags: string[];
}

/** The contract of a `--pipeline` module for services other than the demo. */
interface PipelineModule {
  loadPipeline(modelVersion: string): Pipeline | Promise<Pipeline>;
  isFailure?: (output: unknown) => string | boolean | undefined;
  onnxModelPath?: string;
  onnxInputName?: string;
}

/**
 * The demo fraud pipeline from an ONNX file and a preprocessing config (the committed one by
 * default), or any service's pipeline from a module exporting `loadPipeline(modelVersion)`.
 */
export async function localPipeline(options: {
  model?: string;
  preprocess?: string;
  pipeline?: string;
  cwd: string;
}): Promise<LocalPipeline | undefined> {
  if (options.pipeline) {
    const file = resolve(options.cwd, options.pipeline);
    let mod: PipelineModule;
    try {
      mod = (await import(pathToFileURL(file).href)) as PipelineModule;
    } catch (cause) {
      throw new CliError(
        `--pipeline ${options.pipeline}: cannot import it: ${(cause as Error).message}`,
        undefined,
        { cause },
      );
    }
    if (typeof mod.loadPipeline !== 'function') {
      throw new CliError(
        `--pipeline ${options.pipeline}: expected a module exporting loadPipeline(modelVersion)`,
      );
    }
    const check = mod.isFailure;
    return {
      description: `pipeline module ${file}`,
      flags: ['--pipeline', file],
      onnxPath: mod.onnxModelPath ? resolve(file, '..', mod.onnxModelPath) : undefined,
      onnxInputName: mod.onnxInputName,
      load: async (version) => mod.loadPipeline(version),
      isFailure: (output) => {
        const verdict = check ? check(output) : output === null || output === undefined;
        return verdict === true ? 'bad output' : typeof verdict === 'string' ? verdict : false;
      },
    };
  }
  if (!options.model) return undefined;
  const modelPath = resolve(options.cwd, options.model);
  if (!modelPath.endsWith('.onnx')) {
    throw new CliError(
      `--model ${options.model}: expected an .onnx file (or use --pipeline module.js for your own service)`,
    );
  }
  const preprocessPath = options.preprocess ? resolve(options.cwd, options.preprocess) : PREPROCESS_PATH;
  return {
    description: `fraud pipeline with ${modelPath} and ${preprocessPath}`,
    flags: ['--model', modelPath, ...(options.preprocess ? ['--preprocess', preprocessPath] : [])],
    onnxPath: modelPath,
    onnxInputName: 'features',
    isFailure: isFailedPrediction,
    async load() {
      let model: Awaited<ReturnType<typeof loadFraudModel>>;
      try {
        model = await loadFraudModel(modelPath, preprocessPath);
      } catch (cause) {
        throw new CliError(`cannot load the model ${modelPath}: ${(cause as Error).message}`, undefined, {
          cause,
        });
      }
      return definePipeline(fraudStages(model, 0.5));
    },
  };
}
