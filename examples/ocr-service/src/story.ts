import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXAMPLE_DIR } from './deploy.js';
import { type FaultName, faults, storyFaults } from './faults.js';
import { runDiagnose, runScenario, SERVICE_MODULE } from './scenario.js';

// `pnpm example:ocr [--fault NAME ...] [--out DIR]`: the OCR service's staging/production story.
const { values } = parseArgs({
  options: {
    fault: { type: 'string', multiple: true },
    out: { type: 'string' },
    help: { type: 'boolean' },
  },
});
const names = Object.keys(faults) as FaultName[];
if (values.help) {
  process.stdout.write(
    `usage: pnpm example:ocr [--fault NAME ...] [--out DIR]\n\nfaults (default: ${storyFaults.join(', ')}):\n${names.map((n) => `  ${n.padEnd(16)} ${faults[n].story}`).join('\n')}\n`,
  );
  process.exit(0);
}
const chosen = (values.fault ?? storyFaults) as FaultName[];
const unknown = chosen.filter((n) => !names.includes(n));
if (unknown.length > 0) {
  process.stderr.write(`unknown fault ${unknown.join(', ')}; one of: ${names.join(', ')}\n`);
  process.exit(2);
}
const out = resolve(values.out ?? join(EXAMPLE_DIR, '.prodprobe', 'story'));
const started = performance.now();
const say = (line: string) => process.stdout.write(`${line}\n`);

say('The OCR service: the PaddleOCR text-direction classifier (0° or 180°) behind POST /classify.');
say('Production differs from staging in:');
for (const n of chosen) say(`  - ${n}: ${faults[n].story}`);
say('');
const result = await runScenario({ dir: out, faults: chosen, log: (line) => say(`  ${line}`) });
say(`  snapshots: ${result.staging.envFile}, ${result.production.envFile}`);
const html = join(out, 'diagnose.html');
say(`\nprodprobe diagnose --captures … --logs … --env-a … --env-b … --pipeline ${SERVICE_MODULE}\n`);
const diagnosis = await runDiagnose(result, { html });
await result.close();
process.stdout.write(diagnosis.stdout);
if (diagnosis.code !== 0 && diagnosis.code !== 1) {
  process.stderr.write(diagnosis.stderr);
  process.exit(diagnosis.code ?? 1);
}
say(`\nExpected causes: ${chosen.map((n) => faults[n].cause).join(', ')}.`);
say(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s. HTML report: ${html}`);
