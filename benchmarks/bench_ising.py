"""Ising models: Gibbs throughput, exact enumeration, inverse Ising (issue 8, section 2).

(a) Gibbs single-site heat-bath updates per second, persistent chains
    (:class:`expfam.ebm.GibbsSampler`, compiled, ``prange`` over chains), against a
    vectorised NumPy reference in the same run (the same heat-bath rule over all chains at
    once: per site ``f = h_i + S J[:, i]``, one uniform per chain; the lattice by
    checkerboard halves with ``np.roll``):
    - dense SK model, n = 100, J ~ N(0, 1/n), sequential scan (incremental local fields,
      the heat-bath probability bracketed by a table); floor >= 1e8 updates/s (goal 2e8);
    - periodic 64 x 64 lattice, uniform coupling 0.4 (near the critical 0.4407), zero
      field, checkerboard, multi-spin coded (64 chains per word); floor >= 2.5e8
      updates/s (goal 5e8).
    Wall-clock rates, and updates per CPU-second of the process (the cores are shared
    with other processes: the load average is printed).
(b) Exact enumeration at n = 20 (2^20 states): log Z, the mean parameters and the Fisher
    information (210 x 210) together; floor <= 1 s.  Baseline: log Z alone by a NumPy
    log-sum-exp over the state matrix (``S @ h + einsum``), chunked.
(c) Inverse Ising, SK n = 12, J ~ N(0, 1/n), h ~ N(0, 0.1^2), 10^5 exact samples:
    ``expfam.fit(Ising, x, method=...)`` for ``exact`` (floor <= 0.5 s), ``pcd`` (floor
    <= 2 s with KL(true || fit) <= 1.5 x the exact MLE's) and ``pseudolikelihood``; time,
    KL to the truth (exact), coupling error ``sqrt(sum dJ^2 / sum J^2)``; medians of the wall
    time and of the process's CPU time (the cores may be shared).  Baseline in the
    same run: SciPy BFGS on the exact log-likelihood by enumeration written in NumPy (the
    approach of ConIII's ``Enumerate``).

Run: ``.venv/bin/python benchmarks/bench_ising.py [--repeat R] [--seed S]``.
"""

from __future__ import annotations

import os

# BLAS on one thread: the matrices here are small (k = 78), and OpenBLAS threads spinning
# beside numba's (which run the samplers on every core) cost more than they give
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402
from scipy.special import logsumexp  # noqa: E402

import expfam  # noqa: E402
from _timing import timed  # noqa: E402
from expfam.ebm import GibbsSampler, Ising, coupling_error, lattice_edges  # noqa: E402
from expfam.ebm import enumerate as enum  # noqa: E402


def sk_model(n, rng, field=0.1):
    J = np.triu(rng.normal(0, 1 / np.sqrt(n), (n, n)), 1)
    return Ising(fields=rng.normal(0, field, n), couplings=J + J.T)


# ----------------------------------------------------------------------------------
# (a) Gibbs throughput
# ----------------------------------------------------------------------------------
def numpy_dense_sweeps(S, h, J, n_sweeps, rng):
    """Heat-bath sweeps of every chain at once (rows of S), sites in order."""
    n = S.shape[1]
    for _ in range(n_sweeps):
        for i in range(n):
            f = h[i] + S @ J[:, i]
            p = 1.0 / (1.0 + np.exp(-2.0 * f))
            S[:, i] = np.where(rng.random(S.shape[0]) < p, 1.0, -1.0)
    return S


def numpy_lattice_sweeps(S, beta, n_sweeps, rng):
    """Checkerboard heat-bath sweeps of every chain (S: (C, L, L))."""
    L = S.shape[1]
    colour = (np.add.outer(np.arange(L), np.arange(L)) % 2).astype(bool)
    for _ in range(n_sweeps):
        for mask in (colour, ~colour):
            k = (np.roll(S, 1, 1) + np.roll(S, -1, 1) + np.roll(S, 1, 2) + np.roll(S, -1, 2))
            p = 1.0 / (1.0 + np.exp(-2.0 * beta * k))
            new = np.where(rng.random(S.shape) < p, 1.0, -1.0)
            S = np.where(mask, new, S)
    return S


def timed_cpu(fn, repeat):
    """Median wall time and median process CPU time (all threads) of ``repeat`` calls,
    after one warm-up call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu))


def bench_gibbs(repeat, seed):
    rng = np.random.default_rng(seed)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print("(a) Gibbs heat-bath single-site updates per second (one update = one site of one chain)")
    print(f"    {os.cpu_count()} cores, load average {load:.1f} at the start (other processes share "
          "the cores: /cpu-s is updates per CPU-second of this process)")
    print(f"{'model':<30}{'chains':>7}{'numpy /s':>11}{'expfam /s':>11}{'/cpu-s':>10}{'ratio':>8}"
          f"{'floor':>8}{'goal':>7}")

    def row(name, C, np_rate, rate, cpu_rate, floor, goal):
        ok = "OK" if rate >= floor else "BELOW FLOOR"
        print(f"{name:<30}{C:>7}{np_rate:>11.3g}{rate:>11.3g}{cpu_rate:>10.3g}{rate / np_rate:>7.1f}x"
              f"{floor:>8.2g}{goal:>7.2g}  {ok}")

    n = 100
    model = sk_model(n, rng)
    C_np, sweeps_np = 1000, 2
    S = np.where(rng.random((C_np, n)) < 0.5, 1.0, -1.0)
    t_np = timed(lambda: numpy_dense_sweeps(S, model.fields, model.couplings, sweeps_np, rng), repeat)
    np_rate = C_np * n * sweeps_np / t_np
    C, sweeps = 1000, 50
    g = GibbsSampler(C, scan="sequential", burn_in=0, seed=seed)
    g.run(Ising, model.natural, model.fixed, 1)  # start the chains, compile
    t, c = timed_cpu(lambda: g._sweep(Ising, model.natural, model.fixed, sweeps, 0), repeat)
    row("dense SK n=100 (sequential)", C, np_rate, C * n * sweeps / t, C * n * sweeps / c, 1e8, 2e8)
    L, beta = 64, 0.4
    edges = lattice_edges(L)
    lat = Ising(fields=np.zeros(L * L), couplings=np.full(len(edges), beta), edges=edges)
    C_np, sweeps_np = 64, 4
    S = np.where(rng.random((C_np, L, L)) < 0.5, 1.0, -1.0)
    t_np = timed(lambda: numpy_lattice_sweeps(S, beta, sweeps_np, rng), repeat)
    np_rate = C_np * L * L * sweeps_np / t_np
    C, sweeps = 1024, 20
    g = GibbsSampler(C, scan="checkerboard", burn_in=0, seed=seed)
    g.run(Ising, lat.natural, lat.fixed, 1)
    t, c = timed_cpu(lambda: g._sweep(Ising, lat.natural, lat.fixed, sweeps, 0), repeat)
    row("lattice 64x64 (multi-spin)", C, np_rate, C * L * L * sweeps / t, C * L * L * sweeps / c,
        2.5e8, 5e8)


# ----------------------------------------------------------------------------------
# (b) Enumeration
# ----------------------------------------------------------------------------------
def numpy_logz(h, J, chunk=2**16):
    n = h.size
    out = []
    for start in range(0, 2**n, chunk):
        x = np.arange(start, min(start + chunk, 2**n))[:, None]
        S = 1.0 - 2.0 * ((x >> np.arange(n)) & 1)
        out.append(logsumexp(S @ h + 0.5 * np.einsum("si,si->s", S @ J, S)))
    return logsumexp(out)


def bench_enumeration(repeat, seed):
    rng = np.random.default_rng(seed)
    n = 20
    m = sk_model(n, rng)
    I, J = Ising.pairs(m.fixed)
    h, Jm = m.fields, m.couplings
    t_np = timed(lambda: numpy_logz(h, Jm), 1)
    t_all = timed(lambda: enum.exact_moments(h, Jm, I, J, fisher=True), repeat)
    t_z = timed(lambda: enum.log_partition(h, Jm), repeat)
    agree = abs(numpy_logz(h, Jm) - enum.log_partition(h, Jm))
    print("\n(b) exact enumeration, n = 20 (2^20 states)")
    print(f"  numpy log Z alone (chunked)          {t_np:8.3f} s")
    print(f"  expfam log Z alone                   {t_z:8.3f} s   ({t_np / t_z:.1f}x)")
    print(f"  expfam log Z + moments + Fisher      {t_all:8.3f} s   floor <= 1 s: "
          f"{'OK' if t_all <= 1 else 'ABOVE FLOOR'}   |dlogZ| = {agree:.1e}")


# ----------------------------------------------------------------------------------
# (c) Inverse Ising
# ----------------------------------------------------------------------------------
def scipy_enumerated_mle(x):
    """BFGS on the exact mean log-likelihood, states enumerated in NumPy."""
    n = x.shape[1]
    S = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    iu = np.triu_indices(n, 1)
    U = np.hstack([S, S[:, iu[0]] * S[:, iu[1]]])
    mu = np.concatenate([x.mean(0), (x.T @ x / x.shape[0])[iu]])

    def f(eta):
        z = U @ eta
        lz = logsumexp(z)
        return lz - eta @ mu, np.exp(z - lz) @ U - mu

    return optimize.minimize(f, np.zeros(U.shape[1]), jac=True, method="BFGS",
                             options={"gtol": 1e-10, "maxiter": 2000}).x


def bench_inverse(repeat, seed):
    rng = np.random.default_rng(seed)
    n, N = 12, 100_000
    true = sk_model(n, rng)
    x = true.sample(N, rng=seed + 1)
    print(f"\n(c) inverse Ising, SK n = {n}, J ~ N(0, 1/n), N = {N} exact samples")
    t0 = time.perf_counter()
    eta_b = scipy_enumerated_mle(x)
    t_base = time.perf_counter() - t0
    base = Ising.from_natural(eta_b, **true.fixed)
    kl_base = true.kl(base)
    print(f"{'method':<22}{'time s':>9}{'cpu s':>8}{'vs base':>9}{'KL(true||fit)':>15}{'KL / MLE':>10}"
          f"{'coupling err':>14}  floor (wall time; cpu s: CPU time of all threads)")
    print(f"{'scipy BFGS (enumer.)':<22}{t_base:>9.3f}{'':>8}{1.0:>8.1f}x{kl_base:>15.3e}{'':>10}"
          f"{coupling_error(base, true):>14.4f}")
    expfam.fit(Ising, x[:2000], method="exact")  # compile outside the timings
    expfam.fit(Ising, x[:2000], method="pcd", rng=0)
    results = {}
    for method in ("exact", "pcd", "pseudolikelihood"):
        times, cpus = [], []
        for r in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            res = expfam.fit(Ising, x, method=method, rng=seed + 10 + r)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        results[method] = (float(np.median(times)), float(np.median(cpus)), res)
    kl_mle = true.kl(results["exact"][2].model)
    for method, (t, cpu, res) in results.items():
        kl = true.kl(res.model)
        if method == "exact":
            floor = f"<= 0.5 s: {'OK' if t <= 0.5 else 'ABOVE'}"
        elif method == "pcd":
            ok = t <= 2 and kl <= 1.5 * kl_mle
            floor = f"<= 2 s and KL <= 1.5x MLE: {'OK' if ok else 'NOT MET'} (converged={res.converged})"
        else:
            floor = ""
        print(f"{method:<22}{t:>9.3f}{cpu:>8.3f}{t_base / t:>8.1f}x{kl:>15.3e}{kl / kl_mle:>10.3f}"
              f"{coupling_error(res.model, true):>14.4f}  {floor}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import numba

    print(f"numba threads: {numba.get_num_threads()}")
    bench_gibbs(args.repeat, args.seed)
    bench_enumeration(args.repeat, args.seed)
    bench_inverse(args.repeat, args.seed)


if __name__ == "__main__":
    main()
