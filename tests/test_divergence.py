"""KL, entropy and cross-entropy: closed forms against quadrature, SciPy and Monte Carlo."""

import numpy as np
import pytest
from scipy import integrate, stats

import expfam
from expfam.errors import FamilyMismatchError, NonFiniteError, ParameterError


def _kl_quad(p, q, lo, hi):
    f = lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x))  # noqa: E731
    return integrate.quad(f, lo, hi, limit=200, epsabs=1e-13, epsrel=1e-12)[0]


def test_kl_normal_against_quadrature_and_batching():
    ps = expfam.Normal(loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0])
    q = expfam.Normal(loc=0.3, scale=1.7)
    k = expfam.kl(ps, q)
    assert k.shape == (3,)
    for i in range(3):
        ref = _kl_quad(stats.norm(ps.loc[i], ps.scale[i]), stats.norm(0.3, 1.7), -40, 40)
        np.testing.assert_allclose(k[i], ref, rtol=1e-9)


def test_kl_gamma_against_quadrature():
    p, q = expfam.Gamma(2.0, 3.0), expfam.Gamma(0.7, 1.2)
    ref = _kl_quad(stats.gamma(2.0, scale=1 / 3), stats.gamma(0.7, scale=1 / 1.2), 0, np.inf)
    np.testing.assert_allclose(expfam.kl(p, q), ref, rtol=1e-8)


def test_kl_poisson_against_direct_sum():
    p, q = expfam.Poisson(3.0), expfam.Poisson(5.5)
    k = np.arange(0, 200)
    pp, pq = stats.poisson(3.0).logpmf(k), stats.poisson(5.5).logpmf(k)
    np.testing.assert_allclose(expfam.kl(p, q), np.sum(np.exp(pp) * (pp - pq)), rtol=1e-12)


def test_kl_of_a_distribution_with_itself_is_zero_and_cross_entropy_is_entropy():
    p = expfam.Gamma(shape=[0.3, 4.0, 900.0], rate=[2.0, 0.1, 7.0])
    np.testing.assert_allclose(expfam.kl(p, p), 0.0, atol=1e-12)
    np.testing.assert_allclose(expfam.cross_entropy(p, p), expfam.entropy(p), rtol=1e-12)


def test_kl_of_different_families_raises():
    with pytest.raises(FamilyMismatchError, match="mc_kl"):
        expfam.kl(expfam.Normal(), expfam.Gamma())


def test_poisson_entropy_series_and_asymptotics_against_scipy():
    lam = np.array([1e-3, 0.5, 20.0, 3e3, 2e5])
    # SciPy's own entropy sum stops converging above ~1e3: sum -p log p over lam +- 60 sd
    expected = []
    for l in lam:
        k = np.arange(max(0.0, np.floor(l - 60 * np.sqrt(l) - 60)), l + 60 * np.sqrt(l) + 60)
        logp = stats.poisson(l).logpmf(k)
        expected.append(-np.sum(np.exp(logp) * logp))
    np.testing.assert_allclose(stats.poisson(20.0).entropy(), expected[2], rtol=1e-12)
    h = expfam.Poisson(lam).entropy()
    np.testing.assert_allclose(h[:4], expected[:4], rtol=1e-10)
    # at 2e5 the oracle's own log p has rounding ~ lam log(lam) eps ~ 3e-10
    np.testing.assert_allclose(h[4], expected[4], rtol=5e-10)


def test_mc_cross_entropy_matches_closed_form_within_its_error():
    p, q = expfam.Normal(0.0, 1.0), expfam.Normal(0.5, 1.5)
    x = p.sample(50_000, rng=7)
    est = expfam.mc_cross_entropy(q, x)
    exact = expfam.cross_entropy(p, q)
    assert abs(est.estimate - exact) < 4 * est.se
    assert est.ci_low < exact < est.ci_high
    np.testing.assert_allclose(est.se, np.std(-q.logpdf(x), ddof=1) / np.sqrt(x.size), rtol=1e-12)
    assert est.n == 50_000


def test_mc_cross_entropy_with_weights_equals_repeated_samples():
    q = expfam.Poisson(2.0)
    x = np.array([0.0, 1.0, 2.0, 5.0])
    w = np.array([3, 1, 2, 4])
    a = expfam.mc_cross_entropy(q, x, weights=w)
    b = expfam.mc_cross_entropy(q, np.repeat(x, w))
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=1e-14)
    np.testing.assert_allclose(a.n_eff, w.sum() ** 2 / (w**2).sum())


def test_mc_cross_entropy_accepts_scipy_models_and_batches():
    x = stats.t(5).rvs(size=2000, random_state=1)
    a = expfam.mc_cross_entropy(stats.norm(0, 1.2), x)
    np.testing.assert_allclose(a.estimate, -np.mean(stats.norm(0, 1.2).logpdf(x)), rtol=1e-14)
    grid = expfam.Normal(loc=0.0, scale=[0.8, 1.0, 1.2])
    b = expfam.mc_cross_entropy(grid, x[:, None])
    assert b.estimate.shape == (3,)
    np.testing.assert_allclose(b.estimate[2], a.estimate, rtol=1e-12)


def test_mc_kl_across_families_against_quadrature():
    p = expfam.Gamma(3.0, 2.0)
    q = stats.lognorm(s=0.6, scale=1.4)
    ref = _kl_quad(stats.gamma(3.0, scale=0.5), q, 0, np.inf)
    est = expfam.mc_kl(p, q, 200_000, rng=11)
    assert abs(est.estimate - ref) < 4 * est.se
    assert est.se < 0.01


def test_mc_kl_is_infinite_outside_the_support_of_q():
    est = expfam.mc_kl(expfam.Normal(0, 1), expfam.Gamma(2.0, 1.0), 1000, rng=0)
    assert est.estimate == np.inf


def test_mc_bad_input():
    with pytest.raises(NonFiniteError, match="samples"):
        expfam.mc_cross_entropy(expfam.Normal(), [0.0, np.nan])
    with pytest.raises(ParameterError, match="n must be an integer >= 2"):
        expfam.mc_kl(expfam.Normal(), expfam.Normal(1.0), n=1)
    with pytest.raises(ParameterError, match="level"):
        expfam.mc_cross_entropy(expfam.Normal(), [0.0, 1.0], level=1.5)


def test_logpdf_outside_support_is_minus_infinity_and_nan_raises():
    g = expfam.Gamma(2.0, 1.0)
    np.testing.assert_array_equal(g.logpdf([-1.0, 0.0]), [-np.inf, -np.inf])
    np.testing.assert_array_equal(expfam.Poisson(2.0).logpmf([1.5]), [-np.inf])
    with pytest.raises(NonFiniteError, match="index 1"):
        g.logpdf([1.0, np.nan])
