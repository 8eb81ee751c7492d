"""expfam.fit: weights, groups, inputs, regularisation, standard errors, bad input."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import expfam
from expfam.errors import (
    BoundaryError,
    EmptyDataError,
    NonFiniteError,
    ParameterError,
    ShapeError,
    SupportError,
    WeightError,
)


def test_integer_weights_equal_repeated_observations():
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 1.5, size=50)
    w = rng.integers(1, 5, size=50)
    weighted = expfam.fit(expfam.Gamma, x, weights=w)
    repeated = expfam.fit(expfam.Gamma, np.repeat(x, w))
    np.testing.assert_allclose(weighted.model.natural, repeated.model.natural, rtol=1e-12)
    np.testing.assert_allclose(weighted.loglik, repeated.loglik, rtol=1e-12)


def test_zero_weights_exclude_observations():
    x = np.array([1.0, 2.0, 3.0, 100.0])
    r = expfam.fit(expfam.Normal, x, weights=[1, 1, 1, 0])
    np.testing.assert_allclose(r.params["loc"], 2.0, rtol=1e-14)
    assert r.n == 3


def test_by_groups_equal_separate_fits_with_ragged_sizes():
    rng = np.random.default_rng(1)
    sizes = {"a": 5, "b": 40, "c": 300}
    x = np.concatenate([rng.normal(i, 1 + i, size=s) for i, s in enumerate(sizes.values())])
    g = np.repeat(list(sizes), list(sizes.values()))
    perm = rng.permutation(x.size)
    r = expfam.fit("normal", x[perm], by=g[perm])
    assert list(r.groups) == ["a", "b", "c"]
    np.testing.assert_array_equal(r.n, [5, 40, 300])
    for i, label in enumerate(r.groups):
        xs = x[g == label]
        np.testing.assert_allclose(r.params["loc"][i], xs.mean(), rtol=1e-12)
        np.testing.assert_allclose(r.params["scale"][i], xs.std(), rtol=1e-10)
        np.testing.assert_allclose(r.loglik[i], stats.norm(xs.mean(), xs.std()).logpdf(xs).sum(), rtol=1e-10)


def test_dataframe_column_and_by_column():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.poisson(3, 200).astype(float), "g": rng.integers(0, 4, 200)})
    r = expfam.fit(expfam.Poisson, df, column="x", by="g")
    r2 = expfam.fit(expfam.Poisson, df["x"], by=df["g"])
    expected = df.groupby("g")["x"].mean().to_numpy()
    np.testing.assert_allclose(r.params["rate"], expected, rtol=1e-12)
    np.testing.assert_allclose(r2.params["rate"], expected, rtol=1e-12)


def test_list_and_series_inputs():
    r = expfam.fit("poisson", [1, 2, 3, 4])
    np.testing.assert_allclose(r.params["rate"], 2.5)
    r = expfam.fit("poisson", pd.Series([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(r.params["rate"], 2.5)


def test_closed_form_standard_errors_and_criteria():
    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 2.0, size=1000)
    r = expfam.fit(expfam.Normal, x)
    s = x.std()
    np.testing.assert_allclose(r.se["loc"], s / np.sqrt(x.size), rtol=1e-6)
    np.testing.assert_allclose(r.se["scale"], s / np.sqrt(2 * x.size), rtol=1e-6)
    np.testing.assert_allclose(r.aic, 4 - 2 * r.loglik)
    np.testing.assert_allclose(r.bic, 2 * np.log(1000) - 2 * r.loglik)
    np.testing.assert_allclose(r.mean_loglik, r.loglik / 1000)
    x = rng.poisson(4.0, size=500).astype(float)
    r = expfam.fit(expfam.Poisson, x)
    np.testing.assert_allclose(r.se["rate"], np.sqrt(x.mean() / x.size), rtol=1e-6)


def test_standard_errors_are_calibrated():
    """95% Wald intervals of the Gamma shape cover the truth 95% +- 3% of the time."""
    rng = np.random.default_rng(4)
    x = rng.gamma(2.0, 1.0, size=(400, 1000))  # 1000 replications, batched
    r = expfam.fit(expfam.Gamma, x)
    z = (r.params["shape"] - 2.0) / r.se["shape"]
    coverage = np.mean(np.abs(z) < 1.96)
    assert 0.92 <= coverage <= 0.98, coverage


@pytest.mark.parametrize(
    "family, data, error, match",
    [
        ("gamma", [1.0, np.nan, 2.0], NonFiniteError, r"index 1: nan"),
        ("normal", [1.0, 2.0, np.inf], NonFiniteError, r"index 2: inf"),
        ("gamma", [1.0, -2.5, 2.0], SupportError, r"\(0, inf\).*index 1: -2.5"),
        ("gamma", [1.0, 0.0], SupportError, r"index 1: 0.0"),
        ("poisson", [1.0, 2.5], SupportError, r"index 1: 2.5"),
        ("poisson", [1.0, -1.0], SupportError, r"index 1: -1.0"),
        ("normal", [], EmptyDataError, r"empty"),
        ("normal", 3.0, ShapeError, r"scalar"),
        ("normal", ["a", "b"], SupportError, r"numeric"),
    ],
)
def test_bad_data_raises_typed_error(family, data, error, match):
    with pytest.raises(error, match=match):
        expfam.fit(family, data)


def test_bad_data_in_a_batch_names_the_2d_index():
    x = np.ones((5, 3))
    x[3, 2] = -1
    with pytest.raises(SupportError, match=r"\(3, 2\): -1.0"):
        expfam.fit("gamma", x)


@pytest.mark.parametrize(
    "weights, error, match",
    [
        ([1, -1, 1], WeightError, r"negative weight at index 1"),
        ([0, 0, 0], WeightError, r"all weights are zero"),
        ([1, np.nan, 1], WeightError, r"non-finite weight at index 1"),
        ([1, 1], ShapeError, r"shape"),
    ],
)
def test_bad_weights(weights, error, match):
    with pytest.raises(error, match=match):
        expfam.fit("normal", [1.0, 2.0, 3.0], weights=weights)


def test_bad_labels_and_family():
    with pytest.raises(ShapeError, match="one label per observation"):
        expfam.fit("normal", [1.0, 2.0, 3.0], by=[0, 1])
    with pytest.raises(expfam.errors.UnknownFamilyError, match="unknown family"):
        expfam.fit("no-such-family", [1.0])
    with pytest.raises(ParameterError, match="pseudo_count"):
        expfam.fit("poisson", [1.0, 2.0], pseudo_count=-1)


def test_bad_familiar_parameters():
    with pytest.raises(ParameterError, match=r"'scale' must be in \(0, inf\); got -1.0"):
        expfam.Normal(0.0, -1.0)
    with pytest.raises(ParameterError, match=r"'rate' must be in \(0, inf\); got 0.0 at batch index 1"):
        expfam.Gamma(shape=[1.0, 2.0], rate=[1.0, 0.0])
    with pytest.raises(NonFiniteError):
        expfam.Poisson(np.nan)
    with pytest.raises(ParameterError, match="outside the domain"):
        expfam.Normal.from_natural([0.0, 1.0])


def test_boundary_data_raise_and_pseudo_counts_regularise_exactly():
    with pytest.raises(BoundaryError, match="all observations are equal"):
        expfam.fit("normal", [2.0, 2.0, 2.0])
    with pytest.raises(BoundaryError, match="all counts are zero"):
        expfam.fit("poisson", np.zeros(10))
    with pytest.raises(BoundaryError, match="group 'b'"):
        expfam.fit("poisson", [1.0, 0.0, 0.0, 3.0], by=["a", "b", "b", "a"])
    # Poisson with prior mean 1 and strength 1: rate = (0 + 1) / (10 + 1)
    r = expfam.fit("poisson", np.zeros(10), pseudo_count=1.0)
    np.testing.assert_allclose(r.params["rate"], 1 / 11, rtol=1e-15)
    assert r.regularization["pseudo_count"] == 1.0
    # Normal with prior (0, 1), strength 2: mean = 3*2/5, E[x^2] = (3*4 + 2)/5
    r = expfam.fit("normal", [2.0, 2.0, 2.0], pseudo_count=2.0)
    m, m2 = 6 / 5, 14 / 5
    np.testing.assert_allclose(r.params["loc"], m, rtol=1e-14)
    np.testing.assert_allclose(r.params["scale"], np.sqrt(m2 - m * m), rtol=1e-13)
    # prior mean given as a distribution
    r = expfam.fit("poisson", np.zeros(4), pseudo_count=1.0, prior_mean=expfam.Poisson(6.0))
    np.testing.assert_allclose(r.params["rate"], 6 / 5, rtol=1e-15)


def test_fit_from_statistics_and_merge():
    rng = np.random.default_rng(5)
    x = rng.gamma(3.0, 2.0, size=1000)
    s = expfam.SufficientStats.from_data("gamma", x[:300]).merge(
        expfam.SufficientStats.from_data("gamma", x[300:]))
    r1, r2 = expfam.fit("gamma", s), expfam.fit("gamma", x)
    np.testing.assert_allclose(r1.model.natural, r2.model.natural, rtol=1e-12)
    np.testing.assert_allclose(r1.loglik, r2.loglik, rtol=1e-12)


def test_grouped_statistics_merge_over_different_groups():
    a = expfam.SufficientStats.from_data("normal", [1.0, 2.0, 5.0], by=["x", "x", "y"])
    b = expfam.SufficientStats.from_data("normal", [3.0, 7.0, 9.0], by=["y", "z", "z"])
    m = a.merge(b)
    assert list(m.groups) == ["x", "y", "z"]
    np.testing.assert_array_equal(m.count, [2, 2, 2])
    # the groups' pivots differ between the two parts (their first values): merged exactly
    np.testing.assert_allclose(m.mean[:, 0] * m.weight_sum, [3.0, 8.0, 16.0], rtol=1e-15)
    np.testing.assert_allclose(m.mean[:, 1] * m.weight_sum, [5.0, 34.0, 130.0], rtol=1e-15)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=40).filter(lambda v: np.ptp(v) > 1e-3),
    st.data(),
)
def test_weighted_normal_fit_is_weighted_moments(values, data):
    x = np.array(values)
    w = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=x.size, max_size=x.size)))
    r = expfam.fit(expfam.Normal, x, weights=w)
    m = np.average(x, weights=w)
    sd = np.sqrt(np.average((x - m) ** 2, weights=w))
    np.testing.assert_allclose(r.params["loc"], m, rtol=1e-9, atol=1e-9 * np.abs(x).max())
    np.testing.assert_allclose(r.params["scale"], sd, rtol=1e-6)
    assert r.residual_norm < 1e-12


# ---------------------------------------------------------------------------------
# The log-likelihood where sum log h, eta . sum u and W A(eta) nearly cancel
# ---------------------------------------------------------------------------------
def _exact_loglik(family, x, model):
    """sum_i log p(x_i) at 50 digits (mpmath), over the distinct values of x."""
    import mpmath as mp

    mp.mp.dps = 50
    values, counts = np.unique(x, return_counts=True)
    total = mp.mpf(0)
    for v, c in zip(values, counts):
        v = mp.mpf(float(v))
        if family == "poisson":
            lam = mp.e ** mp.mpf(float(model.natural[0]))
            lp = v * mp.log(lam) - lam - mp.loggamma(v + 1)
        else:  # binomial, n fixed
            n = mp.mpf(model.fixed["n"])
            eta = mp.mpf(float(model.natural[0]))
            lp = (mp.loggamma(n + 1) - mp.loggamma(v + 1) - mp.loggamma(n - v + 1)
                  + v * eta - n * mp.log1p(mp.e ** eta))
        total += c * lp
    return total


@pytest.mark.parametrize("family, make, fixed", [
    ("poisson", lambda rng: rng.poisson(1e8, 2000), {}),
    ("poisson", lambda rng: 1e17 + rng.integers(-10**9, 10**9, 2000).astype(float), {}),
    ("binomial", lambda rng: rng.binomial(10**12, 0.3, 2000), {"n": 10**12}),
])
def test_loglik_of_huge_counts_is_accurate(family, make, fixed):
    """Regression (correctness item 5): Poisson counts near 1e17 gave a positive
    log-likelihood (+393,216 for 10^4 counts).  In memory the fit sums the log masses
    observation by observation; from statistics alone it reports a rounding bound that
    covers the true error."""
    import mpmath as mp

    x = make(np.random.default_rng(3)).astype(float)
    r = expfam.fit(family, x, **fixed)
    exact = _exact_loglik(family, x, r.model)
    assert r.loglik < 0
    assert abs(mp.mpf(float(r.loglik)) - exact) <= 1e-10 * abs(exact)
    assert abs(mp.mpf(float(r.loglik)) - exact) <= r.loglik_error
    s = expfam.fit(family, expfam.SufficientStats.from_data(family, x, **fixed))
    exact_s = _exact_loglik(family, x, s.model)
    assert abs(mp.mpf(float(s.loglik)) - exact_s) <= s.loglik_error


def test_loglik_error_is_tiny_for_ordinary_data():
    x = np.random.default_rng(0).gamma(2.0, 1.0, 1000)
    r = expfam.fit("gamma", x)
    assert r.loglik_error < 1e-12 * abs(r.loglik)
