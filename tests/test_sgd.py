"""The stochastic residual learner (the seed's eq. 5): ``fit_sgd`` and ``StochasticFitter``.

Oracles: the exact MLE (``expfam.fit``, itself checked against SciPy elsewhere), an
independent Newton iteration written here with ``scipy.special``, the asymptotic
covariance of averaged SGD (Polyak & Juditsky 1992), the inverse Fisher information, and
``expfam.mc_cross_entropy``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import expfam
from expfam import Beta, Gamma, StochasticFitter, fit_sgd
from expfam.errors import (
    ConvergenceWarning,
    EmptyDataError,
    ExpfamError,
    NonFiniteError,
    ParameterError,
    ShapeError,
    SupportError,
    WeightError,
)


def rel_err(eta, ref):
    return np.linalg.norm(np.asarray(eta) - ref) / np.linalg.norm(ref)


@pytest.fixture(scope="module")
def gamma_data():
    # shape 0.5, rate 0.3: a Fisher matrix of condition ~10, so that plain gradient
    # steps (not preconditioned) converge in a test-sized number of steps
    x = np.random.default_rng(11).gamma(0.5, 1 / 0.3, size=100_000)
    return x, expfam.fit(Gamma, x).model.natural


# ----------------------------------------------------------------------------------
# Convergence to the exact MLE
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("method, lr", [("plain", 0.5), ("adam", 0.1), ("natural", 1.0)])
def test_minibatch_rm_averaging_reaches_exact_mle(gamma_data, method, lr):
    x, eta_mle = gamma_data
    res = fit_sgd(Gamma, x, batch_size=2048, method=method, lr=lr, schedule="robbins-monro",
                  averaging=True, average_start=300, max_steps=1500, tol=0.0, se_tol=0.0,
                  rng=1, trace_every=100)
    # se_tol=0: a fixed budget, run to the end
    assert res.n_steps == 1500 and not res.converged and res.status == "max_steps"
    assert rel_err(res.natural, eta_mle) < 1e-3
    # the reported residual is the exact one on the full data, small but not zero
    assert 0 < np.max(res.residual_norm) < 1e-3
    np.testing.assert_allclose(
        res.residual, res.stats.mean - Gamma.mean_from_natural(res.natural, {}), rtol=1e-12
    )


def test_averaged_error_shrinks_like_one_over_sqrt_steps():
    """Polyak-Ruppert: the averaged iterate's error covariance is H^-1 S H^-1 / (B T)
    (H the Fisher information at the MLE, S the covariance of u over the data, B the
    batch size, T the averaged steps).  32 independent data sets are fitted at once (a
    batch of 32 distributions); the RMS error over them must be within a factor 0.6-1.7
    of that prediction at T = 500 and T = 8000, and shrink by 4 = sqrt(16) between the
    two horizons, within [2.5, 6.5] (the finite-T excess of a 1/t^0.6 schedule is
    ~20 %; sampling noise of an RMS over 64 coordinates ~10 %)."""
    rng = np.random.default_rng(1)
    x = rng.gamma(0.5, 1 / 0.3, size=(20_000, 32))
    eta = expfam.fit(Gamma, x).model.natural
    u = np.stack([x, np.log(x)], axis=-1)
    d = u - u.mean(axis=0)
    S = np.einsum("n...i,n...j->...ij", d, d) / x.shape[0]
    Hinv = np.linalg.inv(Gamma.fisher_from_natural(eta, {}))
    C = Hinv @ S @ Hinv
    B, burn = 64, 200
    rms = {}
    for T in (500, 8000):
        res = fit_sgd(Gamma, x, batch_size=B, method="plain", lr=0.5, schedule="robbins-monro",
                      averaging=True, average_start=burn, max_steps=burn + T, tol=0.0,
                      se_tol=0.0, sampling="replacement", rng=101, trace_every=10_000)
        rms[T] = np.sqrt(np.mean(np.sum((res.natural - eta) ** 2, axis=-1)))
        predicted = np.sqrt(np.mean(np.trace(C, axis1=-2, axis2=-1)) / (B * T))
        assert 0.6 < rms[T] / predicted < 1.7, (T, rms[T], predicted)
    assert 2.5 < rms[500] / rms[8000] < 6.5


# ----------------------------------------------------------------------------------
# Natural gradient, lr = 1, full batch, exact moments == Newton's method
# ----------------------------------------------------------------------------------
def _gamma_newton(mu, eta):
    a, b = eta[1] + 1, -eta[0]
    grad = np.array([a / b, special.digamma(a) - np.log(b)])
    hess = np.array([[a / b**2, 1 / b], [1 / b, special.polygamma(1, a)]])
    return eta + np.linalg.solve(hess, mu - grad)


def _beta_newton(mu, eta):
    a, b = eta + 1
    grad = np.array([special.digamma(a), special.digamma(b)]) - special.digamma(a + b)
    t = special.polygamma(1, a + b)
    hess = np.array([[special.polygamma(1, a) - t, -t], [-t, special.polygamma(1, b) - t]])
    return eta + np.linalg.solve(hess, mu - grad)


@pytest.mark.parametrize("family, draw, stats, newton, start", [
    (Gamma, lambda r: r.gamma(3.0, 1 / 2.0, 20_000), lambda x: [x.mean(), np.log(x).mean()],
     _gamma_newton, [-1.0, 0.0]),       # start: Gamma(1, 1), the reference member
    (Beta, lambda r: r.beta(2.0, 3.0, 20_000),
     lambda x: [np.log(x).mean(), np.log1p(-x).mean()], _beta_newton, [0.0, 0.0]),  # Beta(1, 1)
])
def test_natural_gradient_full_batch_is_newton(family, draw, stats, newton, start):
    x = draw(np.random.default_rng(5))
    eta_mle = expfam.fit(family, x).model.natural
    res = fit_sgd(family, x, batch_size=None, method="natural", lr=1.0, tol=1e-11)
    assert res.converged and res.n_steps <= 8
    assert rel_err(res.natural, eta_mle) < 1e-10
    assert np.max(res.residual_norm) < 1e-11
    assert res.trace.total_backtracks == 0
    # the iterates are those of an independent Newton iteration from the same start
    mu, eta = np.array(stats(x)), np.array(start, dtype=float)
    for row in res.trace.natural:
        eta = newton(mu, eta)
        np.testing.assert_allclose(row, eta, rtol=1e-9, atol=1e-12)


def test_full_batch_plain_and_adam_converge_honestly(gamma_data):
    x, eta_mle = gamma_data
    for method, lr in (("plain", 0.1), ("adam", 0.05)):  # plain: lr < 2 / max eig F = 0.23
        res = fit_sgd(Gamma, x, batch_size=None, method=method, lr=lr, tol=1e-9,
                      max_steps=20_000, trace_every=50)
        assert res.converged and np.max(res.residual_norm) <= 1e-9
        assert rel_err(res.natural, eta_mle) < 1e-7
    with pytest.warns(ConvergenceWarning, match="max_steps"):
        short = fit_sgd(Gamma, x, batch_size=None, method="plain", lr=0.1, tol=1e-9,
                        max_steps=5)
    assert not short.converged and np.max(short.residual_norm) > 1e-9
    assert short.status == "max_steps"


@pytest.mark.parametrize("name, x, fixed", [
    ("normal", np.random.default_rng(0).normal(3, 2, 2000), {}),
    ("poisson", np.random.default_rng(0).poisson(4.0, 2000), {}),
    ("dirichlet", np.random.default_rng(0).dirichlet([2, 3, 4], 2000), {}),
    ("multivariate_normal",
     np.random.default_rng(0).multivariate_normal([1, 2], [[2, .5], [.5, 1]], 2000), {}),
    ("binomial", np.random.default_rng(0).binomial(10, 0.3, 2000), {"n": 10}),
    ("von_mises", np.random.default_rng(0).vonmises(0.5, 2.0, 2000), {}),
])
def test_newton_mode_other_families(name, x, fixed):
    eta_mle = expfam.fit(name, x, **fixed).model.natural
    res = fit_sgd(name, x, batch_size=None, method="natural", lr=1.0, tol=1e-12, **fixed)
    assert res.converged and res.n_steps <= 15
    assert rel_err(res.natural, eta_mle) < 1e-10


# ----------------------------------------------------------------------------------
# Monte Carlo model moments
# ----------------------------------------------------------------------------------
def test_sampled_model_moments_within_statistical_error():
    """E_eta[u] from m = 500 model samples per step, full-batch data moments, natural
    gradient with lr_t = 1/t^0.6 and averaging after 20 steps.  The averaged estimate
    behaves like an MLE from m * T model samples: its standard error is
    sqrt(diag(F^-1) / (m T)) with F the Fisher information at the exact MLE and T = 380
    averaged steps.  Tolerance: 4 standard errors per coordinate.  (With a *constant*
    rate the stationary point is biased by O(lr / m); checked at seeds 0-19: |z| < 2.3.)"""
    x = np.random.default_rng(3).gamma(2.0, 1 / 1.5, size=20_000)
    eta_mle = expfam.fit(Gamma, x).model.natural
    m, T, burn = 500, 400, 20
    res = fit_sgd(Gamma, x, batch_size=None, method="natural", lr=1.0, n_model_samples=m,
                  schedule="robbins-monro", averaging=True, average_start=burn, max_steps=T,
                  tol=0.0, se_tol=0.0, rng=7, trace_every=10)
    F = Gamma.fisher_from_natural(eta_mle, {})
    se = np.sqrt(np.diag(np.linalg.inv(F)) / (m * (T - burn)))
    assert np.all(np.abs(res.natural - eta_mle) < 4 * se), (res.natural - eta_mle) / se
    # the trace reports the Monte Carlo error of the model moment
    assert np.all(res.trace.moment_se > 0) and np.all(np.isfinite(res.trace.moment_se))


def test_sampled_moments_pluggable_sampler():
    calls = []

    def sampler(cls, eta, fixed, size, rng):
        calls.append(size)
        return cls.draw(eta, fixed, (size,), rng)

    source = expfam.learn.SampledMoments(300, sampler=sampler)
    x = np.random.default_rng(4).gamma(2.0, 1.0, size=5000)
    res = fit_sgd(Gamma, x, batch_size=500, method="plain", lr=0.3, moments=source,
                  max_steps=20, rng=0, tol=0.0, se_tol=0.0)
    assert res.n_steps == 20 and calls == [300] * 20
    assert np.all(np.isfinite(res.natural))


# ----------------------------------------------------------------------------------
# Domain safeguard
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["plain", "natural", "adam"])
def test_huge_learning_rate_stays_in_domain(method):
    x = np.random.default_rng(2).gamma(3.0, 2.0, size=2000)
    with np.errstate(all="raise"), pytest.warns(ConvergenceWarning, match="safeguard cut"):
        # no floating-point warning may escape either
        res = fit_sgd(Gamma, x, batch_size=100, method=method, lr=1e6, max_steps=200,
                      tol=0.0, rng=0)
    eta = res.trace.natural
    assert np.all(np.isfinite(eta)) and np.all(Gamma.natural_in_domain(eta, {}))
    assert np.all(np.isfinite(res.trace.cross_entropy))
    assert res.trace.total_backtracks > 0
    assert np.all(np.isfinite(res.residual))
    # bounded by the safeguard, but not converged, and the result says why
    assert not res.converged and res.status == "max_steps" and res.distance_se > 1
    # the cross-entropy on the data never exceeds the start's + 1000 (1 + |start's|)
    mu = res.stats.mean
    f = Gamma.log_partition(eta, {}) - eta @ mu
    f0 = Gamma.log_partition(res.fitter._eta0, {}) - res.fitter._eta0 @ mu
    assert np.all(f <= f0 + 1000 * (1 + abs(f0)))


# ----------------------------------------------------------------------------------
# Online use
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [
    dict(method="adam", lr=0.05, averaging=True, average_start=3),
    dict(method="natural", n_model_samples=200, schedule="robbins-monro"),
])
def test_partial_fit_stream_equals_fit_sgd(kw):
    rng = np.random.default_rng(8)
    batches = [rng.gamma(2.0, 1.5, size=rng.integers(50, 150)) for _ in range(25)]
    res = fit_sgd(Gamma, iter(batches), max_steps=100, tol=0.0, se_tol=0.0, rng=42, **kw)
    fitter = StochasticFitter(Gamma, tol=0.0, se_tol=0.0, rng=42, **kw)
    for b in batches:
        fitter.partial_fit(b)
    assert res.n_steps == fitter.n_steps == 25
    np.testing.assert_array_equal(res.natural, fitter.natural)
    np.testing.assert_array_equal(res.trace.natural, fitter.trace.natural)
    np.testing.assert_array_equal(res.trace.cross_entropy, fitter.trace.cross_entropy)
    # the residual of a stream refers to all the batches seen
    all_data = np.concatenate(batches)
    np.testing.assert_allclose(res.stats.mean, expfam.fit(Gamma, all_data).stats.mean)
    assert res.stats.count == all_data.size


def test_stream_is_not_over_consumed():
    pulled = []

    def stream():
        for i in range(10):
            pulled.append(i)
            yield np.random.default_rng(i).gamma(2.0, 1.0, size=50)

    res = fit_sgd(Gamma, stream(), max_steps=3, tol=0.0, se_tol=0.0)
    assert res.n_steps == 3 and pulled == [0, 1, 2]


def test_weights_equal_repetition():
    x = np.random.default_rng(9).gamma(2.0, 1.0, size=40)
    w = np.arange(40) % 3 + 1
    a = StochasticFitter(Gamma, method="plain", lr=0.2).partial_fit(x, weights=w)
    b = StochasticFitter(Gamma, method="plain", lr=0.2).partial_fit(np.repeat(x, w))
    np.testing.assert_allclose(a.natural, b.natural, rtol=1e-13)
    np.testing.assert_allclose(a.trace.cross_entropy, b.trace.cross_entropy, rtol=1e-13)


def test_trace_cross_entropies_against_mc_cross_entropy():
    rng = np.random.default_rng(10)
    batches = [rng.gamma(2.0, 1.5, size=200) for _ in range(6)]
    held = rng.gamma(2.0, 1.5, size=500)
    # the iterates themselves (no averaging), so that each step starts from the last row
    res = fit_sgd(Gamma, iter(batches), method="plain", lr=0.1, schedule="constant",
                  averaging=False, holdout=held, tol=0.0, se_tol=0.0, init=Gamma(1.0, 1.0))
    tr = res.trace
    assert len(tr) == 6 and tr.step.tolist() == [1, 2, 3, 4, 5, 6]
    for arr in (tr.holdout_cross_entropy, tr.holdout_cross_entropy_se, tr.cross_entropy_se):
        assert np.all(np.isfinite(arr)) and np.all(arr > 0)
    # held-out: the reported model after the step
    h = expfam.mc_cross_entropy(res.model, held)
    np.testing.assert_allclose([tr.holdout_cross_entropy[-1], tr.holdout_cross_entropy_se[-1]],
                               [h.estimate, h.se], rtol=1e-12)
    # minibatch: the model the step started from (Gamma(1, 1), then the previous iterate)
    starts = [Gamma(1.0, 1.0)] + [Gamma.from_natural(e) for e in tr.natural[:-1]]
    for model, batch, ce, se in zip(starts, batches, tr.cross_entropy, tr.cross_entropy_se):
        ref = expfam.mc_cross_entropy(model, batch)
        np.testing.assert_allclose([ce, se], [ref.estimate, ref.se], rtol=1e-10)


def test_holdout_fraction_and_trace_every(gamma_data):
    x, _ = gamma_data
    res = fit_sgd(Gamma, x[:4000], batch_size=256, holdout=0.25, trace_every=5, max_steps=40,
                  tol=0.0, se_tol=0.0, rng=0, progress=True)
    assert res.trace.step.tolist() == list(range(5, 41, 5))
    assert res.stats.count == 3000
    assert np.all(np.isfinite(res.trace.holdout_cross_entropy))
    assert np.all(res.trace.holdout_cross_entropy_se > 0)


def test_stochastic_criterion_stops_within_se_tol_of_the_mle():
    """Minibatch runs stop when the reported model is within se_tol standard errors of
    the exact MLE (``expfam.fit``'s ``se_natural`` and ``se``), and only then."""
    x = np.random.default_rng(12).gamma(2.0, 1.0, size=20_000)
    ref = expfam.fit(Gamma, x)
    for se_tol in (0.5, 0.05):
        res = fit_sgd(Gamma, x, batch_size=512, se_tol=se_tol, rng=0, trace_every=1)
        assert res.converged and res.status == "converged" and res.n_steps < 5000
        assert np.all(res.distance_se <= se_tol)
        z = np.abs(res.natural - ref.model.natural) / ref.se_natural
        assert np.all(z <= se_tol * 1.01), z
        for name in ("shape", "rate"):
            assert abs(res.params[name] - ref.params[name]) <= se_tol * 1.01 * ref.se[name]
        # the traced distances say when the criterion was met: the last row, not before
        assert res.trace.distance_se[-1] <= se_tol
        assert np.all(res.trace.distance_se[:-1] > se_tol)


def test_batched_model():
    rng = np.random.default_rng(13)
    x = rng.gamma([1.0, 2.0, 5.0], 1.0, size=(5000, 3))
    res = fit_sgd(Gamma, x, batch_size=None, method="natural", lr=1.0, tol=1e-12)
    assert res.model.batch_shape == (3,)
    np.testing.assert_allclose(res.natural, expfam.fit(Gamma, x).model.natural, rtol=1e-10)
    assert res.trace.residual_norm.shape == (res.n_steps, 3)


# ----------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw", [
    dict(lr=0.0), dict(lr=-1.0), dict(lr=np.nan), dict(lr="big"), dict(method="sgd"),
    dict(schedule="cosine"), dict(power=0.5), dict(power=1.5), dict(batch_size=0),
    dict(batch_size=2.5), dict(max_steps=0), dict(n_model_samples=1), dict(holdout=1.5),
    dict(trace_every=0), dict(tol=-1.0), dict(sampling="bootstrap"),
    dict(n_model_samples=10, moments="exact"), dict(moments="magic"),
    dict(init=[1.0, 0.0]), dict(init=[1.0]), dict(init=expfam.Exponential(1.0)),
    dict(se_tol=-0.1), dict(se_tol=np.inf), dict(window=0), dict(averaging="sometimes"),
    dict(pseudo_count=0.0), dict(pseudo_count=-1.0), dict(pseudo_count=np.nan),
    dict(pseudo_count=True), dict(prior_mean=[1.0, 0.0]),
    dict(pseudo_count=1.0, prior_mean=[1.0, 5.0]),  # outside the mean domain (log 1 < 5)
])
def test_bad_parameters_raise_parameter_error(kw):
    x = np.random.default_rng(0).gamma(2.0, 1.0, size=100)
    with pytest.raises((ParameterError, ShapeError)):
        fit_sgd(Gamma, x, max_steps=kw.pop("max_steps", 3), **kw)


@pytest.mark.parametrize("data, err", [
    ([1.0, np.nan, 2.0], NonFiniteError), ([1.0, -2.0], SupportError),
    (np.array([]), EmptyDataError), (iter([]), EmptyDataError),
    (iter([np.ones(3) * 2.0, np.array([1.0, np.inf])]), NonFiniteError),
    (iter([np.ones(3) * 2.0, np.array([0.0, 1.0])]), SupportError),
])
def test_bad_data_raise_data_errors(data, err):
    with pytest.raises(err):
        fit_sgd(Gamma, data, max_steps=5)


def test_fitter_errors():
    f = StochasticFitter(Gamma)
    with pytest.raises(ExpfamError):
        _ = f.model
    f.partial_fit([1.0, 2.0, 3.0])
    with pytest.raises(WeightError):
        f.partial_fit([1.0, 2.0], weights=[-1.0, 1.0])
    with pytest.raises(ShapeError):
        f.partial_fit(np.ones((4, 2)))  # another batch shape
    with pytest.raises(SupportError):
        fit_sgd(Gamma, [1.0, 2.0, 3.0], holdout=[1.0, -1.0], max_steps=2)
