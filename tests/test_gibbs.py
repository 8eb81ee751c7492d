"""Gibbs chains, diagnostics and annealed importance sampling.

Oracles: the exact distribution by brute-force enumeration written here (chi-square
tests at level 1e-3 on independent chains), exact moments within their Monte Carlo
standard errors (z-test), the AR(1) autocorrelation time (1 + phi) / (1 - phi), and log Z
by enumeration for AIS (within 4 standard errors).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from expfam.ebm import (
    GibbsSampler,
    Ising,
    effective_sample_size,
    integrated_autocorrelation_time,
    lattice_edges,
    rhat,
)
from expfam.errors import ParameterError

LEVEL = 1e-3


def exact_probabilities(model):
    """p(s) of every state, states in itertools.product order over {-1,+1}."""
    n = model.n
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    h, J = model.fields, model.couplings
    E = S @ h + 0.5 * np.einsum("si,ij,sj->s", S, J, S)
    p = np.exp(E - E.max())
    return S, p / p.sum()


def state_index(x):
    n = x.shape[1]
    return ((x > 0).astype(np.int64) * (2 ** np.arange(n - 1, -1, -1))).sum(1)


def frequencies_pvalue(model, sampler, rounds=1):
    """One state per chain after the burn-in: independent draws, chi-square against p."""
    S, p = exact_probabilities(model)
    x = sampler.sample_model(model, sampler.n_chains * rounds, rng=0)
    counts = np.bincount(state_index(x), minlength=p.size)
    keep = p * x.shape[0] >= 5  # pool the rare states into one cell
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(p[keep], p[~keep].sum()) * x.shape[0]
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp).pvalue


def sk(n, seed, beta=1.0):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, beta / np.sqrt(n), (n, n)), 1)
    return Ising(fields=rng.normal(0, 0.3, n), couplings=J + J.T)


@pytest.mark.parametrize("scan", ["random", "sequential", "checkerboard"])
def test_dense_chain_frequencies(scan):
    model = sk(6, 1, beta=1.5)
    g = GibbsSampler(20_000, scan=scan, burn_in=60, seed=1)
    assert frequencies_pvalue(model, g) > LEVEL


def test_sparse_graph_chain_frequencies():
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5), (1, 4)]
    rng = np.random.default_rng(2)
    model = Ising(fields=rng.normal(0, 0.5, 6), couplings=rng.normal(0, 0.7, len(edges)), edges=edges)
    for scan in ("random", "checkerboard"):
        g = GibbsSampler(12_000, scan=scan, burn_in=25, seed=2)
        assert frequencies_pvalue(model, g) > LEVEL


def test_uniform_lattice_table_kernel_frequencies():
    """The 3 x 3 periodic lattice with one coupling and one field (table kernel)."""
    edges = lattice_edges(3)
    model = Ising(fields=np.full(9, 0.1), couplings=np.full(len(edges), 0.25), edges=edges)
    g = GibbsSampler(40_000, scan="checkerboard", burn_in=60, seed=3)
    assert frequencies_pvalue(model, g) > LEVEL


def test_zero_one_chains_and_sampled_moments_within_errors():
    """Chain means of u within their standard errors of the exact moments (z-test, the
    errors from the spread of independent chains' means)."""
    model = sk(8, 4).to_spins("01")
    g = GibbsSampler(400, scan="random", burn_in=50, seed=4)
    x = g.sample_model(model, 400 * 200)
    assert set(np.unique(x)) == {0.0, 1.0}
    u = Ising.sufficient_statistics(g.chains, model.fixed).mean(axis=1)  # per chain
    z = (u.mean(0) - model.mean_params) / (u.std(0, ddof=1) / np.sqrt(u.shape[0]))
    k = z.size
    assert np.max(np.abs(z)) < stats.norm.isf(LEVEL / (2 * k))
    assert stats.chi2.sf(z @ z, k) > LEVEL


def test_seeded_reproducible_and_checkpoint(tmp_path):
    model = sk(10, 5)
    a = GibbsSampler(64, seed=7).sample_model(model, 640)
    b = GibbsSampler(64, seed=7).sample_model(model, 640)
    np.testing.assert_array_equal(a, b)
    g = GibbsSampler(64, seed=8)
    g.sample_model(model, 64)
    g.save(tmp_path / "chains.npz")
    cont = g.sample_model(model, 640)
    h = GibbsSampler.load(tmp_path / "chains.npz")
    np.testing.assert_array_equal(h.sample_model(model, 640), cont)
    state = h.get_state()
    nxt = h.sample_model(model, 64)
    h.set_state(state)
    np.testing.assert_array_equal(h.sample_model(model, 64), nxt)


def test_bad_sampler_arguments(tmp_path):
    with pytest.raises(ParameterError):
        GibbsSampler(10, scan="zigzag")
    with pytest.raises(ParameterError):
        GibbsSampler(0)
    with pytest.raises(ParameterError):
        GibbsSampler(10).save(tmp_path / "x.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a file")
    from expfam.errors import FileFormatError

    with pytest.raises(FileFormatError):
        GibbsSampler.load(tmp_path / "bad.npz")


def ar1(phi, C, T, seed):
    rng = np.random.default_rng(seed)
    x = np.zeros((C, T))
    x[:, 0] = rng.normal(size=C) / np.sqrt(1 - phi**2)
    eps = rng.normal(size=(C, T))
    for t in range(1, T):
        x[:, t] = phi * x[:, t - 1] + eps[:, t]
    return x


def test_autocorrelation_time_of_ar1():
    phi = 0.8
    x = ar1(phi, 8, 20_000, 0)
    tau = integrated_autocorrelation_time(x)
    assert tau == pytest.approx((1 + phi) / (1 - phi), rel=0.1)
    assert effective_sample_size(x) == pytest.approx(x.size / tau)
    assert integrated_autocorrelation_time(ar1(0.0, 4, 5000, 1)) == pytest.approx(1.0, abs=0.1)


def test_rhat():
    x = ar1(0.5, 4, 4000, 2)
    assert rhat(x) < 1.01
    shifted = x + np.arange(4)[:, None] * 1.0  # chains centred at different values
    assert rhat(shifted) > 1.1


def test_ais_log_partition_within_its_error():
    model = sk(16, 6).to_spins("01")  # computed in the +-1 basis, log Z shifted back
    est = model.log_partition(method="ais", n_runs=300, n_temperatures=200, rng=0)
    exact = model.log_partition()
    assert est.se < 0.05
    assert abs(est.value - exact) < 4 * est.se


def test_parallel_and_serial_kernels_give_the_same_chains():
    """Each chain owns its random stream: threads change nothing."""
    from expfam.ebm import _gibbs_kernels as K
    from expfam.ebm._rng import seed_streams

    model = sk(12, 9)
    h, J = model.fields, model.couplings
    S0 = np.where(np.random.default_rng(0).random((64, 12)) < 0.5, 1, -1).astype(np.int8)
    outs = []
    for kernel in (K.sweep_dense, K.sweep_dense_serial):
        S, rs = S0.copy(), seed_streams(3, 64)
        out = np.zeros((64, 5, 12), np.int8)
        kernel(S, h, J, rs, 10, 1, np.arange(12), out, 2, True)
        outs.append((S, rs, out))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
