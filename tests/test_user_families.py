"""User-defined families (issue 8, section 1): ``expfam.define_family`` on a finite set of
states, the integers from a lower bound and an interval, and the worked examples.

Oracles: closed forms (the Gauss-Kronrod rule on monomials, the built-in Poisson),
mpmath high-precision summation and quadrature (Conway-Maxwell-Poisson, the quartic
family), ``scipy.stats.truncnorm`` and SciPy's numerical MLE, brute-force enumeration
written here (the family on 2-D states), ground truth recovered within stated standard
errors (z-tests, |z| < 4.5: a false alarm per parameter has probability < 1e-5), and
goodness-of-fit tests of the samplers at level 1e-4.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

import expfam
from expfam import user_examples as ue
from expfam.domains import NATURALS, REAL, Integers, Interval
from expfam.errors import (
    BoundaryError,
    DefinitionError,
    NonFiniteError,
    ParameterError,
    SupportError,
)
from expfam.families._quadrature import kronrod15

Z_MAX = 4.5
LEVEL = 1e-4


# ----------------------------------------------------------------------------------
# The quadrature rule
# ----------------------------------------------------------------------------------
def test_kronrod_rule_is_exact_to_degree_23_and_embeds_gauss_7():
    x, wk, wg = kronrod15()
    for d in range(24):
        exact = 2.0 / (d + 1) if d % 2 == 0 else 0.0
        assert abs(np.sum(wk * x ** d) - exact) < 1e-14
    xg, wgl = np.polynomial.legendre.leggauss(7)
    np.testing.assert_allclose(x[wg > 0], xg, atol=1e-15)
    np.testing.assert_allclose(wg[wg > 0], wgl, rtol=1e-14)
    assert np.all(wk > 0)


# ----------------------------------------------------------------------------------
# Poisson as a user-defined family against the built-in one (1e-12)
# ----------------------------------------------------------------------------------
def test_user_poisson_agrees_with_builtin_poisson():
    P = ue.user_poisson()
    assert issubclass(P, expfam.ExponentialFamily) and expfam.resolve_family("user_poisson") is P
    for lam in (0.05, 3.0, 40.0):
        p, q = P(log_rate=np.log(lam)), expfam.Poisson(lam)
        np.testing.assert_allclose(p.log_partition_value(), lam, rtol=1e-12)
        np.testing.assert_allclose(p.mean_params, q.mean_params, rtol=1e-12)
        np.testing.assert_allclose(p.fisher_information(), q.fisher_information(), rtol=1e-12)
        np.testing.assert_allclose(p.entropy(), q.entropy(), rtol=1e-12)
        np.testing.assert_allclose(p.mean(), lam, rtol=1e-12)
        np.testing.assert_allclose(p.var(), lam, rtol=1e-12)
        x = np.arange(0.0, 3 * lam + 10)
        np.testing.assert_allclose(p.logpdf(x), q.logpdf(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(expfam.kl(p, P(log_rate=np.log(1.3 * lam))),
                                   expfam.kl(q, expfam.Poisson(1.3 * lam)), rtol=1e-10)
        assert p.log_partition_error() <= 1e-16
    assert P(log_rate=0.0).logpdf(np.array([-1.0, 2.5])).tolist() == [-np.inf, -np.inf]
    x = expfam.Poisson(3.7).sample(3000, rng=4)
    r, ref = expfam.fit(P, x), expfam.fit(expfam.Poisson, x)
    assert r.converged and r.residual_norm < 1e-12
    np.testing.assert_allclose(r.params["log_rate"], np.log(ref.params["rate"]), rtol=1e-12)
    np.testing.assert_allclose(r.loglik, ref.loglik, rtol=1e-12)
    # delta method: se(log lam) = se(lam) / lam
    np.testing.assert_allclose(r.se["log_rate"], ref.se["rate"] / ref.params["rate"], rtol=1e-6)


def test_series_sampling_is_exact():
    P = ue.user_poisson()
    x = P(log_rate=np.log(4.0)).sample(20000, rng=5)
    k = np.arange(13)
    observed = np.array([np.sum(x == v) for v in k] + [np.sum(x > 12)])
    expected = np.append(stats.poisson.pmf(k, 4.0), stats.poisson.sf(12, 4.0)) * x.size
    assert stats.chisquare(observed, expected).pvalue > LEVEL


# ----------------------------------------------------------------------------------
# Conway-Maxwell-Poisson against mpmath summation
# ----------------------------------------------------------------------------------
def _cmp_mpmath(lam, nu):
    """log Z, E[x], Var[x] and E[log x!] by summing lam^x / x!^nu with 40 digits."""
    with mpmath.workdps(40):
        lam, nu = mpmath.mpf(lam), mpmath.mpf(nu)
        terms, x = [], 0
        while True:
            t = mpmath.exp(x * mpmath.log(lam) - nu * mpmath.loggamma(x + 1))
            terms.append(t)
            if x > 10 and t < mpmath.mpf(10) ** -45 * sum(terms):
                break
            x += 1
        Z = sum(terms)
        m1 = sum(i * t for i, t in enumerate(terms)) / Z
        m2 = sum(i * i * t for i, t in enumerate(terms)) / Z
        lf = sum(mpmath.loggamma(i + 1) * t for i, t in enumerate(terms)) / Z
        return float(mpmath.log(Z)), float(m1), float(m2 - m1 ** 2), float(lf)


@pytest.mark.parametrize("lam, nu", [(3.0, 0.5), (5.0, 2.0), (0.7, 0.0), (20.0, 1.3)])
def test_conway_maxwell_poisson_against_mpmath(lam, nu):
    C = ue.conway_maxwell_poisson()
    m = C.from_natural(ue.cmp_natural(lam, nu))
    logZ, mean, var, elf = _cmp_mpmath(lam, nu)
    assert abs(m.log_partition_value() - logZ) <= 1e-14 * abs(logZ) + m.log_partition_error()
    np.testing.assert_allclose(m.log_partition_value(), logZ, rtol=1e-13)
    np.testing.assert_allclose(m.mean(), mean, rtol=1e-12)
    np.testing.assert_allclose(m.var(), var, rtol=1e-11)
    np.testing.assert_allclose(m.mean_params, [mean, elf], rtol=1e-12)
    # dispersion: over- (nu < 1) and under-dispersed (nu > 1) relative to the Poisson
    assert (m.var() > m.mean()) == (nu < 1)


def test_conway_maxwell_poisson_with_nu_one_is_poisson():
    C = ue.conway_maxwell_poisson()
    m, q = C.from_natural(ue.cmp_natural(2.5, 1.0)), expfam.Poisson(2.5)
    np.testing.assert_allclose(m.log_partition_value(), 2.5, rtol=1e-13)
    x = np.arange(30.0)
    np.testing.assert_allclose(m.logpdf(x), q.logpdf(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.entropy(), q.entropy(), rtol=1e-12)


@pytest.mark.parametrize("lam, nu", [(3.0, 0.5), (5.0, 2.0)])
def test_conway_maxwell_poisson_fit_recovers_truth(lam, nu):
    C = ue.conway_maxwell_poisson()
    truth = ue.cmp_natural(lam, nu)
    x = C.from_natural(truth).sample(20000, rng=6)
    r = expfam.fit(C, x)
    assert r.converged and r.residual_norm < 1e-10
    z = (r.model.natural - truth) / r.se_natural
    assert np.all(np.abs(z) < Z_MAX), z
    np.testing.assert_allclose([r.se["log_rate"], r.se["neg_nu"]], r.se_natural, rtol=1e-6)
    # the standard errors: the inverse Fisher information, by mpmath differences of A
    eta = r.model.natural
    h = 1e-4
    with mpmath.workdps(40):
        def A(e):
            return _cmp_mpmath(math.exp(e[0]), -e[1])[0]
        H = np.zeros((2, 2))
        for i, j in itertools.product(range(2), repeat=2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            H[i, j] = (A(eta + ei + ej) - A(eta + ei - ej) - A(eta - ei + ej) + A(eta - ei - ej)) / (4 * h * h)
    np.testing.assert_allclose(r.se_natural, np.sqrt(np.diag(np.linalg.inv(H)) / x.size), rtol=1e-4)


# ----------------------------------------------------------------------------------
# The quartic family on the real line against mpmath quadrature
# ----------------------------------------------------------------------------------
QUARTIC_ETA = np.array([0.3, 4.0, -0.2, -1.0])


def _quartic_mpmath(eta):
    with mpmath.workdps(30):
        def dens(x, j):
            return x ** j * mpmath.exp(sum(mpmath.mpf(e) * x ** (i + 1) for i, e in enumerate(eta)))
        pts = [-mpmath.inf, -2, 0, 2, mpmath.inf]
        Z = mpmath.quad(lambda x: dens(x, 0), pts)
        moments = [mpmath.quad(lambda x: dens(x, j), pts) / Z for j in range(1, 9)]
        return float(mpmath.log(Z)), np.array([float(m) for m in moments])


def test_quartic_against_mpmath_quadrature():
    Q = ue.quartic()
    m = Q.from_natural(QUARTIC_ETA)
    logZ, mom = _quartic_mpmath(QUARTIC_ETA)
    err = float(m.log_partition_error())
    assert 0 < err < 1e-9
    assert abs(m.log_partition_value() - logZ) <= err
    np.testing.assert_allclose(m.log_partition_value(), logZ, rtol=1e-13)
    np.testing.assert_allclose(m.mean_params, mom[:4], rtol=1e-11)
    cov = np.array([[mom[i + j + 1] - mom[i] * mom[j] for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(m.fisher_information(), cov, rtol=1e-9)
    np.testing.assert_allclose(m.var(), mom[1] - mom[0] ** 2, rtol=1e-11)
    # entropy = A - eta . mu (h = 1)
    np.testing.assert_allclose(m.entropy(), logZ - QUARTIC_ETA @ mom[:4], rtol=1e-11)
    # bimodal: the density has two maxima
    xs = np.linspace(-3, 3, 601)
    d = m.logpdf(xs)
    assert np.sum((d[1:-1] > d[:-2]) & (d[1:-1] > d[2:])) == 2


def test_quartic_fit_recovers_truth_from_its_own_sampler():
    Q = ue.quartic()
    x = Q.from_natural(QUARTIC_ETA).sample(20000, rng=7)
    r = expfam.fit(Q, x)
    assert r.converged and r.residual_norm < 1e-10
    z = (r.model.natural - QUARTIC_ETA) / r.se_natural
    assert np.all(np.abs(z) < Z_MAX), z
    # the MLE matches the moments of the data (eq. 5 of the seed at zero)
    np.testing.assert_allclose(r.model.mean_params, [np.mean(x ** j) for j in range(1, 5)], rtol=1e-10)


# ----------------------------------------------------------------------------------
# Truncated normal against scipy.stats.truncnorm
# ----------------------------------------------------------------------------------
A_, B_ = -1.0, 2.0


def _scipy_truncnorm(mu, sigma):
    return stats.truncnorm((A_ - mu) / sigma, (B_ - mu) / sigma, loc=mu, scale=sigma)


@pytest.mark.parametrize("mu, sigma", [(0.5, 1.2), (-3.0, 0.8), (1.0, 10.0)])
def test_truncated_normal_against_scipy(mu, sigma):
    T = ue.truncated_normal(A_, B_)
    m, ref = T.from_natural(ue.truncnorm_natural(mu, sigma)), _scipy_truncnorm(mu, sigma)
    x = np.linspace(A_, B_, 13)
    np.testing.assert_allclose(m.logpdf(x), ref.logpdf(x), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(m.mean(), ref.mean(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(m.var(), ref.var(), rtol=1e-10)
    np.testing.assert_allclose(m.entropy(), ref.entropy(), rtol=1e-10, atol=1e-12)
    assert m.logpdf(np.array([A_ - 0.1, B_ + 0.1])).tolist() == [-np.inf, -np.inf]
    draws = m.sample(5000, rng=8)
    assert stats.kstest(draws, ref.cdf).pvalue > LEVEL


def test_truncated_normal_fit_equals_scipy_numerical_mle():
    T = ue.truncated_normal(A_, B_)
    x = _scipy_truncnorm(0.3, 1.1).rvs(3000, random_state=9)
    r = expfam.fit(T, x)
    assert r.converged

    def nll(p):
        return -np.sum(_scipy_truncnorm(p[0], np.exp(p[1])).logpdf(x))

    opt = optimize.minimize(nll, [0.0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    np.testing.assert_allclose(r.model.natural, ue.truncnorm_natural(opt.x[0], np.exp(opt.x[1])),
                               rtol=1e-5)
    np.testing.assert_allclose(r.loglik, -opt.fun, rtol=1e-10)


# ----------------------------------------------------------------------------------
# A family on 2-D states against brute-force enumeration
# ----------------------------------------------------------------------------------
def _grid_brute(eta):
    """Enumerate (x, y) in {0,1,2} x {0,1,2,3}: h = C(2,x) C(3,y), u = (x, y, xy)."""
    states, logw, U, lh = [], [], [], []
    for x in range(3):
        for y in range(4):
            u = np.array([x, y, x * y], dtype=float)
            h = math.comb(2, x) * math.comb(3, y)
            states.append((x, y))
            U.append(u)
            lh.append(math.log(h))
            logw.append(math.log(h) + float(eta @ u))
    logw, U, lh = np.array(logw), np.array(U), np.array(lh)
    A = special.logsumexp(logw)
    p = np.exp(logw - A)
    mean = p @ U
    cov = (U - mean).T @ ((U - mean) * p[:, None])
    return np.array(states, float), A, p, mean, cov, -(p @ np.log(p))


def test_family_on_two_dimensional_states_against_enumeration():
    G = ue.grid_family()
    assert G.event_ndim == 1 and issubclass(G, expfam.FiniteSupportFamily)
    eta = np.array([0.2, -0.3, 0.4])
    g = G(x=0.2, y=-0.3, xy=0.4)
    states, A, p, mean, cov, H = _grid_brute(eta)
    np.testing.assert_allclose(g.log_partition_value(), A, rtol=1e-14)
    np.testing.assert_allclose(g.mean_params, mean, rtol=1e-13)
    np.testing.assert_allclose(g.fisher_information(), cov, rtol=1e-12)
    np.testing.assert_allclose(g.entropy(), H, rtol=1e-12)
    np.testing.assert_allclose(g.logpdf(states), np.log(p), rtol=1e-12)
    np.testing.assert_allclose(g.mean(), p @ states, rtol=1e-13)
    q = G.from_natural([-0.5, 0.1, 0.0])
    p_q = _grid_brute(np.array([-0.5, 0.1, 0.0]))[2]
    np.testing.assert_allclose(expfam.kl(g, q), np.sum(p * np.log(p / p_q)), rtol=1e-11)
    assert g.logpdf(np.array([[0.5, 1.0], [3.0, 0.0]])).tolist() == [-np.inf, -np.inf]
    # sampling: a chi-square test of the state frequencies
    draws = g.sample(20000, rng=10)
    counts = np.array([np.sum(np.all(draws == s, axis=1)) for s in states])
    assert counts.sum() == draws.shape[0]
    assert stats.chisquare(counts, p * draws.shape[0]).pvalue > LEVEL
    # fit: the brute-force mean of the fitted model equals the data's mean statistics
    r = expfam.fit(G, draws)
    assert r.converged
    fitted = _grid_brute(r.model.natural)[3]
    data_mean = np.mean(np.stack([draws[:, 0], draws[:, 1], draws[:, 0] * draws[:, 1]], -1), 0)
    np.testing.assert_allclose(fitted, data_mean, rtol=1e-10)
    assert np.all(np.abs((r.model.natural - eta) / r.se_natural) < Z_MAX)
    with pytest.raises(BoundaryError):  # never y = 0 or 3 ... all states (0, 0): boundary
        expfam.fit(G, np.zeros((10, 2)))


# ----------------------------------------------------------------------------------
# Everywhere a built-in family goes: accumulator, files, Dask, the stochastic learner
# ----------------------------------------------------------------------------------
def test_accumulator_files_and_dask(tmp_path):
    C = ue.conway_maxwell_poisson()
    x = C.from_natural(ue.cmp_natural(3.0, 0.5)).sample(6000, rng=11)
    direct = expfam.fit(C, x)
    acc = expfam.SufficientStats.zeros(C)
    for chunk in np.array_split(x, 7):
        acc.update(chunk)
    np.testing.assert_allclose(acc.sum_u, [x.sum(), special.gammaln(x + 1).sum()], rtol=1e-13)
    acc.save(tmp_path / "s.npz")
    loaded = expfam.SufficientStats.load(tmp_path / "s.npz")
    np.testing.assert_allclose(expfam.fit(C, loaded).model.natural, direct.model.natural, rtol=1e-12)
    # a file read in chunks, grouped, with the registry name
    g = np.arange(x.size) % 2
    pd.DataFrame({"n": x, "g": g}).to_parquet(tmp_path / "d.parquet")
    rf = expfam.fit_file("conway_maxwell_poisson", tmp_path / "d.parquet", column="n", chunksize=500)
    np.testing.assert_allclose(rf.model.natural, direct.model.natural, rtol=1e-12)
    rg = expfam.fit_file(C, tmp_path / "d.parquet", column="n", by="g", chunksize=500)
    np.testing.assert_allclose(rg.model.natural[1], expfam.fit(C, x[g == 1]).model.natural, rtol=1e-10)
    # Dask (threads here; the class pickles by value for worker processes)
    da = pytest.importorskip("dask.array")
    rd = expfam.fit(C, da.from_array(x, chunks=1000))
    np.testing.assert_allclose(rd.model.natural, direct.model.natural, rtol=1e-12)
    cloudpickle = pytest.importorskip("cloudpickle")
    assert cloudpickle.loads(cloudpickle.dumps(C)) is C


def test_stochastic_learner_reaches_the_exact_mle():
    # full batch, exact moments: natural-gradient steps are Newton's method
    Q = ue.quartic()
    x = Q.from_natural(QUARTIC_ETA).sample(4000, rng=12)
    exact = expfam.fit(Q, x)
    res = expfam.fit_sgd(Q, x, batch_size=None, tol=1e-10)
    assert res.converged
    np.testing.assert_allclose(res.model.natural, exact.model.natural, rtol=1e-8)
    # minibatches: ends within its stated distance (0.05 standard errors) of the MLE
    C = ue.conway_maxwell_poisson()
    x = C.from_natural(ue.cmp_natural(3.0, 0.5)).sample(4000, rng=13)
    exact = expfam.fit(C, x)
    res = expfam.fit_sgd(C, x, batch_size=256, rng=0)
    assert res.converged and res.distance_se <= 0.05
    assert np.all(np.abs(res.model.natural - exact.model.natural) < 0.2 * exact.se_natural)


# ----------------------------------------------------------------------------------
# Bad definitions and bad input
# ----------------------------------------------------------------------------------
def test_non_identifiable_statistics_are_refused():
    with pytest.raises(DefinitionError, match="not affinely independent"):
        expfam.define_family(lambda x: (x, 2 * x + 1), NATURALS, lambda x: -special.gammaln(x + 1),
                             name="test_bad_affine")
    with pytest.raises(DefinitionError, match="constant on the support"):
        expfam.define_family(lambda x: (x, x ** 0), Interval(0, 1), name="test_bad_constant")
    # x and x^2 coincide on {0, 1}: dependent there (not on three states)
    with pytest.raises(DefinitionError, match="not affinely independent"):
        expfam.define_family(lambda x: (x, x ** 2), [0.0, 1.0], name="test_bad_01")
    expfam.define_family(lambda x: (x, x ** 2), [0.0, 1.0, 2.0], name="test_ok_012")


def test_infinite_log_partition_is_refused():
    with pytest.raises(DefinitionError, match="A is infinite at every start"):
        expfam.define_family(lambda x: x, REAL, name="test_bad_line")  # exp(eta x) on R
    with pytest.raises(DefinitionError, match="A is infinite at start"):
        expfam.define_family(lambda x: (x, x ** 2), REAL, name="test_bad_start", start=[0.0, 1.0])
    C = ue.conway_maxwell_poisson()
    with pytest.raises(ParameterError, match="series defining A diverges"):
        C.from_natural([0.0, 0.5])  # nu < 0
    with pytest.raises(ParameterError, match="integral defining A diverges"):
        ue.quartic().from_natural([0.0, 0.0, 0.0, 0.1])


def test_nan_and_wrong_shapes_from_user_functions_are_named():
    with pytest.raises(DefinitionError, match=r"u returned -inf at the state x = 0\.0 \(statistic"):
        expfam.define_family(lambda x: (x, np.log(x)), Integers(0), name="test_bad_log")
    with pytest.raises(DefinitionError, match=r"log_h returned nan at the state x = 2\.0"):
        expfam.define_family(lambda x: x, [1.0, 2.0, 3.0], lambda x: np.where(x == 2, np.nan, 0.0),
                             name="test_bad_logh")
    with pytest.raises(DefinitionError, match="shape"):
        expfam.define_family(lambda x: np.zeros((x.shape[0], 2, 2)), [1.0, 2.0, 3.0], name="test_bad_shape")
    with pytest.raises(DefinitionError, match="log_h returned shape"):
        expfam.define_family(lambda x: x, [1.0, 2.0, 3.0], lambda x: np.zeros((x.shape[0], 2)),
                             name="test_bad_logh_shape")
    # an interval's grid reaches |x| = 1e8: a NaN there is found at the definition
    with pytest.raises(DefinitionError, match=r"u returned nan at the state x = 10[0-9.]*"):
        expfam.define_family(lambda x: (x, np.where(x > 100, np.nan, x ** 2)), Interval(0, np.inf),
                             name="test_bad_far_line")
    # a series is checked on the states it sums; a NaN at a data value beyond them
    with pytest.raises(DefinitionError, match=r"u returned nan at the state x = 101\.0"):
        expfam.define_family(lambda x: (x, np.where(x > 100, np.nan, special.gammaln(x + 1))),
                             Integers(0), name="test_bad_near")
    F = expfam.define_family(lambda x: (x, np.where(x > 4500, np.nan, special.gammaln(x + 1))),
                             Integers(0), name="test_bad_far")
    with pytest.raises(DefinitionError, match=r"x = 5000\.0"):
        expfam.fit(F, np.array([1.0, 2.0, 5000.0]))
    with pytest.raises(DefinitionError, match="taken by Poisson"):
        expfam.define_family(lambda x: x, NATURALS, name="poisson")
    with pytest.raises(DefinitionError, match="support"):
        expfam.define_family(lambda x: x, "integers", name="test_bad_support")


def test_bad_data_raise_typed_errors():
    C = ue.conway_maxwell_poisson()
    with pytest.raises(SupportError, match="2.5"):
        expfam.fit(C, np.array([1.0, 2.5, 3.0]))
    with pytest.raises(NonFiniteError):
        expfam.fit(C, np.array([1.0, np.nan]))
    with pytest.raises(BoundaryError):
        expfam.fit(C, np.zeros(50))  # all zero: the MLE does not exist
    T = ue.truncated_normal(A_, B_)
    with pytest.raises(SupportError):
        expfam.fit(T, np.array([0.0, 3.0]))
