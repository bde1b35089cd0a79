import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// prodprobe works for any team's service: the packages and the CLI's generic commands must not
// know the demo's fraud model (its field names, its files, its stages). The demo lives in
// apps/fraud-model, apps/server and the CLI's demo and serve commands; tests and docs may name it.
const root = resolve(import.meta.dirname, '..');
const demoOnly = [/^apps\/cli\/src\/demo\//, /^apps\/cli\/src\/commands\/(demo|serve)\.ts$/];
const isTestOrDoc = (file: string) => /\.test\.ts$|\/test\/|\.md$/.test(file);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|js|mjs)$/.test(name)) out.push(relative(root, path));
  }
  return out;
}

const generic = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src')),
  join(root, 'apps/cli/src'),
]
  .flatMap((dir) => sources(dir))
  .filter((file) => !isTestOrDoc(file) && !demoOnly.some((re) => re.test(file)));

describe('generic code knows no demo model', () => {
  it('covers the packages and the CLI', () => {
    expect(generic.length).toBeGreaterThan(60);
    expect(generic).toContain('apps/cli/src/diagnose/root-causes.ts');
  });

  it("names none of the fraud model's fields", () => {
    const fields =
      /\b(payment_method|user_age|n_prior_purchases|amount|merchant_category|account_age_days)\b/;
    const hits = generic.flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (fields.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });

  it("imports neither the demo server nor the fraud model, and names none of the demo's stages or files", () => {
    const demo = /@prodprobe\/(server|fraud-model)|fraud-v1|preprocess\.json|'(forward|extractFeatures)'/;
    const hits = generic.filter((file) => demo.test(readFileSync(join(root, file), 'utf8')));
    expect(hits).toEqual([]);
  });
});
