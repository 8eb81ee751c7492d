"""The fused one-pass kernels (expfam._kernels) against the families' own definitions.

Oracles: ``math.fsum`` of the family's ``sufficient_statistics`` / ``log_base_measure``,
NumPy's elementary functions, and ``math.fsum`` for the accuracy of the blocked sum.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import expfam
from expfam import _kernels
from expfam.errors import NonFiniteError, SupportError
from expfam.families import FAMILIES

EPS = np.finfo(float).eps


def _data(name, rng, n):
    """Valid data for each family, boundary values of the support included."""
    pi = np.pi
    make = {
        "normal": lambda: rng.normal(1.0, 2.0, n),
        "exponential": lambda: np.where(rng.random(n) < 0.01, 0.0, rng.exponential(2.0, n)),
        "gamma": lambda: rng.gamma(0.7, 3.0, n),
        "beta": lambda: np.concatenate([rng.beta(0.3, 2.0, n - 2), [1e-300, 1 - 2**-53]]),
        "lognormal": lambda: rng.lognormal(0.5, 2.0, n),
        "inverse_gaussian": lambda: rng.wald(1.5, 2.0, n),
        "von_mises": lambda: np.concatenate([rng.uniform(-pi, pi, n - 3),
                                             [-pi, 0.0, np.nextafter(pi, 0)]]),
        "weibull": lambda: rng.weibull(1.7, n) * 2.0,
        "rayleigh": lambda: rng.rayleigh(2.0, n),
        "pareto": lambda: np.concatenate([(rng.pareto(3.0, n - 1) + 1) * 1.5, [1.5]]),
        "laplace": lambda: rng.laplace(0.5, 2.0, n),
        "chi_square": lambda: rng.chisquare(3.0, n),
        "inverse_gamma": lambda: 1 / rng.gamma(3.0, 1.0, n),
        "bernoulli": lambda: rng.integers(0, 2, n).astype(float),
        "binomial": lambda: rng.binomial(20, 0.3, n).astype(float),
        "geometric": lambda: rng.geometric(0.3, n) - 1.0,
        "poisson": lambda: np.concatenate([rng.poisson(5.0, n - 3), [1023.0, 5000.0, 1e6]]),
    }
    if name in make:
        return make[name]()
    cls = FAMILIES[name]  # a family added later: draws from its support
    return cls.support_of(cls.check_fixed(dict(FIXED.get(name, {})))).draw(rng, n)


FIXED = {"weibull": {"k": 1.7}, "pareto": {"x_m": 1.5}, "laplace": {"loc": 0.5},
         "binomial": {"n": 20}}
#: a value outside the support (None: the support is the whole real line)
OUTSIDE = {"normal": None, "laplace": None, "exponential": -1e-300, "gamma": 0.0, "beta": 1.0,
           "lognormal": -1.0, "inverse_gaussian": 0.0, "von_mises": np.pi, "weibull": 0.0,
           "rayleigh": 0.0, "pareto": 1.4999999, "chi_square": -2.0, "inverse_gamma": 0.0,
           "bernoulli": 0.5, "binomial": 21.0, "geometric": 2.5, "poisson": -1.0}
#: every registered family the kernels serve: a scalar element map and an interval support
KERNEL_FAMILIES = sorted(name for name, cls in FAMILIES.items()
                         if cls.element is not None and cls.event_ndim == 0)


def test_kernel_families_are_found_from_the_families_themselves():
    # no list of names in the kernels: the families with an element map are served
    assert {"normal", "gamma", "beta", "poisson", "binomial", "von_mises"} <= set(KERNEL_FAMILIES)
    assert not hasattr(_kernels, "_NAMES") and not hasattr(_kernels, "_specs")
    for name in KERNEL_FAMILIES:
        assert name in FIXED or not FAMILIES[name].fixed_params, name


def _reference(cls, x, fixed, weights=None, shift=None):
    """fsum of the family's own (weighted) u(x - shift) and log h(x) over the observation
    axis."""
    u = cls.sufficient_statistics(x, fixed, shift=shift)
    lh = cls.log_base_measure(x, fixed)
    if weights is not None:
        u, lh = u * weights.reshape(-1, *[1] * (u.ndim - 1)), lh * weights.reshape(lh.shape)
    u = u.reshape(x.shape[0], -1, u.shape[-1])
    lh = lh.reshape(x.shape[0], -1)
    su = np.array([[math.fsum(u[:, b, j]) for j in range(u.shape[-1])] for b in range(u.shape[1])])
    sl = np.array([math.fsum(lh[:, b]) for b in range(lh.shape[1])])
    return su, sl


@pytest.mark.parametrize("name", KERNEL_FAMILIES)
@pytest.mark.parametrize("batch", [(), (3,), "weighted"])
def test_fused_sums_match_family_definition(name, batch):
    """The compiled path (the family's element map in the generic drivers) against the
    NumPy path (the same element map on arrays, or the family's own log h), summed
    exactly with math.fsum: 1-D, batched and weighted, about the pivots for pivot
    families."""
    cls = FAMILIES[name]
    rng = np.random.default_rng(7)
    n = 3001
    weights = None
    if batch == "weighted":
        batch, weights = (), rng.uniform(0.0, 3.0, n)
    x = np.stack([_data(name, rng, n) for _ in range(max(1, int(np.prod(batch))))], axis=-1)
    x = x.reshape((n,) + batch)
    fixed = cls.check_fixed(cls.infer_fixed(x, dict(FIXED.get(name, {}))))
    shift = cls.pivot_of(x[0], fixed) if cls.pivot else None
    out = _kernels.fused_sums(cls, x, fixed, weights=weights, shift=shift, min_size=0)
    assert out is not None
    sum_u, sum_log_h = out
    k = cls.natural_dim(fixed)
    assert sum_u.shape == batch + (k,) and sum_log_h.shape == batch
    ref_u, ref_lh = _reference(cls, x, fixed, weights, shift)
    np.testing.assert_allclose(sum_u.reshape(-1, k), ref_u, rtol=1e-12, atol=0)
    np.testing.assert_allclose(sum_log_h.reshape(-1), ref_lh, rtol=1e-12, atol=1e-300)


@pytest.mark.skipif("dirichlet" not in FAMILIES, reason="Dirichlet not available")
def test_dirichlet_rows():
    cls = FAMILIES["dirichlet"]
    rng = np.random.default_rng(3)
    x = rng.dirichlet([0.3, 1.0, 2.0, 5.0], size=5000)
    fixed = cls.check_fixed(cls.infer_fixed(x, {}))
    sum_u, sum_log_h = _kernels.fused_sums(cls, x, fixed, min_size=0)
    ref_u, ref_lh = _reference(cls, x, fixed)
    np.testing.assert_allclose(sum_u, ref_u[0], rtol=1e-12)
    assert sum_log_h.shape == () and sum_log_h == ref_lh[0]
    bad = x.copy()
    bad[17] = [0.5, 0.5, 0.1, 0.1]  # row sums to 1.2
    assert _kernels.fused_sums(cls, bad, fixed, min_size=0) is None
    with pytest.raises(SupportError, match="index 17"):
        expfam.fit(cls, np.concatenate([bad] * 8))


@pytest.mark.parametrize("name", KERNEL_FAMILIES)
def test_bad_values_return_none_and_fit_raises(name):
    cls = FAMILIES[name]
    rng = np.random.default_rng(11)
    n = _kernels.MIN_SIZE + 5  # large enough for fit to try the fused pass first
    x = _data(name, rng, n)
    fixed = FIXED.get(name, {})
    checked = cls.check_fixed(dict(fixed))
    cases = [(np.nan, NonFiniteError), (np.inf, NonFiniteError), (-np.inf, NonFiniteError)]
    if OUTSIDE[name] is not None:
        cases.append((OUTSIDE[name], SupportError))
    for value, error in cases:
        bad = x.copy()
        bad[n - 7] = value
        assert _kernels.fused_sums(cls, bad, checked) is None
        assert _kernels.fused_sums(cls, np.stack([x, bad], axis=1), checked) is None
        with pytest.raises(error, match=f"index {n - 7}"):
            expfam.fit(cls, bad, **fixed)


def test_small_data_and_unknown_families_take_the_general_path():
    x = np.random.default_rng(0).gamma(2.0, 1.0, 100)
    assert _kernels.fused_sums(expfam.Gamma, x, {}) is None  # below MIN_SIZE
    assert _kernels.fused_sums(expfam.Gamma, x.astype(np.float32), {}, min_size=0) is None
    if "weibull" in FAMILIES:  # a batch of fixed parameters: no kernel
        assert _kernels.fused_sums(FAMILIES["weibull"], x[:, None], {"k": np.array([1.5])},
                                   min_size=0) is None


def test_fit_uses_fused_pass_and_agrees_with_general_path():
    rng = np.random.default_rng(5)
    x = rng.gamma(3.0, 2.0, 2 * _kernels.MIN_SIZE)
    fast = expfam.fit(expfam.Gamma, x)
    slow = expfam.fit(expfam.Gamma, x, weights=np.ones_like(x))  # weights: general path
    np.testing.assert_allclose(fast.stats.sum_u, slow.stats.sum_u, rtol=1e-13)
    np.testing.assert_allclose(fast.model.natural, slow.model.natural, rtol=1e-11)
    np.testing.assert_allclose(fast.loglik, slow.loglik, rtol=1e-12)


def _ulps(a, ref):
    return np.max(np.abs(a - ref) / np.spacing(np.maximum(np.abs(ref), np.finfo(float).tiny)))


def test_elementary_functions_within_two_ulps_of_numpy():
    """The compiled versions of expfam._special's log, log1p, exp, cos and sin (numba
    overloads in expfam._jit) against NumPy's."""
    from numba import njit

    from expfam import _jit, _special  # noqa: F401  (_jit registers the overloads)

    @njit(error_model="numpy")  # as the kernels: x / 0 is inf or NaN, not an exception
    def apply(code, x):
        out = np.empty_like(x)
        for i in range(x.size):
            v = x[i]
            if code == 0:
                out[i] = _special.log(v)
            elif code == 1:
                out[i] = _special.log1p(v)
            elif code == 2:
                out[i] = _special.exp(v)
            elif code == 3:
                out[i] = _special.cos(v)
            else:
                out[i] = _special.sin(v)
        return out

    rng = np.random.default_rng(2)
    m = 4096
    # log: wide exponent range, subnormals, values near 1
    x = np.concatenate([np.exp(rng.uniform(-745, 709, m // 2)),
                        1 + rng.uniform(-1e-3, 1e-3, m // 4),
                        rng.uniform(0, 3, m - m // 2 - m // 4 - 2), [5e-324, 1.0]])
    assert _ulps(apply(0, x), np.log(x)) <= 2
    # log1p(-x) on (0, 1), tiny x included
    x = np.concatenate([np.exp(rng.uniform(-700, 0, m - 2)), [1e-300, 1 - 2**-53]])
    x = -np.minimum(x, 1 - 2**-53)
    assert _ulps(apply(1, x), np.log1p(x)) <= 2
    # exp over the whole range, subnormal results included
    x = np.concatenate([rng.uniform(-745, 709, m - 2), [0.0, -740.0]])
    assert _ulps(apply(2, x), np.exp(x)) <= 1
    # cos, sin on [-pi, pi)
    x = np.concatenate([rng.uniform(-np.pi, np.pi, m - 4),
                        [-np.pi, 0.0, 1e-300, np.nextafter(np.pi, 0)]])
    assert np.max(np.abs(apply(3, x) - np.cos(x))) <= 2 * EPS
    assert np.max(np.abs(apply(4, x) - np.sin(x))) <= 2 * EPS
    assert _ulps(apply(4, x)[np.abs(x) > 1e-3], np.sin(x)[np.abs(x) > 1e-3]) <= 2
    # log and log1p are NaN wherever they are not finite (the deferred support check)
    special = np.array([0.0, -0.0, -5e-324, -1.0, -np.inf, np.inf, np.nan])
    assert np.isnan(apply(0, special)).all()
    assert np.isnan(apply(1, np.array([-1.0, -1.5, -np.inf, np.inf, np.nan]))).all()


#: families that declare their support implied by the finiteness of their statistics
DEFERRED = sorted(name for name in KERNEL_FAMILIES if FAMILIES[name].support_from_statistics)


@pytest.mark.parametrize("name", DEFERRED)
def test_support_from_statistics_holds(name):
    """A family that skips the per-value support check in the kernels must make a
    statistic or log h non-finite at every value outside its support: checked on values
    generated from its support (just outside each end, far outside, NaN, +-inf) with the
    NumPy definition, and through the compiled 1-D, batched and grouped passes (one bad
    value in valid data returns None, so the general path names it)."""
    cls = FAMILIES[name]
    fixed = cls.check_fixed(dict(FIXED.get(name, {})))
    support = cls.support_of(fixed)
    rng = np.random.default_rng(5)
    outside = support.draw_outside(rng, 64)
    values = np.unique(np.concatenate([[np.nan, np.inf, -np.inf],
                                       [] if outside is None else outside]))
    assert not support.contains(values).any()
    with np.errstate(all="ignore"):
        u = cls.sufficient_statistics(values, fixed)
        lh = cls.log_base_measure(values, fixed)
    finite = np.isfinite(u).all(axis=-1) & (cls.log_h_constant | np.isfinite(lh))
    assert not finite.any(), values[finite]
    n = _kernels.MIN_SIZE + 3
    x = _data(name, rng, n)
    inverse = np.arange(n) % 7
    for value in values:
        bad = x.copy()
        bad[n // 2] = value
        assert _kernels.fused_sums(cls, bad, fixed) is None, value
        assert _kernels.fused_sums(cls, np.stack([x, bad, x], axis=1), fixed) is None, value
        assert _kernels.fused_group_sums(cls, bad, fixed, inverse, 7) is None, value


def test_overflowing_statistics_are_not_mistaken_for_bad_values():
    """Finite data whose statistics overflow (x^2 of 1e200) are inside the support: the
    deferred check reruns with the per-value check and passes the overflow on (not
    ``None``), and the fit reports the overflow, not a bad value."""
    from expfam.errors import FloatRangeError

    x = np.full(_kernels.MIN_SIZE + 1, 1.0)
    x[5] = 1e200
    sum_u, _ = _kernels.fused_sums(expfam.Normal, x, {}, shift=np.array(0.0))
    assert sum_u[0] == math.fsum(x) and not np.isfinite(sum_u[1])
    with pytest.raises(FloatRangeError, match="overflowed"):
        expfam.fit(expfam.Normal, x)


def test_blocked_sum_does_not_drift_with_n():
    rng = np.random.default_rng(0)
    n = 10**7
    x = 0.1 + 1e-3 * rng.random(n)  # constant plus noise: sequential rounding errors add up
    exact = math.fsum(x)
    sum_u, _ = _kernels.fused_sums(FAMILIES.get("exponential", expfam.Normal), x, {})
    fused = sum_u[0]
    err_fused = abs(fused - exact) / exact
    err_naive = abs(np.cumsum(x)[-1] - exact) / exact
    bound = 4 * EPS * math.log2(n)  # a few ulps times log n
    assert err_fused <= bound
    assert err_naive > 100 * max(err_fused, EPS)  # the sequential sum drifts like n eps


def test_reproducible_whatever_the_thread_count():
    import numba

    from expfam import _jit

    x = np.random.default_rng(9).lognormal(0, 1, 10**6)
    first = _kernels.fused_sums(expfam.Gamma, x, {})[0]
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = _kernels.fused_sums(expfam.Gamma, x, {})[0]
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(first, single)
    assert _jit.BLOCK >= 128


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", KERNEL_FAMILIES)
def test_grouped_fused_sums_match_family_definition(name, weighted):
    """The grouped kernel against the family's NumPy statistics summed exactly per group,
    weighted or not, each group about its own pivot for pivot families."""
    cls = FAMILIES[name]
    rng = np.random.default_rng(13)
    n, G = 6000, 37
    x = _data(name, rng, n)
    fixed = cls.check_fixed(cls.infer_fixed(x, dict(FIXED.get(name, {}))))
    inverse = rng.integers(0, G, n)
    w = rng.uniform(0.0, 2.0, n) * (rng.random(n) > 0.1) if weighted else None
    shift = cls.pivot_of(x[:G] * 0 + x[0], fixed) if cls.pivot else None
    count, weight_sum, sum_u, sum_log_h = _kernels.fused_group_sums(
        cls, x, fixed, inverse, G, weights=w, shift=shift, min_size=0)
    wv = np.ones(n) if w is None else w
    np.testing.assert_array_equal(count, np.bincount(inverse, weights=wv > 0, minlength=G))
    u = cls.sufficient_statistics(x, fixed, shift=None if shift is None else shift[inverse])
    lh = cls.log_base_measure(x, fixed)
    for g in range(G):
        sel = inverse == g
        np.testing.assert_allclose(weight_sum[g], math.fsum(wv[sel]), rtol=1e-14)
        ref = [math.fsum(u[sel, j] * wv[sel]) for j in range(u.shape[-1])]
        np.testing.assert_allclose(sum_u[g], ref, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(sum_log_h[g], math.fsum(lh[sel] * wv[sel]), rtol=1e-12,
                                   atol=1e-300)
    bad = x.copy()
    bad[5] = np.nan
    assert _kernels.fused_group_sums(cls, bad, fixed, inverse, G, weights=w, min_size=0) is None


@pytest.mark.parametrize("labels", [
    np.array([3, 0, 3, 1, 0, 1, 1]),  # codes 0..3 with 2 missing
    np.array([2, 0, 1, 1, 0], dtype=np.uint8),  # every code present
    np.array([-5, 7, -5, 10**12, 7]),  # negative and huge: np.unique
    np.array(["b", "a", "b"]),
])
def test_group_codes_agree_with_unique(labels):
    from expfam.stats import _group_codes

    groups, inverse = _group_codes(labels)
    ref_groups, ref_inverse = np.unique(labels, return_inverse=True)
    assert groups.dtype == ref_groups.dtype
    np.testing.assert_array_equal(groups[inverse], labels)
    present = np.bincount(inverse, minlength=groups.size) > 0
    np.testing.assert_array_equal(groups[present], ref_groups)


def test_grouped_fit_fused_equals_weighted_general_path():
    rng = np.random.default_rng(21)
    G = 500
    labels = rng.integers(0, G, 100 * G)
    labels[labels == 7] = 8  # a code without observations: no group 7
    x = rng.gamma(2.0 + labels % 3, 1.0)
    fast = expfam.fit(expfam.Gamma, x, by=labels)
    slow = expfam.fit(expfam.Gamma, x, weights=np.ones_like(x), by=labels)
    np.testing.assert_array_equal(fast.groups, np.unique(labels))
    np.testing.assert_array_equal(fast.groups, slow.groups)
    np.testing.assert_array_equal(fast.n, np.unique(labels, return_counts=True)[1])
    np.testing.assert_allclose(fast.stats.sum_u, slow.stats.sum_u, rtol=1e-12)
    np.testing.assert_allclose(fast.model.natural, slow.model.natural, rtol=1e-10)


def test_disable_switch(monkeypatch):
    x = np.random.default_rng(0).gamma(2.0, 1.0, _kernels.MIN_SIZE)
    monkeypatch.setenv("EXPFAM_DISABLE_KERNELS", "1")
    assert _kernels.fused_sums(expfam.Gamma, x, {}) is None
    monkeypatch.setenv("EXPFAM_DISABLE_KERNELS", "0")
    assert _kernels.fused_sums(expfam.Gamma, x, {}) is not None


def _fit_shape(x):
    return float(expfam.fit(expfam.Gamma, x).params["shape"])


def test_concurrent_threads_and_fork_after_a_fit():
    import multiprocessing
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(4)
    xs = [rng.gamma(1.0 + i, 1.0, 2 * _kernels.MIN_SIZE) for i in range(4)]
    expected = [_fit_shape(x) for x in xs]
    with ThreadPoolExecutor(4) as pool:  # kernel launches from several threads
        assert list(pool.map(_fit_shape, xs)) == expected
    # a forked child of a process that already ran the kernels must work (GNU OpenMP,
    # numba's default without TBB, would terminate it)
    if "fork" not in multiprocessing.get_all_start_methods() or os.environ.get(
            "NUMBA_THREADING_LAYER"):
        return
    with multiprocessing.get_context("fork").Pool(2) as pool:
        result = pool.map_async(_fit_shape, xs[:2], chunksize=1).get(timeout=120)
    assert result == expected[:2]


def test_small_grouped_fit_with_code_gaps_general_path():
    rng = np.random.default_rng(8)
    labels = rng.choice([0, 2, 5], 600)  # codes 1, 3, 4 never occur
    x = rng.normal(labels, 1.0)
    r = expfam.fit(expfam.Normal, x, by=labels)
    np.testing.assert_array_equal(r.groups, [0, 2, 5])
    for i, g in enumerate([0, 2, 5]):
        np.testing.assert_allclose(r.params["loc"][i], x[labels == g].mean(), rtol=1e-12)


def test_gamma_newton_derivative_matches_trigamma():
    from scipy import special

    from expfam._special import log_minus_digamma_prime

    a = np.concatenate([np.logspace(-6, 3, 4000), [5.999, 6.0, 6.001]])
    ref = 1 / a - special.polygamma(1, a)  # accurate here (no cancellation below 1e3)
    np.testing.assert_allclose(log_minus_digamma_prime(a), ref, rtol=1e-10)
    big = np.array([1e6, 1e9])  # the series keeps its accuracy where 1/a - psi1 cancels
    np.testing.assert_allclose(log_minus_digamma_prime(big), -0.5 / big**2 - 1 / (6 * big**3),
                               rtol=1e-12)


def test_compiled_and_numpy_solvers_run_the_same_iteration():
    """Batches >= 4096 run the family's Newton start/step compiled, one element per
    task; smaller ones the same functions vectorised with NumPy: equal roots, and the
    Gamma residual at rounding for shapes 1e-4..1e8."""
    from expfam.families import _shape
    from expfam.solvers import iterate, relative_residual

    a = np.geomspace(1e-4, 1e8, 6000)
    mu = expfam.Gamma(shape=a, rate=2.0).mean_params
    sol = expfam.Gamma.natural_from_mean(mu, {})
    assert sol.converged.all()
    assert relative_residual(expfam.Gamma, sol.natural, mu, {}).max() <= 1e-12
    s = np.log(mu[:, 0]) - mu[:, 1]
    (a_numpy, _), ok, _ = iterate(_shape.shape_start, _shape.shape_step, (s,))
    assert ok.all()
    # the root is ill-conditioned for large shapes (|da/ds| ~ 2 a^2): compare relative to it
    np.testing.assert_allclose(sol.natural[:, 1] + 1, a_numpy, rtol=1e-6)
    np.testing.assert_allclose(sol.natural[:100, 1] + 1, a_numpy[:100], rtol=1e-12)


def test_compiled_beta_newton_over_the_whole_range():
    """4,900 Beta fits (compiled Newton, robust solver for what it leaves): converged at
    the solver tolerance for concentrations 1e-3..1e6, and the compiled iteration equals
    the NumPy one."""
    from expfam.families import beta as B
    from expfam.solvers import iterate, relative_residual

    a = np.geomspace(1e-3, 1e6, 70)
    A, Bb = np.meshgrid(a, a)
    mu = expfam.Beta(A.ravel(), Bb.ravel()).mean_params
    sol = expfam.Beta.natural_from_mean(mu, {})
    assert sol.converged.all()
    assert relative_residual(expfam.Beta, sol.natural, mu, {}).max() <= 1e-12
    compiled = _kernels.iterate(B.newton_start, B.newton_step, (mu[:, 0], mu[:, 1]), max_iter=8)
    numpy_ = iterate(B.newton_start, B.newton_step, (mu[:, 0], mu[:, 1]), max_iter=8)
    # the plain Newton iteration settles in 8 steps for about half of this extreme grid
    # (the robust solver takes the rest); where it does, both paths give the same root
    both = compiled[1] & numpy_[1]
    assert both.sum() > 1000 and abs(compiled[1].mean() - numpy_[1].mean()) < 0.01
    for c, n in zip(compiled[0], numpy_[0]):
        np.testing.assert_allclose(c[both], n[both], rtol=1e-9)
