"""Time ``expfam.fit`` against SciPy's ``fit`` and against one NumPy pass over the data.

For each family, on ``N`` values (default 10^7) drawn with a fixed seed:

(a) SciPy's maximum-likelihood ``fit`` with loc/scale fixed where SciPy has such
    parameters (Poisson has no SciPy ``fit``: its MLE ``x.mean()`` stands in);
(b) one NumPy pass computing the same sufficient statistics, ``np.sum`` of each
    component of ``u(x)`` (e.g. ``np.sum(x); np.sum(np.log(x))`` for the Gamma) -- the
    least work any moment-matching fit must do, without any validation;
(c) ``expfam.fit`` (validation, one fused pass, the solver, log-likelihood, standard
    errors).

Each time is the median of ``--repeat`` runs after one warm-up call (which compiles the
numba kernels on a cold cache).  A SciPy fit slower than ``--slow`` seconds is timed once
(marked ``*``).  The script also checks that expfam's log-likelihood is not below SciPy's
by more than 1e-9 relative.  Floors: (a)/(c) >= 10 and (c)/(b) <= 1.5.

Run: ``.venv/bin/python benchmarks/bench_fit.py [--n N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from scipy import stats

import expfam
from _timing import timed

K_WEIBULL = 1.7




def scipy_timed(fn, repeat, slow):
    """Median of ``repeat`` runs, or the first run alone when it is slower than ``slow``."""
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    if first > slow:
        return first, result, True
    return timed(fn, repeat, warmup=False), result, False


def cases(rng, n):
    """name, data, fixed, scipy fit, scipy log-likelihood from its fit, numpy pass."""
    k = K_WEIBULL
    return [
        ("Normal", rng.normal(1.0, 2.0, n), {},
         lambda x: stats.norm.fit(x), lambda x, p: stats.norm.logpdf(x, *p).sum(),
         lambda x: (np.sum(x), np.sum(x * x))),
        ("Exponential", rng.exponential(2.0, n), {},
         lambda x: stats.expon.fit(x, floc=0), lambda x, p: stats.expon.logpdf(x, *p).sum(),
         lambda x: np.sum(x)),
        ("Gamma", rng.gamma(2.5, 1.5, n), {},
         lambda x: stats.gamma.fit(x, floc=0), lambda x, p: stats.gamma.logpdf(x, *p).sum(),
         lambda x: (np.sum(x), np.sum(np.log(x)))),
        ("Beta", rng.beta(2.0, 5.0, n), {},
         lambda x: stats.beta.fit(x, floc=0, fscale=1),
         lambda x, p: stats.beta.logpdf(x, *p).sum(),
         lambda x: (np.sum(np.log(x)), np.sum(np.log1p(-x)))),
        ("LogNormal", rng.lognormal(0.3, 0.8, n), {},
         lambda x: stats.lognorm.fit(x, floc=0), lambda x, p: stats.lognorm.logpdf(x, *p).sum(),
         lambda x: (lambda y: (np.sum(y), np.sum(y * y)))(np.log(x))),
        ("InverseGaussian", rng.wald(1.5, 3.0, n), {},
         lambda x: stats.invgauss.fit(x, floc=0), lambda x, p: stats.invgauss.logpdf(x, *p).sum(),
         lambda x: (np.sum(x), np.sum(1 / x))),
        ("VonMises", rng.vonmises(0.7, 2.0, n), {},
         lambda x: stats.vonmises.fit(x, fscale=1), lambda x, p: stats.vonmises.logpdf(x, *p).sum(),
         lambda x: (np.sum(np.cos(x)), np.sum(np.sin(x)))),
        ("Weibull", rng.weibull(k, n) * 2.0, {"k": k},
         lambda x: stats.weibull_min.fit(x, f0=k, floc=0),
         lambda x, p: stats.weibull_min.logpdf(x, *p).sum(),
         lambda x: np.sum(x**k)),
        ("Poisson", rng.poisson(4.5, n).astype(np.float64), {},
         lambda x: (x.mean(),), lambda x, p: stats.poisson.logpmf(x, p[0]).sum(),
         lambda x: np.sum(x)),
    ]


def mark(ok):
    return "ok" if ok else "MISS"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10**7, help="values per family (default 1e7)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per measurement")
    ap.add_argument("--slow", type=float, default=2.0,
                    help="a SciPy fit slower than this (s) is timed once")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--only", nargs="*", help="family names to run")
    args = ap.parse_args(argv)

    import numba

    rng = np.random.default_rng(args.seed)
    print(f"expfam fit benchmark: N = {args.n:.3g}, median of {args.repeat} after a warm-up, "
          f"seed {args.seed}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numba threads {numba.get_num_threads()}, numpy {np.__version__}, "
          f"scipy {__import__('scipy').__version__}, numba {numba.__version__}")
    head = (f"{'family':16s} {'scipy ms':>10s} {'numpy ms':>9s} {'expfam ms':>10s} "
            f"{'vs scipy':>9s} {'vs numpy':>9s}  >=10x  <=1.5x  loglik")
    print(head)
    print("-" * len(head))
    notes = []
    for name, x, fixed, sp_fit, sp_loglik, np_pass in cases(rng, args.n):
        if args.only and name.lower() not in [o.lower() for o in args.only]:
            continue
        family = getattr(expfam, name)
        t_c = timed(lambda: expfam.fit(family, x, **fixed), args.repeat)
        t_b = timed(lambda: np_pass(x), args.repeat)
        t_a, sp_params, once = scipy_timed(lambda: sp_fit(x), args.repeat, args.slow)
        res = expfam.fit(family, x, **fixed)
        ll_e = float(res.loglik)
        ll_s = float(sp_loglik(x, sp_params))
        ll_ok = ll_e >= ll_s - 1e-9 * abs(ll_s)
        if not ll_ok:
            notes.append(f"{name}: expfam loglik {ll_e!r} < scipy {ll_s!r}")
        a, c = t_a / t_c, t_c / t_b
        star = "*" if once else " "
        print(f"{name:16s} {t_a * 1e3:9.1f}{star} {t_b * 1e3:9.2f} {t_c * 1e3:10.2f} "
              f"{a:8.1f}x {c:8.2f}x  {mark(a >= 10):>5s}  {mark(c <= 1.5):>6s}  "
              f"{'ok' if ll_ok else 'LOWER'} ({ll_e - ll_s:+.3g})")
    if not args.only or "dirichlet" in [o.lower() for o in args.only]:
        n_d = max(args.n // 10, 1)
        xd = rng.dirichlet([0.5, 1.0, 2.0, 3.0, 4.0], size=n_d)
        t_c = timed(lambda: expfam.fit(expfam.Dirichlet, xd), args.repeat)
        t_b = timed(lambda: np.log(xd).sum(0), args.repeat)
        c = t_c / t_b
        print(f"{f'Dirichlet {n_d:.0e}x5':16s} {'-':>10s} {t_b * 1e3:9.2f} {t_c * 1e3:10.2f} "
              f"{'-':>9s} {c:8.2f}x  {'-':>5s}  {mark(c <= 1.5):>6s}  (no SciPy fit)")
    print()
    print("vs scipy = scipy / expfam; vs numpy = expfam / numpy pass; "
          "* = SciPy fit timed once (slower than --slow seconds).")
    print("Poisson: SciPy has no fit; its column times the MLE x.mean().")
    print("numpy pass = np.sum of each component of u(x), with no validation; expfam.fit "
          "also validates every value and solves for the parameters.")
    for note in notes:
        print("WARNING", note)


if __name__ == "__main__":
    main()
