"""Learning Ising models: exact, PCD, pseudolikelihood; regularisation, weights, boundary
data; evaluation helpers.

Oracles: known true parameters (fits from the exact moments, given as all 2^n states
weighted by their probabilities), brute-force enumeration written here (moments, KKT
conditions, log-likelihoods), NumPy's covariance, and the statistical floor of the exact
MLE (PCD's KL to the truth within 1.5 times the MLE's).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

import expfam
from expfam.ebm import (
    Ising,
    connected_correlations,
    coupling_error,
    cross_entropy,
    fit_ising,
    log_likelihood,
)
from expfam.errors import BoundaryError, NonFiniteError, ParameterError, ShapeError, SupportError, WeightError


def sk(n, seed, beta=1.0, field=0.3):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, beta / np.sqrt(n), (n, n)), 1)
    return Ising(fields=rng.normal(0, field, n), couplings=J + J.T)


def all_states(n, spins="+-1"):
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    return S if spins == "+-1" else (S + 1) / 2


def brute_moments(eta, n, spins="+-1"):
    X = all_states(n, spins)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    U = np.column_stack([X] + [X[:, i] * X[:, j] for i, j in pairs])
    z = U @ eta
    p = np.exp(z - logsumexp(z))
    mu = p @ U
    return mu, (U - mu).T @ ((U - mu) * p[:, None]), logsumexp(z), U, p


@pytest.mark.parametrize("spins", ["+-1", "01"])
def test_exact_recovers_true_parameters_from_exact_moments(spins):
    true = sk(8, 1, beta=1.5).to_spins(spins)
    X = all_states(8, spins)
    p = np.exp(true.log_prob(X))
    r = expfam.fit(Ising, X, weights=p, method="exact")
    assert r.converged and r.status == "converged"
    np.testing.assert_allclose(r.model.natural, true.natural, atol=1e-8)
    assert r.residual_norm < 1e-12


def test_exact_fit_report_and_standard_errors():
    true = sk(6, 2)
    x = true.sample(5000, rng=3)
    r = expfam.fit(Ising, x, method="exact")
    mu, F, logz, U, _ = brute_moments(r.model.natural, 6)
    u_data = Ising.sufficient_statistics(x, r.model.fixed).mean(0)
    np.testing.assert_allclose(r.residual, u_data - mu, atol=1e-12)
    assert np.max(np.abs(r.residual)) < 1e-12 and r.distance_se < 1e-8
    np.testing.assert_allclose(r.se_natural, np.sqrt(np.diag(np.linalg.inv(F)) / 5000), rtol=1e-8)
    assert r.mean_loglik == pytest.approx(u_data @ r.model.natural - logz, abs=1e-12)
    assert "converged=True" in r.summary()


# PCD against the statistical floor of the exact MLE (n = 12, 10^5 samples), its Monte
# Carlo error and checkpoint / resume: tests/test_ising_learning_pcd.py


def test_pseudolikelihood_is_consistent():
    true = sk(8, 7, beta=1.5)
    errs = [coupling_error(fit_ising(true.sample(N, rng=8), method="pseudolikelihood").model, true)
            for N in (2_000, 50_000)]
    assert errs[1] < 0.5 * errs[0]  # sqrt(25) = 5 in theory


def test_pseudolikelihood_stationary_point():
    """The gradient of the pseudolikelihood written out by brute force is zero at the fit."""
    true = sk(5, 9)
    x = true.sample(3000, rng=10)
    r = fit_ising(x, method="pseudolikelihood")
    h, J = r.model.fields, r.model.couplings

    def npl(h, J):
        f = h + x @ J
        return np.mean(np.sum(np.logaddexp(0, -2 * x * f), axis=1))

    eps = 1e-6
    g = []
    for i in range(5):
        d = np.zeros(5)
        d[i] = eps
        g.append((npl(h + d, J) - npl(h - d, J)) / (2 * eps))
    for i, j in itertools.combinations(range(5), 2):
        D = np.zeros((5, 5))
        D[i, j] = D[j, i] = eps
        g.append((npl(h, J + D) - npl(h, J - D)) / (2 * eps))
    assert np.max(np.abs(g)) < 1e-6


@pytest.mark.parametrize("n, scale", [(9, 20.0), (900, 0.0)])
def test_pseudolikelihood_loss_and_gradient_match_numpy(n, scale):
    """The compiled loss and gradient against NumPy's ``logaddexp`` and central differences
    of it: weighted rows, local fields up to +-80 (both overflow branches), and 900 spins of
    zero field (the per-row product of ``1 + e`` flushed to its log before it overflows)."""
    from expfam.ebm.pseudolikelihood import neg_log_pseudolikelihood

    rng = np.random.default_rng(3)
    X = np.where(rng.random((40 if n < 100 else 3, n)) < 0.5, -1.0, 1.0)
    w = rng.random(X.shape[0])
    I, J = np.triu_indices(n, 1)
    eta = np.concatenate([rng.normal(0, scale, n), rng.normal(0, scale / 3, I.size)])

    def npl(e):
        Jm = np.zeros((n, n))
        Jm[I, J] = Jm[J, I] = e[n:]
        return w @ np.sum(np.logaddexp(0, -2 * X * (e[:n] + X @ Jm)), axis=1) / w.sum()

    f, g = neg_log_pseudolikelihood(eta, X, w, w.sum(), I, J)
    assert f == pytest.approx(npl(eta), rel=1e-13)
    idx = rng.choice(eta.size, 12, replace=False)
    for k in idx:
        d = np.zeros(eta.size)
        d[k] = 1e-6
        assert g[k] == pytest.approx((npl(eta + d) - npl(eta - d)) / 2e-6, abs=1e-6)


def test_weights_are_repeated_rows():
    true = sk(5, 11)
    x = true.sample(400, rng=12)
    w = np.random.default_rng(13).integers(0, 4, 400)
    a = fit_ising(x, weights=w, method="exact")
    b = fit_ising(np.repeat(x, w, axis=0), method="exact")
    np.testing.assert_allclose(a.model.natural, b.model.natural, atol=1e-9)


def test_l2_and_l1_optimality_conditions():
    true = sk(5, 14)
    x = true.sample(2000, rng=15)
    u = Ising.sufficient_statistics(x, true.fixed).mean(0)
    r2 = fit_ising(x, method="exact", l2=0.05)
    mu, *_ = brute_moments(r2.model.natural, 5)
    np.testing.assert_allclose(u - mu, 0.05 * r2.model.natural, atol=1e-10)  # r = l2 eta
    r1 = fit_ising(x, method="exact", l1=0.02)
    eta = r1.model.natural
    mu, *_ = brute_moments(eta, 5)
    res = u - mu
    nz = eta != 0
    assert np.any(~nz)  # the penalty zeroes some parameters
    assert r1.converged
    np.testing.assert_allclose(res[nz], 0.02 * np.sign(eta[nz]), atol=1e-10)
    assert np.all(np.abs(res[~nz]) <= 0.02 + 1e-10)


def test_boundary_data_name_the_variables():
    rng = np.random.default_rng(16)
    x = np.where(rng.random((500, 5)) < 0.5, 1.0, -1.0)
    const = x.copy()
    const[:, 2] = 1.0
    with pytest.raises(BoundaryError, match="variable 2"):
        expfam.fit(Ising, const, method="exact")
    corr = x.copy()
    corr[:, 3] = corr[:, 0]
    with pytest.raises(BoundaryError, match=r"pair \(0, 3\)"):
        expfam.fit(Ising, corr, method="pseudolikelihood")
    unseen = x.copy()
    unseen[(unseen[:, 1] == 1) & (unseen[:, 4] == 1), 4] = -1.0  # (+1, +1) never observed
    with pytest.raises(BoundaryError, match=r"pair \(1, 4\) never shows \(1, 1\)"):
        expfam.fit(Ising, unseen, method="pcd")
    r = expfam.fit(Ising, const, method="exact", l2=0.1)  # regularised: finite
    assert r.converged and np.all(np.isfinite(r.model.natural))
    assert r.model.fields[2] > 1.0


def test_bad_input():
    x = np.where(np.random.default_rng(17).random((50, 3)) < 0.5, 1.0, -1.0)
    bad = x.copy()
    bad[7, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"\(7, 1\)"):
        fit_ising(bad)
    bad[7, 1] = 0.5
    with pytest.raises(SupportError, match=r"\(7, 1\)"):
        fit_ising(bad)
    with pytest.raises(ShapeError):
        fit_ising(x[:, 0])
    with pytest.raises(WeightError):
        fit_ising(x, weights=-np.ones(50))
    with pytest.raises(ParameterError):
        fit_ising(x, method="mcmc")
    with pytest.raises(ParameterError):
        fit_ising(x, l2=-1.0)
    with pytest.raises(ParameterError):
        expfam.fit(Ising, x, pseudo_count=1.0)


def test_the_stochastic_learner_drives_an_ising_model():
    """fit_sgd with the model's own moment source (enumeration) from the PL start reaches
    the exact MLE: one learning loop."""
    true = sk(5, 18)
    x = true.sample(3000, rng=19)
    mle = fit_ising(x, method="exact")
    start = fit_ising(x, method="pseudolikelihood").model
    r = expfam.fit_sgd(Ising, x, batch_size=None, init=start, tol=1e-13)
    assert r.converged
    np.testing.assert_allclose(r.model.natural, mle.model.natural, atol=1e-8)


def test_evaluation_helpers():
    true = sk(6, 20)
    x = true.sample(3000, rng=21)
    fit = fit_ising(x, method="exact").model
    lp = x @ fit.fields + 0.5 * np.einsum("ni,ij,nj->n", x, fit.couplings, x)
    lp -= brute_moments(fit.natural, 6)[2]
    ll = log_likelihood(fit, x)
    assert float(ll.estimate) == pytest.approx(lp.mean(), abs=1e-12)
    assert float(ll.se) == pytest.approx(lp.std(ddof=1) / np.sqrt(3000), rel=1e-10)
    assert float(cross_entropy(fit, x).estimate) == pytest.approx(-lp.mean(), abs=1e-12)
    ais = log_likelihood(fit, x, method="ais", n_runs=200, n_temperatures=100, rng=0)
    assert abs(float(ais.estimate) - lp.mean()) < 4 * float(ais.se)
    np.testing.assert_allclose(connected_correlations(x), np.cov(x.T, bias=True), atol=1e-12)
    Jt, Jf = true.couplings, fit.couplings
    iu = np.triu_indices(6, 1)
    assert coupling_error(fit, true) == pytest.approx(
        np.sqrt(np.sum((Jf[iu] - Jt[iu]) ** 2) / np.sum(Jt[iu] ** 2)))
