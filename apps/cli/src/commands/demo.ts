import {
  evaluate,
  generateTransactions,
  INPUT_NAME,
  loadPreprocessConfig,
  MODEL_PATH,
  OUTPUT_NAME,
  preprocessBatch,
  TRAINING,
} from '@prodprobe/fraud-model';
import * as ort from 'onnxruntime-node';
import { colorEnabled, painter, printJson } from '../output.js';
import type { RegisterCommand } from '../program.js';

/** `prodprobe demo`: loads the committed fraud model and scores it on held-out traffic. */
export const registerDemo: RegisterCommand = (program, io) => {
  program
    .command('demo')
    .description('load the demo fraud model (apps/fraud-model) and print its held-out metrics')
    .option('--rows <n>', 'held-out transactions to score', String(TRAINING.testRows))
    .action(async (options: { rows: string }, command) => {
      const rows = Number(options.rows);
      const config = loadPreprocessConfig();
      const heldOut = generateTransactions(rows, { seed: TRAINING.seed + 1 });
      const session = await ort.InferenceSession.create(MODEL_PATH);
      const x = preprocessBatch(
        heldOut.map((r) => r.transaction),
        config,
      );
      const started = performance.now();
      const out = await session.run({
        [INPUT_NAME]: new ort.Tensor('float32', x, [rows, config.featureNames.length]),
      });
      const ms = performance.now() - started;
      await session.release();
      const metrics = evaluate(
        out[OUTPUT_NAME]!.data as Float32Array,
        heldOut.map((r) => r.isFraud),
      );
      if (command.optsWithGlobals().json) {
        printJson(io, { model: MODEL_PATH, modelVersion: config.modelVersion, inferenceMs: ms, metrics });
        return;
      }
      const paint = painter(colorEnabled(io.stdout, io.env));
      io.stdout.write(`${paint('bold', `prodprobe demo: ${config.modelVersion}`)} (${MODEL_PATH})\n`);
      io.stdout.write(
        `  scored ${rows} held-out transactions in ${ms.toFixed(1)} ms with onnxruntime-node\n` +
          `  accuracy ${paint('green', metrics.accuracy.toFixed(4))}  precision ${metrics.precision.toFixed(4)}  ` +
          `recall ${metrics.recall.toFixed(4)}  fraud rate ${metrics.fraudRate.toFixed(4)}\n`,
      );
    });
};
