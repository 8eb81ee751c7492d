"""Dense Gibbs kernels: the lock-step SIMD-lane kernel against the scalar kernel (issue 8).

SK model (J ~ N(0, 1/n), h ~ N(0, 0.1^2)), sequential scan with the global flip (the
settings of ``GibbsSampler(scan="sequential")``), persistent chains, compiled kernels
called directly.  In the same process, called in turn (a, b, c, a, b, c, ...):

- ``scalar``: :func:`expfam.ebm._gibbs_kernels.sweep_dense` (one chain per thread
  iteration; the baseline, and still the random-scan kernel);
- ``lanes f64``: :func:`sweep_dense_lanes` with float64 fields (what the sampler runs);
- ``lanes f32``: the same with float32 fields and couplings, fields recomputed every 8
  sweeps (not used by the sampler: shown for the trade-off).

Median wall time and process CPU time (all threads) of ``--repeat`` calls; updates per
second, per CPU-second, and the ratio to the scalar kernel.  The cores are shared with
other processes: per CPU-second is the figure that survives the load.

Run: ``.venv/bin/python benchmarks/bench_gibbs_dense.py [--n 100] [--chains 1000]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from expfam.ebm import _gibbs_kernels as K
from expfam.ebm._rng import seed_streams


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[100])
    ap.add_argument("--chains", type=int, default=1000)
    ap.add_argument("--sweeps", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import numba

    print(f"numba threads {numba.get_num_threads()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'n':>5}{'kernel':>12}{'updates/s':>12}{'/cpu-s':>11}{'vs scalar':>11}"
          f"{'(cpu)':>8}")
    C, sweeps = args.chains, args.sweeps
    for n in args.n:
        rng = np.random.default_rng(n)
        J = np.triu(rng.normal(0, 1 / np.sqrt(n), (n, n)), 1)
        J = J + J.T
        h = rng.normal(0, 0.1, n)
        order = np.arange(n)
        out = np.zeros((C, 0, n), np.int8)
        state = {name: (np.where(rng.random((C, n)) < 0.5, 1, -1).astype(np.int8),
                        seed_streams(n, C)) for name in ("scalar", "lanes f64", "lanes f32")}
        J32 = J.astype(np.float32)
        calls = {
            "scalar": lambda S, rs: K.sweep_dense(S, h, J, rs, sweeps, 0, order, out, 1, True,
                                                  K.SIGMA),
            "lanes f64": lambda S, rs: K.sweep_dense_lanes(S, h, J, rs, sweeps, order, out, 1,
                                                           True, 0),
            "lanes f32": lambda S, rs: K.sweep_dense_lanes(S, h, J32, rs, sweeps, order, out, 1,
                                                           True, 8),
        }
        wall = {name: [] for name in calls}
        cpu = {name: [] for name in calls}
        for name, fn in calls.items():
            fn(*state[name])  # compile, burn in
        for _ in range(args.repeat):
            for name, fn in calls.items():
                t0, c0 = time.perf_counter(), time.process_time()
                fn(*state[name])
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        updates = C * n * sweeps
        base_w, base_c = statistics.median(wall["scalar"]), statistics.median(cpu["scalar"])
        for name in calls:
            w, c = statistics.median(wall[name]), statistics.median(cpu[name])
            print(f"{n:>5}{name:>12}{updates / w:>12.3g}{updates / c:>11.3g}{base_w / w:>10.2f}x"
                  f"{base_c / c:>7.2f}x")


if __name__ == "__main__":
    main()
