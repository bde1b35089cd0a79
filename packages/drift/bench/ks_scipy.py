"""scipy.stats.ks_2samp on the samples the KS bench wrote (float64, little-endian), for the report.

Usage: python3 ks_scipy.py <a.f64> <b.f64> <runs>
Prints one JSON object: statistic, pvalue, method-independent timing (median of runs, seconds).
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy import stats

a = np.fromfile(sys.argv[1], dtype="<f8")
b = np.fromfile(sys.argv[2], dtype="<f8")
runs = int(sys.argv[3])
times = []
result = None
for _ in range(runs):
    t = time.perf_counter()
    result = stats.ks_2samp(a, b, method="auto")
    times.append(time.perf_counter() - t)
times.sort()
print(json.dumps({
    "statistic": float(result.statistic),
    "pvalue": float(result.pvalue),
    "seconds": times[len(times) // 2],
    "scipy": scipy.__version__,
    "numpy": np.__version__,
}))
