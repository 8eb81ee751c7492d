"""Bernoulli, Binomial, Geometric and NegativeBinomial: what the generic oracle tests do
not cover."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import expfam
from expfam.errors import (
    BoundaryError,
    EmptyDataError,
    NonFiniteError,
    ParameterError,
    ShapeError,
    SupportError,
)
from expfam.families.binomial import expected_log_binomial_coefficient
from expfam.families.negative_binomial import expected_log_coefficient
from expfam.solvers import relative_residual

Bernoulli, Binomial = expfam.Bernoulli, expfam.Binomial
Geometric, NegativeBinomial = expfam.Geometric, expfam.NegativeBinomial

# probabilities from 1e-300 to 1 - 1e-13, in one grid
P_GRID = np.concatenate(
    [np.logspace(-300, -1, 61), np.linspace(0.1, 0.9, 9), 1 - np.logspace(-13, -1, 25)]
)


def _check_solver(cls, mu, fixed):
    mu = np.asarray(mu, dtype=float)[:, None]
    assert np.all(cls.mean_in_interior(mu, fixed))
    sol = cls.natural_from_mean(mu, fixed)
    assert sol.converged.all()
    assert np.all(cls.natural_in_domain(sol.natural, fixed))
    res = relative_residual(cls, sol.natural, mu, fixed)
    assert res.max() <= 1e-12, res.max()
    return sol.natural[:, 0]


# ----------------------------------------------------------------------------------
# mean -> natural over wide ranges, one vectorised call each
# ----------------------------------------------------------------------------------
def test_bernoulli_mean_to_natural_wide_range():
    eta = _check_solver(Bernoulli, P_GRID, {})
    # logit computed independently with log1p (1 - p is exact for p >= 1/2)
    np.testing.assert_allclose(eta, np.log(P_GRID) - np.log1p(-P_GRID), rtol=1e-13)


@pytest.mark.parametrize("n", [1, 7, 10**6, 10**12])
def test_binomial_mean_to_natural_wide_range(n):
    eta = _check_solver(Binomial, n * P_GRID, {"n": n})
    # n * p rounds: compare eta where it is well conditioned in p
    low = P_GRID <= 0.5
    np.testing.assert_allclose(eta[low], np.log(P_GRID[low]) - np.log1p(-P_GRID[low]), rtol=1e-12)


def test_geometric_mean_to_natural_wide_range():
    # mean (1 - p) / p from 1e-300 (p -> 1) to 1e300 (p -> 0)
    mu = np.logspace(-300, 300, 121)
    eta = _check_solver(Geometric, mu, {})
    p = -np.expm1(eta)
    np.testing.assert_allclose(p, 1 / (1 + mu), rtol=1e-13)


def test_negative_binomial_mean_to_natural_wide_range():
    # r from 1e-4 to 1e8, means from 1e-200 to 1e200 (odds mu / r from 1e-208 to 1e204)
    mu = np.logspace(-200, 200, 41)
    for r in np.logspace(-4, 8, 13):  # r is a scalar fixed parameter: one call per r
        eta = _check_solver(NegativeBinomial, mu, {"r": float(r)})
        np.testing.assert_allclose(-np.expm1(eta), r / (r + mu), rtol=1e-13)


# ----------------------------------------------------------------------------------
# E[log h] and the entropy against independent oracles
# ----------------------------------------------------------------------------------
# E[log C(x + r - 1, x)], x ~ nbinom(r, p): the series summed with mpmath at 40 digits
MPMATH_NB = [
    (0.999, 0.5, -0.00069285592331298925993),
    (1.001, 0.9, 0.00010541180634147506737),
    (300.0, 0.999999, 0.0017111053094821856444),
    (0.999, 0.1, -0.0023019347677798344197),
    (1.001, 0.5, 0.0006934381639826726481),
    (17.0, 0.999999, 0.000048164577708815537574),
]


@pytest.mark.parametrize("r,p,expected", MPMATH_NB)
def test_negative_binomial_expected_log_h_against_mpmath(r, p, expected):
    got = NegativeBinomial.expected_log_base_measure(np.array([np.log1p(-p)]), {"r": r})
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def _nb_series(r, p):
    """E[log h] summed over the support up to the 1 - 1e-25 quantile."""
    d = stats.nbinom(r, p)
    k = np.arange(int(d.isf(1e-25)) + 10, dtype=float)
    log_h = special.gammaln(k + r) - special.gammaln(k + 1) - special.gammaln(r)
    w = d.pmf(k)
    return np.sum(w * log_h) / np.sum(w)


@pytest.mark.parametrize("r", [1e-3, 0.05, 0.5, 2.5, 17.0, 300.0, 1e4])
def test_negative_binomial_expected_log_h_against_series(r):
    p = np.array([1e-3, 0.1, 0.5, 0.9, 0.999999])
    got = expected_log_coefficient(r, np.log1p(-p))
    expected = [_nb_series(r, pi) for pi in p]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_negative_binomial_expected_log_h_extremes():
    # r = 1 is the geometric distribution: h = 1
    eta = np.log1p(-np.array([1e-300, 0.5, 1 - 1e-12]))
    assert np.all(expected_log_coefficient(1.0, eta) == 0)
    # p -> 0: x p -> Gamma(r, 1) and log h ~ (r - 1) log x - lgamma(r), so
    # E[log h] ~ (r - 1)(digamma(r) - log p) - lgamma(r)
    r, p = 2.5, 1e-200
    approx = (r - 1) * (special.digamma(r) - np.log(p)) - special.gammaln(r)
    np.testing.assert_allclose(expected_log_coefficient(r, np.log1p(-p)), approx, rtol=1e-12)
    # p -> 1: E[log h] = P(x = 1) log r + O((1 - p)^2), P(x = 1) = r p^r (1 - p)
    p = 1 - 1e-12
    np.testing.assert_allclose(
        expected_log_coefficient(40.0, np.log1p(-p)), 40 * p**40 * (1 - p) * np.log(40), rtol=1e-10
    )
    # batched call equals separate calls
    grid = np.log1p(-np.array([[1e-6, 0.3, 0.7], [0.01, 0.5, 0.999]]))
    single = np.array([[expected_log_coefficient(0.7, e) for e in row] for row in grid])
    np.testing.assert_allclose(expected_log_coefficient(0.7, grid), single, rtol=1e-15)


@pytest.mark.parametrize("n", [1, 5, 300, 5000])
def test_binomial_expected_log_coefficient_against_full_sum(n):
    # n = 5000 uses the window of 40 sd + 300 around the mean; the oracle sums 0..n
    p = np.array([1e-9, 0.01, 0.5, 0.93])
    k = np.arange(n + 1)
    log_c = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    expected = [np.sum(stats.binom.pmf(k, n, pi) * log_c) for pi in p]
    got = expected_log_binomial_coefficient(n, special.logit(p))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)


def _binomial_entropy(n, p):
    """-sum pmf log pmf with log(1 - p) from log1p (SciPy's ``entr(1 - p)`` loses the
    relative accuracy of ``1 - p`` when ``p`` is tiny)."""
    k = np.arange(n + 1)
    logp = (special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
            + k * np.log(p) + (n - k) * np.log1p(-p))
    return -np.sum(np.exp(logp) * logp)


@pytest.mark.parametrize("p", [1e-12, 1e-6, 0.5, 1 - 1e-6, 1 - 1e-9])
def test_entropy_accurate_near_the_boundary(p):
    np.testing.assert_allclose(Bernoulli(p=p).entropy(), _binomial_entropy(1, p), rtol=1e-13)
    np.testing.assert_allclose(Binomial(n=50, p=p).entropy(), _binomial_entropy(50, p), rtol=1e-12)
    if p >= 0.5:  # where SciPy's entr(1 - p) is accurate
        np.testing.assert_allclose(
            Bernoulli(p=p).entropy(), stats.bernoulli(p).entropy(), rtol=1e-12
        )
        np.testing.assert_allclose(
            Binomial(n=50, p=p).entropy(), stats.binom(50, p).entropy(), rtol=1e-11
        )
    # Geometric: SciPy's closed form -log p - (1 - p) log(1 - p) / p
    np.testing.assert_allclose(Geometric(p=p).entropy(), stats.geom(p).entropy(), rtol=1e-12)


def test_special_cases_agree():
    p = np.array([0.01, 0.3, 0.8])
    np.testing.assert_allclose(Binomial(n=1, p=p).entropy(), Bernoulli(p=p).entropy(), rtol=1e-14)
    np.testing.assert_allclose(
        NegativeBinomial(r=1, p=p).entropy(), Geometric(p=p).entropy(), rtol=1e-14
    )
    # the geometric counts failures: P(0) = p
    np.testing.assert_allclose(Geometric(p=p).logpmf(0.0), np.log(p), rtol=1e-15)
    np.testing.assert_allclose(Geometric(p=0.25).mean(), 3.0, rtol=1e-15)
    np.testing.assert_allclose(NegativeBinomial(r=2.5, p=0.25).mean(), 7.5, rtol=1e-15)


def test_kl_accurate_for_close_distributions():
    # eta = 10 vs 10.1: the Bregman form loses ~6 digits; the closed form keeps them
    p, q = Bernoulli(p=special.expit(10.0)), Bernoulli(p=special.expit(10.1))
    a, b = p.params["p"], q.params["p"]
    expected = a * (np.log(a) - np.log(b)) + special.expit(-10.0) * (
        np.log(special.expit(-10.0)) - np.log(special.expit(-10.1))
    )
    np.testing.assert_allclose(expfam.kl(p, q), expected, rtol=1e-9)
    np.testing.assert_allclose(
        expfam.kl(Binomial(n=7, p=a), Binomial(n=7, p=b)), 7 * expected, rtol=1e-9
    )


# ----------------------------------------------------------------------------------
# boundary data
# ----------------------------------------------------------------------------------
BOUNDARY = [
    # family, data, fixed, regularised p from the pseudo-count formula (nu = 1)
    (Bernoulli, np.zeros(20), {}, lambda s, N: (s + 0.5) / (N + 1)),
    (Bernoulli, np.ones(20), {}, lambda s, N: (s + 0.5) / (N + 1)),
    (Binomial, np.zeros(20), {"n": 6}, lambda s, N: (s + 3.0) / (N + 1) / 6),
    (Binomial, np.full(20, 6.0), {"n": 6}, lambda s, N: (s + 3.0) / (N + 1) / 6),
    (Geometric, np.zeros(20), {}, lambda s, N: 1 / (1 + (s + 1.0) / (N + 1))),
    (NegativeBinomial, np.zeros(20), {"r": 2.5}, lambda s, N: 2.5 / (2.5 + (s + 2.5) / (N + 1))),
]


@pytest.mark.parametrize("cls,x,fixed,p_reg", BOUNDARY, ids=lambda v: getattr(v, "__name__", ""))
def test_boundary_data(cls, x, fixed, p_reg):
    with pytest.raises(BoundaryError, match="boundary"):
        expfam.fit(cls, x, **fixed)
    r = expfam.fit(cls, x, pseudo_count=1.0, **fixed)
    assert r.regularization["pseudo_count"] == 1.0
    assert np.all(np.isfinite(r.model.natural)) and np.all(r.converged)
    np.testing.assert_allclose(r.params["p"], p_reg(x.sum(), x.size), rtol=1e-13)


def test_boundary_is_robust_to_rounding_and_names_the_batch_element():
    rng = np.random.default_rng(0)
    # weighted batched sums of ones may differ from the weight sums by a few ulps
    x = np.ones((37, 3))
    x[0, 0] = 0.0
    x[5, 2] = 0.0
    w = rng.random((37, 3))
    with pytest.raises(BoundaryError, match=r"batch index 1"):
        expfam.fit(Bernoulli, x, weights=w)
    with pytest.raises(BoundaryError, match=r"batch index 1"):
        expfam.fit(Binomial, 9 * x, weights=w, n=9)
    r = expfam.fit(Bernoulli, x, weights=w, pseudo_count=1.0)
    expected = (np.sum(w * x, axis=0) + 0.5) / (np.sum(w, axis=0) + 1)
    np.testing.assert_allclose(r.params["p"], expected, rtol=1e-13)


# ----------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls,fixed,bad,pattern",
    [
        (Bernoulli, {}, 2.0, r"\{0, 1\}; first at index 3: 2\.0"),
        (Bernoulli, {}, 0.5, r"first at index 3: 0\.5"),
        (Bernoulli, {}, -1.0, r"first at index 3: -1\.0"),
        (Binomial, {"n": 10}, 11.0, r"\{0, 1, \.\.\., 10\}; first at index 3: 11\.0"),
        (Binomial, {"n": 10}, 2.5, r"first at index 3: 2\.5"),
        (Binomial, {"n": 10}, -1.0, r"first at index 3: -1\.0"),
        (Geometric, {}, 1.5, r"first at index 3: 1\.5"),
        (Geometric, {}, -2.0, r"first at index 3: -2\.0"),
        (NegativeBinomial, {"r": 2.0}, -1.0, r"first at index 3: -1\.0"),
        (NegativeBinomial, {"r": 2.0}, 0.25, r"first at index 3: 0\.25"),
    ],
)
def test_out_of_support_data(cls, fixed, bad, pattern):
    x = np.array([0.0, 1.0, 1.0, bad, 0.0])
    with pytest.raises(SupportError, match=pattern):
        expfam.fit(cls, x, **fixed)


@pytest.mark.parametrize(
    "cls,fixed",
    [(Bernoulli, {}), (Binomial, {"n": 4}), (Geometric, {}), (NegativeBinomial, {"r": 3.0})],
)
def test_non_finite_empty_and_misshaped_data(cls, fixed):
    with pytest.raises(NonFiniteError, match=r"index 2: nan"):
        expfam.fit(cls, [0.0, 1.0, np.nan, 1.0], **fixed)
    with pytest.raises(NonFiniteError, match=r"index \(1, 0\): inf"):
        expfam.fit(cls, [[0.0, 1.0], [np.inf, 1.0]], **fixed)
    with pytest.raises(EmptyDataError):
        expfam.fit(cls, [], **fixed)
    with pytest.raises(ShapeError, match="scalar"):
        expfam.fit(cls, 1.0, **fixed)
    with pytest.raises(ShapeError, match=r"1 natural parameter\(s\); got an array of shape \(2,\)"):
        cls.from_natural([-0.5, -0.5], **fixed)
    # NaN or inf in the density's argument
    with pytest.raises(NonFiniteError, match=r"index 1: nan"):
        cls.from_natural([-0.5], **fixed).logpmf([0.0, np.nan])


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({}, r"needs the fixed parameter\(s\) \['n'\]"),
        ({"n": 0}, r"'n' must be an integer >= 1; got 0\.0"),
        ({"n": 2.5}, r"'n' must be an integer >= 1; got 2\.5"),
        ({"n": np.nan}, r"'n' must be an integer >= 1; got nan"),
        ({"n": [3, 4]}, r"'n' must be an integer >= 1; got \[3, 4\]"),
        ({"n": "ten"}, r"'n' must be an integer >= 1; got 'ten'"),
        ({"n": 5, "r": 2}, r"no fixed parameter\(s\) \['r'\]"),
    ],
)
def test_binomial_bad_fixed_parameter(kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        expfam.fit(Binomial, [0.0, 1.0, 2.0], **kwargs)


@pytest.mark.parametrize(
    "r,pattern",
    [(0.0, r"got 0\.0"), (-1.5, r"got -1\.5"), (np.inf, r"got inf"), (np.nan, r"got nan"),
     ([1.0, 2.0], r"got \[1\.0, 2\.0\]"), ("two", r"got 'two'")],
)
def test_negative_binomial_bad_fixed_parameter(r, pattern):
    with pytest.raises(ParameterError, match=r"'r' must be a finite number > 0; " + pattern):
        expfam.fit(NegativeBinomial, [0.0, 1.0, 2.0], r=r)
    with pytest.raises(ParameterError, match=pattern):
        NegativeBinomial(r=r, p=0.5)


def test_fixed_parameter_errors_for_families_without_one():
    with pytest.raises(ParameterError, match=r"no fixed parameter\(s\) \['n'\]"):
        expfam.fit(Bernoulli, [0.0, 1.0], n=3)
    with pytest.raises(ParameterError, match=r"no fixed parameter\(s\) \['r'\]"):
        expfam.fit(Geometric, [0.0, 1.0], r=3)
    with pytest.raises(ParameterError, match=r"needs the fixed parameter\(s\) \['r'\]"):
        expfam.fit(NegativeBinomial, [0.0, 1.0])


@pytest.mark.parametrize(
    "make",
    [lambda p: Bernoulli(p=p), lambda p: Binomial(n=4, p=p), lambda p: Geometric(p=p),
     lambda p: NegativeBinomial(r=0.5, p=p)],
)
def test_invalid_familiar_parameters(make):
    for bad in (0.0, 1.0, 1.5, -0.2):
        pattern = rf"'p' must be in \(0, 1\); got {bad!r} at batch index 1"
        with pytest.raises(ParameterError, match=pattern):
            make([0.5, bad])
    with pytest.raises(NonFiniteError, match=r"index 0: nan"):
        make([np.nan, 0.5])


def test_natural_parameters_outside_the_domain():
    for cls, fixed in [(Geometric, {}), (NegativeBinomial, {"r": 2.0})]:
        with pytest.raises(ParameterError, match=r"outside the domain .* batch index 1: \[0\.]"):
            cls.from_natural([[-1.0], [0.0]], **fixed)


def test_logpmf_outside_support_is_minus_inf():
    assert Binomial(n=3, p=0.5).logpmf(4.0) == -np.inf
    assert Bernoulli(p=0.5).logpmf(0.5) == -np.inf
    assert Geometric(p=0.5).logpmf(-1.0) == -np.inf
    assert NegativeBinomial(r=2.0, p=0.5).logpmf(1.5) == -np.inf


# ----------------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------------
_probs = st.floats(1e-12, 1 - 1e-12)
_FAMILIES = {
    "bernoulli": (Bernoulli, {}),
    "binomial": (Binomial, {"n": 17}),
    "geometric": (Geometric, {}),
    "negative_binomial": (NegativeBinomial, {"r": 0.37}),
}


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(sorted(_FAMILIES)), st.lists(_probs, min_size=1, max_size=8))
def test_round_trip_and_kl_properties(name, ps):
    cls, fixed = _FAMILIES[name]
    d = cls.from_natural(cls.natural_from_params(fixed, p=ps), **fixed)
    sol = cls.natural_from_mean(d.mean_params, d.fixed)
    assert sol.converged.all()
    assert relative_residual(cls, sol.natural, d.mean_params, d.fixed).max() <= 1e-12
    np.testing.assert_allclose(d.params["p"], ps, rtol=1e-12)
    q = cls.from_natural(d.natural[::-1], **fixed)
    kl = expfam.kl(d, q)
    assert np.all(kl >= 0) and np.all(expfam.kl(d, d) == 0)
    assert np.all(np.isfinite(d.entropy())) and np.all(d.entropy() >= 0)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 100.0), st.floats(0.05, 0.95))
def test_negative_binomial_expected_log_h_property(r, p):
    got = expected_log_coefficient(r, np.array([np.log1p(-p)]))[0]
    np.testing.assert_allclose(got, _nb_series(r, p), rtol=1e-11, atol=1e-13)
