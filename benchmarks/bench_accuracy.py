"""Accuracy of the streamed sums at 10^9 values.

Streams ``--n`` values (default 10^9) of ``1 + U(0, 1e-3)`` in chunks of ``--chunk``
through ``SufficientStats.update`` (Normal: sums of x and x^2) and compares the sum of x
with the exact sum (``math.fsum`` per chunk, then ``math.fsum`` of those: exact to one
rounding) and with naive sequential accumulation (a running float64 total, as a plain
loop or ``np.cumsum`` would do).  Prints the errors in ulps of the exact total.

Run: ``.venv/bin/python benchmarks/bench_accuracy.py [--n 1e9] [--chunk 1e6]``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from expfam import SufficientStats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=float, default=1e9)
    ap.add_argument("--chunk", type=float, default=1e6)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    n, chunk = int(args.n), int(args.chunk)
    rng = np.random.default_rng(args.seed)
    acc = SufficientStats.zeros("gamma")  # u = (x, log x): sum_u[0] is the raw sum of x
    exact_parts, naive = [], 0.0
    t_update = 0.0
    t0 = time.perf_counter()
    for start in range(0, n, chunk):
        x = 1.0 + 1e-3 * rng.random(min(chunk, n - start))
        t = time.perf_counter()
        acc.update(x)
        t_update += time.perf_counter() - t
        exact_parts.append(math.fsum(x))
        naive = float(np.cumsum(np.concatenate([[naive], x]))[-1])  # sequential adds
    exact = math.fsum(exact_parts)
    ulp = float(np.spacing(exact))
    print(f"streamed {n:.3g} values in chunks of {chunk:.3g} ({time.perf_counter() - t0:.1f} s in all, "
          f"{t_update:.1f} s in SufficientStats.update)")
    print(f"exact sum (fsum)           : {exact!r}")
    err = abs(acc.sum_u[0] - exact)
    print(f"expfam (compensated)       : {float(acc.sum_u[0])!r}   error {err / ulp:.1f} ulp")
    print(f"naive sequential float64   : {naive!r}   error {abs(naive - exact) / ulp:.1f} ulp")
    print(f"relative errors: expfam {err / exact:.2e}, naive {abs(naive - exact) / exact:.2e}")


if __name__ == "__main__":
    main()
