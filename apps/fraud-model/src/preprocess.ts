import { COUNTRIES, MERCHANT_CATEGORIES, PAYMENT_METHODS, type Transaction } from './transactions.js';

/** Numeric fields, standardised with the training mean and std. */
export const NUMERIC_FIELDS = [
  'amount',
  'user_age',
  'account_age_days',
  'hour_of_day',
  'n_prior_purchases',
] as const satisfies readonly (keyof Transaction)[];

/** Categorical fields, one-hot encoded over the categories seen in training. */
export const CATEGORICAL_FIELDS = {
  payment_method: PAYMENT_METHODS,
  country: COUNTRIES,
  merchant_category: MERCHANT_CATEGORIES,
} as const;

/** What `preprocess.json` holds: everything needed to turn a transaction into model features. */
export interface PreprocessConfig {
  schemaVersion: 1;
  modelVersion: string;
  numeric: { name: string; mean: number; std: number }[];
  categorical: { name: string; categories: string[] }[];
  featureNames: string[];
}

/** Fits the scaler on training transactions (population std). */
export function fitPreprocess(rows: readonly Transaction[], modelVersion: string): PreprocessConfig {
  const numeric = NUMERIC_FIELDS.map((name) => {
    let mean = 0;
    for (const r of rows) mean += r[name];
    mean /= rows.length;
    let v = 0;
    for (const r of rows) v += (r[name] - mean) ** 2;
    return { name, mean, std: Math.sqrt(v / rows.length) };
  });
  const categorical = Object.entries(CATEGORICAL_FIELDS).map(([name, cats]) => ({
    name,
    categories: [...cats],
  }));
  const featureNames = [
    ...numeric.map((n) => n.name),
    ...categorical.flatMap((c) => c.categories.map((cat) => `${c.name}=${cat}`)),
  ];
  return { schemaVersion: 1, modelVersion, numeric, categorical, featureNames };
}

/**
 * Turns one transaction into the model's feature vector. This is deliberately the kind of code
 * that fails silently in production: a missing field becomes NaN, a zero std turns a value into
 * ±Infinity, and an unseen category becomes an all-zero one-hot block. prodprobe finds each.
 */
export function preprocess(t: Readonly<Record<string, unknown>>, config: PreprocessConfig): Float32Array {
  const out = new Float32Array(config.featureNames.length);
  let i = 0;
  for (const { name, mean, std } of config.numeric) {
    const raw = t[name];
    out[i++] = ((typeof raw === 'number' ? raw : Number.NaN) - mean) / std;
  }
  for (const { name, categories } of config.categorical) {
    const value = t[name];
    for (const cat of categories) out[i++] = value === cat ? 1 : 0;
  }
  return out;
}

/** Preprocesses a batch into one row-major [n, d] buffer, the layout the ONNX model takes. */
export function preprocessBatch(
  rows: readonly Readonly<Record<string, unknown>>[],
  config: PreprocessConfig,
): Float32Array {
  const d = config.featureNames.length;
  const out = new Float32Array(rows.length * d);
  rows.forEach((row, r) => {
    out.set(preprocess(row, config), r * d);
  });
  return out;
}
