import { definePipeline } from '@prodprobe/layers';
import { loadServerConfig } from './config.js';
import { fraudStages, isFailedPrediction, loadFraudModel, type Prediction } from './model.js';

/**
 * The service's model outside the service, for replaying captured inputs: the `loadModel` module
 * that `prodprobe capture export-test --model @prodprobe/server/replay-model` writes into a
 * regression test. It runs the pipeline the service runs, as the staging configuration sets it up
 * (model file, preprocessing, threshold), so a captured failure that fails here is a model or input
 * problem, and one that passes here failed because of production's environment.
 */

let loaded: Promise<(input: unknown) => Promise<Prediction>> | undefined;

/** A predict function for `modelVersion`; the model is loaded once per process. */
export function loadModel(modelVersion: string): Promise<(input: unknown) => Promise<Prediction>> {
  const config = loadServerConfig('staging');
  if (modelVersion !== config.modelVersion) {
    return Promise.reject(
      new Error(`@prodprobe/server ships model ${config.modelVersion}; cannot replay on ${modelVersion}`),
    );
  }
  loaded ??= loadFraudModel(config.modelPath, config.preprocessPath).then(
    (model) => {
      const pipeline = definePipeline<unknown, Prediction>(fraudStages(model, config.fraudThreshold));
      return (input: unknown) => pipeline.run(input);
    },
    (error: unknown) => {
      loaded = undefined; // the next call tries again
      throw error;
    },
  );
  return loaded;
}

/** The service's failure check: a prediction without a probability. */
export const isFailure = isFailedPrediction;
