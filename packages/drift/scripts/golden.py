#!/usr/bin/env python3
"""Writes src/fixtures/golden.json: drift statistics computed by scipy/numpy, the independent
implementation the TypeScript tests compare against.

Run: python3 scripts/golden.py   (numpy + scipy; seeded, so the output is reproducible)

Definitions that are ours (not a scipy function) are computed here in numpy exactly as the package
documents them:
  PSI, numeric: edges = unique(numpy.quantile(ref, k/B, method='linear') for k=1..B-1);
    bin(x) = searchsorted(edges, x, side='left'); p = count/n, an empty bin's p := 1e-4 (no
    renormalisation); PSI = sum((p_cur - p_ref) * ln(p_cur / p_ref)).
  Jensen-Shannon, numeric: scipy jensenshannon(base=2) of the bin counts above.
  Categorical: counts over the union of categories; chi2_contingency(correction=False) of the 2 x k
    table without all-zero columns; PSI and JS over the same counts.
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

rng = np.random.default_rng(20240611)
BINS = 10
FLOOR = 1e-4


def r4(a):
    return [float(x) for x in np.round(np.asarray(a, dtype=float), 4)]


def psi_from_counts(rc, cc):
    rc = np.asarray(rc, float)
    cc = np.asarray(cc, float)
    rp = rc / rc.sum()
    cp = cc / cc.sum()
    rp = np.where(rp == 0, FLOOR, rp)
    cp = np.where(cp == 0, FLOOR, cp)
    return float(np.sum((cp - rp) * np.log(cp / rp)))


def numeric_case(name, ref, cur):
    ref = np.asarray(r4(ref))
    cur = np.asarray(r4(cur))
    ks = stats.ks_2samp(ref, cur, alternative="two-sided", method="auto")
    method = "exact" if max(len(ref), len(cur)) <= 10000 else "asymptotic"
    w = stats.wasserstein_distance(ref, cur)
    edges = np.unique(np.quantile(ref, np.arange(1, BINS) / BINS))
    rc = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
    return {
        "name": name,
        "reference": [float(x) for x in ref],
        "current": [float(x) for x in cur],
        "ks": {"statistic": float(ks.statistic), "pValue": float(ks.pvalue), "method": method},
        "wasserstein": float(w),
        "edges": [float(e) for e in edges],
        "referenceBinCounts": [int(c) for c in rc],
        "currentBinCounts": [int(c) for c in cc],
        "psi": psi_from_counts(rc, cc),
        "jensenShannon": float(jensenshannon(rc, cc, base=2)),
    }


def categorical_case(name, ref, cur):
    cats = sorted(set(ref) | set(cur))
    rc = np.array([ref.count(c) for c in cats], float)
    cc = np.array([cur.count(c) for c in cats], float)
    keep = (rc + cc) > 0
    table = np.vstack([rc[keep], cc[keep]])
    if table.shape[1] > 1:
        chi = stats.chi2_contingency(table, correction=False)
        chi_out = {"statistic": float(chi.statistic), "df": int(chi.dof), "pValue": float(chi.pvalue)}
    else:
        chi_out = {"statistic": 0.0, "df": 0, "pValue": 1.0}
    return {
        "name": name,
        "reference": ref,
        "current": cur,
        "categories": cats,
        "chiSquare": chi_out,
        "psi": psi_from_counts(rc, cc),
        "jensenShannon": float(jensenshannon(rc, cc, base=2)),
    }


norm = rng.standard_normal
numeric = [
    numeric_case("tiny 3 vs 4", norm(3), norm(4) + 0.5),
    numeric_case("tiny 5 vs 7", norm(5), norm(7) + 1.0),
    numeric_case("equal sizes 50 vs 50 (square path)", norm(50), norm(50) + 0.4),
    numeric_case("identical samples", np.arange(20.0), np.arange(20.0)),
    numeric_case("ties: small integers 80 vs 120", rng.integers(0, 6, 80), rng.integers(1, 7, 120)),
    numeric_case("ties: coarse rounding 400 vs 600", np.round(norm(400)), np.round(norm(600) * 1.3)),
    numeric_case("unequal sizes 300 vs 1200 shift", norm(300), norm(1200) + 0.15),
    numeric_case("heavy tails: cauchy 500 vs 800", stats.cauchy.rvs(size=500, random_state=rng),
                 stats.cauchy.rvs(size=800, random_state=rng) * 1.5),
    numeric_case("heavy tails: lognormal 1000 vs 3000", rng.lognormal(0, 2, 1000), rng.lognormal(0.1, 2, 3000)),
    numeric_case("exact, no drift 2000 vs 5000", norm(2000), norm(5000)),
    numeric_case("asymptotic n<=140 small d (DMTW)", norm(100), norm(10001)),
    numeric_case("asymptotic n<=140 medium d (Pomeranz)", norm(100) + 0.35, norm(10001)),
    numeric_case("asymptotic n<=140 large d (Smirnov)", norm(100) + 1.2, norm(10001)),
    numeric_case("asymptotic n>140 small shift", norm(1500) + 0.05, norm(10001)),
    numeric_case("asymptotic n>140 shift (Smirnov sum)", norm(3000) + 0.2, norm(10002)),
    numeric_case("asymptotic heavy tails", stats.t.rvs(1.5, size=400, random_state=rng), stats.t.rvs(1.5, size=10001, random_state=rng) + 0.3),
]

letters = [chr(ord("a") + i) for i in range(26)]
def draw(cats, probs, n):
    return [str(x) for x in rng.choice(cats, size=n, p=probs)]

categorical = [
    categorical_case("identical", ["a", "b", "b", "c"], ["a", "b", "b", "c"]),
    categorical_case("unseen values in current", draw(["card", "cash", "wire"], [0.6, 0.3, 0.1], 500),
                     draw(["card", "cash", "wire", "bnpl", "crypto"], [0.5, 0.2, 0.1, 0.15, 0.05], 400)),
    categorical_case("missing categories in current", draw(letters[:6], [0.3, 0.2, 0.2, 0.1, 0.1, 0.1], 300),
                     draw(letters[:3], [0.5, 0.3, 0.2], 200)),
    categorical_case("tiny", ["x", "y"], ["y", "y", "z"]),
    categorical_case("many categories", draw(letters, [1 / 26] * 26, 5000), draw(letters, list(np.arange(1, 27) / np.arange(1, 27).sum()), 7000)),
    categorical_case("single category both", ["only"] * 10, ["only"] * 30),
]


# Large samples for ksTwoSampleValues' bucketed path (over 16,384 values in all). Too big to store,
# so they come from a generator the test repeats bit for bit: the Park-Miller LCG
# (seed = seed * 16807 mod 2^31-1, u = seed / (2^31-1)) and a transform of plain IEEE
# arithmetic, no libm function whose last bit could differ between numpy and V8.
def lcg(seed, n):
    out = np.empty(n)
    for i in range(n):
        seed = (seed * 16807) % 2147483647
        out[i] = seed / 2147483647
    return out


TRANSFORMS = {
    "uniform": lambda u: u,
    "integers": lambda u: np.floor(u * 200.0),
    "reciprocal": lambda u: 1.0 / u,
}


def ks_large_case(name, transform, n1, seed1, n2, seed2, scale, shift):
    f = TRANSFORMS[transform]
    ref = f(lcg(seed1, n1))
    cur = f(lcg(seed2, n2)) * scale + shift
    ks = stats.ks_2samp(ref, cur, alternative="two-sided", method="auto")
    return {
        "name": name, "transform": transform, "n1": n1, "seed1": seed1, "n2": n2, "seed2": seed2,
        "scale": scale, "shift": shift,
        "ks": {"statistic": float(ks.statistic), "pValue": float(ks.pvalue)},
    }


ks_large = [
    ks_large_case("uniform 30000 vs 25000, shifted", "uniform", 30000, 11, 25000, 12, 1.0, 0.004),
    ks_large_case("uniform 40000 vs 40000, no drift", "uniform", 40000, 13, 40000, 14, 1.0, 0.0),
    ks_large_case("ties: integers 40000 vs 20000", "integers", 40000, 15, 20000, 16, 1.0, 1.0),
    ks_large_case("heavy tail 1/u 20000 vs 20000, scaled", "reciprocal", 20000, 17, 20000, 18, 1.01, 0.0),
    ks_large_case("exact p, 9000 vs 8000", "uniform", 9000, 19, 8000, 20, 1.02, 0.0),
]

kstwo = []
for n in [3, 10, 50, 100, 140, 141, 500, 5000, 100000, 250000, 2000000]:
    for d in [0.001, 0.004, 0.01, 0.03, 0.06, 0.1, 0.2, 0.35, 0.5, 0.6, 0.9]:
        kstwo.append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})

smirnov = []
for n in [2, 7, 30, 1000, 123456, 2000000]:
    for d in [0.0005, 0.01, 0.05, 0.2, 0.5, 0.8]:
        smirnov.append({"n": n, "d": d, "sf": float(special.smirnov(n, d))})

chi2 = []
for df in [1, 2, 3, 5, 10, 30, 100, 1000]:
    for x in [0.01, 0.5, 1, 3, 10, 50, 150, 900, 1200]:
        chi2.append({"df": df, "x": x, "sf": float(stats.chi2.sf(x, df))})

out = {
    "generator": f"scripts/golden.py with numpy {np.__version__}, scipy {scipy.__version__}",
    "bins": BINS,
    "numeric": numeric,
    "categorical": categorical,
    "ksLarge": ks_large,
    "kstwo": kstwo,
    "smirnov": smirnov,
    "chi2": chi2,
}
path = os.path.join(os.path.dirname(__file__), "..", "src", "fixtures", "golden.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {path}: {len(numeric)} numeric, {len(categorical)} categorical, {len(kstwo)} kstwo, {len(chi2)} chi2")
