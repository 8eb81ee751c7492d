"""How close ``expfam.fit`` of 10^7 values comes to one bare memory pass (issue 7).

For the Normal and the Gamma (the two families of the efax floor whose fit is a single
1-D pass), on seeded 10^7-value arrays, alternating, round after round:

(r) the reference: a numba ``prange`` sum of ``x`` (``fastmath``, every core): one read
    of the data and nothing else, the least any one-pass fit can cost;
(k) expfam's fused pass alone (``expfam._kernels.fused_sums``: the statistics about the
    pivot, ``log x`` for the Gamma, compensated sums, the support check);
(f) ``expfam.fit`` (the pass, the pivot, the solver, the log-likelihood).

Prints the medians and the ratios k/r and f/r (per round, then their median): a ratio
near 1 means the fit costs about one memory pass; above it, arithmetic (the Gamma's
``log``) or fixed overhead.  On a machine shared with other work the ratios are the
figures to read, not the times.  The reference runs on expfam's threading layer (set
before its first launch): under GNU OpenMP, chosen when another parallel numba function
ran first in the process, expfam's pass measured 3-4x slower here.

Run: ``.venv/bin/python benchmarks/bench_pass.py [--n N] [--rounds K] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
from numba import njit, prange

import expfam
import expfam._threading  # noqa: F401 (expfam's threading layer, before numba's first launch)
from _timing import timed_alternating
from expfam import _kernels
from expfam.families import resolve_family


@njit(parallel=True, fastmath=True, cache=True)
def _reference_pass(x):
    s = 0.0
    for i in prange(x.shape[0]):
        s += x[i]
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3, help="timed calls per round and function")
    args = ap.parse_args(argv)
    n = int(args.n)
    rng = np.random.default_rng(2026)
    cases = [("normal", rng.normal(1.0, 2.0, n)), ("gamma", rng.gamma(2.5, 1.5, n))]
    print(f"{'family':>8} {'ref ms':>8} {'pass ms':>8} {'fit ms':>8} {'pass/ref':>9} "
          f"{'fit/ref':>8}")
    for name, x in cases:
        cls = resolve_family(name)
        shift = np.array(x[0]) if cls.pivot else None
        fns = {
            "r": lambda x=x: _reference_pass(x),
            "k": lambda x=x, cls=cls, shift=shift: _kernels.fused_sums(cls, x, {}, shift=shift),
            "f": lambda x=x, name=name: expfam.fit(name, x),
        }
        rounds = [timed_alternating(fns, args.repeat, warmup=(i == 0)) for i in range(args.rounds)]
        med = {k: statistics.median(r[k][0] for r in rounds) * 1e3 for k in fns}
        kr = statistics.median(r["k"][0] / r["r"][0] for r in rounds)
        fr = statistics.median(r["f"][0] / r["r"][0] for r in rounds)
        print(f"{name:>8} {med['r']:8.2f} {med['k']:8.2f} {med['f']:8.2f} {kr:9.2f} {fr:8.2f}")


if __name__ == "__main__":
    main()
