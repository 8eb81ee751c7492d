"""expfam against efax (JAX, x64), side by side on the same seeded 10^7 values.

efax 2.x needs Python >= 3.12 and JAX, which expfam's own environment does not have, so
the script makes a second virtual environment for it (``benchmarks/.venv-efax``, with
``python3.12`` from the PATH or ``--python``; pip installs ``efax``, ``jax`` and ``numpy``
there on the first run) and runs efax in a worker process of that environment.

For each family (Normal, Gamma, Beta; Dirichlet 10^6 x 5) the data are drawn once here,
written to a ``.npy`` file and loaded by the worker, so both see the same values.  Then,
alternating, round after round: the median of ``--repeat`` timed calls of efax's
maximum-likelihood estimate (``Estimator.from_type(FamilyEP).sufficient_statistics(x)``,
``parameter_mean(..., axis=0)``, ``.to_nat()``, jitted, after a warm-up that compiles
it) and of ``expfam.fit`` (validation, the fused pass about the location pivots, the
solver, the log-likelihood), each after a quarter of a second idle (XLA's threads spin
after a call and would otherwise slow whatever is timed next).  The fitted parameters
are compared.  The printed ratio is expfam / efax per round: the floor is <= 1.

Run: ``.venv/bin/python benchmarks/bench_efax.py [--n N] [--repeat R] [--rounds K]``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import expfam
from _timing import timed

HERE = pathlib.Path(__file__).resolve().parent
VENV = HERE / ".venv-efax"

WORKER = r'''
import json, os, sys, time
os.environ["JAX_ENABLE_X64"] = "1"
import numpy as np, jax, jax.numpy as jnp
import efax
from efax import Estimator, parameter_mean

def make(name):
    cls = {"normal": efax.NormalEP, "gamma": efax.GammaEP, "beta": efax.BetaEP,
           "dirichlet": efax.DirichletEP}[name]
    est = Estimator.from_type(cls)
    @jax.jit
    def mle(x):
        return parameter_mean(est.sufficient_statistics(x), axis=0).to_nat()
    return mle

fns, data = {}, {}
for line in sys.stdin:
    cmd = json.loads(line)
    name = cmd["family"]
    if cmd["op"] == "load":
        x = np.load(cmd["path"])
        # efax's Dirichlet observes the first K - 1 coordinates (the last is implied)
        data[name] = jnp.asarray(x[:, :-1] if name == "dirichlet" else x)
        fns[name] = make(name)
        jax.block_until_ready(fns[name](data[name]))  # compile
        out = {"ok": True}
    else:
        ts = []
        for _ in range(cmd["repeat"]):
            t = time.perf_counter()
            r = fns[name](data[name])
            jax.block_until_ready(r)
            ts.append(time.perf_counter() - t)
        leaves = [np.asarray(v).tolist() for v in jax.tree_util.tree_leaves(r)]
        out = {"ms": float(np.median(ts)) * 1e3, "natural": leaves}
    print(json.dumps(out), flush=True)
'''


def find_python312() -> str | None:
    """A Python >= 3.12 that runs: on the PATH, or installed by pyenv."""
    candidates = [shutil.which(f"python3.{m}") for m in (12, 13, 14)]
    pyenv = pathlib.Path(os.environ.get("PYENV_ROOT", pathlib.Path.home() / ".pyenv"))
    candidates += sorted(str(p) for p in pyenv.glob("versions/3.1[2-9]*/bin/python3"))
    for exe in filter(None, candidates):
        probe = subprocess.run([exe, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return exe
    return None


def ensure_venv(python: str | None) -> pathlib.Path:
    """The efax environment's interpreter, created on the first run."""
    exe = VENV / "bin" / "python"
    if exe.exists():
        return exe
    python = python or find_python312()
    if python is None:
        sys.exit("bench_efax: efax 2.x needs Python >= 3.12; pass --python /path/to/python3.12")
    print(f"creating {VENV} with {python} (first run: pip installs efax and jax)", flush=True)
    subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(exe), "-m", "pip", "install", "-q", "efax>=2", "jax>=0.4", "numpy"],
                   check=True)
    return exe


def cases(rng, n):
    """name, data, efax's natural parameters -> ours for comparison."""
    return [
        ("normal", rng.normal(1.0, 2.0, n)),
        ("gamma", rng.gamma(2.5, 1.5, n)),
        ("beta", rng.beta(2.0, 3.0, n)),
        ("dirichlet", rng.dirichlet([1.0, 2.0, 3.0, 0.5, 4.0], n // 10)),
    ]


def ours_as_efax(name, result):
    """expfam's fit in efax's natural parametrisation, for the comparison."""
    p = result.params
    if name == "normal":
        var = p["scale"] ** 2
        return [p["loc"] / var, -0.5 / var]
    if name == "gamma":
        return [-p["rate"], p["shape"] - 1]
    if name == "beta":
        return [p["a"] - 1, p["b"] - 1]
    return list(np.asarray(p["alpha"]) - 1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=float, default=1e7)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--python", default=None, help="a Python >= 3.12 for efax's environment")
    args = ap.parse_args(argv)
    exe = ensure_venv(args.python)
    env = dict(os.environ, JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu")
    worker = subprocess.Popen([str(exe), "-c", WORKER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)

    def ask(**cmd):
        worker.stdin.write(json.dumps(cmd) + "\n")
        worker.stdin.flush()
        return json.loads(worker.stdout.readline())

    rng = np.random.default_rng(2026)
    n = int(args.n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = {}
        for name, x in cases(rng, n):
            path = os.path.join(tmp, f"{name}.npy")
            np.save(path, x)
            ask(op="load", family=name, path=path)
            expfam.fit(name, x)  # warm-up: compiles the kernels on a cold cache
            data[name] = x
        for rnd in range(1, args.rounds + 1):
            for name, x in data.items():
                # each side is timed after the other has gone idle: XLA's thread pool
                # spins for a while after a call, taking a core from whatever runs next
                time.sleep(0.25)
                theirs = ask(op="time", family=name, repeat=args.repeat)
                time.sleep(0.25)
                ours_ms = timed(lambda x=x, name=name: expfam.fit(name, x), args.repeat,
                                warmup=False) * 1e3
                r = expfam.fit(name, x)
                got = np.asarray(ours_as_efax(name, r), dtype=float).ravel()
                want = np.concatenate([np.ravel(v) for v in theirs["natural"]])
                agree = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
                rows.append((rnd, name, x.shape, theirs["ms"], ours_ms, agree))
    worker.stdin.close()
    worker.wait()
    print(f"{'round':>5} {'family':>10} {'values':>13} {'efax ms':>9} {'expfam ms':>10} "
          f"{'ratio':>6} {'<= 1':>5} {'agree':>9}")
    for rnd, name, shape, e_ms, o_ms, agree in rows:
        values = "x".join(f"{s:.0e}" if s > 10 else str(s) for s in shape)
        print(f"{rnd:>5} {name:>10} {values:>13} {e_ms:9.2f} {o_ms:10.2f} {o_ms / e_ms:6.2f} "
              f"{'ok' if o_ms <= e_ms else 'MISS':>5} {agree:9.1e}")


if __name__ == "__main__":
    main()
