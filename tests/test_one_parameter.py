"""Exponential, Rayleigh, Weibull, Pareto, Laplace and ChiSquare: what the generic oracle
tests do not cover."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

import expfam
from expfam.errors import (
    BoundaryError,
    FamilyMismatchError,
    FloatRangeError,
    NonFiniteError,
    ParameterError,
    ShapeError,
    SupportError,
)
from expfam.solvers import relative_residual

Exponential, Rayleigh, Weibull = expfam.Exponential, expfam.Rayleigh, expfam.Weibull
Pareto, Laplace, ChiSquare = expfam.Pareto, expfam.Laplace, expfam.ChiSquare

#: zero of the digamma function (OEIS A030169)
DIGAMMA_ZERO = 1.4616321449683623


# ----------------------------------------------------------------------------------
# mean -> natural over wide ranges
# ----------------------------------------------------------------------------------
def test_chi_square_mean_to_natural_df_1e_minus_4_to_1e8():
    df = np.logspace(-4, 8, 481)
    mu = (special.digamma(df / 2) + np.log(2.0))[:, None]  # E[log x], independent of expfam
    assert np.all(ChiSquare.mean_in_interior(mu, {}))
    sol = ChiSquare.natural_from_mean(mu, {})
    assert sol.converged.all()
    assert sol.n_iter <= 10
    assert relative_residual(ChiSquare, sol.natural, mu, {}).max() <= 1e-12
    # df is determined by E[log x] to about eps * |E[log x]| relative (digamma is flat)
    got = ChiSquare.params_from_natural(sol.natural, {})["df"]
    np.testing.assert_allclose(got, df, rtol=1e-13)


def test_chi_square_mean_to_natural_extreme_df():
    # far outside any practical range: df from 1e-300 to 1e300
    df = np.logspace(-300, 300, 61)
    mu = (special.digamma(df / 2) + np.log(2.0))[:, None]
    sol = ChiSquare.natural_from_mean(mu, {})
    assert sol.converged.all()
    r = np.abs(ChiSquare.mean_from_natural(sol.natural, {}) - mu) / np.abs(mu)
    assert r.max() <= 1e-12
    np.testing.assert_allclose(2 * sol.natural[:, 0], df, rtol=1e-12)


@pytest.mark.parametrize(
    "cls, fixed",
    [
        (Exponential, {}),
        (Rayleigh, {}),
        (Weibull, {"k": 0.1}),
        (Weibull, {"k": 40.0}),
        (Laplace, {"loc": -3.0}),
        (Pareto, {"x_m": 1.0}),
        (Pareto, {"x_m": 1e-5}),
        (Pareto, {"x_m": 7e4}),
    ],
)
def test_closed_form_mean_to_natural_wide_range(cls, fixed):
    # the mean of the positive statistic (u = x, x^2, x^k, |x - loc|, or log(x / x_m))
    # from 1e-150 to 1e150, one vectorised call
    gap = np.logspace(-150, 150, 301)
    shift = np.log(fixed["x_m"]) if cls is Pareto else 0.0
    if cls is Pareto:
        gap = np.logspace(-8, 150, 159)  # 1 / alpha, alpha from 1e-150 to 1e8
    mu = (shift + gap)[:, None]
    assert np.all(cls.mean_in_interior(mu, fixed))
    sol = cls.natural_from_mean(mu, fixed)
    assert sol.converged.all() and sol.n_iter == 0
    assert relative_residual(cls, sol.natural, mu, fixed).max() <= 1e-12


# ----------------------------------------------------------------------------------
# closed-form MLEs against independent formulas
# ----------------------------------------------------------------------------------
def test_closed_form_mles():
    rng = np.random.default_rng(10)
    x = rng.gamma(2.0, 1.5, size=500)
    assert float(expfam.fit(Exponential, x).params["rate"]) == pytest.approx(1 / x.mean(), rel=1e-13)
    assert float(expfam.fit(Rayleigh, x).params["scale"]) == pytest.approx(
        np.sqrt(np.mean(x**2) / 2), rel=1e-13
    )
    assert float(expfam.fit("weibull", x, k=2.5).params["scale"]) == pytest.approx(
        np.mean(x**2.5) ** (1 / 2.5), rel=1e-13
    )
    assert float(expfam.fit(Laplace, x, loc=1.0).params["scale"]) == pytest.approx(
        np.mean(np.abs(x - 1.0)), rel=1e-13
    )
    xp = 0.5 + x
    assert float(expfam.fit(Pareto, xp, x_m=0.5).params["alpha"]) == pytest.approx(
        1 / np.mean(np.log(xp / 0.5)), rel=1e-12
    )
    # chi-square: digamma(df / 2) = mean(log x) - log 2, solved by SciPy's brentq
    s = np.mean(np.log(x)) - np.log(2.0)
    a = optimize.brentq(lambda a: special.digamma(a) - s, 1e-8, 1e8, xtol=1e-15, rtol=1e-15)
    r = expfam.fit("chi_square", x)
    assert float(r.params["df"]) == pytest.approx(2 * a, rel=1e-12)
    assert r.residual_norm <= 1e-14


def test_weibull_batched_fixed_shape():
    # one k per column: each column is fitted with its own shape
    k = np.array([0.5, 1.0, 3.0])
    x = expfam.Weibull(k=k, scale=[1.0, 2.0, 3.0]).sample(2000, rng=11)
    assert x.shape == (2000, 3)
    r = expfam.fit(Weibull, x, k=k)
    for j in range(3):
        single = expfam.fit(Weibull, x[:, j], k=float(k[j]))
        np.testing.assert_allclose(r.params["scale"][j], single.params["scale"], rtol=1e-12)
        np.testing.assert_allclose(
            single.params["scale"], np.mean(x[:, j] ** k[j]) ** (1 / k[j]), rtol=1e-12
        )


def test_pareto_support_includes_x_m():
    d = Pareto(alpha=2.0, x_m=3.0)
    np.testing.assert_allclose(d.logpdf([3.0]), stats.pareto(2.0, scale=3.0).logpdf(3.0), rtol=1e-14)
    assert d.logpdf(2.999) == -np.inf


def test_kl_accurate_for_nearly_equal_members():
    # KL = d - log1p(d) = d^2/2 - d^3/3 + ...; the Bregman form would return rounding noise
    for d in [1e-3, 1e-6, -1e-8]:
        p, q = Exponential(rate=2.0), Exponential(rate=2.0 * (1 + d))
        dd = (q.natural[0] - p.natural[0]) / p.natural[0]  # d as represented
        expected = dd**2 / 2 - dd**3 / 3 + dd**4 / 4
        assert float(expfam.kl(p, q)) == pytest.approx(expected, rel=1e-9)


def test_kl_needs_same_fixed_parameters():
    with pytest.raises(FamilyMismatchError):
        expfam.kl(Weibull(k=1.0, scale=1.0), Weibull(k=2.0, scale=1.0))
    with pytest.raises(FamilyMismatchError):
        expfam.kl(Exponential(rate=1.0), Weibull(k=1.0, scale=1.0))


# ----------------------------------------------------------------------------------
# boundary data and pseudo counts
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, x, fixed, hint, expected",
    [
        # the regularised target is (n * mu_data + mu0) / (n + 1), n = 6
        (Exponential, np.zeros(6), {}, "all observations are zero", {"rate": 7.0}),
        (Laplace, np.full(6, 2.5), {"loc": 2.5}, "every observation equals loc",
         {"scale": 1 / 7}),
        # x^2 underflows to 0 or overflows to inf: a float64 range problem, reported as
        # such (never "all observations equal", never a silent inf)
        (Rayleigh, np.full(6, 1e-200), {}, FloatRangeError, {"scale": np.sqrt(1 / 7)}),
        (Weibull, np.full(6, 1e-250), {"k": 1.5}, FloatRangeError, {"scale": (1 / 7) ** (1 / 1.5)}),
        (Pareto, np.full(6, 3.0), {"x_m": 3.0}, "every observation equals x_m", {"alpha": 7.0}),
        (Rayleigh, np.array([1e200, 1.0]), {}, FloatRangeError, None),
    ],
)
def test_boundary_data(cls, x, fixed, hint, expected):
    if isinstance(hint, type):
        with pytest.raises(hint, match="range of float64") as info:
            expfam.fit(cls, x, **fixed)
        assert "rescale" in str(info.value)
    else:
        with pytest.raises(BoundaryError, match="boundary") as info:
            expfam.fit(cls, x, **fixed)
        assert hint in str(info.value)
        assert "pseudo_count" in str(info.value)
    if expected is None:
        return
    r = expfam.fit(cls, x, pseudo_count=1.0, **fixed)
    assert r.regularization["pseudo_count"] == 1.0
    assert np.all(np.isfinite(r.model.natural))
    name, value = next(iter(expected.items()))
    np.testing.assert_allclose(r.params[name], value, rtol=1e-12)


def test_pareto_boundary_survives_rounding():
    # many copies of log(x_m) do not sum to exactly n log(x_m)
    x = np.full(1001, 1.1)
    with pytest.raises(BoundaryError, match="equals x_m"):
        expfam.fit(Pareto, x, x_m=1.1)
    with pytest.raises(BoundaryError):
        expfam.fit(Pareto, np.ones(5), x_m=1.0)


def test_chi_square_has_no_boundary():
    # equal observations still give an MLE: digamma(df / 2) = log 2 - log 2 = 0
    r = expfam.fit(ChiSquare, np.full(5, 2.0))
    np.testing.assert_allclose(r.params["df"], 2 * DIGAMMA_ZERO, rtol=1e-13)
    # pseudo counts: target (5 log 2 + (log 2 - euler_gamma)) / 6 = log 2 - euler_gamma / 6
    r = expfam.fit(ChiSquare, np.full(5, 2.0), pseudo_count=1.0)
    assert r.regularization["pseudo_count"] == 1.0
    s = -np.euler_gamma / 6  # digamma(df / 2) = target - log 2
    a = optimize.brentq(lambda a: special.digamma(a) - s, 0.1, 10, xtol=1e-15, rtol=1e-15)
    np.testing.assert_allclose(r.params["df"], 2 * a, rtol=1e-13)


# ----------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, x, fixed, error, match",
    [
        (Exponential, [1.0, np.nan, 2.0], {}, NonFiniteError, r"index 1: nan"),
        (ChiSquare, [1.0, 2.0, np.inf], {}, NonFiniteError, r"index 2: inf"),
        (Laplace, [-np.inf, 2.0], {"loc": 0.0}, NonFiniteError, r"index 0: -inf"),
        (Exponential, [1.0, -0.5], {}, SupportError, r"\[0, inf\); first at index 1: -0.5"),
        (Rayleigh, [1.0, 2.0, 0.0], {}, SupportError, r"\(0, inf\); first at index 2: 0.0"),
        (Weibull, [-1.0, 2.0], {"k": 2.0}, SupportError, r"index 0: -1.0"),
        (ChiSquare, [3.0, -2.0], {}, SupportError, r"index 1: -2.0"),
        (Pareto, [2.0, 1.5, 0.9], {"x_m": 1.0}, SupportError, r"\[1, inf\); first at index 2: 0.9"),
        (Exponential, 1.0, {}, ShapeError, r"scalar"),
        (Weibull, [1.0], {"k": -2.0}, ParameterError, r"'k' must be finite and > 0; got -2.0"),
        (Weibull, [1.0], {"k": np.nan}, ParameterError, r"'k' must be finite and > 0; got nan"),
        (Weibull, [1.0], {"k": "two"}, ParameterError, r"'k' must be a number"),
        (Weibull, [1.0], {}, ParameterError, r"needs the fixed parameter\(s\) \['k'\]"),
        (Pareto, [1.0], {"x_m": 0.0}, ParameterError, r"'x_m' must be finite and > 0; got 0.0"),
        (Laplace, [1.0], {"loc": np.inf}, ParameterError, r"'loc' must be finite; got inf"),
        (Exponential, [1.0], {"k": 2.0}, ParameterError, r"has no fixed parameter\(s\) \['k'\]"),
    ],
)
def test_bad_input(cls, x, fixed, error, match):
    with pytest.raises(error, match=match):
        expfam.fit(cls, x, **fixed)


def test_bad_weights_shape():
    with pytest.raises(ShapeError, match=r"shape \(3,\) does not match the observations' shape \(2,\)"):
        expfam.fit(Exponential, [1.0, 2.0], weights=[1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Exponential(rate=[1.0, -2.0]), ParameterError, r"'rate' must be in \(0, inf\); got -2.0 at batch index 1"),
        (lambda: Rayleigh(scale=0.0), ParameterError, r"'scale' must be in \(0, inf\); got 0.0"),
        (lambda: Weibull(k=2.0, scale=[[1.0, 2.0], [3.0, -1.0]]), ParameterError, r"got -1.0 at batch index \(1, 1\)"),
        (lambda: Weibull(k=[1.0, 0.0], scale=1.0), ParameterError, r"'k' must be finite and > 0; got 0.0 at batch index 1"),
        (lambda: Weibull(k=1000.0, scale=3.0), ParameterError, r"scale\*\*\(-k\) is a finite nonzero float64"),
        (lambda: Pareto(alpha=-1.0, x_m=2.0), ParameterError, r"'alpha' must be in \(0, inf\); got -1.0"),
        (lambda: Laplace(loc=0.0, scale=np.nan), NonFiniteError, r"'scale'.*nan"),
        (lambda: ChiSquare(df=[3.0, 0.0]), ParameterError, r"'df' must be in \(0, inf\); got 0.0 at batch index 1"),
        (lambda: Exponential.from_natural([0.5]), ParameterError, r"outside the domain"),
        (lambda: ChiSquare.from_natural([-0.1]), ParameterError, r"outside the domain"),
        (lambda: Rayleigh.from_natural([-1.0, -2.0]), ShapeError, r"1 natural parameter"),
        (lambda: Weibull.from_mean([0.0], k=2.0), BoundaryError, r"boundary"),
    ],
)
def test_invalid_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(log_df=st.floats(-4, 8))
def test_chi_square_round_trip_property(log_df):
    d = ChiSquare(df=10.0**log_df)
    back = ChiSquare.from_mean(d.mean_params)
    assert relative_residual(ChiSquare, back.natural, d.mean_params, {}) <= 1e-12
    np.testing.assert_allclose(back.params["df"], 10.0**log_df, rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    k=st.floats(0.05, 20),
    log_s1=st.floats(-3, 3),
    log_s2=st.floats(-3, 3),
)
def test_weibull_kl_property(k, log_s1, log_s2):
    s1, s2 = 10.0**log_s1, 10.0**log_s2
    kl = float(expfam.kl(Weibull(k=k, scale=s1), Weibull(k=k, scale=s2)))
    assert kl >= 0
    # closed form for Weibull with equal shapes: r - 1 - log r, r = (s1 / s2)^k
    log_r = k * np.log(s1 / s2)
    expected = np.expm1(log_r) - log_r
    assert kl == pytest.approx(expected, rel=1e-9, abs=1e-15)
