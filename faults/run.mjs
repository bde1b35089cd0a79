// `pnpm test:faults [--long]`: the fault-injection suite on its own (it is also part of `pnpm test`).
// --long runs the long variants (more kills, a larger fuzz set); the table is printed at the end.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(
    'usage: pnpm test:faults [--long] [vitest filters...]\n  --long  the long variants (FAULTS_LONG=1)',
  );
  process.exit(0);
}
const long = args.includes('--long');
const rest = args.filter((a) => a !== '--long');
const result = spawnSync('pnpm', ['exec', 'vitest', 'run', '--project', 'faults', ...rest], {
  stdio: 'inherit',
  env: { ...process.env, ...(long ? { FAULTS_LONG: '1' } : {}) },
});
process.exit(result.status ?? 1);
