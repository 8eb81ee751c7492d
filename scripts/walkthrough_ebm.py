"""The README walk-through, run for real: its printed output is pasted into README.md.

1. A user-defined family: Conway-Maxwell-Poisson by ``expfam.define_family``.
2. The digits Boltzmann machine: held-out cross-entropy per image of independent pixels,
   pseudolikelihood and PCD (``log Z`` by AIS +- SE), and a picture of samples from the
   PCD model (``docs/digits_ising_samples.png``).
3. The ANES 1996 Potts model: exact, PCD and pseudolikelihood side by side.

Smaller settings than ``benchmarks/bench_ebm_data.py`` (fewer AIS runs and temperatures;
four of the seven ANES answers by default: the exact fit of all seven, 268,912 joint
states, takes about 8 minutes) so that it runs in a few minutes.
Run: ``.venv/bin/python scripts/walkthrough_ebm.py``.
"""

from __future__ import annotations

import pathlib
import time
import warnings

import numpy as np
from scipy import special

import expfam
from expfam.domains import NATURALS
from expfam.ebm import GibbsSampler
from expfam.ebm.examples import anes_report, digits_report
from expfam.errors import ConvergenceWarning

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def cmp_section():
    print("## 1. Conway-Maxwell-Poisson, a user-defined family")
    CMP = expfam.define_family(lambda x: (x, special.gammaln(x + 1)), NATURALS,
                               name="cmp_walk", param_names=("log_rate", "neg_nu"))
    for nu in (0.5, 2.0):  # over- and under-dispersed
        x = CMP(log_rate=np.log(3.0), neg_nu=-nu).sample(5000, rng=0)
        r = expfam.fit(CMP, x)
        print(f"true nu = {nu}: mean {x.mean():.3f}, variance {x.var():.3f}; fitted "
              f"log_rate = {r.params['log_rate']:.4f} +- {r.se['log_rate']:.4f}, "
              f"nu = {-r.params['neg_nu']:.4f} +- {r.se['neg_nu']:.4f}, converged={r.converged}, "
              f"truncation bound on A {r.model.log_partition_error():.1e}")


def digits_section(ais_runs, ais_temperatures):
    print("## 2. Digits: a fully visible Boltzmann machine on 8x8 binarised images")
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        rep = digits_report(l2=1e-2, ais_runs=ais_runs, ais_temperatures=ais_temperatures)
    print(f"{rep['n_train']} training / {rep['n_test']} held-out images, {len(rep['pixels'])} "
          f"pixels kept ({len(rep['dropped'])} constant in training dropped), l2 = {rep['l2']}")
    for m in ("independent", "pseudolikelihood", "pcd"):
        r = rep[m]
        print(f"  {m:17s} {r['cross_entropy']:8.3f} +- {r['se']:.3f} nats/image  (log Z "
              f"{r['logz_method']}, fit {r['fit_time_s']:.1f} s, converged={r['converged']})")
    for w in caught:
        print(f"  warning: {w.message}")
    print(f"  ({time.perf_counter() - t:.0f} s in all)")
    model = rep["pcd"]["model"]
    g = GibbsSampler(16, scan="sequential", burn_in=2000, thin=200, seed=1)
    x = g.sample_model(model, 16)
    images = np.zeros((16, 64))
    images[:, rep["pixels"]] = x
    _picture(images, DOCS / "digits_ising_samples.png")


def _picture(images, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 8, figsize=(6, 1.8))
    for ax, im in zip(axes.ravel(), images):
        ax.imshow(im.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_axis_off()
    fig.suptitle("samples of the PCD Boltzmann machine (16 Gibbs chains)", fontsize=8)
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=80)
    print(f"  picture: {path.relative_to(DOCS.parent)} ({path.stat().st_size // 1024} KB)")


def anes_section(columns):
    print(f"## 3. ANES 1996: a Potts model of {len(columns)} answers")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        rep = anes_report(columns=columns, l2=1e-2, methods=("exact", "pcd", "pseudolikelihood"))
    print(f"columns {rep['columns']}, q = {rep['q']}, {rep['n_params']} parameters, "
          f"{rep['n_train']} training / {rep['n_test']} held-out answers, l2 = {rep['l2']}")
    for m in ("exact", "pcd", "pseudolikelihood"):
        r = rep[m]
        print(f"  {m:17s} train {r['train_cross_entropy']:.3f}, held-out {r['test_cross_entropy']:.3f} "
              f"+- {r['test_se']:.3f} nats/answer, max |residual| {r['residual_max']:.1e}, "
              f"fit {r['fit_time_s']:.1f} s, converged={r['converged']}")
    for w in caught:
        print(f"  warning: {w.message}")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ais-runs", type=int, default=100)
    ap.add_argument("--ais-temperatures", type=int, default=500)
    ap.add_argument("--only", choices=("cmp", "digits", "anes"))
    ap.add_argument("--anes-columns", default="selfLR,PID,educ,vote",
                    help="comma-separated (all seven: TVnews,selfLR,ClinLR,DoleLR,PID,educ,vote)")
    a = ap.parse_args()
    if a.only in (None, "cmp"):
        cmp_section()
    if a.only in (None, "anes"):
        anes_section(tuple(a.anes_columns.split(",")))
    if a.only in (None, "digits"):
        digits_section(a.ais_runs, a.ais_temperatures)
