"""The Potts model: gauges, statistics, enumeration, Gibbs chains.

Oracles: brute-force sums over every joint state written here (itertools), the Ising
model with {0,1} spins (the q = 2 Potts model in the lattice-gas gauge), gauge invariance
of the probabilities, chi-square tests (level 1e-3) of independent chains.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import expfam
from expfam.ebm import GibbsSampler, Ising, Potts, to_gauge
from expfam.errors import ParameterError, ShapeError, SupportError

Q = (3, 2, 4)


def random_full(q, rng, scale=0.7, edges=None):
    n, qm = len(q), max(q)
    H = np.zeros((n, qm))
    C = np.zeros((n, n, qm, qm))
    for i in range(n):
        H[i, :q[i]] = rng.normal(0, scale, q[i])
    for i, j in itertools.combinations(range(n), 2):
        if edges is not None and (i, j) not in edges:
            continue
        M = rng.normal(0, scale, (q[i], q[j]))
        C[i, j, :q[i], :q[j]] = M
        C[j, i, :q[j], :q[i]] = M.T
    return H, C


def brute(H, C, q):
    X = np.array(list(itertools.product(*[range(v) for v in q])))
    n = len(q)
    E = np.array([sum(H[i, x[i]] for i in range(n))
                  + sum(C[i, j, x[i], x[j]] for i, j in itertools.combinations(range(n), 2))
                  for x in X])
    return X, E, logsumexp(E)


def test_any_gauge_in_the_same_distribution():
    rng = np.random.default_rng(0)
    H, C = random_full(Q, rng)
    m = Potts(fields=H, couplings=C, q=Q)
    X, E, logz = brute(H, C, Q)
    np.testing.assert_allclose(m.log_prob(X), E - logz, atol=1e-12)
    assert m.log_partition() == pytest.approx(logz - to_gauge(H, C, Q, "lattice-gas")[2], abs=1e-12)
    for gauge in ("lattice-gas", "zero-sum"):
        Hg, Cg, shift = to_gauge(H, C, Q, gauge)
        _, Eg, _ = brute(Hg, Cg, Q)
        np.testing.assert_allclose(E, Eg + shift, atol=1e-12)  # energies up to the constant
        np.testing.assert_allclose(Potts(fields=Hg, couplings=Cg, q=Q).natural, m.natural, atol=1e-12)
    Hz, Cz = m.parameters("zero-sum")
    for i, qi in enumerate(Q):
        assert abs(Hz[i, :qi].sum()) < 1e-12
    for i, j in itertools.combinations(range(3), 2):
        np.testing.assert_allclose(Cz[i, j, :Q[i], :Q[j]].sum(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(Cz[i, j, :Q[i], :Q[j]].sum(axis=1), 0, atol=1e-12)
    Hl, Cl = m.parameters("lattice-gas")
    assert np.all(Hl[:, 0] == 0) and np.all(Cl[:, :, 0, :] == 0) and np.all(Cl[:, :, :, 0] == 0)


def test_enumeration_against_brute_force():
    rng = np.random.default_rng(1)
    H, C = random_full(Q, rng)
    m = Potts(fields=H, couplings=C, q=Q)
    X, E, logz = brute(H, C, Q)
    p = np.exp(E - logz)
    # the indicators written out: [x_i = a], a >= 1, then [x_i = a][x_j = b], a, b >= 1
    cols = [(X[:, i] == a).astype(float) for i in range(3) for a in range(1, Q[i])]
    for i, j in itertools.combinations(range(3), 2):
        cols += [((X[:, i] == a) & (X[:, j] == b)).astype(float)
                 for a in range(1, Q[i]) for b in range(1, Q[j])]
    U = np.column_stack(cols)
    np.testing.assert_array_equal(Potts.sufficient_statistics(X, m.fixed), U)
    mu = p @ U
    np.testing.assert_allclose(m.mean_params, mu, atol=1e-13)
    np.testing.assert_allclose(m.fisher_information(), (U - mu).T @ ((U - mu) * p[:, None]), atol=1e-13)


def test_q2_is_the_zero_one_ising_model():
    rng = np.random.default_rng(2)
    n = 4
    A = np.triu(rng.normal(size=(n, n)), 1)
    ising = Ising(fields=rng.normal(size=n), couplings=A + A.T).to_spins("01")
    H = np.zeros((n, 2))
    H[:, 1] = ising.fields
    C = np.zeros((n, n, 2, 2))
    C[:, :, 1, 1] = ising.couplings
    potts = Potts(fields=H, couplings=C, q=2)
    np.testing.assert_allclose(potts.natural, ising.natural, atol=1e-15)
    assert potts.log_partition() == pytest.approx(ising.log_partition(), abs=1e-12)


def test_sparse_graph_and_registry():
    rng = np.random.default_rng(3)
    edges = [(0, 1), (1, 2)]
    H, C = random_full(Q, rng, edges=set(edges))
    m = Potts(fields=H, couplings=C, q=Q, edges=edges)
    assert m.natural.size == (2 + 1 + 3) + (2 * 1 + 1 * 3)
    X, E, logz = brute(H, C, Q)
    np.testing.assert_allclose(m.log_prob(X), E - logz, atol=1e-12)
    assert expfam.resolve_family("potts") is Potts


def test_gibbs_frequencies():
    rng = np.random.default_rng(4)
    H, C = random_full(Q, rng, scale=0.8)
    m = Potts(fields=H, couplings=C, q=Q)
    X, E, logz = brute(H, C, Q)
    p = np.exp(E - logz)
    for scan in ("sequential", "random"):
        g = GibbsSampler(20_000, scan=scan, burn_in=40, seed=5)
        x = g.sample_model(m, 20_000)
        idx = np.ravel_multi_index(x.astype(int).T, Q)
        counts = np.bincount(idx, minlength=p.size)
        assert stats.chisquare(counts, p * 20_000).pvalue > 1e-3


def test_exact_draws():
    rng = np.random.default_rng(6)
    H, C = random_full(Q, rng)
    m = Potts(fields=H, couplings=C, q=Q)
    X, E, logz = brute(H, C, Q)
    x = m.sample(30_000, rng=7)
    counts = np.bincount(np.ravel_multi_index(x.astype(int).T, Q), minlength=24)
    assert stats.chisquare(counts, np.exp(E - logz) * 30_000).pvalue > 1e-3


def test_bad_input():
    H = np.zeros((3, 4))
    with pytest.raises(ParameterError):
        Potts(fields=np.ones((3, 4)), q=Q)  # entries beyond q_i
    C = np.zeros((3, 3, 4, 4))
    C[0, 1, 0, 1] = 1.0
    with pytest.raises(ParameterError, match="couplings\\[1, 0\\]"):
        Potts(fields=H, couplings=C, q=Q)
    with pytest.raises(ShapeError):
        Potts(fields=np.zeros((3, 2)), q=Q)
    with pytest.raises(ParameterError):
        Potts(fields=H, q=(3, 1, 4))
    m = Potts(fields=H, q=Q)
    with pytest.raises(SupportError, match="x\\[..., 1\\]"):
        m.log_prob([[0, 2, 0]])


def test_exact_fit_recovers_parameters_from_exact_moments():
    """All joint states weighted by their probabilities: the exact fit returns the truth."""
    rng = np.random.default_rng(8)
    H, C = random_full(Q, rng)
    true = Potts(fields=H, couplings=C, q=Q)
    X = np.array(list(itertools.product(*[range(v) for v in Q])))
    r = expfam.fit(Potts, X, weights=np.exp(true.log_prob(X)), method="exact")
    assert r.converged
    np.testing.assert_allclose(r.model.natural, true.natural, atol=1e-8)


def test_exact_fit_boundary_and_l2():
    rng = np.random.default_rng(9)
    x = np.column_stack([rng.integers(0, 3, 400), rng.integers(0, 2, 400), rng.integers(0, 3, 400)])
    with pytest.raises(expfam.errors.BoundaryError, match="variable 2 never takes state 3"):
        expfam.fit(Potts, x, q=(3, 2, 4))
    r = expfam.fit(Potts, x, q=(3, 2, 4), l2=0.01)
    u = Potts.sufficient_statistics(x, r.model.fixed).mean(0)
    np.testing.assert_allclose(u - r.model.mean_params, 0.01 * r.model.natural, atol=1e-9)
