"""Energy-based models on real data (issue 8, section 3): the tables of the README.

(a) Fully visible Boltzmann machine on scikit-learn's digits (1797 images, binarised at
    value > 8; 20 % held out; pixels constant in the training images dropped; L2 penalty
    ``--l2`` per image): held-out cross-entropy per image (nats) of independent pixels
    (exact; the baseline), pseudolikelihood and PCD (``log Z`` by AIS, +- its standard
    error, test-set spread and AIS error combined).  The ratio column is
    ``cross-entropy / baseline`` (no floor in the issue: below 1 means the couplings help).
(b) Potts model of the ANES 1996 answers (TVnews, selfLR, ClinLR, DoleLR, PID, educ,
    vote; 268,912 joint states, 645 parameters; 20 % held out; L2 penalty): exact (Newton
    on enumerated moments), PCD and pseudolikelihood; train and held-out cross-entropy per
    answer (exact ``log Z``), the largest residual ``|E_data[u] - E_model[u]|`` and the
    fit time.  The baseline is the independent-answers model (empirical marginals,
    regularised by the same penalty through the exact fit of the model without couplings).

Run: ``.venv/bin/python benchmarks/bench_ebm_data.py [--l2 X] [--anes-l2 X] [--quick]``
(``--quick``: 24 digit pixels and four ANES columns, about half a minute).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from expfam.ebm.examples import anes_report, digits_report, load_anes96


def _digits(args):
    pixels = list(range(8, 32)) if args.quick else None
    t0 = time.perf_counter()
    rep = digits_report(pixels=pixels, l2=args.l2, ais_runs=args.ais_runs,
                        ais_temperatures=args.ais_temperatures, seed=args.seed)
    n = len(rep["pixels"])
    print(f"(a) digits Boltzmann machine: {n} pixels kept, dropped (constant in training) "
          f"{rep['dropped']}; {rep['n_train']} train / {rep['n_test']} test images; "
          f"l2 = {rep['l2']:g}")
    base = rep["independent"]["cross_entropy"]
    print(f"    {'model':<18} {'held-out CE (nats/image)':>26} {'log Z':>6} {'fit s':>8} "
          f"{'conv':>5} {'CE / indep':>11}")
    for method in ("independent", "pseudolikelihood", "pcd"):
        r = rep[method]
        print(f"    {method:<18} {r['cross_entropy']:>17.3f} +- {r['se']:<5.3f} "
              f"{r['logz_method']:>6} {r['fit_time_s']:>8.2f} {str(r['converged']):>5} "
              f"{r['cross_entropy'] / base:>11.3f}")
    print(f"    (total {time.perf_counter() - t0:.1f} s)")


def _anes(args):
    cols = ("TVnews", "PID", "educ", "vote") if args.quick else None
    kw = {} if cols is None else {"columns": cols}
    t0 = time.perf_counter()
    rep = anes_report(l2=args.anes_l2, seed=args.seed, methods=("exact", "pcd", "pseudolikelihood"), **kw)
    # baseline: independent answers (the same exact fit without couplings: edges=())
    from expfam.ebm.potts_learning import fit_potts

    X, q, _ = load_anes96(rep["columns"])
    perm = np.random.default_rng(args.seed).permutation(X.shape[0])
    te, tr = np.sort(perm[:rep["n_test"]]), np.sort(perm[rep["n_test"]:])
    ind = fit_potts(X[tr], q=q, edges=(), l2=args.anes_l2).model
    logz = ind.log_partition()
    ce_tr = -float(np.mean(ind.unnormalized_log_prob(X[tr]) - logz))
    lp_te = ind.unnormalized_log_prob(X[te]) - logz
    ce_te, se_te = -float(lp_te.mean()), float(lp_te.std(ddof=1) / np.sqrt(lp_te.size))
    print(f"(b) ANES 1996 Potts model: columns {rep['columns']}, q = {rep['q']}, "
          f"{rep['n_params']} parameters; {rep['n_train']} train / {rep['n_test']} test "
          f"answers; l2 = {rep['l2']:g}")
    print(f"    {'model':<18} {'train CE':>9} {'held-out CE':>18} {'max|resid|':>11} {'fit s':>8} "
          f"{'iter':>5} {'conv':>5} {'CE / indep':>11}")
    print(f"    {'independent':<18} {ce_tr:>9.3f} {ce_te:>10.3f} +- {se_te:<5.3f} {'':>11} {'':>8} "
          f"{'':>5} {'':>5} {1.0:>11.3f}")
    for method in ("exact", "pcd", "pseudolikelihood"):
        r = rep[method]
        print(f"    {method:<18} {r['train_cross_entropy']:>9.3f} {r['test_cross_entropy']:>10.3f} +- "
              f"{r['test_se']:<5.3f} {r['residual_max']:>11.2e} {r['fit_time_s']:>8.2f} "
              f"{r['n_iter']:>5} {str(r['converged']):>5} {r['test_cross_entropy'] / ce_te:>11.3f}")
    print("    (max|resid| of the penalised fits is l2 * |eta| at the optimum, not zero)")
    print(f"    (total {time.perf_counter() - t0:.1f} s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--l2", type=float, default=1e-2, help="digits: L2 penalty per image")
    ap.add_argument("--anes-l2", type=float, default=1e-2, help="ANES: L2 penalty per answer")
    ap.add_argument("--ais-runs", type=int, default=500)
    ap.add_argument("--ais-temperatures", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    _digits(args)
    _anes(args)


if __name__ == "__main__":
    main()
