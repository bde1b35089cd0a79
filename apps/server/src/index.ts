export { createFraudService, createPredictor, type FraudService, type Predictor } from './app.js';
export {
  ENVIRONMENTS_DIR,
  loadServerConfig,
  parseServerConfig,
  type ResolvedServerConfig,
  type ServerConfig,
  serverConfigSchema,
} from './config.js';
export {
  type FraudModel,
  fraudStages,
  isFailedPrediction,
  loadFraudModel,
  NO_PROBABILITY,
  type Prediction,
  type TransactionInput,
  transactionSchema,
} from './model.js';
export { closeOnSignals, type RunningService, startFraudService } from './serve.js';
