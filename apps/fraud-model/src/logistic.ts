/** Logistic-regression weights as exported to ONNX (float32, so the TS reference matches exactly). */
export interface LogisticModel {
  weights: Float32Array;
  bias: number;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Options of {@link trainLogistic}. */
export interface TrainOptions {
  /** @default 400 */
  epochs?: number;
  /** @default 2 */
  learningRate?: number;
  /** L2 penalty. @default 1e-4 */
  l2?: number;
}

/**
 * Full-batch gradient descent on the log-loss. Deterministic: no shuffling, fixed iteration
 * order, so the same data always gives the same float32 weights.
 */
export function trainLogistic(
  x: Float32Array,
  y: Uint8Array,
  d: number,
  options: TrainOptions = {},
): LogisticModel {
  const n = y.length;
  const epochs = options.epochs ?? 400;
  const lr = options.learningRate ?? 2;
  const l2 = options.l2 ?? 1e-4;
  const w = new Float64Array(d);
  let b = 0;
  const grad = new Float64Array(d);
  for (let epoch = 0; epoch < epochs; epoch++) {
    grad.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      let z = b;
      const row = i * d;
      for (let j = 0; j < d; j++) z += w[j]! * x[row + j]!;
      const err = sigmoid(z) - y[i]!;
      gb += err;
      for (let j = 0; j < d; j++) grad[j]! += err * x[row + j]!;
    }
    for (let j = 0; j < d; j++) w[j]! -= lr * (grad[j]! / n + l2 * w[j]!);
    b -= (lr * gb) / n;
  }
  return { weights: Float32Array.from(w), bias: Math.fround(b) };
}

/**
 * The TypeScript reference forward pass: probability of fraud per row of a row-major [n, d]
 * feature buffer. The ONNX model computes the same thing (MatMul → Add → Sigmoid).
 */
export function predictProba(model: LogisticModel, x: Float32Array): Float64Array {
  const d = model.weights.length;
  const n = x.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = model.bias;
    for (let j = 0; j < d; j++) z += model.weights[j]! * x[i * d + j]!;
    out[i] = sigmoid(z);
  }
  return out;
}
