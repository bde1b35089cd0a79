import type { TrainedFraudModel } from './train.js';

/** The machine-readable model card written beside the model. */
export function modelCard(t: TrainedFraudModel) {
  return {
    schemaVersion: 1,
    modelVersion: t.modelVersion,
    file: `${t.modelVersion}.onnx`,
    sha256: t.sha256,
    architecture: 'logistic regression: features[N, D] → MatMul → Add → Sigmoid',
    features: t.preprocess.featureNames,
    training: { seed: t.seed, generator: 'generateTransactions (population: training)' },
    heldOutMetrics: t.metrics,
  };
}

/** The model card as markdown, for people. */
export function modelCardMarkdown(t: TrainedFraudModel): string {
  const m = t.metrics;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  return `# Model card: ${t.modelVersion}

Demo fraud-detection model for prodprobe. Trained by \`pnpm --filter @prodprobe/fraud-model train\`
(\`src/train-cli.ts\`) on synthetic transactions from the seeded generator (\`src/transactions.ts\`,
which documents the ground-truth rule and the 3% label noise).

| | |
| --- | --- |
| version | ${t.modelVersion} |
| file | ${t.modelVersion}.onnx |
| sha256 | \`${t.sha256}\` |
| architecture | logistic regression, ONNX opset 15: MatMul → Add → Sigmoid |
| input | \`features\` float32 [batch, ${t.preprocess.featureNames.length}] (see preprocess.json) |
| output | \`fraud_probability\` float32 [batch, 1] |
| training seed | ${t.seed} |

## Held-out metrics (${m.n} transactions, threshold 0.5)

| accuracy | precision | recall | fraud rate |
| --- | --- | --- | --- |
| ${pct(m.accuracy)} | ${pct(m.precision)} | ${pct(m.recall)} | ${pct(m.fraudRate)} |

## Known limits (on purpose: the demo's production breaks them)

- Categories outside the training set (e.g. \`payment_method = buy_now_pay_later\`) become an
  all-zero one-hot block: the model silently treats them as "none of the known ones".
- Missing or NaN numeric fields propagate NaN to the output.
- A scaler std of 0 in preprocess.json turns that field into ±Infinity.
`;
}
