import { readFileSync } from 'node:fs';
import {
  INPUT_NAME,
  loadPreprocessConfig,
  OUTPUT_NAME,
  type PreprocessConfig,
  preprocess,
} from '@prodprobe/fraud-model';
import type { StageSpec } from '@prodprobe/layers';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';

/**
 * Accepts numbers, and numeric strings from legacy clients. This leniency is the demo's planted
 * weakness: the string "NaN" passes as NaN and travels all the way to the model.
 */
const lenientNumber = z.union([z.number(), z.string().transform((s) => Number(s))]);

/** One transaction as `POST /predict` accepts it. Unknown fields are dropped. */
export const transactionSchema = z.object({
  amount: lenientNumber,
  // Optional because old clients don't send it; the model then sees NaN.
  user_age: z.number().optional(),
  account_age_days: z.number().min(0),
  payment_method: z.string().min(1).max(64),
  country: z.string().min(1).max(64),
  hour_of_day: z.number().int().min(0).max(23),
  n_prior_purchases: z.number().int().min(0),
  merchant_category: z.string().min(1).max(64),
});

export type TransactionInput = z.infer<typeof transactionSchema>;

/** What the service answers for one transaction. `fraudProbability` is null when the model gave no number. */
export interface Prediction {
  fraudProbability: number | null;
  isFraud: boolean;
}

/** Why a prediction counts as failed: the model gave no number. Captures and logs use the same words. */
export const NO_PROBABILITY = 'model returned no probability (non-finite output)';

/** The service's failure check: a prediction without a probability. */
export const isFailedPrediction = (p: unknown): string | false =>
  (p as Prediction | undefined)?.fraudProbability === null ? NO_PROBABILITY : false;

/** The loaded model and its preprocessing: the pieces the pipeline stages close over. */
export interface FraudModel {
  session: ort.InferenceSession;
  preprocess: PreprocessConfig;
  modelBytes: Uint8Array;
}

/** Loads the ONNX model and the preprocessing config named by the deployment's configuration. */
export async function loadFraudModel(modelPath: string, preprocessPath: string): Promise<FraudModel> {
  const modelBytes = readFileSync(modelPath);
  // A tiny model: one thread per run beats a thread pool that competes with the HTTP server for cores.
  const session = await ort.InferenceSession.create(modelBytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  return { session, preprocess: loadPreprocessConfig(preprocessPath), modelBytes };
}

/**
 * The five stages of the fraud pipeline, as plain functions. The server wraps them with
 * `definePipeline` from @prodprobe/layers so production runs exactly what `isolate` inspects; the
 * forward stage says how to feed its ONNX model, for node-by-node inspection.
 */
export function fraudStages(model: FraudModel, threshold: number): StageSpec[] {
  return [
    { name: 'validate', kind: 'validation', run: transactionSchema },
    {
      name: 'extractFeatures',
      kind: 'features',
      run: (t: TransactionInput): Record<string, unknown> => ({
        amount: t.amount,
        user_age: t.user_age,
        account_age_days: t.account_age_days,
        hour_of_day: t.hour_of_day,
        n_prior_purchases: t.n_prior_purchases,
        payment_method: t.payment_method,
        country: t.country,
        merchant_category: t.merchant_category,
      }),
    },
    {
      name: 'preprocess',
      kind: 'preprocessing',
      run: (features: Record<string, unknown>): Float32Array => preprocess(features, model.preprocess),
    },
    {
      name: 'forward',
      kind: 'inference',
      run: async (x: Float32Array): Promise<number> => {
        const out = await model.session.run({ [INPUT_NAME]: new ort.Tensor('float32', x, [1, x.length]) });
        return (out[OUTPUT_NAME]!.data as Float32Array)[0]!;
      },
      onnx: {
        model: model.modelBytes,
        feeds: (x) => {
          const features = x as Float32Array;
          return { [INPUT_NAME]: { type: 'float32', dims: [1, features.length], data: features } };
        },
      },
    },
    {
      name: 'postprocess',
      kind: 'postprocessing',
      run: (p: number): Prediction => ({
        fraudProbability: Number.isFinite(p) ? p : null,
        isFraud: p >= threshold,
      }),
    },
  ];
}
