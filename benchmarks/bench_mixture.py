"""Gaussian-mixture EM: expfam.fit_mixture against scikit-learn's GaussianMixture.

10^6 points in 2-D from a K = 5 full-covariance normal mixture; both run a fixed number
of EM iterations from the same initial parameters (weights, means, covariances; no
regularisation).  Printed: seconds per iteration of each (the whole fit divided by the
iterations: expfam's includes its final responsibilities and residuals), the ratio, and
the log-likelihoods reached.  Floor: ratio <= 0.5.

    .venv/bin/python benchmarks/bench_mixture.py [--n 1000000] [--iters 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

import expfam
from _timing import timed

FLOOR = 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    K = 5
    means = rng.normal(0, 4, (K, 2))
    z = rng.integers(0, K, a.n)
    A = rng.normal(0, 0.6, (K, 2, 2)) + np.eye(2)
    X = means[z] + np.einsum("nij,nj->ni", A[z], rng.normal(size=(a.n, 2)))
    w0 = np.full(K, 1 / K)
    m0 = X[rng.choice(a.n, K, replace=False)]
    c0 = np.array([np.cov(X.T)] * K)
    init = expfam.Mixture(w0, [expfam.MultivariateNormal(mean=m, cov=c) for m, c in zip(m0, c0)])

    out = {}

    def ours():
        out["ours"] = expfam.fit_mixture("multivariate_normal", X, K, init=init, max_iter=a.iters,
                                         tol=1e-300)

    def theirs():
        gm = GaussianMixture(K, covariance_type="full", weights_init=w0, means_init=m0,
                             precisions_init=np.linalg.inv(c0), reg_covar=0.0, tol=0.0,
                             max_iter=a.iters)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            out["theirs"] = gm.fit(X)

    t_ours = timed(ours, a.repeat) / a.iters
    t_sk = timed(theirs, a.repeat) / a.iters
    ratio = t_ours / t_sk
    ll_ours = out["ours"].loglik
    ll_sk = out["theirs"].score(X) * a.n
    print(f"Gaussian mixture EM, n={a.n}, d=2, K={K}, full covariance, {a.iters} iterations "
          f"from the same start")
    print(f"  expfam.fit_mixture : {t_ours * 1e3:8.1f} ms / iteration  (log-lik {ll_ours:.6f})")
    print(f"  sklearn GaussianMixture: {t_sk * 1e3:8.1f} ms / iteration  (log-lik {ll_sk:.6f})")
    print(f"  ratio expfam / sklearn = {ratio:.3f}x  (floor <= {FLOOR}x: "
          f"{'met' if ratio <= FLOOR else 'NOT met'})")


if __name__ == "__main__":
    main()
