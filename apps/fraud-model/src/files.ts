import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PreprocessConfig } from './preprocess.js';

/** Directory holding the committed model artefacts. */
export const MODEL_DIR = fileURLToPath(new URL('../model/', import.meta.url));
/** The committed ONNX model. */
export const MODEL_PATH = fileURLToPath(new URL('../model/fraud-v1.onnx', import.meta.url));
/** The committed preprocessing config (scaler mean/std, one-hot categories). */
export const PREPROCESS_PATH = fileURLToPath(new URL('../model/preprocess.json', import.meta.url));
/** The committed model card, machine-readable. */
export const MODEL_CARD_PATH = fileURLToPath(new URL('../model/model-card.json', import.meta.url));

/** Reads and checks a preprocessing config (the committed one by default). */
export function loadPreprocessConfig(path: string = PREPROCESS_PATH): PreprocessConfig {
  const config = JSON.parse(readFileSync(path, 'utf8')) as PreprocessConfig;
  if (config.schemaVersion !== 1 || !Array.isArray(config.numeric) || !Array.isArray(config.categorical)) {
    throw new Error(
      `${path} is not a fraud-model preprocess config (schemaVersion 1 with numeric and categorical)`,
    );
  }
  return config;
}
