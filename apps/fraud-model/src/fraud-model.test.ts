import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  evaluate,
  generateTransactions,
  INPUT_NAME,
  type LogisticModel,
  loadPreprocessConfig,
  MODEL_CARD_PATH,
  MODEL_PATH,
  OUTPUT_NAME,
  PAYMENT_METHODS,
  predictProba,
  preprocess,
  preprocessBatch,
  TRAINING,
  trainFraudModel,
} from './index.js';

const modelBytes = readFileSync(MODEL_PATH);
const config = loadPreprocessConfig();
const heldOut = generateTransactions(TRAINING.testRows, { seed: TRAINING.seed + 1 });

// Retraining is fast (about a second) and gives the weights the reference forward pass needs.
const trained = trainFraudModel();

async function runOnnx(x: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelBytes);
  const d = config.featureNames.length;
  const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', x, [n, d]) });
  await session.release();
  return out[OUTPUT_NAME]!.data as Float32Array;
}

describe('fraud model', () => {
  it('retraining with the same seed reproduces the committed model byte for byte', () => {
    const committed = createHash('sha256').update(modelBytes).digest('hex');
    expect(trained.sha256).toBe(committed);
    const card = JSON.parse(readFileSync(MODEL_CARD_PATH, 'utf8')) as { sha256: string };
    expect(card.sha256).toBe(committed);
    expect(trained.preprocess).toEqual(config);
  });

  it('the committed model, run by onnxruntime-node, reaches held-out accuracy >= 0.9', async () => {
    const x = preprocessBatch(
      heldOut.map((r) => r.transaction),
      config,
    );
    const probabilities = await runOnnx(x, heldOut.length);
    const metrics = evaluate(
      probabilities,
      heldOut.map((r) => r.isFraud),
    );
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    // Not a trivial "never fraud" model: the base rate is far from the accuracy ceiling.
    expect(metrics.fraudRate).toBeGreaterThan(0.1);
    expect(metrics.recall).toBeGreaterThan(0.6);
  });

  it('ONNX output equals the TypeScript reference forward pass within 1e-5', async () => {
    const rows = heldOut.slice(0, 500).map((r) => r.transaction);
    const x = preprocessBatch(rows, config);
    const onnxOut = await runOnnx(x, rows.length);
    const reference = predictProba(trained.model as LogisticModel, x);
    let maxDiff = 0;
    for (let i = 0; i < rows.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onnxOut[i]! - reference[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('the generator is deterministic and the production population carries the new category', () => {
    expect(generateTransactions(50, { seed: 7 })).toEqual(generateTransactions(50, { seed: 7 }));
    expect(generateTransactions(50, { seed: 7 })).not.toEqual(generateTransactions(50, { seed: 8 }));
    const training = new Set(generateTransactions(2000).map((r) => r.transaction.payment_method));
    expect([...training].sort()).toEqual([...PAYMENT_METHODS].sort());
    const production = new Set(
      generateTransactions(2000, { population: 'production' }).map((r) => r.transaction.payment_method),
    );
    expect(production.has('buy_now_pay_later')).toBe(true);
  });

  it('preprocessing fails the silent ways production does: NaN, ±Infinity, all-zero one-hot', () => {
    const t = { ...heldOut[0]!.transaction } as Record<string, unknown>;
    delete t.user_age;
    t.payment_method = 'buy_now_pay_later';
    const features = preprocess(t, config);
    expect(Number.isNaN(features[config.featureNames.indexOf('user_age')]!)).toBe(true);
    const paymentSlots = config.featureNames.flatMap((name, i) =>
      name.startsWith('payment_method=') ? [i] : [],
    );
    expect(paymentSlots.map((i) => features[i])).toEqual([0, 0, 0]);
    const zeroStd = {
      ...config,
      numeric: config.numeric.map((n) => (n.name === 'amount' ? { ...n, std: 0 } : n)),
    };
    const amount = preprocess(heldOut[0]!.transaction, zeroStd)[0]!;
    expect(Number.isFinite(amount)).toBe(false);
  });
});
