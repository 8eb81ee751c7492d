"""Bootstrap goodness of fit against ``scipy.stats.goodness_of_fit`` on the same data.

Gamma, n = 10^4, 1,000 bootstrap samples, Anderson-Darling; Beta, n = 10^4, 1,000
samples, Anderson-Darling.  SciPy refits every bootstrap sample in a Python loop, so it
is timed on ``--scipy-samples`` samples (default 100 for the Gamma, 20 for the Beta) and
**scaled linearly** to 1,000 -- the output says so.  expfam is timed on all 1,000 (one
warm-up call absorbs numba's compilation).  Floor: SciPy / expfam >= 10x (goal 50x).
The script also checks that the statistics agree and that the p-values agree within
their Monte Carlo error.

Run: ``.venv/bin/python benchmarks/bench_gof.py [--n N] [--samples B]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

import expfam

CASES = [
    # name, data, expfam family, SciPy law, SciPy known parameters, SciPy samples
    ("Gamma", lambda rng, n: rng.gamma(2.0, 1.5, n), "gamma", stats.gamma, {"loc": 0}, 100),
    ("Beta", lambda rng, n: rng.beta(2.0, 3.0, n), "beta", stats.beta, {"loc": 0, "scale": 1}, 20),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10**4)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(2026)
    print(f"bootstrap goodness of fit, Anderson-Darling, n = {args.n}, {args.samples} samples")
    print(f"{'case':<6} {'scipy (s)':>12} {'expfam (s)':>11} {'ratio':>7} {'floor':>6}  "
          f"{'stat scipy':>11} {'stat expfam':>11} {'p scipy':>8} {'p expfam':>9}  agree")
    ok_all = True
    for name, draw, family, law, known, s_samples in CASES:
        x = draw(rng, args.n)
        expfam.gof(family, x, "ad", n_bootstrap=20, rng=0, intervals="wald")  # warm-up
        t0 = time.perf_counter()
        ours = expfam.gof(family, x, "ad", n_bootstrap=args.samples, rng=1, intervals="wald")
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        ref = stats.goodness_of_fit(law, x, known_params=known, statistic="ad",
                                    n_mc_samples=s_samples, rng=2)
        t_ref = (time.perf_counter() - t0) * args.samples / s_samples
        ratio = t_ref / t_ours
        p = (ours.pvalue + ref.pvalue) / 2
        mc = 4 * np.sqrt(max(p * (1 - p), 1e-4) * (1 / args.samples + 1 / s_samples))
        agree = (abs(ours.value - ref.statistic) <= 1e-5 * abs(ref.statistic)
                 and abs(ours.pvalue - ref.pvalue) <= mc)
        ok_all &= agree and ratio >= 10
        print(f"{name:<6} {t_ref:>9.2f} (*) {t_ours:>11.2f} {ratio:>6.1f}x {'>=10x':>6}  "
              f"{ref.statistic:>11.6f} {ours.value:>11.6f} {ref.pvalue:>8.3f} {ours.pvalue:>9.3f}"
              f"  {'yes' if agree else 'NO'}")
    print("(*) SciPy timed on 100 (Gamma) / 20 (Beta) bootstrap samples and scaled linearly "
          f"to {args.samples}; p-values compared within 4 Monte Carlo standard errors")
    print("floor met" if ok_all else "FLOOR NOT MET (or disagreement)")


if __name__ == "__main__":
    main()
