"""Every family against its independent oracle (SciPy or closed forms).

The cases live in ``tests/cases/<family>.py``.
"""

import numpy as np
import pytest

import expfam
from expfam.solvers import relative_residual

from .cases import all_cases

CASES = all_cases()
IDS = [c.id for c in CASES]
RTOL = 1e-10


def _oracle(case, name):
    value = getattr(case, name)
    if value is not None:
        return value() if callable(value) else value
    return getattr(case.oracle, name)()


@pytest.fixture(params=CASES, ids=IDS)
def case(request):
    return request.param


def test_logpdf_matches_oracle(case):
    d = case.make()
    x = np.asarray(case.x, dtype=float)
    if case.logpdf is not None:
        expected = case.logpdf(x)
    elif case.discrete:
        expected = case.oracle.logpmf(x)
    else:
        expected = case.oracle.logpdf(x)
    np.testing.assert_allclose(d.logpdf(x), expected, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(d.pdf(x), np.exp(expected), rtol=1e-9, atol=1e-300)


def test_mean_var_entropy_match_oracle(case):
    d = case.make()
    np.testing.assert_allclose(d.mean(), _oracle(case, "mean"), rtol=RTOL, atol=1e-13)
    np.testing.assert_allclose(d.var(), _oracle(case, "var"), rtol=RTOL, atol=1e-13)
    np.testing.assert_allclose(d.entropy(), _oracle(case, "entropy"), rtol=RTOL, atol=1e-12)


def test_cdf_matches_scipy(case):
    if case.oracle is None or not case.has_cdf:
        pytest.skip("no SciPy cdf for this family")
    d = case.make()
    x = np.asarray(case.x, dtype=float)
    np.testing.assert_allclose(d.cdf(x), case.oracle.cdf(x), rtol=RTOL, atol=1e-14)


def test_natural_mean_round_trip(case):
    d = case.make()
    back = type(d).from_mean(d.mean_params, **d.fixed)
    assert relative_residual(type(d), back.natural, d.mean_params, d.fixed) <= 1e-12
    np.testing.assert_allclose(back.natural, d.natural, rtol=1e-6, atol=1e-9)


def test_derivatives_of_log_partition(case):
    """grad A and hess A against central differences of A and grad A."""
    d = case.make()
    cls, eta, fixed = type(d), d.natural, d.fixed
    k = eta.shape[-1]
    grad = cls.mean_from_natural(eta, fixed)
    hess = cls.fisher_from_natural(eta, fixed)
    for j in range(k):
        # the step is scaled to the function, never to a component that may be zero up
        # to rounding (it differs between BLAS kernels): 1e-5 of |eta_j| or of the scale
        # 1 / sqrt(F_jj) on which A bends, whichever is larger; both stay in the domain
        h = 1e-5 * max(abs(eta[j]), 1.0 / np.sqrt(hess[j, j]))
        e = np.zeros(k)
        e[j] = h
        dA = (cls.log_partition(eta + e, fixed) - cls.log_partition(eta - e, fixed)) / (2 * h)
        np.testing.assert_allclose(dA, grad[j], rtol=1e-5, atol=1e-7)
        dgrad = (cls.mean_from_natural(eta + e, fixed) - cls.mean_from_natural(eta - e, fixed)) / (2 * h)
        np.testing.assert_allclose(dgrad, hess[:, j], rtol=1e-5, atol=1e-7 * np.abs(hess).max())


def test_sample_moments_of_sufficient_statistics(case):
    """E[u] = grad A, checked on 20,000 samples within 5 standard errors."""
    d = case.make()
    x = d.sample(20_000, rng=1)
    assert np.all(type(d).in_support(x, d.fixed))
    u = type(d).sufficient_statistics(x, d.fixed)
    se = u.std(axis=0) / np.sqrt(u.shape[0])
    assert np.all(np.abs(u.mean(axis=0) - d.mean_params) <= 5 * se + 1e-12)


def test_kl_closed_form_against_monte_carlo(case):
    p = case.make()
    q = expfam.fit(type(p), p.sample(300, rng=2), **case.fit_kwargs).model
    assert abs(expfam.kl(p, p)) <= 1e-12
    k = expfam.kl(p, q)
    assert k >= 0
    mc = expfam.mc_kl(p, q, 200_000, rng=3)
    assert abs(mc.estimate - k) <= 4 * mc.se + 1e-9
    np.testing.assert_allclose(
        expfam.cross_entropy(p, q), expfam.entropy(p) + k, rtol=1e-9, atol=1e-10
    )


def test_mle_recovers_truth_and_beats_scipy(case):
    p = case.make()
    x = p.sample(5_000, rng=4)
    r = expfam.fit(type(p), x, **case.fit_kwargs)
    assert np.all(r.converged)
    assert r.residual_norm <= 1e-10
    # the estimate lies within 5 standard errors of the truth
    z = (r.model.natural - p.natural) / r.se_natural
    assert np.all(np.abs(z) < 5), z
    # log-likelihood from the sufficient statistics equals the sum of logpdf
    np.testing.assert_allclose(r.loglik, r.model.logpdf(x).sum(), rtol=1e-10)
    if case.scipy_fit is not None:
        ref = case.scipy_fit(x)
        ref_ll = np.sum(ref.logpmf(x) if case.discrete else ref.logpdf(x))
        assert r.loglik >= ref_ll - 1e-9 * abs(ref_ll)


def test_batched_fit_equals_separate_fits(case):
    p = case.make()
    x = p.sample((400, 3), rng=5)
    batched = expfam.fit(type(p), x, **case.fit_kwargs)
    assert batched.model.batch_shape == (3,)
    for j in range(3):
        single = expfam.fit(type(p), x[:, j], **case.fit_kwargs)
        np.testing.assert_allclose(batched.model.natural[j], single.model.natural, rtol=1e-9)
