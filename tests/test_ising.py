"""The Ising model: statistics, bases, exact enumeration, and bad input.

Oracles: brute-force sums over every state written here with itertools (n <= 8), the
closed form of independent spins, finite differences.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

import expfam
from expfam.ebm import Ising, lattice_edges
from expfam.errors import NonFiniteError, ParameterError, ShapeError, SupportError


def random_model(n, rng, scale=0.5, spins="+-1", edges=None):
    h = rng.normal(0, scale, n)
    J = np.triu(rng.normal(0, scale, (n, n)), 1)
    J = J + J.T
    if edges is not None:
        mask = np.zeros((n, n), bool)
        for i, j in edges:
            mask[i, j] = mask[j, i] = True
        J = np.where(mask, J, 0.0)
    return h, J, Ising(fields=h, couplings=J, edges=edges).to_spins(spins)


def brute(h, J, spins="+-1", pairs=None):
    """log Z, E[u], Cov[u] of p(s) ~ exp(h.s + sum_{i<j} J_ij s_i s_j) over every state of
    the +-1 model, with u in the basis `spins` (x = (1+s)/2 for "01")."""
    n = h.size
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    E = S @ h + np.array([sum(J[i, j] * s[i] * s[j] for i in range(n) for j in range(i + 1, n))
                          for s in S])
    logz = logsumexp(E)
    p = np.exp(E - logz)
    X = S if spins == "+-1" else (S + 1) / 2
    if pairs is None:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    U = np.column_stack([X] + [X[:, i] * X[:, j] for i, j in pairs])
    mu = p @ U
    cov = (U - mu).T @ ((U - mu) * p[:, None])
    return logz, mu, cov, S, p


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_enumeration_matches_brute_force(n):
    rng = np.random.default_rng(n)
    h, J, m = random_model(n, rng)
    logz, mu, cov, S, p = brute(h, J)
    assert m.log_partition() == pytest.approx(logz, abs=1e-12)
    np.testing.assert_allclose(m.mean_params, mu, atol=1e-13)
    np.testing.assert_allclose(m.fisher_information(), cov, atol=1e-13)
    np.testing.assert_allclose(m.log_prob(S), np.log(p), atol=1e-12)


def test_zero_one_basis_is_the_same_distribution():
    rng = np.random.default_rng(1)
    h, J, m = random_model(6, rng)
    m01 = m.to_spins("01")
    logz, mu, cov, S, p = brute(h, J, spins="01")
    X = (S + 1) / 2
    # the same probabilities of the same states
    np.testing.assert_allclose(m01.log_prob(X), np.log(p), atol=1e-12)
    np.testing.assert_allclose(m01.mean_params, mu, atol=1e-13)
    np.testing.assert_allclose(m01.fisher_information(), cov, atol=1e-13)
    # b.x + sum W x_i x_j = h.s + sum J s_i s_j + c with J = W / 4: log Z shifts by c
    c = m01.unnormalized_log_prob(X) - m.unnormalized_log_prob(S)
    np.testing.assert_allclose(c, c[0], atol=1e-12)
    assert m01.log_partition() - m.log_partition() == pytest.approx(c[0], abs=1e-12)
    np.testing.assert_allclose(m01.couplings, 4 * J, atol=1e-15)
    np.testing.assert_allclose(m01.to_spins("+-1").natural, m.natural, atol=1e-14)


def test_sparse_graph():
    rng = np.random.default_rng(2)
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4), (1, 3)]
    h, J, m = random_model(5, rng, edges=edges)
    assert m.natural.size == 5 + len(edges)
    logz, mu, cov, S, p = brute(h, J, pairs=sorted(edges))
    assert m.log_partition() == pytest.approx(logz, abs=1e-12)
    np.testing.assert_allclose(m.mean_params, mu, atol=1e-13)
    np.testing.assert_allclose(m.fisher_information(), cov, atol=1e-13)
    # the same model with the dense graph
    dense = m.densified()
    assert dense.log_partition() == pytest.approx(logz, abs=1e-12)


def test_statistics_and_energy_written_out():
    rng = np.random.default_rng(3)
    h, J, m = random_model(4, rng)
    s = np.array([[1, -1, -1, 1], [-1, -1, 1, 1.0]])
    u = Ising.sufficient_statistics(s, m.fixed)
    expected = np.array([[*row, row[0] * row[1], row[0] * row[2], row[0] * row[3], row[1] * row[2],
                          row[1] * row[3], row[2] * row[3]] for row in s])
    np.testing.assert_array_equal(u, expected)
    energy = [h @ row + sum(J[i, j] * row[i] * row[j] for i in range(4) for j in range(i + 1, 4))
              for row in s]
    np.testing.assert_allclose(m.unnormalized_log_prob(s), energy, atol=1e-14)


def test_independent_spins_closed_form():
    h = np.array([0.3, -1.2, 2.0])
    m = Ising(fields=h)
    assert m.log_partition() == pytest.approx(np.sum(np.log(2 * np.cosh(h))), abs=1e-14)
    np.testing.assert_allclose(m.means(), np.tanh(h), atol=1e-15)
    np.testing.assert_allclose(m.connected_correlations()[np.triu_indices(3, 1)], 0, atol=1e-15)


def test_kl_against_brute_force():
    rng = np.random.default_rng(4)
    h1, J1, p = random_model(5, rng)
    h2, J2, q = random_model(5, rng)
    _, _, _, S, pp = brute(h1, J1)
    _, _, _, _, pq = brute(h2, J2)
    assert p.kl(q) == pytest.approx(np.sum(pp * np.log(pp / pq)), abs=1e-12)
    assert p.kl(p) == 0.0


def test_exact_draws_frequencies():
    """Exact draws (n <= 16): frequencies against the probabilities (chi-square, 1e-3)."""
    from scipy import stats

    rng = np.random.default_rng(5)
    h, J, m = random_model(4, rng)
    _, _, _, S, p = brute(h, J)
    x = m.sample(40_000, rng=0)
    idx = ((x > 0).astype(int) * (2 ** np.arange(3, -1, -1))).sum(1)  # itertools order
    counts = np.bincount(idx, minlength=16)
    assert stats.chisquare(counts, 40_000 * p).pvalue > 1e-3


def test_registered_and_resolvable():
    assert expfam.resolve_family("ising") is Ising
    assert expfam.Ising is Ising


def test_lattice_edges():
    E = lattice_edges(4)
    assert len(E) == 2 * 16
    deg = np.bincount(np.asarray(E).ravel(), minlength=16)
    assert np.all(deg == 4)


@pytest.mark.parametrize("bad, error", [
    (dict(fields=[0.0, np.nan]), NonFiniteError),
    (dict(fields=[0.0, 1.0], couplings=[[0.0, 1.0], [0.5, 0.0]]), ParameterError),  # not symmetric
    (dict(fields=[0.0, 1.0], couplings=[[1.0, 0.0], [0.0, 0.0]]), ParameterError),  # diagonal
    (dict(fields=[0.0, 1.0], couplings=np.zeros((3, 3))), ShapeError),
    (dict(fields=[0.0, 1.0], spins="-1,1"), ParameterError),
    (dict(fields=[0.0, 1.0, 0.0], edges=[(0, 3)]), ParameterError),
    (dict(fields=[0.0, 1.0, 0.0], edges=[(0, 1), (1, 0)]), ParameterError),
    (dict(fields=[0.0, 0.0, 0.0], couplings=[[0, 1, 1], [1, 0, 0], [1, 0, 0]], edges=[(0, 1)]),
     ParameterError),
])
def test_bad_parameters(bad, error):
    with pytest.raises(error):
        Ising(**bad)


def test_bad_states():
    m = Ising(fields=[0.1, 0.2, 0.3])
    with pytest.raises(SupportError, match=r"index \(1, 2\)"):
        m.log_prob([[1, 1, -1], [1, -1, 0]])
    with pytest.raises(NonFiniteError):
        m.log_prob([[1, np.nan, -1]])
    with pytest.raises(ShapeError):
        m.log_prob([[1, -1]])
    with pytest.raises(SupportError):
        m.to_spins("01").log_prob([[1, -1, 0]])


def test_enumeration_limit_is_a_typed_error():
    with pytest.raises(expfam.errors.ModelCapabilityError, match="n <= 24"):
        Ising(n=30).log_partition()
