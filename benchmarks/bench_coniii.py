"""Inverse Ising at n = 64: expfam's PCD and pseudolikelihood against ConIII's Pseudo and MCH.

Model: Sherrington-Kirkpatrick, ``J_ij ~ N(0, beta^2 / n)`` (``i < j``), fields
``h_i ~ N(0, 0.1^2)``, spins ``+-1``, at ``beta = 0.5`` (``--beta``): the paramagnetic
side of the SK spin-glass transition at ``beta = 1``, where a single-site Gibbs chain mixes
(the model is not frozen) and the couplings are still strong enough to matter.

Data: 10^5 samples of expfam's persistent Gibbs sampler (sequential scan), 100
independent chains of 1000 recorded states each after a burn-in of 2000 sweeps.  A pilot
run measures the integrated autocorrelation time ``tau`` of every spin (Sokal's window,
:func:`expfam.ebm.diagnostics.integrated_autocorrelation_time`); the chains are thinned to
``ceil(2 tau_max)`` sweeps per recorded state, and the autocorrelation time of the thinned
record is printed (about 1: the states are close to independent).

Methods, on the same samples: expfam ``fit(Ising, x, method="pseudolikelihood")`` and
``method="pcd"`` (from that pseudolikelihood estimate, its default start, with its default
stopping rule; its time includes the pseudolikelihood's); ConIII 3.0.1 ``Pseudo(x).solve()``
with its defaults (one BFGS per spin on the *summed* conditional log-likelihood, SciPy's
``gtol = 1e-5``: ``1e-10`` per sample, the tolerance of expfam's default ``tol = 1e-10`` on
the mean) and ``MCH(x).solve()`` (Monte Carlo histogram; ``sample_size`` 10^4,
``n_iters = burn_in = 10 n`` as ConIII's own warnings ask, ``maxiter`` 30, started from
ConIII's Pseudo solution, whose time is not counted in MCH's).  Printed: wall time, the
process's CPU time (the cores may be shared with other work) and the coupling
reconstruction error ``sqrt(sum dJ^2 / sum J^2)``.  Floors: expfam's pseudolikelihood at
least as accurate as ConIII's and faster; expfam's PCD more accurate than both of ConIII's.
ConIII's Pseudo alone takes many CPU-minutes here: ``--coniii-out FILE`` keeps ConIII's
results (written on the first run, read on later runs with the same options and seed).

ConIII 3.0.1 needs numpy < 2, so the script makes its own virtual environment
(``benchmarks/.venv-coniii``, Python 3.11 from pyenv or ``--python``): ``numpy<2``,
``scipy==1.11.4``, numba, multiprocess, mpmath, dill, setuptools, wheel, then
``pip install --no-build-isolation coniii==3.0.1`` with ``CONDA_PREFIX`` set to that
environment.  ConIII runs in a subprocess of it, reading the samples from an ``.npy``
file (cast to int64: its MCH needs int64 samples, and its own int8 Metropolis samples are
cast to int64 before its MCH step, which otherwise raises a numba TypeError).

Run: ``.venv/bin/python benchmarks/bench_coniii.py [--beta B] [--seed S] [--python PY]
[--coniii-out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import expfam
from expfam.ebm import GibbsSampler, Ising, coupling_error
from expfam.ebm.diagnostics import integrated_autocorrelation_time

HERE = pathlib.Path(__file__).resolve().parent
VENV = HERE / ".venv-coniii"

WORKER = r'''
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
from coniii.solvers import Pseudo, MCH

x = np.load(sys.argv[1]).astype(np.int64)
n = x.shape[1]
# one JSON line per method, printed as soon as it is done (a later failure keeps it)
t, c = time.perf_counter(), time.process_time()
pseudo = Pseudo(x, iprint=False)
m_pl = pseudo.solve()
print(json.dumps({"pseudo": {"time_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                             "multipliers": np.asarray(m_pl).tolist()}}), flush=True)
t, c = time.perf_counter(), time.process_time()
mch = MCH(x, sample_size=int(sys.argv[2]), iprint=False, rng=np.random.RandomState(0))
# ConIII's own Metropolis samples are int8, which its compiled MCH step does not accept
_approx = mch.mch_approximation
mch.mch_approximation = lambda samples, dlamda: _approx(np.asarray(samples, dtype=np.int64), dlamda)
m_mch, flag, errs = mch.solve(initial_guess=np.asarray(m_pl), n_iters=10 * n, burn_in=10 * n,
                              maxiter=int(sys.argv[3]), full_output=True)
print(json.dumps({"mch": {"time_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                          "multipliers": np.asarray(m_mch).tolist(), "errflag": int(flag),
                          "final_max_error": float(np.max(np.abs(errs[-1])))}}), flush=True)
'''


def find_python311() -> str | None:
    """A Python 3.9 - 3.11 (ConIII 3.0.1 with numpy < 2): on the PATH or from pyenv."""
    candidates = [shutil.which(f"python3.{m}") for m in (11, 10, 9)]
    pyenv = pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv"))
    candidates += sorted((str(p) for p in pyenv.glob("versions/3.1[01].*/bin/python3")), reverse=True)
    for exe in filter(None, candidates):
        probe = subprocess.run([exe, "-c", "import sys; print((3, 9) <= sys.version_info < (3, 12))"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return exe
    return None


def ensure_venv(python: str | None) -> pathlib.Path:
    """The ConIII environment's interpreter, created on the first run."""
    exe = VENV / "bin" / "python"
    if exe.exists():
        return exe
    python = python or find_python311()
    if python is None:
        sys.exit("bench_coniii: ConIII 3.0.1 needs Python <= 3.11 (numpy < 2); pass --python")
    print(f"creating {VENV} with {python} (first run: pip installs ConIII and numpy<2)", flush=True)
    subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(exe), "-m", "pip", "install", "-q", "numpy<2", "scipy==1.11.4", "numba",
                    "multiprocess", "mpmath", "dill", "setuptools", "wheel"], check=True)
    env = {**os.environ, "CONDA_PREFIX": str(VENV)}
    subprocess.run([str(exe), "-m", "pip", "install", "-q", "--no-build-isolation", "coniii==3.0.1"],
                   check=True, env=env)
    return exe


def sk_model(n, beta, seed):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0.0, beta / math.sqrt(n), (n, n)), 1)
    return Ising(fields=rng.normal(0.0, 0.1, n), couplings=J + J.T)


def reference_samples(model, n_samples, seed, chains=100):
    """Thinned states of persistent Gibbs chains and the autocorrelation check."""
    pilot = GibbsSampler(chains, scan="sequential", burn_in=2000, seed=seed)
    x = pilot.sample_model(model, chains * 400)  # 400 consecutive sweeps per chain
    tau = integrated_autocorrelation_time(pilot.chains)
    thin = max(1, math.ceil(2 * float(np.max(tau))))
    g = GibbsSampler(chains, scan="sequential", burn_in=2000, thin=thin, seed=seed + 1)
    x = g.sample_model(model, n_samples)
    tau_thin = integrated_autocorrelation_time(g.chains)
    return x, float(np.max(tau)), thin, float(np.max(tau_thin)), float(np.median(tau_thin))


def coniii_to_matrix(m, n):
    """ConIII's multipliers ``(h, J_ij for i < j in row order)``; its energy is
    ``-h.s - sum J_ij s_i s_j``, so they are expfam's fields and couplings."""
    m = np.asarray(m)
    J = np.zeros((n, n))
    i, j = np.triu_indices(n, 1)
    J[i, j] = m[n:]
    return J + J.T


def run_coniii(exe, x, args) -> dict:
    """ConIII's results (one JSON line per method), from ``--coniii-out`` when that file
    exists (a previous run on the same samples: ConIII's Pseudo alone takes minutes), else
    from a fresh run of the worker, written there when the option is given."""
    cache = pathlib.Path(args.coniii_out) if args.coniii_out else None
    if cache is not None and cache.exists():
        text = cache.read_text()
        print(f"  ConIII results read from {cache} (a previous run on these samples)", flush=True)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "samples.npy")
            np.save(path, x.astype(np.int64))
            proc = subprocess.run([str(exe), "-c", WORKER, path, str(args.mch_sample_size),
                                   str(args.mch_maxiter)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"ConIII worker failed (the finished methods are kept):\n{proc.stderr[-3000:]}")
        text = proc.stdout
        if cache is not None:
            cache.write_text(text)
    out = {}
    for line in text.splitlines():
        if line.startswith("{"):
            out.update(json.loads(line))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--beta", type=float, default=0.5)
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mch-sample-size", type=int, default=10_000)
    ap.add_argument("--mch-maxiter", type=int, default=30)
    ap.add_argument("--python", default=None)
    ap.add_argument("--coniii-out", default=None,
                    help="file of ConIII's results: read when it exists, else written")
    args = ap.parse_args()
    exe = ensure_venv(args.python)

    true = sk_model(args.n, args.beta, args.seed)
    t = time.perf_counter()
    x, tau, thin, tau_thin, tau_thin_med = reference_samples(true, args.samples, args.seed + 10)
    print(f"SK n = {args.n}, beta = {args.beta} (J ~ N(0, beta^2/n)), h ~ N(0, 0.1^2); "
          f"{x.shape[0]} samples of 100 Gibbs chains in {time.perf_counter() - t:.1f} s", flush=True)
    print(f"autocorrelation: pilot tau_max = {tau:.2f} sweeps -> thin = {thin}; thinned record "
          f"tau_max = {tau_thin:.2f}, median {tau_thin_med:.2f} (1 = independent)", flush=True)

    rows = []
    t, c0 = time.perf_counter(), time.process_time()
    pl = expfam.fit(Ising, x, method="pseudolikelihood")
    t_pl, c_pl = time.perf_counter() - t, time.process_time() - c0
    rows.append(("expfam pseudolikelihood", t_pl, c_pl, coupling_error(pl.model, true),
                 f"converged={pl.converged}"))
    print(f"  expfam pseudolikelihood done: {t_pl:.1f} s", flush=True)
    t, c0 = time.perf_counter(), time.process_time()
    # PCD starts from the pseudolikelihood estimate (its default start): reuse it, count its
    # time in PCD's, and, as from its own start, no constant-gain warm-up (warmup=0)
    pcd = expfam.fit(Ising, x, method="pcd", rng=args.seed, init=pl.model, warmup=0)
    t_pcd, c_pcd = time.perf_counter() - t + t_pl, time.process_time() - c0 + c_pl
    c = pcd.mc_check
    rows.append(("expfam pcd", t_pcd, c_pcd, coupling_error(pcd.model, true),
                 f"converged={pcd.converged}, chi2 {c['chi2']:.0f} (critical {c['chi2_crit']:.0f}), "
                 f"{pcd.n_iter} steps; time includes the PL start"))
    print(f"  expfam pcd done: {t_pcd:.1f} s", flush=True)

    out = run_coniii(exe, x, args)
    for key, label in (("pseudo", "ConIII Pseudo"), ("mch", "ConIII MCH")):
        if key not in out:
            rows.append((label, math.nan, math.nan, math.nan, "did not finish"))
            continue
        J = coniii_to_matrix(out[key]["multipliers"], args.n)
        note = ""
        if key == "mch":
            note = (f"errflag={out[key]['errflag']} (0 = converged), final max moment error "
                    f"{out[key]['final_max_error']:.3g}; started from ConIII Pseudo")
        rows.append((label, out[key]["time_s"], out[key].get("cpu_s", math.nan),
                     coupling_error(J, true), note))

    print(f"{'method':<26}{'time (s)':>10}{'cpu (s)':>10}{'coupling error':>16}  notes")
    for name, el, cpu, err, note in rows:
        print(f"{name:<26}{el:>10.2f}{cpu:>10.2f}{err:>16.4f}  {note}")
    res = {name: (el, cpu, err) for name, el, cpu, err, _ in rows}
    pl, pcd = res["expfam pseudolikelihood"], res["expfam pcd"]
    cpl, cmch = res["ConIII Pseudo"], res["ConIII MCH"]
    best = np.nanmin([cpl[2], cmch[2]])
    print(f"pseudolikelihood: error ratio expfam / ConIII = {pl[2] / cpl[2]:.3f} (floor <= 1), "
          f"time ratio ConIII / expfam = {cpl[0] / pl[0]:.1f}x wall, {cpl[1] / pl[1]:.1f}x CPU "
          f"(floor >= 1)")
    print(f"pcd: error ratio expfam PCD / best ConIII = {pcd[2] / best:.3f} (floor < 1)")
    ok = pl[2] <= cpl[2] and pl[0] < cpl[0] and pcd[2] < best
    print("floors met" if ok else "FLOOR MISSED")


if __name__ == "__main__":
    main()
