#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { profile } from '@prodprobe/drift';
import { MODEL_DIR } from './files.js';
import { modelCard, modelCardMarkdown } from './model-card.js';
import { trainFraudModel } from './train.js';
import { generateTransactions } from './transactions.js';

// Retrains the demo model and rewrites the committed artefacts. Deterministic: running it
// again changes no byte (the test suite checks the sha256).
const trained = trainFraudModel();
writeFileSync(join(MODEL_DIR, `${trained.modelVersion}.onnx`), trained.onnx);
writeFileSync(join(MODEL_DIR, 'preprocess.json'), `${JSON.stringify(trained.preprocess, null, 2)}\n`);
writeFileSync(join(MODEL_DIR, 'model-card.json'), `${JSON.stringify(modelCard(trained), null, 2)}\n`);
writeFileSync(join(MODEL_DIR, 'MODEL_CARD.md'), modelCardMarkdown(trained));
// The training profile shipped with the model: production inputs are compared with it.
const training = generateTransactions(trained.trainRows, { seed: trained.seed }).map((r) => r.transaction);
writeFileSync(join(MODEL_DIR, 'training-profile.json'), `${JSON.stringify(profile(training))}\n`);
process.stdout.write(
  `trained ${trained.modelVersion}: accuracy ${trained.metrics.accuracy.toFixed(4)}, sha256 ${trained.sha256}\n`,
);
