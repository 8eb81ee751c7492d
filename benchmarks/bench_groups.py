"""Many small fits: ``G`` groups of ``S`` samples (default 10^5 x 100) for Gamma, Beta, Normal.

(a) a Python loop of SciPy fits (loc/scale fixed) over the first ``--loop-groups`` groups
    (default 1,000), extrapolated linearly to all ``G`` groups -- the output says so;
(b) ``expfam.fit(family, x2d)`` with the data laid out ``(S, G)``: every column a group,
    all fitted in one vectorised pass (batched fit);
(c) ``expfam.fit(family, x_flat, by=labels)`` with shuffled integer labels (grouped fit);
(d) pandas' groupby of the same statistics: ``DataFrame({"g": labels, "u0": u_0(x), ...})
    .groupby("g").agg(count, sum u_0, sum u_1)`` (e.g. x and log x for the Gamma), the
    arrays of statistics computed by NumPy inside the timing -- the same numbers a
    grouped moment-matching fit needs, without any validation or solve.

Times are medians of ``--repeat`` runs after a warm-up; (c) and (d) are timed in turn
(c, d, c, d, ...) so that both see the same machine load.  Floors: (a)/(b) and (a)/(c)
>= 50; (c)/(d) <= 0.5.  The script also checks that the batched, grouped and SciPy fits
agree on the first groups, and the grouped sums of (d) against expfam's statistics.

Run: ``.venv/bin/python benchmarks/bench_groups.py [--groups G] [--size S]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy import stats

import expfam
from _timing import timed, timed_alternating

FAMILIES = [
    # name, sampler(rng, shape), scipy fit of one group, familiar params from the fit,
    # the sufficient statistics with NumPy (for pandas)
    ("Gamma", lambda rng, shape: rng.gamma(2.5, 1.5, shape),
     lambda x: stats.gamma.fit(x, floc=0), lambda p: (p[0], 1 / p[2]),
     lambda x: (x, np.log(x))),
    ("Beta", lambda rng, shape: rng.beta(2.0, 5.0, shape),
     lambda x: stats.beta.fit(x, floc=0, fscale=1), lambda p: (p[0], p[1]),
     lambda x: (np.log(x), np.log1p(-x))),
    ("Normal", lambda rng, shape: rng.normal(1.0, 2.0, shape),
     lambda x: stats.norm.fit(x), lambda p: (p[0], p[1]),
     lambda x: (x, x * x)),
]


def pandas_groupby(pd, labels, x, stats_of):
    """Count and sums of the statistics per group, by pandas (sorted groups)."""
    cols = {f"u{j}": u for j, u in enumerate(stats_of(x))}
    df = pd.DataFrame({"g": labels, **cols})
    return df.groupby("g").agg(n=("u0", "size"), **{f"s{j}": (c, "sum") for j, c in
                                                    enumerate(cols)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groups", type=int, default=10**5)
    ap.add_argument("--size", type=int, default=100, help="samples per group")
    ap.add_argument("--loop-groups", type=int, default=1000,
                    help="groups fitted by the SciPy loop (then extrapolated)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20240602)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args(argv)
    G, S = args.groups, args.size
    L = min(args.loop_groups, G)
    rng = np.random.default_rng(args.seed)
    print(f"expfam grouped-fit benchmark: {G:.3g} groups x {S} samples, seed {args.seed}, "
          f"{os.cpu_count()} CPUs")
    print(f"(a) SciPy loop over {L} groups, extrapolated x{G / L:g} to {G} groups; "
          f"(b) batched (S, G) array; (c) by= shuffled integer labels")
    import pandas as pd

    print(f"(d) pandas {pd.__version__} groupby: count and sums of u(x), alternating with (c)")
    head = (f"{'family':8s} {'scipy loop s':>13s} {'batched ms':>11s} {'by= ms':>9s} "
            f"{'a/b':>8s} {'a/c':>8s}  >=50x(b)  >=50x(c)  agree {'pandas ms':>10s} "
            f"{'c/d':>6s}  <=0.5")
    print(head)
    print("-" * len(head))
    ratios = []
    for name, sample, sp_fit, sp_params, stats_of in FAMILIES:
        if args.only and name.lower() not in [o.lower() for o in args.only]:
            continue
        family = getattr(expfam, name)
        x2d = sample(rng, (S, G))  # column g is group g
        labels = np.repeat(np.arange(G), S)
        perm = rng.permutation(G * S)
        x_flat = x2d.T.ravel()[perm]  # group g's samples, shuffled among the others
        labels = labels[perm]

        t0 = time.perf_counter()
        sp = [sp_params(sp_fit(x2d[:, g])) for g in range(L)]
        t_loop = (time.perf_counter() - t0) * G / L
        t_b = timed(lambda: expfam.fit(family, x2d), args.repeat)
        alt = timed_alternating({
            "c": lambda: expfam.fit(family, x_flat, by=labels),
            "d": lambda: pandas_groupby(pd, labels, x_flat, stats_of)}, args.repeat)
        t_c, t_d = alt["c"][0], alt["d"][0]
        ratios.append((name, alt))

        rb = expfam.fit(family, x2d)
        rc = expfam.fit(family, x_flat, by=labels)
        names = family.param_names
        pb = np.stack([rb.params[k] for k in names], -1)
        pc = np.stack([rc.params[k] for k in names], -1)
        ps = np.array(sp)
        # pandas' means of u(x) against the fitted mean parameters E[u] (moment matching)
        d = pandas_groupby(pd, labels, x_flat, stats_of)
        mu = rc.model.mean_params
        same_sums = (np.array_equal(d["n"].to_numpy(), rc.n)
                     and all(np.allclose(d[f"s{j}"].to_numpy() / d["n"].to_numpy(), mu[:, j],
                                         rtol=1e-8, atol=1e-12) for j in range(mu.shape[-1])))
        agree = (np.array_equal(rc.groups, np.arange(G)) and np.allclose(pb, pc, rtol=1e-9)
                 and np.allclose(pb[:L], ps, rtol=1e-4) and same_sums)
        a_b, a_c = t_loop / t_b, t_loop / t_c
        c_d = t_c / t_d
        print(f"{name:8s} {t_loop:13.1f} {t_b * 1e3:11.1f} {t_c * 1e3:9.1f} {a_b:7.0f}x {a_c:7.0f}x"
              f"  {'ok' if a_b >= 50 else 'MISS':>8s}  {'ok' if a_c >= 50 else 'MISS':>8s}  "
              f"{'ok' if agree else 'NO':>5s} {t_d * 1e3:10.1f} {c_d:6.2f}  "
              f"{'ok' if c_d <= 0.5 else 'MISS'}")
    print()
    print(f"The SciPy column is extrapolated from {L} groups (time x {G / L:g}); the expfam "
          "columns are measured on all groups (median of runs).")
    print("Spread of the alternating runs (min-max ms), a measure of the machine's noise:")
    for name, alt in ratios:
        print(f"  {name:8s} by= {alt['c'][1] * 1e3:.1f}-{alt['c'][2] * 1e3:.1f}   pandas "
              f"{alt['d'][1] * 1e3:.1f}-{alt['d'][2] * 1e3:.1f}")


if __name__ == "__main__":
    main()
