"""MultivariateNormal beyond the generic oracle tests."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import expfam
from expfam.errors import BoundaryError, NonFiniteError, ParameterError, ShapeError
from expfam.families._base import ExponentialFamily
from expfam.solvers import relative_residual

MVN = expfam.MultivariateNormal


def _covs(sd, rho):
    """Covariances ``D R D`` with an equicorrelation ``R`` (batched over sd and rho)."""
    d = sd.shape[-1]
    R = rho[..., None, None] * np.ones((d, d)) + (1 - rho[..., None, None]) * np.eye(d)
    return R * sd[..., :, None] * sd[..., None, :]


def _mean_params(m, S):
    i, j = np.triu_indices(m.shape[-1])
    return np.concatenate([m, S[..., i, j] + m[..., i] * m[..., j]], axis=-1)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_mean_to_natural_over_wide_ranges(d):
    # scales 1e-6..1e6 per coordinate, correlations -0.9/(d-1)..0.99, mean up to 100 sd
    rng = np.random.default_rng(d)
    n = 400
    sd = 10.0 ** rng.uniform(-6, 6, size=(n, d))
    lo = -0.9 / (d - 1) if d > 1 else 0.0
    rho = rng.uniform(lo, 0.99, size=n)
    m = sd * rng.uniform(-100, 100, size=(n, d))
    S = _covs(sd, rho)
    mu = _mean_params(m, S)
    fixed = {"dim": d}
    assert MVN.mean_in_interior(mu, fixed).all()
    sol = MVN.natural_from_mean(mu, fixed)
    assert sol.converged.all() and sol.converged.shape == (n,)
    assert relative_residual(MVN, sol.natural, mu, fixed).max() <= 1e-12
    # the natural parameters are (Lambda m, packed -Lambda / 2), checked entrywise
    p = MVN.params_from_natural(sol.natural, fixed)
    err_m = np.abs(p["mean"] - m) / sd
    err_S = np.abs(p["cov"] - S) / (sd[..., :, None] * sd[..., None, :])
    assert err_m.max() <= 1e-9 and err_S.max() <= 1e-9, (err_m.max(), err_S.max())


def test_natural_parameters_give_the_quadratic_form():
    m = np.array([1.0, -2.0, 0.5])
    S = np.array([[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 0.5]])
    p = MVN(mean=m, cov=S)
    assert p.natural.shape == (9,)
    x = np.random.default_rng(0).normal(size=(7, 3))
    Lam = np.linalg.inv(S)
    expected = x @ Lam @ m - 0.5 * np.einsum("ni,ij,nj->n", x, Lam, x)
    np.testing.assert_allclose(MVN.sufficient_statistics(x, p.fixed) @ p.natural, expected, rtol=1e-12)
    np.testing.assert_allclose(
        p.log_partition_value(), 0.5 * m @ Lam @ m - 0.5 * np.linalg.slogdet(Lam)[1], rtol=1e-13
    )


def test_fisher_one_dimension_equals_normal():
    fixed = {"dim": 1}
    eta = MVN(mean=[1.5], cov=[[0.7]]).natural
    np.testing.assert_allclose(
        MVN.fisher_from_natural(eta, fixed), expfam.Normal(1.5, np.sqrt(0.7)).fisher_information(),
        rtol=1e-13,
    )


def test_fisher_matches_finite_differences_and_sample_covariance_batched():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 3, 3))
    p = MVN(mean=rng.normal(size=(4, 3)), cov=A @ np.swapaxes(A, -1, -2) + 0.5 * np.eye(3))
    eta, fixed = p.natural, p.fixed
    F = MVN.fisher_from_natural(eta, fixed)
    assert F.shape == (4, 9, 9)
    np.testing.assert_allclose(F, np.swapaxes(F, -1, -2), rtol=0, atol=1e-12)
    for j in range(9):
        h = 1e-6 * np.maximum(np.abs(eta[:, j]), 1e-2)
        e = np.zeros_like(eta)
        e[:, j] = h
        dg = (MVN.mean_from_natural(eta + e, fixed) - MVN.mean_from_natural(eta - e, fixed)) / (2 * h[:, None])
        np.testing.assert_allclose(dg, F[..., j], rtol=1e-5, atol=1e-6)
    # Cov[u] from samples, within 5 standard errors of each entry (first distribution)
    u = MVN.sufficient_statistics(p[0].sample(200_000, rng=4), fixed)
    c = u - u.mean(0)
    emp = c.T @ c / len(u)
    se = np.sqrt(np.var(c[:, :, None] * c[:, None, :], axis=0) / len(u))
    assert np.all(np.abs(emp - F[0]) <= 5 * se + 1e-12)


@pytest.mark.parametrize(
    "x",
    [
        np.column_stack([np.arange(10.0), 3 * np.arange(10.0) - 2]),  # collinear
        np.random.default_rng(1).normal(size=(3, 3)),  # fewer than d + 1 points
        np.tile([1.0, 2.0], (6, 1)),  # all equal
    ],
)
def test_boundary_data_raise_and_regularise(x):
    with pytest.raises(BoundaryError, match="boundary.*collinear"):
        expfam.fit(MVN, x)
    r = expfam.fit(MVN, x, pseudo_count=1.0)
    n, d = x.shape
    # posterior mode with the prior N(0, I) of weight 1, computed independently
    m = x.sum(0) / (n + 1)
    S = (x.T @ x + np.eye(d)) / (n + 1) - np.outer(m, m)
    np.testing.assert_allclose(r.params["mean"], m, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(r.params["cov"], S, rtol=1e-7, atol=1e-9 * np.abs(S).max())
    assert np.isfinite(r.loglik)
    assert r.regularization["pseudo_count"] == 1.0
    np.testing.assert_array_equal(r.regularization["prior_mean"][:d], 0.0)


def test_boundary_far_from_origin():
    # collinear points far from the origin: caught despite the rounding of M - m m'
    t = np.arange(5.0)
    with pytest.raises(BoundaryError, match="collinear"):
        expfam.fit(MVN, np.column_stack([1e6 + t, -(1e6 + t) / 7]))
    # independent coordinates far from the origin are interior
    x = 1e6 + np.random.default_rng(0).normal(size=(50, 2))
    assert expfam.fit(MVN, x).converged


def test_boundary_in_a_batch_names_the_element():
    x = np.random.default_rng(2).normal(size=(50, 3, 2))
    x[:, 1, 1] = 2 * x[:, 1, 0]
    with pytest.raises(BoundaryError, match=r"batch index 1\b"):
        expfam.fit(MVN, x)


def test_nearly_singular_but_valid_data_fit():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(1000, 2))
    # correlation 1 - 5e-5, well above the rounding level eps * (M_ii / S_ii) ~ 2e-14
    x = np.column_stack([z[:, 0], z[:, 0] + 1e-2 * z[:, 1]]) + 10.0
    r = expfam.fit(MVN, x)
    assert r.converged and r.residual_norm <= 1e-10
    np.testing.assert_allclose(r.params["cov"], np.cov(x.T, bias=True), rtol=1e-6)


def test_fit_matches_sample_mean_and_covariance_and_groups():
    rng = np.random.default_rng(6)
    x = rng.multivariate_normal([1.0, 2.0, 3.0], [[1, 0.2, 0], [0.2, 2, 0.5], [0, 0.5, 1]], 500)
    r = expfam.fit(MVN, x)
    assert r.model.fixed == {"dim": 3}
    np.testing.assert_allclose(r.params["mean"], x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(r.params["cov"], np.cov(x.T, bias=True), rtol=1e-10)
    assert r.se["mean"].shape == (3,) and r.se["cov"].shape == (3, 3)
    # standard error of a mean coordinate is sd / sqrt(n)
    np.testing.assert_allclose(r.se["mean"], np.sqrt(np.diag(r.params["cov"]) / 500), rtol=1e-4)
    g = np.arange(500) % 2
    rg = expfam.fit(MVN, x, by=g)
    np.testing.assert_allclose(rg.params["cov"][1], np.cov(x[g == 1].T, bias=True), rtol=1e-10)


def test_sampling_shapes_and_scipy():
    p = MVN(mean=np.zeros((3, 2)), cov=[[1.0, 0.5], [0.5, 2.0]])
    assert p.batch_shape == (3,)
    assert p.sample((5, 4), rng=0).shape == (5, 4, 3, 2)
    assert p.sample(rng=0).shape == (3, 2)
    np.testing.assert_array_equal(p.sample(7, rng=1), p.sample(7, rng=1))
    with pytest.raises(NotImplementedError):
        p.to_scipy()  # SciPy's multivariate normal is not batched
    assert isinstance(p[0].to_scipy(), type(stats.multivariate_normal([0, 0])))
    with pytest.raises(NotImplementedError):
        p[0].cdf([[0.0, 0.0]])
    np.testing.assert_allclose(p.logpdf([0.3, -1.0]), stats.multivariate_normal(
        [0, 0], [[1.0, 0.5], [0.5, 2.0]]).logpdf([0.3, -1.0]), rtol=1e-12)
    assert MVN(mean=[1.0, 2.0]).params["cov"].tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_bad_data():
    x = np.ones((5, 2))
    x[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"index \(3, 1\): nan"):
        expfam.fit(MVN, x)
    x[3, 1] = np.inf
    with pytest.raises(NonFiniteError, match="inf"):
        expfam.fit(MVN, x)
    with pytest.raises(ShapeError, match="length 2, but dim=3"):
        expfam.fit(MVN, np.random.default_rng(0).normal(size=(10, 2)), dim=3)
    with pytest.raises(ShapeError, match=r"shape \(n, \.\.\.\)"):
        expfam.fit(MVN, np.arange(5.0))
    p = MVN(mean=[0.0, 0.0])
    with pytest.raises(ShapeError, match=r"length dim=2; got shape \(4, 3\)"):
        p.logpdf(np.zeros((4, 3)))
    with pytest.raises(NonFiniteError, match=r"index \(0, 1\)"):
        p.logpdf([[0.0, np.nan]])


def test_bad_parameters():
    with pytest.raises(ParameterError, match=r"batch index 1 .*not positive definite.*-1"):
        MVN(mean=[0.0, 0.0], cov=[[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])
    with pytest.raises(ParameterError, match=r"batch index 0 .*not symmetric"):
        MVN(mean=[0.0, 0.0], cov=[[1.0, 0.5], [0.4, 1.0]])
    with pytest.raises(ParameterError, match=r"batch index \(1, 0\)"):
        cov = np.broadcast_to(np.eye(2), (2, 2, 2, 2)).copy()
        cov[1, 0, 1, 1] = 0.0
        MVN(mean=[0.0, 0.0], cov=cov)
    with pytest.raises(ShapeError, match=r"shape \(\.\.\., 2, 2\)"):
        MVN(mean=[0.0, 0.0], cov=np.eye(3))
    with pytest.raises(ShapeError, match="mean"):
        MVN(mean=0.0, cov=[[1.0]])
    with pytest.raises(NonFiniteError, match="parameter 'cov'.*nan"):
        MVN(mean=[0.0], cov=[[np.nan]])
    for bad in (0, 2.5, -1, "two", True):
        with pytest.raises(ParameterError, match="'dim' must be an integer >= 1"):
            MVN.from_natural(np.array([0.0, -0.5]), dim=bad)
    with pytest.raises(ParameterError, match=r"needs the fixed parameter\(s\) \['dim'\]"):
        MVN.from_natural(np.array([0.0, -0.5]))
    with pytest.raises(ParameterError, match="outside the domain"):
        MVN.from_natural(np.array([0.0, 0.0, 0.5, 0.0, 0.5]), dim=2)  # -Lambda/2 not negative definite
    with pytest.raises(ShapeError, match="5 natural parameter"):
        MVN.from_natural(np.zeros(4), dim=2)


_settings = settings(max_examples=40, deadline=None)


@st.composite
def _mvn(draw):
    d = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.floats(-3, 3))
    A = rng.normal(size=(d, d))
    cov = scale**2 * (A @ A.T + 0.3 * np.eye(d))
    mean = scale * rng.normal(size=d) * draw(st.floats(0, 10))
    return mean, cov


@_settings
@given(_mvn(), _mvn())
def test_property_round_trip_kl_entropy(a, b):
    p = MVN(*a)
    back = MVN.from_mean(p.mean_params, **p.fixed)
    assert relative_residual(MVN, back.natural, p.mean_params, p.fixed) <= 1e-11
    np.testing.assert_allclose(back.params["cov"], a[1], rtol=1e-7, atol=1e-7 * np.abs(a[1]).max())
    np.testing.assert_allclose(p.entropy(), stats.multivariate_normal(*a).entropy(), rtol=1e-10, atol=1e-10)
    if len(a[0]) == len(b[0]):
        q = MVN(*b)
        k = expfam.kl(p, q)
        assert k >= 0
        # against the generic Bregman divergence of A
        bregman = ExponentialFamily.kl_natural.__func__(MVN, p.natural, q.natural, p.fixed)
        np.testing.assert_allclose(k, bregman, rtol=1e-6, atol=1e-6 * (1 + abs(MVN.log_partition(q.natural, q.fixed))))
