"""Beta and Dirichlet beyond the generic oracle tests: the mean -> natural solver over
concentrations 1e-3..1e6, the digamma differences, boundary data and regularisation,
bad input, and properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

import expfam
from expfam.errors import BoundaryError, NonFiniteError, ParameterError, ShapeError, SupportError
from expfam.families.dirichlet import digamma_difference
from expfam.solvers import relative_residual


def _naive_mu(alpha):
    """``psi(alpha_j) - psi(alpha_0)`` straight from SciPy (absolute error ~1e-15)."""
    alpha = np.asarray(alpha, dtype=float)
    return special.digamma(alpha) - special.digamma(alpha.sum(-1, keepdims=True))


def _independent_solve(mu):
    """MLE for log-means ``mu`` with SciPy's root finder in log alpha (independent of expfam)."""
    mu = np.asarray(mu, dtype=float)
    sol = optimize.root(lambda la: _naive_mu(np.exp(la)) - mu, np.zeros(mu.size),
                        method="hybr", tol=1e-13)
    assert np.linalg.norm(sol.fun) <= 1e-13 * np.linalg.norm(mu)
    return np.exp(sol.x)


# ---------------------------------------------------------------------------
# digamma differences and the mean -> natural solver
# ---------------------------------------------------------------------------

# psi(a) - psi(a + b), psi(b) - psi(a + b) from mpmath at 40 digits
_MPMATH = [
    (1e6, 1e-3, -1.0000004995001661878e-9, -1014.3910819907744709),
    (5.0, 1e-3, -0.00022129856444171160737, -1002.0819108988065218),
    (20.0, 1e-3, -0.00005126950891889594195, -1003.5461471935613476),
    (100.0, 100.0, -0.69565343048182421525, -0.69565343048182421525),
    (1e6, 1e6, -0.69314743056000780942, -0.69314743056000780942),
    (0.5, 0.25, -0.87764914623495130981, -3.1415926535897932385),
]


def test_digamma_difference_is_accurate_componentwise():
    alpha = np.array([r[:2] for r in _MPMATH])
    expected = np.array([r[2:] for r in _MPMATH])
    np.testing.assert_allclose(digamma_difference(alpha), expected, rtol=2e-15, atol=0)
    np.testing.assert_allclose(digamma_difference(alpha[:, ::-1]), expected[:, ::-1], rtol=2e-15)


def test_beta_solver_over_the_whole_grid():
    g = np.logspace(-3, 6, 37)
    a, b = np.meshgrid(g, g)
    alpha = np.stack([a.ravel(), b.ravel()], axis=-1)
    mu = _naive_mu(alpha)
    sol = expfam.Beta.natural_from_mean(mu, {})
    assert sol.converged.all()
    assert relative_residual(expfam.Beta, sol.natural, mu, {}).max() <= 1e-12
    # the map is ill-conditioned for large concentrations (the precision moves the log
    # means by ~1/alpha); the naive target mu carries ~1e-15 absolute error
    np.testing.assert_allclose(sol.natural + 1, alpha, rtol=1e-4)
    # with exact targets, every component is recovered far better
    sol = expfam.Beta.natural_from_mean(digamma_difference(alpha), {})
    np.testing.assert_allclose(sol.natural + 1, alpha, rtol=2e-8)


def test_dirichlet_solver_wide_range_k5():
    rng = np.random.default_rng(0)
    alpha = 10.0 ** rng.uniform(-3, 6, size=(400, 5))
    alpha[:40] = 10.0 ** rng.choice([-3.0, 6.0], size=(40, 5))  # corners of the range
    alpha[40] = [1e-3, 1e-3, 1e-3, 1e-3, 1e6]
    alpha[41] = [1e6, 1e6, 1e6, 1e6, 1e-3]
    mu = _naive_mu(alpha)
    fixed = {"n_categories": 5}
    sol = expfam.Dirichlet.natural_from_mean(mu, fixed)
    assert sol.converged.all()
    assert relative_residual(expfam.Dirichlet, sol.natural, mu, fixed).max() <= 1e-12
    exact = expfam.Dirichlet.natural_from_mean(digamma_difference(alpha), fixed)
    np.testing.assert_allclose(exact.natural + 1, alpha, rtol=1e-7)


def test_solver_keeps_batch_shape_and_agrees_with_scipy_root():
    mu = _naive_mu(np.array([[[0.7, 2.0, 9.0]], [[40.0, 0.05, 3.0]]]))  # batch (2, 1)
    sol = expfam.Dirichlet.natural_from_mean(mu, {"n_categories": 3})
    assert sol.natural.shape == (2, 1, 3) and sol.converged.shape == (2, 1)
    np.testing.assert_allclose(sol.natural[1, 0] + 1, _independent_solve(mu[1, 0]), rtol=1e-9)


# ---------------------------------------------------------------------------
# boundary data and regularisation
# ---------------------------------------------------------------------------

def test_beta_boundary_and_pseudo_count():
    x = np.full(10, 0.3)
    with pytest.raises(BoundaryError, match="boundary"):
        expfam.fit(expfam.Beta, x)
    r = expfam.fit(expfam.Beta, x, pseudo_count=1.0)
    target = (10 * np.log([0.3, 0.7]) + np.array([-1.0, -1.0])) / 11  # Beta(1, 1) prior mean
    expected = _independent_solve(target)
    np.testing.assert_allclose([r.params["a"], r.params["b"]], expected, rtol=1e-9)
    assert r.regularization["pseudo_count"] == 1.0
    np.testing.assert_allclose(r.regularization["prior_mean"], [-1.0, -1.0])
    assert r.converged and r.residual_norm <= 1e-12


def test_dirichlet_boundary_and_pseudo_count():
    row = np.array([0.2, 0.3, 0.5])
    x = np.tile(row, (7, 1))
    with pytest.raises(BoundaryError, match="boundary.*all observations are equal"):
        expfam.fit("dirichlet", x)
    with pytest.raises(BoundaryError):  # one observation is boundary data too
        expfam.fit("dirichlet", x[:1])
    r = expfam.fit("dirichlet", x, pseudo_count=1.0)
    mu0 = -1.5  # uniform Dirichlet(1, 1, 1): psi(1) - psi(3)
    expected = _independent_solve((7 * np.log(row) + mu0) / 8)
    np.testing.assert_allclose(r.params["alpha"], expected, rtol=1e-9)
    assert r.regularization["pseudo_count"] == 1.0
    np.testing.assert_allclose(r.regularization["prior_mean"], [mu0] * 3)


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad, error, match", [
    (np.nan, NonFiniteError, r"index 2: nan"),
    (np.inf, NonFiniteError, r"index 2: inf"),
    (0.0, SupportError, r"\(0, 1\); first at index 2: 0\.0"),
    (1.0, SupportError, r"index 2: 1\.0"),
    (-0.5, SupportError, r"index 2: -0\.5"),
    (1.5, SupportError, r"index 2: 1\.5"),
])
def test_beta_bad_data(bad, error, match):
    with pytest.raises(error, match=match):
        expfam.fit("beta", [0.2, 0.4, bad, 0.6])


def test_beta_bad_parameters():
    with pytest.raises(ParameterError, match=r"'a' must be in \(0, inf\); got 0\.0"):
        expfam.Beta(a=0.0, b=1.0)
    with pytest.raises(ParameterError, match=r"'b' must be in \(0, inf\); got -3\.0 at batch index 2"):
        expfam.Beta(a=1.0, b=[1.0, 2.0, -3.0])
    with pytest.raises(NonFiniteError, match="parameter 'a'"):
        expfam.Beta(a=np.nan)
    with pytest.raises(ShapeError, match="do not broadcast"):
        expfam.Beta(a=[1.0, 2.0], b=[1.0, 2.0, 3.0])
    with pytest.raises(ParameterError, match="outside the domain"):
        expfam.Beta.from_natural([-1.0, 0.5])
    with pytest.raises(ParameterError, match="no fixed parameter"):
        expfam.fit("beta", [0.2, 0.5], n_categories=2)


def test_dirichlet_bad_data():
    good = [[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]
    with pytest.raises(SupportError, match=r"first at index 1: \[0\.2 0\.3 0\.6\]"):
        expfam.fit("dirichlet", [good[0], [0.2, 0.3, 0.6]])
    with pytest.raises(SupportError, match=r"index 2: \[0\. +0\.5 0\.5\]"):
        expfam.fit("dirichlet", good + [[0.0, 0.5, 0.5]])
    with pytest.raises(SupportError, match=r"index 0: \[-0\.1 +0\.6 +0\.5\]"):
        expfam.fit("dirichlet", [[-0.1, 0.6, 0.5]] + good)
    with pytest.raises(NonFiniteError, match=r"index \(1, 2\): nan"):
        expfam.fit("dirichlet", [good[0], [0.2, 0.3, np.nan]])
    with pytest.raises(ShapeError, match="rows have 3 components but n_categories=4"):
        expfam.fit("dirichlet", good, n_categories=4)
    with pytest.raises(ShapeError, match="K >= 2"):
        expfam.fit("dirichlet", np.ones((5, 1)))
    with pytest.raises(ShapeError, match=r"shape \(n, \.\.\.\)"):
        expfam.fit("dirichlet", [0.2, 0.8])
    with pytest.raises(ParameterError, match="'n_categories' must be an integer >= 2"):
        expfam.fit("dirichlet", good, n_categories=2.5)
    # rows may miss 1 by 1e-9 (and are normalised); beyond that they are rejected
    x = np.array(good * 3) * (1 + 5e-10)
    assert expfam.fit("dirichlet", x).converged
    with pytest.raises(SupportError, match="rows summing to 1"):
        expfam.fit("dirichlet", np.array(good) * (1 + 1e-8))


def test_dirichlet_bad_parameters_and_shapes():
    match = r"'alpha' must be in \(0, inf\); got -1\.0 at batch index \(1, 2\)"
    with pytest.raises(ParameterError, match=match):
        expfam.Dirichlet(alpha=[[1.0, 2.0, 3.0], [1.0, 2.0, -1.0]])
    with pytest.raises(ShapeError, match="K >= 2"):
        expfam.Dirichlet(alpha=2.0)
    with pytest.raises(ShapeError, match="K >= 2"):
        expfam.Dirichlet(alpha=[2.0])
    with pytest.raises(NonFiniteError):
        expfam.Dirichlet(alpha=[1.0, np.inf])
    with pytest.raises(ShapeError, match="has 3 natural parameter"):
        expfam.Dirichlet.from_natural([0.0, 0.0], n_categories=3)
    d = expfam.Dirichlet(alpha=[1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match="have 3 components; got shape \\(2, 2\\)"):
        d.logpdf([[0.5, 0.5], [0.3, 0.7]])
    # outside the support: -inf, not an error
    assert d.logpdf([0.5, 0.6, 0.2]) == -np.inf


# ---------------------------------------------------------------------------
# consistency and properties
# ---------------------------------------------------------------------------

def test_dirichlet_k2_is_beta():
    rng = np.random.default_rng(7)
    x = expfam.Beta(a=0.7, b=3.0).sample(2000, rng=rng)
    rb = expfam.fit("beta", x)
    rd = expfam.fit("dirichlet", np.stack([x, 1 - x], axis=-1))
    np.testing.assert_allclose(rd.params["alpha"], [rb.params["a"], rb.params["b"]], rtol=1e-12)
    np.testing.assert_allclose(rd.loglik, rb.loglik, rtol=1e-12)
    pts = np.array([0.01, 0.3, 0.95])
    np.testing.assert_allclose(
        expfam.Dirichlet(alpha=[0.7, 3.0]).logpdf(np.stack([pts, 1 - pts], -1)),
        stats.beta(0.7, 3.0).logpdf(pts), rtol=1e-12,
    )


def test_dirichlet_batched_fit_and_small_concentration_draws():
    alpha = np.array([[0.5, 1.0, 4.0], [30.0, 10.0, 2.0]])
    d = expfam.Dirichlet(alpha=alpha)
    x = d.sample(3000, rng=3)
    assert x.shape == (3000, 2, 3)
    r = expfam.fit("dirichlet", x)
    assert r.model.batch_shape == (2,)
    z = (r.model.natural - d.natural) / r.se_natural
    assert np.all(np.abs(z) < 5)
    # alpha = 1e-3: most gamma variates underflow; the log-space draw keeps rows finite
    tiny = expfam.Dirichlet(alpha=[1e-3, 1e-3, 1e-3]).sample(1000, rng=4)
    assert np.isfinite(tiny).all()
    np.testing.assert_allclose(tiny.sum(-1), 1.0, rtol=1e-14)


_concentration = st.floats(min_value=-3.0, max_value=6.0).map(lambda e: 10.0**e)


@settings(max_examples=50, deadline=None)
@given(st.lists(_concentration, min_size=2, max_size=6))
def test_round_trip_property(alpha):
    alpha = np.array(alpha)
    fixed = {"n_categories": alpha.size}
    mu = expfam.Dirichlet.mean_from_natural(alpha - 1, fixed)
    sol = expfam.Dirichlet.natural_from_mean(mu, fixed)
    assert sol.converged
    assert relative_residual(expfam.Dirichlet, sol.natural, mu, fixed) <= 1e-12


@settings(max_examples=50, deadline=None)
@given(_concentration, _concentration, _concentration, _concentration)
def test_beta_kl_nonnegative_and_matches_scipy_entropy(a1, b1, a2, b2):
    p, q = expfam.Beta(a=a1, b=b1), expfam.Beta(a=a2, b=b2)
    k = expfam.kl(p, q)
    # rounding of the Bregman form: a few ulps of the log partitions
    assert k >= -1e-13 * (abs(p.log_partition_value()) + abs(q.log_partition_value()) + 1)
    assert abs(expfam.kl(p, p)) <= 1e-13 * (abs(p.log_partition_value()) + 1)
