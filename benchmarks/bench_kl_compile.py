"""Cold compile cost of the KL / entropy kernels (:mod:`expfam._divergence_jit`).

In a child process with an empty ``NUMBA_CACHE_DIR``, every family that declares a
kernel computes one KL and one entropy of a batch of
:data:`expfam.divergence.KERNEL_MIN_SIZE` distributions (the first call compiles its
kernels); the process CPU time (all threads) of each first call is printed, then the
same in a second child that finds the on-disk cache (load only), and the ratio
cold / warm per family and in total.  Compilation runs on the CPU, so the figure that
matters for the test suite is the CPU time (every pytest-xdist worker compiles the
kernels its tests reach).

Run: ``.venv/bin/python benchmarks/bench_kl_compile.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
import numpy as np
import expfam
from expfam.divergence import KERNEL_MIN_SIZE as N

rng = np.random.default_rng(0)
U = rng.uniform
A = rng.normal(size=(N, 3, 3))
S = A @ np.swapaxes(A, -1, -2) + np.eye(3)
cases = {
    "Normal": lambda: expfam.Normal(rng.normal(size=N), U(0.5, 2, N)),
    "LogNormal": lambda: expfam.LogNormal(rng.normal(size=N), U(0.5, 2, N)),
    "Exponential": lambda: expfam.Exponential(U(0.5, 5, N)),
    "Poisson": lambda: expfam.Poisson(U(0.5, 5, N)),
    "Gamma": lambda: expfam.Gamma(U(0.5, 5, N), U(0.5, 2, N)),
    "Beta": lambda: expfam.Beta(U(0.5, 5, N), U(0.5, 2, N)),
    "Dirichlet": lambda: expfam.Dirichlet(U(0.5, 5, (N, 3))),
    "Bernoulli": lambda: expfam.Bernoulli(U(0.05, 0.95, N)),
    "Binomial": lambda: expfam.Binomial(10, U(0.05, 0.95, N)),
    "Geometric": lambda: expfam.Geometric(U(0.05, 0.95, N)),
    "Laplace": lambda: expfam.Laplace(0.0, U(0.5, 2, N)),
    "Pareto": lambda: expfam.Pareto(U(0.5, 5, N), 1.0),
    "Categorical": lambda: expfam.Categorical(rng.dirichlet(np.ones(5), N)),
    "MultivariateNormal": lambda: expfam.MultivariateNormal(rng.normal(size=(N, 3)), S),
}
out = {}
for name, make in cases.items():
    p, q = make(), make()
    t = time.process_time()
    expfam.kl(p, q)
    p.entropy()
    out[name] = time.process_time() - t
print(json.dumps(out))
"""


def child(cache: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    env.pop("EXPFAM_DISABLE_KERNELS", None)
    res = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    with tempfile.TemporaryDirectory() as cache:
        cold = child(cache)
        warm = child(cache)
    print("first KL + entropy call per family, process CPU seconds (all threads)")
    print(f"{'family':<20}{'cold s':>9}{'cached s':>10}{'ratio':>8}")
    for name in cold:
        print(f"{name:<20}{cold[name]:>9.2f}{warm[name]:>10.2f}"
              f"{cold[name] / max(warm[name], 1e-9):>8.1f}")
    tc, tw = sum(cold.values()), sum(warm.values())
    print(f"{'total':<20}{tc:>9.2f}{tw:>10.2f}{tc / max(tw, 1e-9):>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
