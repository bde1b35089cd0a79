import { isAbsolute, join, relative, resolve } from 'node:path';
import { loadPreprocessConfig, MODEL_DIR, MODEL_PATH } from '@prodprobe/fraud-model';
import { runScenario } from '../demo/scenario.js';
import { renderDiagnoseText } from '../diagnose/render-text.js';
import { CliError, colorEnabled, painter, printJson } from '../output.js';
import type { RegisterCommand } from '../program.js';

/** `prodprobe demo`: the whole method, end to end, on the fraud model. */
export const registerDemo: RegisterCommand = (program, io) => {
  program
    .command('demo')
    .description(
      'run the story end to end: staging and production fraud services, traffic, prodprobe diagnose, then a regression test of the failures that reproduce',
    )
    .option('--requests <n>', 'requests sent to each environment', '1500')
    .option(
      '--out <dir>',
      'where captures, logs, snapshots, the report and the regression test go',
      '.prodprobe/demo',
    )
    .action(async (options: { requests: string; out: string }, command) => {
      const n = Number(options.requests);
      if (!Number.isInteger(n) || n < 50)
        throw new CliError(`--requests must be a whole number >= 50, got "${options.requests}"`);
      const json = command.optsWithGlobals().json === true;
      const paint = painter(colorEnabled(io.stdout, io.env));
      const say = (s: string) => {
        if (!json) io.stdout.write(`${s}\n`);
      };
      const started = performance.now();
      const out = resolve(io.cwd, options.out);
      const rel = (p: string) => relative(io.cwd, p);
      say(paint('bold', `prodprobe demo: fraud model ${loadPreprocessConfig().modelVersion}`));
      say(`  model ${rel(MODEL_PATH)} (trained in TypeScript, exported to ONNX; see MODEL_CARD.md)`);
      const result = await runScenario({
        out,
        requests: n,
        cwd: io.cwd,
        onStep: (step, detail) => {
          if (step === 'start')
            say(
              '\n1. starting staging and production as separate processes (same code, different configuration)',
            );
          if (step === 'started') say(`   ${detail}`);
          if (step === 'traffic')
            say(
              `\n2. sending ${n} transactions to each (production: new payment method, "NaN" amounts, missing user_age, age 150)`,
            );
          if (step === 'snapshot')
            say('\n3. snapshotting both environments (GET /debug/env), stopping them (logs flushed)');
          if (step === 'diagnose') say('\n4. prodprobe diagnose over what production left behind\n');
        },
        onTraffic: (t) => {
          const acc = `${(t.accuracy * 100).toFixed(1)}%`;
          say(
            `   ${t.env.padEnd(10)} accuracy ${t.env === 'production' ? paint('red', acc) : paint('green', acc)} (labels known to the demo)  ` +
              `null predictions ${t.nullPredictions}  rejected ${t.rejected}`,
          );
        },
      });
      const seconds = (performance.now() - started) / 1000;
      if (json) {
        printJson(io, { ...result, out, seconds });
        return;
      }
      io.stdout.write(renderDiagnoseText(result.report, paint));
      const prod = join(out, 'production');
      say(`\nHTML report: ${result.html}`);
      say(
        `The same triage by hand: pnpm prodprobe diagnose --captures ${rel(join(prod, 'captures'))} ` +
          `--logs ${rel(join(prod, 'logs'))} --reference ${rel(join(MODEL_DIR, 'training-profile.json'))} ` +
          `--env-a ${rel(join(out, 'staging-env.json'))} --env-b ${rel(join(out, 'production-env.json'))} ` +
          `--model ${rel(MODEL_PATH)} --html report.html`,
      );
      const reg = result.regression;
      if (reg) {
        const failed = reg.tests.filter((t) => t.status === 'failed').length;
        const args = reg.exportArgs.map((a) => (isAbsolute(a) ? rel(a) : a));
        say(`\n5. the ${reg.recordIds.length} failure group(s) that reproduce locally, as a regression test`);
        say(`   pnpm prodprobe ${args.join(' ')}`);
        say(
          `   vitest: ${paint(failed ? 'red' : 'green', `${failed} of ${reg.tests.length} fail`)}: red until the fix lands, then they keep each failure from coming back`,
        );
        for (const t of reg.tests) {
          const finding = result.report.replays.find((r) => t.title.startsWith(r.recordId));
          const status = t.status === 'passed' ? paint('green', 'pass') : paint('red', 'FAIL');
          say(`     ${status} capture ${finding ? `${finding.recordId}: ${finding.signature}` : t.title}`);
        }
        say(
          `   run it again: pnpm exec vitest run --root ${rel(reg.dir)} (then copy it into the service's tests)`,
        );
      } else say('\n5. no failure reproduced locally, so there is no regression test to write');
      say(paint('dim', `demo finished in ${seconds.toFixed(1)} s`));
    });
};
