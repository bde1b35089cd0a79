export { loadPreprocessConfig, MODEL_CARD_PATH, MODEL_DIR, MODEL_PATH, PREPROCESS_PATH } from './files.js';
export { type LogisticModel, predictProba, type TrainOptions, trainLogistic } from './logistic.js';
export { modelCard, modelCardMarkdown } from './model-card.js';
export { exportOnnx, INPUT_NAME, OUTPUT_NAME } from './onnx-export.js';
export {
  CATEGORICAL_FIELDS,
  fitPreprocess,
  NUMERIC_FIELDS,
  type PreprocessConfig,
  preprocess,
  preprocessBatch,
} from './preprocess.js';
export { createRng, type Rng } from './random.js';
export { evaluate, type Metrics, TRAINING, type TrainedFraudModel, trainFraudModel } from './train.js';
export {
  COUNTRIES,
  type GenerateOptions,
  generateTransactions,
  LABEL_NOISE,
  type LabeledTransaction,
  MERCHANT_CATEGORIES,
  PAYMENT_METHODS,
  type Population,
  riskScore,
  type Transaction,
} from './transactions.js';
