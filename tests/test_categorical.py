"""Categorical and Multinomial: what the generic oracle tests do not cover."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import expfam
from expfam.errors import BoundaryError, NonFiniteError, ParameterError, ShapeError, SupportError
from expfam.solvers import relative_residual

Categorical, Multinomial = expfam.Categorical, expfam.Multinomial


def _prob_grid(K, exponents):
    """All probability vectors proportional to 10^-a_j, a_j from ``exponents``."""
    a = np.array(list(itertools.product(exponents, repeat=K)), dtype=float)
    w = 10.0 ** -a
    return w / w.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------------------
# mean -> natural over wide ranges
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("K", [2, 4])
def test_categorical_mean_to_natural_wide_range(K):
    # probabilities from 1e-12 to 1 (ratios up to 1e12), in one vectorised call
    p = _prob_grid(K, [0, 1, 3, 6, 9, 12])
    fixed = {"n_categories": K}
    mu = p[:, :-1]
    assert np.all(Categorical.mean_in_interior(mu, fixed))
    sol = Categorical.natural_from_mean(mu, fixed)
    assert sol.converged.all()
    assert relative_residual(Categorical, sol.natural, mu, fixed).max() <= 1e-12
    # where p_K is not tiny, eta matches log(p_j / p_K) computed independently
    good = p[:, -1] > 1e-3
    np.testing.assert_allclose(
        sol.natural[good], np.log(p[good, :-1] / p[good, -1:]), rtol=1e-12, atol=1e-11
    )


@pytest.mark.parametrize("n", [1, 7, 1000, 10**6])
def test_multinomial_mean_to_natural_wide_range(n):
    K = 3
    p = _prob_grid(K, [0, 2, 4, 6, 9, 12])
    fixed = {"n": n, "n_categories": K}
    mu = n * p[:, :-1]
    assert np.all(Multinomial.mean_in_interior(mu, fixed))
    sol = Multinomial.natural_from_mean(mu, fixed)
    assert sol.converged.all()
    assert relative_residual(Multinomial, sol.natural, mu, fixed).max() <= 1e-12


def test_log_partition_is_stable_at_extreme_natural_parameters():
    eta = np.array([[800.0, -800.0], [-40.0, -40.0], [0.0, 0.0], [-800.0, -800.0]])
    fixed = {"n_categories": 3}
    A = Categorical.log_partition(eta, fixed)
    # log(1 + e^800 + e^-800) = 800 + log1p(...); log(1 + 2 e^-40) = 2 e^-40 (to 1e-17)
    np.testing.assert_allclose(A, [800.0, 2 * np.exp(-40.0), np.log(3.0), 2 * np.exp(-800.0)], rtol=1e-15)
    mu = Categorical.mean_from_natural(eta, fixed)
    assert np.all(np.isfinite(mu))
    np.testing.assert_allclose(mu[0], [1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(mu[1], [np.exp(-40.0), np.exp(-40.0)], rtol=1e-14)


# ----------------------------------------------------------------------------------
# boundary data and pseudo counts
# ----------------------------------------------------------------------------------
def test_categorical_unseen_category_is_boundary():
    x = np.array([0, 2, 2, 0, 2.0])  # category 1 never observed; K = 3 inferred
    with pytest.raises(BoundaryError, match="category was never observed"):
        expfam.fit(Categorical, x)
    # the last category unseen (K given)
    with pytest.raises(BoundaryError, match="never observed"):
        expfam.fit(Categorical, [0, 1, 1.0], n_categories=3)
    r = expfam.fit(Categorical, x, pseudo_count=1.0)
    counts = np.array([2.0, 0.0, 3.0])
    expected = (counts + 1.0 / 3) / (x.size + 1.0)  # nu / K added to every count
    np.testing.assert_allclose(r.params["probs"], expected, rtol=1e-13)
    assert r.regularization["pseudo_count"] == 1.0
    np.testing.assert_allclose(r.regularization["prior_mean"], [1 / 3, 1 / 3])
    assert np.isfinite(r.loglik)


def test_categorical_boundary_is_robust_to_rounding_of_weights():
    # labels 0 and 1 only, K = 3: the weighted frequencies sum to 1 up to rounding
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.integers(0, 2, size=7).astype(float)
        x[:2] = [0, 1]
        w = rng.random(7) * 10.0 ** rng.uniform(-5, 5)
        with pytest.raises(BoundaryError):
            expfam.fit(Categorical, x, weights=w, n_categories=3)


def test_multinomial_zero_total_category_is_boundary():
    x = np.array([[3, 0, 2], [1, 0, 4.0]])
    with pytest.raises(BoundaryError, match="zero total count"):
        expfam.fit(Multinomial, x)
    r = expfam.fit(Multinomial, x, pseudo_count=1.0)
    n, N, K = 5, 2, 3
    expected = (x.sum(0) + n / K) / (n * (N + 1.0))
    np.testing.assert_allclose(r.params["probs"], expected, rtol=1e-13)
    assert r.regularization["pseudo_count"] == 1.0
    assert r.model.fixed == {"n": 5, "n_categories": 3}


# ----------------------------------------------------------------------------------
# fixed parameters inferred from the data
# ----------------------------------------------------------------------------------
def test_inferred_fixed_parameters():
    r = expfam.fit(Categorical, [0, 3, 1, 2, 1, 3.0])
    assert r.model.fixed == {"n_categories": 4}
    np.testing.assert_allclose(r.params["probs"], [1 / 6, 2 / 6, 1 / 6, 2 / 6], rtol=1e-14)
    r = expfam.fit(Multinomial, [[1, 2, 3, 4], [4, 3, 2, 1], [0, 0, 5, 5.0]])
    assert r.model.fixed == {"n": 10, "n_categories": 4}
    np.testing.assert_allclose(r.params["probs"], [5, 5, 10, 10] / np.array(30.0), rtol=1e-14)
    # rows with different totals: n cannot be inferred
    with pytest.raises(ParameterError, match=r"row 0 sums to 10 but row 2 sums to 11"):
        expfam.fit(Multinomial, [[1, 2, 3, 4], [4, 3, 2, 1], [0, 0, 5, 6.0]])


# ----------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, kwargs, error, match",
    [
        ([0, 1, np.nan], {}, NonFiniteError, r"index 2: nan"),
        ([0, np.inf, 1], {}, NonFiniteError, r"index 1: inf"),
        ([0, -1, 1], {}, SupportError, r"index 1: -1\.0"),
        ([0, 1, 1.5], {}, SupportError, r"index 2: 1\.5"),
        ([0, 1, 2, 3], {"n_categories": 3}, SupportError, r"index 3: 3\.0"),
        ([0, 0, 0], {}, ParameterError, r"n_categories"),
        ([0, 1], {"n_categories": 1}, ParameterError, r"'n_categories' must be an integer >= 2; got 1\.0"),
        ([0, 1], {"n_categories": 2.5}, ParameterError, r"got 2\.5"),
        ([0, 1], {"n_categories": [2, 3]}, ParameterError, r"n_categories"),
        (3.0, {}, ShapeError, r"scalar"),
    ],
)
def test_categorical_bad_data(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        expfam.fit(Categorical, x, **kwargs)


@pytest.mark.parametrize(
    "x, kwargs, error, match",
    [
        ([[1, 2], [np.nan, 3]], {}, NonFiniteError, r"index \(1, 0\): nan"),
        ([[1, 2], [3, 0], [1, 1]], {"n": 3}, SupportError, r"index 2: \[1\. 1\.\]"),
        ([[1, 2], [-1, 4]], {"n": 3}, SupportError, r"index 1: \[-1\.  4\.\]"),
        ([[1, 2], [-1, 4]], {}, SupportError, r"index 1: \[-1\.  4\.\]"),
        ([[1.5, 1.5], [1, 2]], {}, SupportError, r"index 0: \[1\.5 1\.5\]"),
        ([[1, 2], [3, 0]], {"n_categories": 3}, ShapeError, r"2 categories .* n_categories=3"),
        ([1, 2, 3], {}, ShapeError, r"shape \(n, \.\.\.\)"),
        ([[0, 0], [0, 0]], {}, ParameterError, r"'n' must be an integer >= 1; got 0\.0"),
        ([[1, 2], [3, 0]], {"n": 2.5}, ParameterError, r"'n' must be an integer >= 1; got 2\.5"),
        ([[3], [3]], {}, ParameterError, r"n_categories"),
    ],
)
def test_multinomial_bad_data(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        expfam.fit(Multinomial, x, **kwargs)


def test_bad_parameters():
    with pytest.raises(ParameterError, match=r"'probs' must be > 0; got -0\.1 at batch index 1"):
        Categorical(probs=[0.6, -0.1, 0.5])
    with pytest.raises(ParameterError, match=r"rows summing to 1 .* got 0\.9 at batch index 1"):
        Categorical(probs=[[0.5, 0.5], [0.5, 0.4]])
    with pytest.raises(NonFiniteError, match=r"index 0: nan"):
        Categorical(probs=[np.nan, 0.5])
    with pytest.raises(ShapeError, match="vector of probabilities"):
        Categorical(probs=1.0)
    with pytest.raises(ParameterError, match=r"'n_categories' must be an integer >= 2; got 1\.0"):
        Categorical(probs=[1.0])
    with pytest.raises(ShapeError, match=r"1 natural parameter\(s\); got an array of shape \(2,\)"):
        Categorical.from_natural([0.0, 0.0], n_categories=2)
    with pytest.raises(ParameterError, match=r"'n' must be an integer >= 1; got -3\.0"):
        Multinomial(n=-3, probs=[0.5, 0.5])
    with pytest.raises(ParameterError, match=r"'probs' must be > 0; got 0\.0 at batch index \(0, 1\)"):
        Multinomial(n=3, probs=[[1.0, 0.0], [0.5, 0.5]])
    with pytest.raises(ParameterError, match="needs the fixed parameter"):
        Multinomial.from_natural([0.0], n=3)
    with pytest.raises(ShapeError, match=r"count vectors of length 3; got an array of shape \(2,\)"):
        Multinomial(n=3, probs=[0.2, 0.3, 0.5]).logpdf([1.0, 2.0])


def test_logpdf_outside_support_is_minus_inf():
    c = Categorical(probs=[0.2, 0.3, 0.5])
    assert np.all(c.logpdf([-1.0, 0.5, 3.0, 7.0]) == -np.inf)
    m = Multinomial(n=4, probs=[0.2, 0.3, 0.5])
    assert np.all(m.logpdf([[1.0, 1.0, 1.0], [-1.0, 2.0, 3.0], [0.5, 0.5, 3.0]]) == -np.inf)
    with pytest.raises(NonFiniteError):
        c.logpdf([np.nan])


# ----------------------------------------------------------------------------------
# independent oracles: enumeration, the one-hot multinomial, batches
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n, p", [(4, [0.1, 0.2, 0.3, 0.4]), (9, [0.95, 0.04, 0.01]), (1, [0.25, 0.75])])
def test_multinomial_against_enumeration(n, p):
    K = len(p)
    d = Multinomial(n=n, probs=p)
    xs = np.array([c for c in itertools.product(range(n + 1), repeat=K) if sum(c) == n], float)
    pmf = d.pmf(xs)
    # pmf from the product formula, independently
    direct = np.exp(special.gammaln(n + 1) - special.gammaln(xs + 1).sum(1) + (xs * np.log(p)).sum(1))
    np.testing.assert_allclose(pmf, direct, rtol=1e-12)
    assert abs(pmf.sum() - 1) <= 1e-13
    np.testing.assert_allclose(d.mean(), pmf @ xs, rtol=1e-12)
    dev = xs - pmf @ xs
    np.testing.assert_allclose(d.var(), (pmf[:, None] * dev).T @ dev, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(d.entropy(), -np.sum(pmf * np.log(pmf)), rtol=1e-12)


def test_categorical_equals_one_draw_multinomial():
    p = np.array([0.1, 0.6, 0.3])
    c, m = Categorical(probs=p), Multinomial(n=1, probs=p)
    labels = np.arange(3.0)
    np.testing.assert_allclose(c.logpdf(labels), m.logpdf(np.eye(3)), rtol=1e-15)
    np.testing.assert_allclose(c.logpdf(labels), stats.multinomial(1, p).logpmf(np.eye(3)), rtol=1e-14)
    np.testing.assert_allclose(c.entropy(), m.entropy(), rtol=1e-14)
    np.testing.assert_allclose(c.entropy(), -np.sum(p * np.log(p)), rtol=1e-14)
    q = np.array([0.5, 0.25, 0.25])
    kl = np.sum(p * np.log(p / q))
    np.testing.assert_allclose(expfam.kl(c, Categorical(probs=q)), kl, rtol=1e-13)
    np.testing.assert_allclose(expfam.kl(m, Multinomial(n=1, probs=q)), kl, rtol=1e-13)
    np.testing.assert_allclose(expfam.kl(Multinomial(n=7, probs=p), Multinomial(n=7, probs=q)), 7 * kl, rtol=1e-13)


def test_batched_parameters():
    P = np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
    c = Categorical(probs=P)
    assert c.batch_shape == (2,)
    np.testing.assert_allclose(c.logpdf([[0.0], [2.0]]), np.log([[0.2, 0.7], [0.5, 0.1]]), rtol=1e-14)
    assert c.sample((5, 4), rng=0).shape == (5, 4, 2)
    np.testing.assert_allclose(c.mean(), P @ np.arange(3.0), rtol=1e-14)
    m = Multinomial(n=6, probs=P)
    assert m.sample(5, rng=0).shape == (5, 2, 3)
    np.testing.assert_allclose(m.var(), stats.multinomial(6, P).cov(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(m.entropy(), stats.multinomial(6, P).entropy(), rtol=1e-12)
    np.testing.assert_allclose(m.to_scipy().logpmf([2, 2, 2.0]), m.logpdf([2, 2, 2.0]), rtol=1e-13)


# ----------------------------------------------------------------------------------
# property tests
# ----------------------------------------------------------------------------------
_weights = st.lists(st.floats(1e-6, 1.0), min_size=2, max_size=8)


@settings(max_examples=50, deadline=None)
@given(w=_weights, v=_weights)
def test_round_trip_and_kl_properties(w, v):
    K = min(len(w), len(v))
    p = np.array(w[:K]) / np.sum(w[:K])
    q = np.array(v[:K]) / np.sum(v[:K])
    c = Categorical(probs=p)
    np.testing.assert_allclose(c.probs, p, rtol=1e-12)
    back = Categorical.from_mean(c.mean_params, n_categories=K)
    assert relative_residual(Categorical, back.natural, c.mean_params, c.fixed) <= 1e-12
    # the last probability is 1 - sum(mu): absolute rounding ~1e-16
    np.testing.assert_allclose(back.probs, p, rtol=1e-9, atol=1e-15)
    kl = expfam.kl(c, Categorical(probs=q))
    assert kl >= 0
    np.testing.assert_allclose(kl, np.sum(p * np.log(p / q)), rtol=1e-10, atol=1e-14)
    m = Multinomial(n=3, probs=p)
    back = Multinomial.from_mean(m.mean_params, **m.fixed)
    # the last probability is 1 - sum(mu): absolute rounding ~1e-16
    np.testing.assert_allclose(back.probs, p, rtol=1e-9, atol=1e-15)
