"""InverseGamma, LogNormal, InverseGaussian and VonMises beyond the generic oracle tests:
solver ranges, boundary data and regularisation, bad input, and property tests."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, special, stats

import expfam
from expfam.errors import BoundaryError, NonFiniteError, ParameterError, ShapeError, SupportError
from expfam.families.inverse_gaussian import scaled_exp1
from expfam.families.von_mises import bessel_ratio_derivative, one_minus_bessel_ratio
from expfam.solvers import relative_residual

FAMILIES = [expfam.InverseGamma, expfam.LogNormal, expfam.InverseGaussian, expfam.VonMises]


# ----------------------------------------------------------------------------------
# mean -> natural over wide ranges
# ----------------------------------------------------------------------------------
def _round_trip(cls, eta):
    mu = cls.mean_from_natural(eta, {})
    sol = cls.natural_from_mean(mu, {})
    return mu, sol, relative_residual(cls, sol.natural, mu, {})


def test_inverse_gamma_solver_shape_1e_4_to_1e8():
    shape = np.logspace(-4, 8, 241)
    scale = np.array([1e-3, 1.0, 1e5])[:, None]
    eta = expfam.InverseGamma.natural_from_params({}, shape=shape, scale=scale)
    _, sol, res = _round_trip(expfam.InverseGamma, eta)
    assert sol.converged.all()
    assert res.max() <= 1e-12
    back = expfam.InverseGamma.params_from_natural(sol.natural, {})
    np.testing.assert_allclose(back["shape"], np.broadcast_to(shape, (3, 241)), rtol=1e-6)


def test_von_mises_solver_kappa_0_to_1e5():
    kappa = np.concatenate([[0.0, 1e-300, 1e-12], np.logspace(-8, 5, 600)])
    loc = np.linspace(-3.1, 3.1, kappa.size)
    eta = expfam.VonMises.natural_from_params({}, loc=loc, kappa=kappa)
    _, sol, res = _round_trip(expfam.VonMises, eta)
    assert sol.converged.all()
    assert res.max() <= 1e-12
    back = expfam.VonMises.params_from_natural(sol.natural, {})
    # kappa is ill-conditioned in R only through 1 - R (relative error ~ eps * kappa)
    np.testing.assert_allclose(back["kappa"], kappa, rtol=1e-10, atol=1e-300)
    ok = kappa > 0
    np.testing.assert_allclose(np.cos(back["loc"] - loc)[ok], 1.0, rtol=1e-14)


def test_von_mises_inverse_bessel_ratio_near_one():
    """kappa up to 5e13 from 1 - R given accurately (asymptotic branch of 1 - A1)."""
    d = np.logspace(-14, -1, 27)
    kappa, ok, _ = expfam.families.von_mises.solve_bessel_ratio(1 - d, d)
    assert ok.all()
    np.testing.assert_allclose(one_minus_bessel_ratio(kappa), d, rtol=1e-14)
    # 1 - A1 ~ 1/(2k) + 1/(8k^2) (DLMF 10.40.1)
    big = kappa > 1e6
    np.testing.assert_allclose(d[big], 0.5 / kappa[big] + 0.125 / kappa[big] ** 2, rtol=1e-12)


def test_closed_form_families_wide_ranges():
    m = np.linspace(-50, 50, 11)[:, None]
    s = np.logspace(-3, 2, 11)
    _, sol, res = _round_trip(
        expfam.LogNormal, expfam.LogNormal.natural_from_params({}, mu=m, sigma=s)
    )
    assert sol.converged.all() and res.max() <= 1e-12
    mean = np.logspace(-3, 3, 13)[:, None]
    lam = np.logspace(-3, 4, 15)
    _, sol, res = _round_trip(
        expfam.InverseGaussian, expfam.InverseGaussian.natural_from_params({}, mean=mean, shape=lam)
    )
    assert sol.converged.all() and res.max() <= 1e-12


# ----------------------------------------------------------------------------------
# boundary data and regularisation
# ----------------------------------------------------------------------------------
BOUNDARY = {
    expfam.InverseGamma: [1e-5, 1 / 3, 3.0, 7.3e8],
    expfam.LogNormal: [1e-5, 1.0, 3.0, 7.3e8],
    expfam.InverseGaussian: [1e-5, 1 / 3, 3.0, 7.3e8],
    expfam.VonMises: [-np.pi, -1.0, 0.0, 1 / 3, 3.0],
}


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.name)
def test_boundary_data_raise(cls):
    for v in BOUNDARY[cls]:
        for n in (1, 7, 1000):
            with pytest.raises(BoundaryError, match="boundary"):
                expfam.fit(cls, np.full(n, v))


def _solve_inverse_gamma(t):
    s = np.log(t[0]) + t[1]
    a = optimize.brentq(lambda a: np.log(a) - special.digamma(a) - s, 1e-8, 1e12, xtol=1e-300, rtol=1e-15)
    return {"shape": a, "scale": a / t[0]}


def _solve_von_mises(t):
    R = np.hypot(*t)
    k = optimize.brentq(lambda k: special.i1e(k) / special.i0e(k) - R, 0.0, 1e6, xtol=1e-300, rtol=1e-15)
    return {"loc": np.arctan2(t[1], t[0]), "kappa": k}


REGULARISED = [
    # family, data, u(x) computed in the test, prior mean mu0, independent solution
    (expfam.InverseGamma, [2.0] * 5, lambda x: np.stack([1 / x, np.log(x)], -1),
     [1.0, np.euler_gamma], _solve_inverse_gamma),
    (expfam.LogNormal, [2.0] * 5, lambda x: np.stack([np.log(x), np.log(x) ** 2], -1),
     [0.0, 1.0], lambda t: {"mu": t[0], "sigma": np.sqrt(t[1] - t[0] ** 2)}),
    (expfam.InverseGaussian, [2.0] * 5, lambda x: np.stack([x, 1 / x], -1),
     [1.0, 2.0], lambda t: {"mean": t[0], "shape": 1 / (t[1] - 1 / t[0])}),
    (expfam.VonMises, [0.7] * 5, lambda x: np.stack([np.cos(x), np.sin(x)], -1),
     [0.0, 0.0], _solve_von_mises),
]


@pytest.mark.parametrize("cls,data,u,mu0,solve", REGULARISED, ids=lambda v: getattr(v, "name", ""))
def test_pseudo_count_regularises_boundary_data(cls, data, u, mu0, solve):
    x = np.asarray(data)
    r = expfam.fit(cls, x, pseudo_count=1.0)
    assert r.regularization["pseudo_count"] == 1.0
    np.testing.assert_allclose(r.regularization["prior_mean"], mu0)
    target = (u(x).sum(axis=0) + np.asarray(mu0)) / (x.size + 1)
    expected = solve(target)
    for name, value in expected.items():
        np.testing.assert_allclose(r.model.params[name], value, rtol=1e-9)
    assert np.all(np.isfinite(r.model.natural)) and r.converged.all()


# ----------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.name)
def test_non_finite_data(cls):
    with pytest.raises(NonFiniteError, match=r"index 2: nan"):
        expfam.fit(cls, [0.5, 1.0, np.nan, 0.25])
    with pytest.raises(NonFiniteError, match=r"index 1: inf"):
        expfam.fit(cls, [0.5, np.inf, 1.0])


@pytest.mark.parametrize("cls,data,bad", [
    (expfam.InverseGamma, [0.5, -2.0, 1.0], r"index 1: -2\.0"),
    (expfam.InverseGamma, [0.5, 1.0, 0.0], r"index 2: 0\.0"),
    (expfam.LogNormal, [0.5, 1.0, 0.0], r"index 2: 0\.0"),
    (expfam.LogNormal, [-1e-300, 1.0], r"index 0: -1e-300"),
    (expfam.InverseGaussian, [0.5, 1.0, 3.0, -0.1], r"index 3: -0\.1"),
    (expfam.VonMises, [0.5, 3.5, 1.0], r"index 1: 3\.5"),
    (expfam.VonMises, [0.5, 1.0, np.pi], r"index 2: 3\.14159"),
    (expfam.VonMises, [-3.2, 1.0], r"index 0: -3\.2"),
])
def test_out_of_support(cls, data, bad):
    with pytest.raises(SupportError, match=rf"support .*{bad}"):
        expfam.fit(cls, data)


@pytest.mark.parametrize("cls", FAMILIES, ids=lambda c: c.name)
def test_bad_shapes_and_fixed_parameters(cls):
    with pytest.raises(ShapeError, match="scalar"):
        expfam.fit(cls, 1.0)
    with pytest.raises(ShapeError, match=r"2 natural parameter\(s\); got an array of shape \(3,\)"):
        cls.from_natural([-1.0, -2.0, -3.0])
    with pytest.raises(ShapeError, match=r"2 mean parameter\(s\)"):
        cls.from_mean([0.5])
    with pytest.raises(ParameterError, match=r"no fixed parameter\(s\) \['n'\]"):
        expfam.fit(cls, [0.1, 0.2, 0.3], n=3)


@pytest.mark.parametrize("make,match", [
    (lambda: expfam.InverseGamma(shape=-1.0), r"'shape' must be in \(0, inf\); got -1\.0"),
    (lambda: expfam.InverseGamma(shape=2.0, scale=[1.0, 0.0]),
     r"'scale' must be in \(0, inf\); got 0\.0 at batch index 1"),
    (lambda: expfam.LogNormal(mu=[0, 1, 2], sigma=[1.0, 1.0, -3.0]),
     r"'sigma' must be in \(0, inf\); got -3\.0 at batch index 2"),
    (lambda: expfam.InverseGaussian(mean=0.0), r"'mean' must be in \(0, inf\); got 0\.0"),
    (lambda: expfam.InverseGaussian(mean=1.0, shape=[[1.0, 2.0], [3.0, -4.0]]),
     r"'shape' must be in \(0, inf\); got -4\.0 at batch index \(1, 1\)"),
    (lambda: expfam.VonMises(kappa=[1.0, -0.1]), r"'kappa' must be in \[0, inf\); got -0\.1 at batch index 1"),
    (lambda: expfam.InverseGamma.from_natural([[-1.0, -2.0], [1.0, -2.0]]), r"batch index 1"),
    (lambda: expfam.InverseGaussian.from_natural([-1.0, 0.5]), r"outside the domain"),
    (lambda: expfam.LogNormal.from_natural([0.0, 0.0]), r"outside the domain"),
])
def test_invalid_parameters(make, match):
    with pytest.raises(ParameterError, match=match):
        make()


def test_non_finite_parameters():
    with pytest.raises(NonFiniteError, match="'kappa'.*nan"):
        expfam.VonMises(kappa=np.nan)
    with pytest.raises(NonFiniteError, match="'sigma'.*inf"):
        expfam.LogNormal(sigma=np.inf)


# ----------------------------------------------------------------------------------
# special functions, sampling, cdf and KL
# ----------------------------------------------------------------------------------
def test_inverse_gaussian_expected_log_x_against_quadrature():
    """E[log x] = log m - e^(2 lam/m) E1(2 lam/m), against quadrature of SciPy's density."""
    for m, lam in [(1.0, 1.0), (2.0, 0.05), (0.5, 20.0), (3.0, 90.0)]:
        d = stats.invgauss(m / lam, scale=lam)
        ref = integrate.quad(lambda x: np.log(x) * d.pdf(x), 0, np.inf, epsabs=0, epsrel=1e-12, limit=500)[0]
        np.testing.assert_allclose(np.log(m) - scaled_exp1(2 * lam / m), ref, rtol=1e-9, atol=1e-12)
    # the asymptotic branch (z > 50) continues the direct product, and 1/(z+1) < e^z E1(z) < 1/z
    z = np.array([0.01, 30.0, 49.9, 50.1, 80.0, 300.0])
    np.testing.assert_allclose(scaled_exp1(z), np.exp(z) * special.exp1(z), rtol=1e-14)
    z = np.logspace(-3, 8, 23)
    assert np.all((1 / (z + 1) < scaled_exp1(z)) & (scaled_exp1(z) < 1 / z))


def test_inverse_gaussian_sampling_extremes():
    """Heavy-tailed (lam/m = 1e-4) and concentrated (lam/m = 1e8) draws stay positive and
    match the mean parameters."""
    for m, lam in [(10.0, 1e-3), (1.0, 1e8)]:
        d = expfam.InverseGaussian(mean=m, shape=lam)
        x = d.sample(200_000, rng=7)
        assert np.all(x > 0) and np.all(np.isfinite(x))
        u = expfam.InverseGaussian.sufficient_statistics(x, {})
        se = u.std(axis=0) / np.sqrt(x.size)
        # E[x] is heavy-tailed at lam/m = 1e-4: check E[1/x] there, both when concentrated
        assert abs(u[:, 1].mean() - d.mean_params[1]) <= 5 * se[1]
        if lam / m > 1:
            assert abs(u[:, 0].mean() - d.mean_params[0]) <= 5 * se[0]


def test_von_mises_one_minus_bessel_ratio_and_derivative():
    k = np.linspace(20.0, 40.0, 21)
    direct = 1 - special.i1e(k) / special.i0e(k)
    np.testing.assert_allclose(one_minus_bessel_ratio(k), direct, rtol=1e-13)
    for kk in (0.0, 1e-6, 0.3, 19.99, 20.0, 20.01, 300.0, 1e5):
        h = 1e-6 * max(kk, 1.0)
        lo = max(kk - h, 0.0)
        fd = (one_minus_bessel_ratio(lo) - one_minus_bessel_ratio(kk + h)) / (kk + h - lo)
        np.testing.assert_allclose(bessel_ratio_derivative(kk), fd, rtol=2e-5)
    np.testing.assert_allclose(expfam.VonMises(kappa=0.0).fisher_information(), 0.5 * np.eye(2))


def test_von_mises_cdf_and_samples_in_support():
    for loc, kappa in [(1.0, 0.5), (-2.5, 50.0), (np.pi, 3.0), (0.2, 1e4), (-3.0, 1e5)]:
        d = expfam.VonMises(loc=loc, kappa=kappa)
        x = np.array([-np.pi, -2.0, loc - 0.01, loc + 1 / np.sqrt(kappa), 0.3, 3.0])
        x = x[(x >= -np.pi) & (x < np.pi)]
        pts = [p for p in (loc, loc - 2 * np.pi) if -np.pi < p < np.pi]
        ref = [integrate.quad(lambda t: d.pdf(t), -np.pi, xi, epsabs=1e-15, epsrel=1e-12, limit=500,
                              points=[p for p in pts if p < xi] or None)[0] for xi in x]
        np.testing.assert_allclose(d.cdf(x), ref, rtol=1e-11, atol=1e-15)
        assert d.cdf(np.pi) == 1.0 and d.cdf(-4.0) == 0.0
        s = d.sample(50_000, rng=3)
        assert s.min() >= -np.pi and s.max() < np.pi
    # SciPy's series (kappa < 50) agrees for loc = 0, up to its own error (5e-12 relative
    # at cdf(-3) = 1.3e-3 for kappa = 2, 5e-14 absolute in the tails)
    for kappa in (0.0, 0.3, 2.0, 30.0):
        x = np.array([-3.0, -1.0, 0.0, 0.05, 2.0])
        np.testing.assert_allclose(
            expfam.VonMises(kappa=kappa).cdf(x), stats.vonmises(kappa).cdf(x), rtol=1e-10, atol=1e-13
        )


@pytest.mark.parametrize("cls,p,q", [
    (expfam.InverseGamma, dict(shape=2.0, scale=3.0), dict(shape=5.0, scale=0.5)),
    (expfam.LogNormal, dict(mu=1.0, sigma=0.5), dict(mu=-1.0, sigma=2.0)),
    (expfam.InverseGaussian, dict(mean=2.0, shape=3.0), dict(mean=0.7, shape=10.0)),
    (expfam.VonMises, dict(loc=0.4, kappa=2.0), dict(loc=-2.9, kappa=7.0)),
    (expfam.VonMises, dict(loc=0.4, kappa=0.0), dict(loc=-2.9, kappa=7.0)),
    (expfam.VonMises, dict(loc=0.4, kappa=300.0), dict(loc=0.41, kappa=250.0)),
])
def test_kl_closed_form_equals_bregman(cls, p, q):
    a, b = cls(**p), cls(**q)
    bregman = expfam.ExponentialFamily.kl_natural.__func__(cls, a.natural, b.natural, {})
    np.testing.assert_allclose(expfam.kl(a, b), bregman, rtol=1e-9)
    assert expfam.kl(a, a) == 0.0


# ----------------------------------------------------------------------------------
# property tests
# ----------------------------------------------------------------------------------
_pos = st.floats(1e-2, 1e3)


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(1e-3, 1e6), b=_pos,
    mu=st.floats(-20, 20), sigma=st.floats(1e-2, 10),
    m=_pos, lam=_pos,
    loc=st.floats(-np.pi, np.pi), kappa=st.floats(0, 1e5),
)
def test_round_trip_and_kl_properties(a, b, mu, sigma, m, lam, loc, kappa):
    dists = [
        expfam.InverseGamma(shape=a, scale=b),
        expfam.LogNormal(mu=mu, sigma=sigma),
        expfam.InverseGaussian(mean=m, shape=lam),
        expfam.VonMises(loc=loc, kappa=kappa),
    ]
    refs = [
        expfam.InverseGamma(), expfam.LogNormal(), expfam.InverseGaussian(),
        expfam.VonMises(loc=1.0, kappa=2.0),
    ]
    for d, ref in zip(dists, refs):
        cls = type(d)
        sol = cls.natural_from_mean(d.mean_params, {})
        assert sol.converged
        assert relative_residual(cls, sol.natural, d.mean_params, {}) <= 1e-12
        assert expfam.kl(d, ref) >= 0 and expfam.kl(ref, d) >= 0
