"""Energy-based models on real data (digits, ANES 1996) and the Potts pseudolikelihood,
against oracles written here: brute-force enumeration, closed forms of saturated and
independent models, finite differences, a known ground truth."""

import itertools

import numpy as np
import pytest

import expfam
from expfam.ebm import Potts
from expfam.ebm.potts_pseudolikelihood import potts_neg_log_pseudolikelihood
from expfam.errors import BoundaryError, ParameterError

pytest.importorskip("sklearn")
pytest.importorskip("statsmodels")

from expfam.ebm.examples import (  # noqa: E402
    anes_report,
    digits_report,
    independent_cross_entropy,
    load_anes96,
    load_digits_spins,
)


def _full(model):
    p = model.params
    return p["fields"], p["couplings"]


def _brute_pl(H, C, q, X):
    """Mean negative log pseudolikelihood, by loops over rows, variables and states."""
    n = len(q)
    total = 0.0
    for x in X.astype(int):
        for i in range(n):
            e = [H[i, a] + sum(C[i, j, a, x[j]] for j in range(n) if j != i) for a in range(q[i])]
            total -= e[x[i]] - np.log(np.sum(np.exp(e)))
    return total / X.shape[0]


def _brute_logp(H, C, q, X):
    """Exact log p of the rows of X by summing over every joint state."""
    n = len(q)

    def energy(x):
        return sum(H[i, x[i]] for i in range(n)) + sum(C[i, j, x[i], x[j]]
                                                       for i in range(n) for j in range(i + 1, n))

    logz = np.logaddexp.reduce([energy(s) for s in itertools.product(*[range(v) for v in q])])
    return np.array([energy(x) for x in X.astype(int)]) - logz


def test_potts_pseudolikelihood_against_brute_force_and_finite_differences():
    rng = np.random.default_rng(1)
    q = (3, 2, 4)
    fixed = Potts.check_fixed({"n": 3, "q": q})
    eta = rng.normal(0, 0.7, Potts.natural_dim(fixed))
    X = np.column_stack([rng.integers(0, v, 40) for v in q]).astype(float)
    f, g = potts_neg_log_pseudolikelihood(eta, X, None, 40.0, fixed)
    H, C = Potts.full_params(eta, fixed)
    assert f == pytest.approx(_brute_pl(H, C, q, X), rel=1e-12)
    fd = np.empty_like(eta)
    for k in range(eta.size):
        d = np.zeros_like(eta)
        d[k] = 1e-6
        fd[k] = (_brute_pl(*Potts.full_params(eta + d, fixed), q, X)
                 - _brute_pl(*Potts.full_params(eta - d, fixed), q, X)) / 2e-6
    np.testing.assert_allclose(g, fd, atol=1e-7)


def test_saturated_two_variable_potts_on_anes_matches_the_empirical_log_ratios():
    # two variables with every pair coupled: the model is saturated, so both the MLE and
    # the pseudolikelihood estimate reproduce the empirical joint distribution exactly
    X, q, _ = load_anes96(("educ", "vote"))
    t = np.zeros(q)
    np.add.at(t, (X[:, 0], X[:, 1]), 1.0)
    assert t.min() > 0
    L = np.log(t)
    want_h0 = L[1:, 0] - L[0, 0]
    want_h1 = L[0, 1:] - L[0, 0]
    want_J = L[1:, 1:] - L[1:, :1] - L[:1, 1:] + L[0, 0]
    for method in ("exact", "pseudolikelihood"):
        res = expfam.fit(Potts, X, method=method, tol=1e-10, max_iter=500)
        assert res.converged
        H, C = _full(res.model)
        np.testing.assert_allclose(H[0, 1:q[0]], want_h0, atol=1e-6)
        np.testing.assert_allclose(H[1, 1:q[1]], want_h1, atol=1e-6)
        np.testing.assert_allclose(C[0, 1, 1:q[0], 1:q[1]], want_J, atol=1e-6)


def test_potts_pseudolikelihood_recovers_a_known_model():
    rng = np.random.default_rng(5)
    q = (3, 3, 2, 3)
    fixed = Potts.check_fixed({"n": 4, "q": q})
    eta = rng.normal(0, 0.6, Potts.natural_dim(fixed))
    true = Potts.from_natural(eta, **fixed)
    errors = []
    for N in (2_000, 50_000):
        X = true.sample(N, rng=rng)
        res = expfam.fit(Potts, X, q=q, method="pseudolikelihood")
        assert res.converged
        errors.append(np.max(np.abs(res.model.natural - eta)))
    # consistency: the error shrinks like 1/sqrt(N) (25x the samples: 5x smaller), and at
    # N = 50000 it is within a generous 6 standard errors of size ~ 1/sqrt(N p_min)
    assert errors[1] < errors[0] / 2
    assert errors[1] < 0.12


def test_potts_pl_rejects_boundary_data_unless_regularised():
    X = np.array([[0, 0], [1, 1], [2, 0], [0, 1]] * 5)
    with pytest.raises(BoundaryError, match=r"pair \(0, 1\) never shows"):
        expfam.fit(Potts, X, method="pseudolikelihood")
    res = expfam.fit(Potts, X, method="pseudolikelihood", l2=0.1)
    assert res.converged and np.all(np.isfinite(res.model.natural))
    with pytest.raises(BoundaryError, match=r"pair \(0, 1\) never shows"):
        expfam.fit(Potts, X, method="pcd")
    with pytest.raises(ParameterError, match="pcd"):
        expfam.fit(Potts, X, method="gibbs", l2=0.1)


def test_anes_report_on_three_columns_against_enumeration():
    cols = ("PID", "educ", "vote")
    l2 = 0.02
    rep = anes_report(columns=cols, l2=l2, methods=("exact", "pseudolikelihood"))
    X, q, _ = load_anes96(cols)
    assert rep["q"] == list(q) == [7, 7, 2]
    assert rep["n_train"] + rep["n_test"] == X.shape[0] == 944
    rng = np.random.default_rng(0)
    perm = rng.permutation(944)
    te = np.sort(perm[:rep["n_test"]])
    tr = np.sort(perm[rep["n_test"]:])
    for method in ("exact", "pseudolikelihood"):
        r = rep[method]
        H, C = _full(r["model"])
        lp = _brute_logp(H, C, q, X[te])
        assert r["test_cross_entropy"] == pytest.approx(-lp.mean(), rel=1e-10)
        assert r["test_se"] == pytest.approx(lp.std(ddof=1) / np.sqrt(lp.size), rel=1e-8)
        assert r["train_cross_entropy"] == pytest.approx(-_brute_logp(H, C, q, X[tr]).mean(), rel=1e-10)
    # the penalised MLE beats the pseudolikelihood estimate on the training objective
    ex, pl = rep["exact"], rep["pseudolikelihood"]
    pen = {m: 0.5 * l2 * float(rep[m]["model"].natural @ rep[m]["model"].natural) for m in ("exact", "pseudolikelihood")}
    assert ex["train_cross_entropy"] + pen["exact"] <= pl["train_cross_entropy"] + pen["pseudolikelihood"] + 1e-12
    # stationarity of the penalised MLE: E_data[u] - E_model[u] = l2 eta (enumerated here)
    model = ex["model"]
    fixed = model.fixed
    states = np.array(list(itertools.product(*[range(v) for v in q])), dtype=float)
    p = np.exp(_brute_logp(*_full(model), q, states))
    U = Potts.sufficient_statistics(states, fixed)
    mu_data = Potts.sufficient_statistics(X[tr].astype(float), fixed).mean(axis=0)
    np.testing.assert_allclose(mu_data - p @ U, l2 * model.natural, atol=1e-9)


def test_digits_constant_pixels_are_named_unless_dropped_or_regularised():
    X = load_digits_spins(pixels=list(range(12)))
    assert X.shape == (1797, 12) and set(np.unique(X)) == {0.0, 1.0}
    # pixels 0, 1 and 8 of the 8x8 images are never above 8
    with pytest.raises(BoundaryError, match=r"variable 0 \(always 0\), variable 1 \(always 0\), "
                                            r"variable 8 \(always 0\)"):
        expfam.fit(expfam.Ising, X, method="pseudolikelihood")
    with pytest.raises(ParameterError, match="pixels"):
        load_digits_spins(pixels=[64])


def test_digits_report_on_twelve_pixels_against_closed_forms_and_enumeration():
    pixels = list(range(8, 20))
    l2 = 1e-3
    rep = digits_report(pixels=pixels, l2=l2, methods=("independent", "exact", "pseudolikelihood"))
    X = load_digits_spins(pixels=pixels)
    perm = np.random.default_rng(0).permutation(1797)
    te, tr = np.sort(perm[:rep["n_test"]]), np.sort(perm[rep["n_test"]:])
    m = X[tr].mean(axis=0)
    const = (m == 0) | (m == 1)
    assert rep["dropped"] == [p for p, c in zip(pixels, const) if c] == [8, 16]
    Xtr, Xte = X[tr][:, ~const], X[te][:, ~const]
    # independent pixels: the penalised Bernoulli fields solve m - sigma(h) = l2 h
    ce, se, h = independent_cross_entropy(Xtr, Xte, l2)
    np.testing.assert_allclose(Xtr.mean(0) - 1 / (1 + np.exp(-h)), l2 * h, atol=1e-12)
    p = 1 / (1 + np.exp(-h))
    lp = (Xte * np.log(p) + (1 - Xte) * np.log1p(-p)).sum(axis=1)
    assert rep["independent"]["cross_entropy"] == pytest.approx(-lp.mean(), rel=1e-12)
    assert rep["independent"]["se"] == pytest.approx(lp.std(ddof=1) / np.sqrt(lp.size), rel=1e-10)
    # Boltzmann machines: held-out cross-entropy by enumeration of the 2^10 states here
    states = np.array(list(itertools.product([0.0, 1.0], repeat=Xtr.shape[1])))
    for method in ("exact", "pseudolikelihood"):
        mod = rep[method]["model"]
        hh, JJ = mod.params["fields"], mod.params["couplings"]

        def energy(S, hh=hh, JJ=JJ):
            return S @ hh + 0.5 * np.einsum("ri,ij,rj->r", S, JJ, S)

        logz = np.logaddexp.reduce(energy(states))
        lp_m = energy(Xte) - logz
        assert rep[method]["cross_entropy"] == pytest.approx(-lp_m.mean(), rel=1e-10)
        assert rep[method]["logz_method"] == "exact"
    # pairwise couplings help: both models beat independent pixels by many standard errors
    for method in ("exact", "pseudolikelihood"):
        assert rep[method]["cross_entropy"] < rep["independent"]["cross_entropy"] - 0.2
