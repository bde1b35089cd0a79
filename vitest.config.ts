import { defineConfig } from 'vitest/config';

// `pnpm test` runs every workspace project in one vitest run and writes one JSON report,
// which .ci/run turns into its closing `tests: N passed, M failed` line.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'examples/*', 'scripts', 'bench', 'faults'],
    reporters: ['default', 'json'],
    outputFile: { json: '.reports/vitest.json' },
  },
});
