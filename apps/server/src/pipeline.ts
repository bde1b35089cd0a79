import { definePipeline, defineService } from '@prodprobe/layers';
import { loadServerConfig } from './config.js';
import { fraudStages, isFailedPrediction, loadFraudModel, type Prediction } from './model.js';

/**
 * The fraud service declared for prodprobe, outside the service: the module `prodprobe capture
 * replay|export-test|layers isolate|diagnose --pipeline` takes. It builds the pipeline the service
 * runs as the staging configuration sets it up (model file, preprocessing, threshold), so a captured
 * failure that fails here is a model or input problem, and one that passes here failed because of
 * production's environment.
 */
const staging = loadServerConfig('staging');

export default defineService<unknown, Prediction>({
  name: 'fraud',
  defaultVersion: staging.modelVersion,
  async load(modelVersion) {
    if (modelVersion !== staging.modelVersion)
      throw new Error(
        `@prodprobe/server ships model ${staging.modelVersion}; cannot replay on ${modelVersion}`,
      );
    const model = await loadFraudModel(staging.modelPath, staging.preprocessPath);
    return definePipeline<unknown, Prediction>(fraudStages(model, staging.fraudThreshold));
  },
  isFailure: isFailedPrediction,
});
