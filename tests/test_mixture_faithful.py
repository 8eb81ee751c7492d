"""Old Faithful (Azzalini and Bowman 1990; R's ``datasets::faithful``): 2-component normal
and Gamma mixtures of the eruption durations and of the waiting times, and a 2-D
full-covariance normal mixture of both.

Oracles: scikit-learn's ``GaussianMixture`` (normal mixtures, several starts, no
regularisation, tight tolerance), and, for the Gamma mixtures, a direct maximisation of the
mixture log-likelihood with ``scipy.optimize.minimize`` (``scipy.stats.gamma.logpdf``,
log-parametrised shapes and rates, a logit weight) started 10% away from the EM answer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.special import logsumexp

import expfam
from expfam.datasets import old_faithful

pytest.importorskip("sklearn")
from sklearn.mixture import GaussianMixture  # noqa: E402


@pytest.fixture(scope="module")
def faithful():
    e, w = old_faithful()
    return {"eruptions": e, "waiting": w}


def test_dataset_is_the_published_one(faithful):
    e, w = faithful["eruptions"], faithful["waiting"]
    assert e.shape == w.shape == (272,)
    # summary statistics of R's faithful (summary(faithful))
    assert (e.min(), e.max(), w.min(), w.max()) == (1.6, 5.1, 43.0, 96.0)
    np.testing.assert_allclose([e.mean(), w.mean()], [3.487783, 70.89706], atol=1e-6)
    np.testing.assert_allclose([np.median(e), np.median(w)], [4.0, 76.0])


def _sklearn(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GaussianMixture(2, covariance_type="full", n_init=3, tol=1e-12, max_iter=5000,
                               reg_covar=0.0, random_state=0).fit(x)


@pytest.mark.parametrize("col", ["eruptions", "waiting"])
def test_normal_mixture_against_sklearn(faithful, col):
    x = faithful[col]
    r = expfam.fit_mixture("normal", x, 2, n_init=3, rng=0, tol=1e-13)
    assert r.converged
    gm = _sklearn(x[:, None])
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(r.weights, gm.weights_[order], rtol=1e-4)
    np.testing.assert_allclose([c.params["loc"] for c in r.components], gm.means_[order, 0], rtol=1e-5)
    np.testing.assert_allclose([c.params["scale"] ** 2 for c in r.components], gm.covariances_[order, 0, 0],
                               rtol=1e-4)
    ll_sk = gm.score(x[:, None]) * x.size
    assert r.loglik >= ll_sk - 1e-7 * abs(ll_sk)
    np.testing.assert_allclose(r.loglik, ll_sk, rtol=1e-8)


def _gamma_negll(theta, x):
    a1, b1, a2, b2 = np.exp(theta[:4])
    w1 = 1 / (1 + np.exp(-theta[4]))
    lp = np.stack([np.log(w1) + stats.gamma.logpdf(x, a1, scale=1 / b1),
                   np.log1p(-w1) + stats.gamma.logpdf(x, a2, scale=1 / b2)])
    return -logsumexp(lp, axis=0).sum()


@pytest.mark.parametrize("col", ["eruptions", "waiting"])
def test_gamma_mixture_against_direct_maximisation(faithful, col):
    x = faithful[col]
    r = expfam.fit_mixture("gamma", x, 2, n_init=3, rng=0, tol=1e-14)
    assert r.converged
    p = [c.params for c in r.components]
    theta = np.log([p[0]["shape"], p[0]["rate"], p[1]["shape"], p[1]["rate"]])
    theta = np.append(theta, np.log(r.weights[0] / r.weights[1]))
    # the log-likelihood of the EM answer, by SciPy's densities
    np.testing.assert_allclose(-_gamma_negll(theta, x), r.loglik, rtol=1e-12)
    start = theta + 0.1 * np.abs(theta) * np.array([1, -1, -1, 1, 1])
    opt = optimize.minimize(_gamma_negll, start, args=(x,), method="BFGS",
                            options={"gtol": 1e-9, "maxiter": 5000})
    # the direct maximum is EM's maximum: same log-likelihood to 1e-6, same parameters
    # (labels made identifiable as in expfam: by the components' means shape / rate)
    assert -opt.fun <= r.loglik + 1e-6
    np.testing.assert_allclose(-opt.fun, r.loglik, atol=1e-6)
    got = opt.x
    if got[0] - got[1] > got[2] - got[3]:  # log mean of the first > of the second: swap
        got = np.array([got[2], got[3], got[0], got[1], -got[4]])
    np.testing.assert_allclose(got, theta, rtol=1e-4, atol=1e-4)


def test_two_dimensional_normal_mixture_against_sklearn(faithful):
    X = np.column_stack([faithful["eruptions"], faithful["waiting"]])
    r = expfam.fit_mixture("multivariate_normal", X, 2, n_init=3, rng=0, tol=1e-13)
    gm = _sklearn(X)
    ll_sk = gm.score(X) * X.shape[0]
    assert r.loglik >= ll_sk - 1e-7 * abs(ll_sk)
    np.testing.assert_allclose(r.loglik, ll_sk, rtol=1e-8)
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(r.weights, gm.weights_[order], rtol=1e-4)
    np.testing.assert_allclose([c.params["mean"] for c in r.components], gm.means_[order], rtol=1e-4)
