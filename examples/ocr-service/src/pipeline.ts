import { defineService } from '@prodprobe/layers';
import { loadConfig, STAGING_CONFIG } from './config.js';
import { createPipeline, isFailedPrediction, loadSession, type Orientation } from './stages.js';

/**
 * The OCR service declared for prodprobe: the module `prodprobe diagnose|capture replay|layers
 * isolate --pipeline examples/ocr-service/src/pipeline.ts` takes. It builds the pipeline as the
 * staging configuration sets it up (`OCR_SERVICE_CONFIG` names another config file), so a captured
 * failure that fails here too is a model or input problem, and one that passes here failed
 * because of something production does differently.
 */
const reference = loadConfig(process.env.OCR_SERVICE_CONFIG ?? STAGING_CONFIG);

export default defineService<unknown, Orientation>({
  name: 'ocr-orientation',
  defaultVersion: reference.modelVersion,
  async load(modelVersion) {
    if (modelVersion !== reference.modelVersion)
      throw new Error(`${reference.file} serves ${reference.modelVersion}; cannot replay on ${modelVersion}`);
    return createPipeline(reference, await loadSession(reference));
  },
  isFailure: isFailedPrediction,
});
