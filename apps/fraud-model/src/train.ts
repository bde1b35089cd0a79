import { createHash } from 'node:crypto';
import { type LogisticModel, predictProba, trainLogistic } from './logistic.js';
import { exportOnnx } from './onnx-export.js';
import { fitPreprocess, type PreprocessConfig, preprocessBatch } from './preprocess.js';
import { generateTransactions, type LabeledTransaction } from './transactions.js';

/** Held-out metrics recorded in the model card. */
export interface Metrics {
  n: number;
  accuracy: number;
  precision: number;
  recall: number;
  fraudRate: number;
}

/** Everything a training run produces. */
export interface TrainedFraudModel {
  modelVersion: string;
  model: LogisticModel;
  preprocess: PreprocessConfig;
  onnx: Uint8Array;
  sha256: string;
  metrics: Metrics;
  seed: number;
  trainRows: number;
}

/** Sizes and seed of the standard training run. */
export const TRAINING = { seed: 42, trainRows: 20_000, testRows: 5_000, modelVersion: 'fraud-v1' } as const;

/** Accuracy, precision and recall of predicted probabilities at threshold 0.5. */
export function evaluate(probabilities: ArrayLike<number>, labels: readonly boolean[]): Metrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  labels.forEach((label, i) => {
    const predicted = (probabilities[i] ?? 0) >= 0.5;
    if (predicted && label) tp++;
    else if (predicted) fp++;
    else if (label) fn++;
    else tn++;
  });
  const n = labels.length;
  return {
    n,
    accuracy: (tp + tn) / n,
    precision: tp / Math.max(1, tp + fp),
    recall: tp / Math.max(1, tp + fn),
    fraudRate: (tp + fn) / n,
  };
}

const labelsOf = (rows: LabeledTransaction[]) => Uint8Array.from(rows, (r) => (r.isFraud ? 1 : 0));

/** Trains the demo model from the seeded generator. Same options → same ONNX bytes. */
export function trainFraudModel(
  options: Partial<{ seed: number; trainRows: number; testRows: number; modelVersion: string }> = {},
): TrainedFraudModel {
  const { seed, trainRows, testRows, modelVersion } = { ...TRAINING, ...options };
  const train = generateTransactions(trainRows, { seed });
  const test = generateTransactions(testRows, { seed: seed + 1 });
  const preprocess = fitPreprocess(
    train.map((r) => r.transaction),
    modelVersion,
  );
  const d = preprocess.featureNames.length;
  const model = trainLogistic(
    preprocessBatch(
      train.map((r) => r.transaction),
      preprocess,
    ),
    labelsOf(train),
    d,
  );
  const xTest = preprocessBatch(
    test.map((r) => r.transaction),
    preprocess,
  );
  const metrics = evaluate(
    predictProba(model, xTest),
    test.map((r) => r.isFraud),
  );
  const onnx = exportOnnx(model, preprocess.featureNames, modelVersion);
  const sha256 = createHash('sha256').update(onnx).digest('hex');
  return { modelVersion, model, preprocess, onnx, sha256, metrics, seed, trainRows };
}
