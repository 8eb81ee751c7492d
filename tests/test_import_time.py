"""``import expfam`` and a small fit load no heavy dependency (issue 11: small data).

Each check runs in a fresh interpreter (``sys.modules`` of this one is full) with an
empty numba cache.  The strict time figures (0.25 s, 0.6 s) are measured by
``benchmarks/bench_small.py``; here only what is imported, and one generous bound on the
CPU time of ``import expfam`` that a regression to the eager imports would exceed.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

SRC = str(pathlib.Path(__file__).resolve().parents[1] / "src")
HEAVY = ("scipy", "numba", "llvmlite", "pandas", "pyarrow", "dask", "matplotlib", "tqdm")
_REPORT = ("import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules"
           f" if m.split('.')[0] in {set(HEAVY)!r}}})))")


def _run(code: str, tmp_path) -> subprocess.CompletedProcess:
    cache = tmp_path / "numba-cache"
    cache.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": SRC, "NUMBA_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=True)


def _heavy(out: str) -> list:
    return json.loads(out.strip().splitlines()[-1])


def test_import_expfam_imports_no_heavy_module(tmp_path):
    r = _run("import expfam; expfam.FAMILIES; expfam.fit; expfam.kl; " + _REPORT, tmp_path)
    assert _heavy(r.stdout) == []


def test_import_expfam_cpu_time(tmp_path):
    # CPU time of the child (user + sys), not wall time: robust to a busy machine.  The
    # eager imports (scipy.special, numba) cost more than the whole bound on their own.
    code = ("import resource, subprocess, sys; subprocess.run([sys.executable, '-c', "
            "'import expfam'], check=True); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(u.ru_utime + u.ru_stime)")
    seconds = min(float(_run(code, tmp_path).stdout) for _ in range(2))
    assert seconds < 1.5, f"import expfam took {seconds:.2f} s of CPU"


def test_small_cli_fit_loads_no_jit_no_arrow(tmp_path):
    rng = np.random.default_rng(11)
    x = rng.gamma(2.0, 1 / 3.0, 100)
    path = tmp_path / "g100.csv"
    path.write_text("x\n" + "".join(f"{float(v)!r}\n" for v in x))
    r = _run("from expfam.cli import main; code = main(['fit', %r, '--family', 'gamma']); "
             "assert code == 0; " % str(path) + _REPORT, tmp_path)
    assert _heavy(r.stdout) == ["scipy"]  # scipy.special for lgamma / digamma, nothing else
    shape, _, scale = stats.gamma.fit(x, floc=0)  # oracle: SciPy's MLE
    fitted = dict(line.split("=")[0:2] for line in r.stdout.splitlines()[1:3])
    assert float(fitted["           shape "].split()[0]) == pytest.approx(shape, rel=1e-5)
    assert float(fitted["            rate "].split()[0]) == pytest.approx(1 / scale, rel=1e-5)


def test_small_in_memory_fits_of_every_family_load_no_jit(tmp_path):
    # every registered family, fitted to 100 of its own draws in one fresh process: no
    # numba; the log-likelihoods are then checked against SciPy's densities (the oracle)
    code = r"""
import json, sys
import numpy as np
import expfam
from expfam.families import FAMILIES
rng = np.random.default_rng(5)
FIXED = {"weibull": {"k": 1.7}, "pareto": {"x_m": 1.5}, "laplace": {"loc": 0.5},
         "binomial": {"n": 20}, "categorical": {"n_categories": 4}, "dirichlet": {"n_categories": 3},
         "multinomial": {"n": 7, "n_categories": 3}, "multivariate_normal": {"dim": 2},
         "negative_binomial": {"r": 3.0}}
out = {}
for name, cls in sorted(FAMILIES.items()):
    if name not in FIXED and cls.fixed_params:
        continue
    fixed = cls.check_fixed(dict(FIXED.get(name, {})))
    x = cls.support_of(fixed).draw(rng, 100)
    try:
        r = expfam.fit(cls, x, **FIXED.get(name, {}))
    except expfam.errors.ExpfamError:
        continue  # a draw on the boundary (no MLE): not what this test is about
    out[name] = (x.tolist(), float(r.loglik))
heavy = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ("numba", "llvmlite")})
oracle = {}
for name, (x, _) in out.items():
    r = expfam.fit(name, np.array(x), **FIXED.get(name, {}))
    try:
        d = r.model.to_scipy()
    except (NotImplementedError, AttributeError):
        continue
    xs = np.array(x).T if name == "dirichlet" else np.array(x)  # SciPy's layout: (k, n)
    lp = d.logpdf(xs) if hasattr(d, "logpdf") else d.logpmf(xs)
    oracle[name] = float(np.sum(lp))
print(json.dumps({"heavy": heavy, "fits": {k: v[1] for k, v in out.items()}, "oracle": oracle}))
"""
    res = json.loads(_run(code, tmp_path).stdout.strip().splitlines()[-1])
    assert res["heavy"] == []
    assert len(res["fits"]) >= 20 and len(res["oracle"]) >= 18
    for name, ll in res["oracle"].items():
        assert res["fits"][name] == pytest.approx(ll, rel=1e-10, abs=1e-9), name
