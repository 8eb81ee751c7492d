"""expfam's KL divergence and entropy against torch.distributions (CPU, float64).

For every family both libraries have, the same seeded ``N`` (default 10^6) float64
parameter pairs are built once as expfam distributions and as torch distributions
(``torch.set_num_threads(2)``).  Then, alternating call by call: ``expfam.kl(p, q)``
against ``torch.distributions.kl_divergence(p, q)`` and ``p.entropy()`` against torch's
``.entropy()``; each is warmed up first (numba compiles, or loads from its disk cache,
expfam's kernels there).  Printed: the median times, the ratio expfam / torch (floor:
<= 1) and the largest relative and absolute differences of the values
(``|a - b| / max(|b|, 1e-300)``; a large relative difference where the KL is near 0 is
torch's: its textbook forms cancel there, see ``tests/test_divergence_speed_precision.py``).

Families: Normal, LogNormal (torch: a transformed Normal), Exponential, Gamma, Beta,
Poisson (torch has no Poisson entropy), Bernoulli, Binomial (n = 10), Geometric, Laplace
(equal locations: expfam's Laplace keeps ``loc`` fixed), Pareto (equal ``x_m``),
Categorical (K = 5), Dirichlet (K = 3) and MultivariateNormal (d = 3, ``N / 10``
pairs).  Torch has no KL for VonMises, Weibull, InverseGaussian, NegativeBinomial or
Rayleigh.

torch is not a dependency of expfam: when it is not importable, the script makes
``benchmarks/.venv-torch`` with this interpreter (``python -m venv``), installs CPU torch
there with pip on the first run, and adds that environment's ``site-packages`` to
``sys.path`` (the same Python, so one process runs both libraries).  It installs a CPU
build (``torch==2.13.0+cpu``, from pip's local wheels here) and only if that fails
PyPI's ``torch`` (which pulls the CUDA libraries).

Run: ``.venv/bin/python benchmarks/bench_kl_torch.py [--n N] [--repeat R] [--only NAME...]``.
"""

from __future__ import annotations

import argparse
import glob
import pathlib
import subprocess
import sys
import time

import numpy as np

import expfam

HERE = pathlib.Path(__file__).resolve().parent
VENV = HERE / ".venv-torch"
#: tried in order until one installs: the CPU wheel this workplace's pip finds, then PyPI's
TORCH_REQUIREMENTS = ("torch==2.13.0+cpu", "torch>=2.13")


def import_torch():
    """torch, from this environment or from ``benchmarks/.venv-torch`` (made on demand)."""
    try:
        import torch
        return torch
    except ImportError:
        pass
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    site = glob.glob(str(VENV / "lib" / "python*" / "site-packages"))
    if not site or not glob.glob(site[0] + "/torch/__init__.py"):
        # a CPU build first (plain "torch" from PyPI brings the CUDA libraries, gigabytes)
        for req in TORCH_REQUIREMENTS:
            if subprocess.run([str(py), "-m", "pip", "install", "-q", req]).returncode == 0:
                break
        site = glob.glob(str(VENV / "lib" / "python*" / "site-packages"))
    sys.path.append(site[0])
    import torch
    return torch


def cases(n: int, rng: np.random.Generator, torch):
    """``name -> (expfam p, q, torch p, q, has torch entropy)`` on shared parameters."""
    D = torch.distributions
    T = torch.from_numpy
    U = rng.uniform
    out = {}

    def two(make):
        return make(), make()

    (m1, s1), (m2, s2) = two(lambda: (rng.normal(size=n), U(0.5, 2.0, n)))
    out["Normal"] = (expfam.Normal(m1, s1), expfam.Normal(m2, s2),
                     D.Normal(T(m1), T(s1)), D.Normal(T(m2), T(s2)), True)
    out["LogNormal"] = (expfam.LogNormal(m1, s1), expfam.LogNormal(m2, s2),
                        D.LogNormal(T(m1), T(s1)), D.LogNormal(T(m2), T(s2)), True)
    r1, r2 = two(lambda: U(0.5, 5.0, n))
    out["Exponential"] = (expfam.Exponential(r1), expfam.Exponential(r2),
                          D.Exponential(T(r1)), D.Exponential(T(r2)), True)
    out["Poisson"] = (expfam.Poisson(r1), expfam.Poisson(r2),
                      D.Poisson(T(r1)), D.Poisson(T(r2)), False)
    (a1, b1), (a2, b2) = two(lambda: (U(0.5, 5.0, n), U(0.5, 2.0, n)))
    out["Gamma"] = (expfam.Gamma(a1, b1), expfam.Gamma(a2, b2),
                    D.Gamma(T(a1), T(b1)), D.Gamma(T(a2), T(b2)), True)
    out["Beta"] = (expfam.Beta(a1, b1), expfam.Beta(a2, b2),
                   D.Beta(T(a1), T(b1)), D.Beta(T(a2), T(b2)), True)
    p1, p2 = two(lambda: U(0.05, 0.95, n))
    out["Bernoulli"] = (expfam.Bernoulli(p1), expfam.Bernoulli(p2),
                        D.Bernoulli(probs=T(p1)), D.Bernoulli(probs=T(p2)), True)
    out["Binomial"] = (expfam.Binomial(10, p1), expfam.Binomial(10, p2),
                       D.Binomial(10, probs=T(p1)), D.Binomial(10, probs=T(p2)), True)
    out["Geometric"] = (expfam.Geometric(p1), expfam.Geometric(p2),
                        D.Geometric(probs=T(p1)), D.Geometric(probs=T(p2)), True)
    out["Laplace"] = (expfam.Laplace(0.0, s1), expfam.Laplace(0.0, s2),
                      D.Laplace(T(np.zeros(n)), T(s1)), D.Laplace(T(np.zeros(n)), T(s2)), True)
    out["Pareto"] = (expfam.Pareto(r1, 1.0), expfam.Pareto(r2, 1.0),
                     D.Pareto(T(np.ones(n)), T(r1)), D.Pareto(T(np.ones(n)), T(r2)), True)
    c1, c2 = two(lambda: rng.dirichlet(np.ones(5), n))
    out["Categorical"] = (expfam.Categorical(c1), expfam.Categorical(c2),
                          D.Categorical(probs=T(c1)), D.Categorical(probs=T(c2)), True)
    d1, d2 = two(lambda: U(0.5, 5.0, (n, 3)))
    out["Dirichlet"] = (expfam.Dirichlet(d1), expfam.Dirichlet(d2),
                        D.Dirichlet(T(d1)), D.Dirichlet(T(d2)), True)
    k = max(n // 10, 1)

    def mvn():
        A = rng.normal(size=(k, 3, 3))
        return rng.normal(size=(k, 3)), A @ np.swapaxes(A, -1, -2) + np.eye(3)

    (mu1, S1), (mu2, S2) = two(mvn)
    out["MultivariateNormal"] = (
        expfam.MultivariateNormal(mu1, S1), expfam.MultivariateNormal(mu2, S2),
        D.MultivariateNormal(T(mu1), covariance_matrix=T(S1)),
        D.MultivariateNormal(T(mu2), covariance_matrix=T(S2)), True)
    return out


def alternate(f_ours, f_theirs, repeat: int):
    """Median seconds of ``repeat`` alternated calls of each (after one warm-up of each),
    and the last values."""
    a = f_ours()
    b = f_theirs()
    ta, tb = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        a = f_ours()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        b = f_theirs()
        tb.append(time.perf_counter() - t)
    return float(np.median(ta)), float(np.median(tb)), np.asarray(a), b.numpy()


def max_rel(a, b) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10**6, help="parameter pairs per family")
    ap.add_argument("--repeat", type=int, default=5, help="timed calls of each, alternated")
    ap.add_argument("--only", nargs="*", default=None, help="families to run (names)")
    args = ap.parse_args(argv)
    torch = import_torch()
    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(20261202)
    all_cases = cases(args.n, rng, torch)
    print(f"expfam {expfam.__version__ if hasattr(expfam, '__version__') else ''} vs torch "
          f"{torch.__version__} (CPU, float64, 2 threads); N = {args.n} pairs "
          f"(MultivariateNormal d=3: N/10); median of {args.repeat} alternated calls")
    print(f"{'family':<20}{'what':<9}{'expfam ms':>11}{'torch ms':>10}{'ratio':>8}"
          f"{'max rel diff':>14}{'max abs diff':>14}")
    kl_torch = torch.distributions.kl_divergence
    worst = 0.0
    for name, (p, q, tp, tq, has_entropy) in all_cases.items():
        if args.only and name not in args.only:
            continue
        rows = [("kl", lambda: expfam.kl(p, q), lambda: kl_torch(tp, tq))]
        if has_entropy:
            rows.append(("entropy", lambda: expfam.entropy(p), lambda: tp.entropy()))
        for what, fo, ft in rows:
            to, tt, a, b = alternate(fo, ft, args.repeat)
            ratio = to / tt
            worst = max(worst, ratio)
            print(f"{name:<20}{what:<9}{to * 1e3:>11.1f}{tt * 1e3:>10.1f}{ratio:>8.2f}"
                  f"{max_rel(a, b):>14.1e}{np.max(np.abs(a - b)):>14.1e}", flush=True)
    print(f"largest ratio: {worst:.2f} (floor <= 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
