"""Mixtures by EM: known truths, SciPy / scikit-learn oracles, bootstrap, bad input."""

import numpy as np
import pytest
from scipy import integrate, stats

import expfam
from expfam.errors import DataError, DegenerateComponentError, NonFiniteError, SupportError

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

Z = 4.0  # parameters within Z standard errors of the truth


def _within(result, truth_w, truth_params):
    se = result.se
    np.testing.assert_array_less(np.abs(result.weights - truth_w), Z * se["weights"])
    for k, tp in enumerate(truth_params):
        for name, v in tp.items():
            est = result.components[k].params[name]
            assert abs(est - v) < Z * se["params"][k][name], (k, name, est, v)


@pytest.mark.parametrize("sep", [5.0, 1.5])
def test_normal_mixture_recovers_truth(sep):
    rng = np.random.default_rng(1)
    n = 3000
    z = rng.random(n) < 0.35
    x = np.where(z, rng.normal(0.0, 1.0, n), rng.normal(sep, 0.7, n))
    r = expfam.fit_mixture("normal", x, 2, rng=2, n_init=2)
    assert r.converged and len(r.runs) == 2
    _within(r, [0.35, 0.65], [{"loc": 0.0, "scale": 1.0}, {"loc": sep, "scale": 0.7}])
    # monotone objective, and the log-likelihood is the sum of SciPy's log densities
    assert np.all(np.diff(r.trace) >= -1e-9 * abs(r.trace[-1]))
    c = r.components
    dens = (r.weights[0] * stats.norm.pdf(x, c[0].loc, c[0].scale)
            + r.weights[1] * stats.norm.pdf(x, c[1].loc, c[1].scale))
    assert r.loglik == pytest.approx(np.log(dens).sum(), rel=1e-12)


def test_gamma_and_poisson_mixtures_recover_truth():
    rng = np.random.default_rng(3)
    n = 3000
    z = rng.random(n) < 0.6
    g = np.where(z, rng.gamma(2.0, 1 / 1.0, n), rng.gamma(30.0, 1 / 2.0, n))
    r = expfam.fit_mixture("gamma", g, 2, rng=0)
    _within(r, [0.6, 0.4], [{"shape": 2.0, "rate": 1.0}, {"shape": 30.0, "rate": 2.0}])
    p = np.where(z, rng.poisson(3.0, n), rng.poisson(12.0, n))
    r = expfam.fit_mixture("poisson", p, 2, rng=0)
    _within(r, [0.6, 0.4], [{"rate": 3.0}, {"rate": 12.0}])
    assert np.all(r.residual_norm < 1e-3)  # O(sqrt(tol)) at a relative change < tol


def test_weights_equal_replication():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0, 1, 100), rng.normal(6, 1, 100)])
    cnt = rng.integers(1, 4, x.size)
    a = expfam.fit_mixture("normal", x, 2, weights=cnt, tol=1e-14)
    b = expfam.fit_mixture("normal", np.repeat(x, cnt), 2, tol=1e-14)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-9)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-6)


def _sk_from(mix, **kw):
    covs = np.array([c.params["cov"] for c in mix.components])
    return GaussianMixture(len(covs), covariance_type="full", weights_init=mix.weights,
                           means_init=np.array([c.params["mean"] for c in mix.components]),
                           precisions_init=np.linalg.inv(covs), reg_covar=0.0, **kw)


def test_gaussian_loglik_at_least_sklearn_same_init():
    rng = np.random.default_rng(5)
    means = np.array([[0.0, 0.0], [4.0, 1.0], [-1.0, 5.0]])
    z = rng.integers(0, 3, 600)
    X = means[z] + rng.normal(size=(600, 2)) @ np.array([[1.0, 0.3], [0.0, 0.8]])
    init = expfam.Mixture([1 / 3] * 3, [expfam.MultivariateNormal(mean=m, cov=np.eye(2)) for m in
                                        [[0.5, 0.5], [1.0, 0.0], [0.0, 2.0]]])
    r = expfam.fit_mixture("multivariate_normal", X, 3, init=init, tol=1e-10)
    gm = _sk_from(init, tol=1e-6, max_iter=1000).fit(X)
    assert r.converged and gm.converged_
    assert r.loglik >= gm.score(X) * len(X) - 1e-6 * abs(r.loglik)


def test_iris():
    X, species = load_iris(return_X_y=True)
    r = expfam.fit_mixture("multivariate_normal", X, 3, rng=0, n_init=3)
    gm = GaussianMixture(3, covariance_type="full", n_init=3, random_state=0, reg_covar=0.0).fit(X)
    ari, ari_sk = (adjusted_rand_score(species, r.mixture.predict(X)),
                   adjusted_rand_score(species, gm.predict(X)))
    assert ari > 0.85 and ari >= ari_sk - 0.02
    assert r.loglik >= gm.score(X) * len(X) - 1e-6 * abs(r.loglik)


def test_mixture_object_against_scipy():
    mix = expfam.Mixture([0.3, 0.7], [expfam.Normal(loc=-1.0, scale=0.5), expfam.Gamma(shape=3.0, rate=1.0)])
    x = np.array([-1.5, 0.2, 1.0, 4.0])
    ref = 0.3 * stats.norm.pdf(x, -1, 0.5) + 0.7 * stats.gamma.pdf(x, 3.0)
    np.testing.assert_allclose(mix.logpdf(x), np.log(ref), rtol=1e-12)
    np.testing.assert_allclose(mix.predict_proba(x)[:, 0], 0.3 * stats.norm.pdf(x, -1, 0.5) / ref,
                               rtol=1e-12)
    # sample mean: a z-test at 5 standard errors
    s = mix.sample(20000, rng=0)
    true_mean = 0.3 * -1 + 0.7 * 3
    assert abs(s.mean() - true_mean) < 5 * s.std() / np.sqrt(s.size)

    def f(t):
        p = 0.3 * stats.norm.pdf(t, -1, 0.5) + 0.7 * stats.gamma.pdf(t, 3.0)
        return -p * np.log(p) if p > 0 else 0.0

    h = integrate.quad(f, -6, 0)[0] + integrate.quad(f, 0, 40)[0]
    e = mix.entropy(50000, rng=1)
    assert abs(e.estimate - h) < 5 * e.se
    q = expfam.Normal(loc=1.0, scale=2.0)
    kl = mix.kl(q, 50000, rng=2)
    ce = integrate.quad(lambda t: -np.exp(mix.logpdf(t)) * stats.norm.logpdf(t, 1, 2), -8, 40)[0]
    assert abs(kl.estimate - (ce - h)) < 5 * kl.se
    back = expfam.Mixture.from_json(mix.to_json())
    np.testing.assert_array_equal(back.logpdf(x), mix.logpdf(x))


def test_se_against_parametric_bootstrap():
    # Louis' standard errors vs the sd of B parametric-bootstrap refits; with B = 30 the
    # bootstrap sd has relative error ~ 1/sqrt(2B) = 13%: tolerance 45% (about 3.5 sd)
    truth = expfam.Mixture([0.4, 0.6], [expfam.Normal(loc=0.0, scale=1.0), expfam.Normal(loc=3.5, scale=1.0)])
    x = truth.sample(800, rng=10)
    r = expfam.fit_mixture("normal", x, 2, init=truth, tol=1e-8)
    B, rng = 30, np.random.default_rng(11)
    est = []
    for _ in range(B):
        xb = r.mixture.sample(800, rng=rng)
        rb = expfam.fit_mixture("normal", xb, 2, init=r.mixture, tol=1e-8)
        est.append([rb.weights[0], rb.components[0].loc, rb.components[1].scale])
    sd = np.std(est, axis=0, ddof=1)
    se = r.se
    louis = np.array([se["weights"][0], se["params"][0]["loc"], se["params"][1]["scale"]])
    np.testing.assert_allclose(louis, sd, rtol=0.45)


def test_bad_input():
    x = np.array([0.1, 0.5, np.nan, 2.0])
    with pytest.raises(NonFiniteError, match="index 2"):
        expfam.fit_mixture("normal", x, 2)
    with pytest.raises(SupportError, match="-1"):
        expfam.fit_mixture("gamma", [1.0, -1.0, 2.0, 3.0], 2)
    with pytest.raises(DataError, match="n_components=5"):
        expfam.fit_mixture("normal", [1.0, 2.0, 3.0], 5)
    with pytest.raises(DataError, match="1 distinct"):
        expfam.fit_mixture("normal", np.ones(50), 2)


def test_collapse_detected_and_regularised():
    rng = np.random.default_rng(6)
    x = np.concatenate([np.zeros(30), rng.normal(5, 1, 200)])
    R = np.zeros((x.size, 2))
    R[:30, 0] = 1
    R[30:, 1] = 1
    with pytest.raises(DegenerateComponentError, match="collapsed"):
        expfam.fit_mixture("normal", x, 2, init=R)
    r = expfam.fit_mixture("normal", x, 2, init=R, pseudo_count=1.0)
    assert r.converged and np.all(np.diff(r.trace) >= -1e-9 * abs(r.trace[-1]))
    # MAP weights: (N_k + nu / K) / (n + nu) with N_0 = 30 exactly at the collapse
    assert r.weights[0] == pytest.approx(30.5 / 231, rel=1e-3)


def test_choose_k():
    # three well-separated normals: BIC and held-out cross-entropy pick K = 3; at K = 3 the
    # held-out cross-entropy estimates the true entropy (quadrature) plus a small
    # overfitting excess (~ n_params / 2n): within 4 se + 0.02
    truth = expfam.Mixture([0.3, 0.3, 0.4], [expfam.Normal(loc=m, scale=1.0) for m in (-6.0, 0.0, 6.0)])
    x = truth.sample(900, rng=7)
    res = expfam.choose_k("normal", x, ks=(1, 2, 3), folds=3, rng=8)
    assert res.best_k_bic == 3 and res.best_k_cv == 3 and not res.failed
    assert np.all(res.diff_to_best[:2] > 4 * res.diff_se[:2])
    h = integrate.quad(lambda t: -np.exp(truth.logpdf(t)) * truth.logpdf(t), -20, 20)[0]
    assert abs(res.cv_cross_entropy[2] - h) < 4 * res.cv_se[2] + 0.02


def test_mixed_families_and_beta():
    # a Gamma and a LogNormal component in one mixture: the log-likelihood is the sum of
    # SciPy's mixture log densities; parameters within Z se of the truth
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.gamma(2.0, 1.0, 1000), rng.lognormal(2.5, 0.2, 1000)])
    r = expfam.fit_mixture(["gamma", "lognormal"], x, 2, rng=0)
    g, ln = r.components
    ref = (r.weights[0] * stats.gamma.pdf(x, g.shape, scale=1 / g.rate)
           + r.weights[1] * stats.lognorm.pdf(x, ln.sigma, scale=np.exp(ln.mu)))
    assert r.loglik == pytest.approx(np.log(ref).sum(), rel=1e-10)
    _within(r, [0.5, 0.5], [{"shape": 2.0, "rate": 1.0}, {"mu": 2.5, "sigma": 0.2}])
    b = np.concatenate([rng.beta(2, 8, 1000), rng.beta(8, 2, 1000)])
    r = expfam.fit_mixture("beta", b, 2, rng=0)
    _within(r, [0.5, 0.5], [{"a": 2.0, "b": 8.0}, {"a": 8.0, "b": 2.0}])


def test_user_defined_family_as_component():
    """A user-defined family (the Poisson written by its statistics, A by a series) mixes
    like the built-in one: same log-likelihood and weights from the same starts."""
    from expfam.user_examples import user_poisson

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.poisson(2, 3000), rng.poisson(12, 2000)]).astype(float)
    user = expfam.fit_mixture(user_poisson(), x, 2, rng=1, n_init=2)
    built = expfam.fit_mixture("poisson", x, 2, rng=1, n_init=2)
    assert user.loglik == pytest.approx(built.loglik, rel=1e-10)
    np.testing.assert_allclose(user.mixture.weights, built.mixture.weights, rtol=1e-7)



def _poisson_mixture_mle(x):
    """The two-Poisson mixture MLE by SciPy's L-BFGS on the log-likelihood (an optimiser
    independent of EM): ``(w, rate_1, rate_2)``, rates increasing."""
    from scipy.optimize import minimize

    def nll(t):
        w = 1 / (1 + np.exp(-t[0]))
        return -np.sum(np.logaddexp(np.log(w) + stats.poisson.logpmf(x, np.exp(t[1])),
                                    np.log1p(-w) + stats.poisson.logpmf(x, np.exp(t[2]))))

    t = minimize(nll, [0.0, np.log(x.mean() / 2), np.log(x.mean() * 1.5)], method="L-BFGS-B",
                 options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000}).x
    return 1 / (1 + np.exp(-t[0])), np.exp(t[1]), np.exp(t[2])


@pytest.mark.parametrize("rates, max_iter, converged", [((3, 5), 200, False), ((2, 6), 1000, True)])
def test_converged_means_at_the_optimum(rates, max_iter, converged):
    """Overlapping Poisson(3) / Poisson(5) halves: EM crawls (fraction of missing
    information near 1): after 200 steps the objective changes by < 1e-6 per step while
    the weights are still ~0.1 standard errors from the optimum, so the relative-change
    rule alone would stop there; ``converged`` must be False.  Poisson(2) / Poisson(6):
    EM converges, and its answer is the L-BFGS optimum to 0.01 standard errors."""
    rng = np.random.default_rng(0)
    x = np.r_[rng.poisson(rates[0], 300), rng.poisson(rates[1], 300)].astype(float)
    w, r1, r2 = _poisson_mixture_mle(x)
    res = expfam.fit_mixture(expfam.Poisson, x, 2, tol=1e-6, max_iter=max_iter, rng=0)
    assert res.rel_change < 1e-6
    assert res.converged is converged
    se = res.se
    err = max(abs(res.weights[0] - w) / se["weights"][0],
              abs(res.components[0].params["rate"] - r1) / se["params"][0]["rate"],
              abs(res.components[1].params["rate"] - r2) / se["params"][1]["rate"])
    assert (err < 0.01) if converged else (err > 0.05)
