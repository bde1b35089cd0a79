import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binCounts, jensenShannon, psi, quantileEdges } from './binned.js';
import { chiSquare } from './chi-square.js';
import { kstwoSf } from './kolmogorov.js';
import { ksTwoSample, ksTwoSampleValues } from './ks-test.js';
import { sampleFrom } from './sample.js';
import { chiSquareSf, smirnovSf } from './special.js';
import { wasserstein1 } from './wasserstein.js';

interface Golden {
  bins: number;
  numeric: {
    name: string;
    reference: number[];
    current: number[];
    ks: { statistic: number; pValue: number; method: 'exact' | 'asymptotic' };
    wasserstein: number;
    edges: number[];
    referenceBinCounts: number[];
    currentBinCounts: number[];
    psi: number;
    jensenShannon: number;
  }[];
  categorical: {
    name: string;
    reference: string[];
    current: string[];
    categories: string[];
    chiSquare: { statistic: number; df: number; pValue: number };
    psi: number;
    jensenShannon: number;
  }[];
  ksLarge: {
    name: string;
    transform: 'uniform' | 'integers' | 'reciprocal';
    n1: number;
    seed1: number;
    n2: number;
    seed2: number;
    scale: number;
    shift: number;
    ks: { statistic: number; pValue: number };
  }[];
  kstwo: { n: number; d: number; sf: number }[];
  smirnov: { n: number; d: number; sf: number }[];
  chi2: { df: number; x: number; sf: number }[];
}

const golden = JSON.parse(
  readFileSync(new URL('../fixtures/golden.json', import.meta.url), 'utf8'),
) as Golden;

/** Statistics: 1e-9 relative (absolute near zero). */
const closeStat = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(expected), 1e-3));
/** p-values: 1e-6 relative, or 1e-12 absolute for p-values that are essentially zero. */
const closeP = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(1e-6 * Math.abs(expected), 1e-12));

/** scripts/golden.py's `lcg` and transforms, repeated bit for bit (plain IEEE arithmetic only). */
function lcgSample(
  transform: Golden['ksLarge'][number]['transform'],
  seed0: number,
  n: number,
  scale: number,
  shift: number,
): Float64Array {
  const out = new Float64Array(n);
  let seed = seed0;
  for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    const u = seed / 2147483647;
    const v = transform === 'uniform' ? u : transform === 'integers' ? Math.floor(u * 200) : 1 / u;
    out[i] = v * scale + shift;
  }
  return out;
}

describe('golden values from scipy (scripts/golden.py)', () => {
  for (const c of golden.numeric) {
    it(`numeric: ${c.name}`, () => {
      const ref = sampleFrom(c.reference);
      const cur = sampleFrom(c.current);
      const ks = ksTwoSample(ref, cur);
      // The raw-value test (bucketed from 1,024 values in all) gives the same result.
      expect(ksTwoSampleValues(c.reference, c.current)).toEqual(ks);
      expect(ks.method).toBe(c.ks.method);
      closeStat(ks.statistic, c.ks.statistic);
      closeP(ks.pValue, c.ks.pValue);
      closeStat(wasserstein1(ref, cur), c.wasserstein);
      const edges = quantileEdges(ref, golden.bins);
      expect(edges).toEqual(c.edges);
      const rc = binCounts(ref, edges);
      const cc = binCounts(cur, edges);
      expect(rc).toEqual(c.referenceBinCounts);
      expect(cc).toEqual(c.currentBinCounts);
      closeStat(psi(rc, cc).value, c.psi);
      closeStat(jensenShannon(rc, cc), c.jensenShannon);
    });
  }

  for (const c of golden.categorical) {
    it(`categorical: ${c.name}`, () => {
      const count = (xs: string[]) => c.categories.map((k) => xs.filter((x) => x === k).length);
      const rc = count(c.reference);
      const cc = count(c.current);
      const chi = chiSquare(rc, cc);
      expect(chi.df).toBe(c.chiSquare.df);
      closeStat(chi.statistic, c.chiSquare.statistic);
      closeP(chi.pValue, c.chiSquare.pValue);
      closeStat(psi(rc, cc).value, c.psi);
      closeStat(jensenShannon(rc, cc), c.jensenShannon);
    });
  }

  for (const c of golden.ksLarge) {
    it(`KS on raw values, bucketed: ${c.name}`, () => {
      const ref = lcgSample(c.transform, c.seed1, c.n1, 1, 0);
      const cur = lcgSample(c.transform, c.seed2, c.n2, c.scale, c.shift);
      const ks = ksTwoSampleValues(ref, cur);
      closeStat(ks.statistic, c.ks.statistic);
      closeP(ks.pValue, c.ks.pValue);
      expect(ks).toEqual(ksTwoSample(sampleFrom(ref), sampleFrom(cur)));
    });
  }

  it('kstwo.sf over every region of scipy _kolmogn', () => {
    for (const c of golden.kstwo) {
      const got = kstwoSf(c.d, c.n);
      if (Math.abs(got - c.sf) > Math.max(1e-6 * c.sf, 1e-12)) {
        throw new Error(`kstwo.sf(${c.d}, ${c.n}) = ${got}, scipy ${c.sf}`);
      }
    }
  });

  it('smirnov one-sided survival function', () => {
    for (const c of golden.smirnov) {
      const got = smirnovSf(c.n, c.d);
      if (Math.abs(got - c.sf) > Math.max(1e-6 * c.sf, 1e-12)) {
        throw new Error(`smirnov(${c.n}, ${c.d}) = ${got}, scipy ${c.sf}`);
      }
    }
  });

  it('chi-square survival function', () => {
    for (const c of golden.chi2) {
      const got = chiSquareSf(c.x, c.df);
      if (Math.abs(got - c.sf) > Math.max(1e-9 * c.sf, 1e-15)) {
        throw new Error(`chi2.sf(${c.x}, ${c.df}) = ${got}, scipy ${c.sf}`);
      }
    }
  });
});
