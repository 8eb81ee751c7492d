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
        kernel(S, h, J, rs, 10, 1, np.arange(12), out, 2, True, K.SIGMA)
        outs.append((S, rs, out))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------
# Multi-spin coded lattice kernel (64 chains per word)
# ----------------------------------------------------------------------------------
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_multispin_rectangular_lattice_frequencies():
    """3 x 4 periodic lattice (4096 states), a chain count that is not a multiple of 64."""
    edges = lattice_edges(3, cols=4)
    assert len(edges) == 24
    model = Ising(fields=np.full(12, -0.15), couplings=np.full(len(edges), 0.3), edges=edges)
    g = GibbsSampler(60_001, scan="checkerboard", burn_in=40, seed=11)
    assert frequencies_pvalue(model, g) > LEVEL


def test_multispin_one_sweep_is_heat_bath_not_metropolis():
    """From all spins +1, one checkerboard sweep of a 4 x 4 lattice: a site of the first
    colour becomes +1 with the heat-bath probability sigma(2 (h + 4 J)); a site of the
    second colour with k neighbours at +1 with sigma(2 (h + J (2k - 4))).  Binomial tests
    at level 1e-3; the Metropolis probabilities (1 - min(1, exp(-2 f)) of staying +1) are
    rejected by the same counts."""
    L, h, Jc, C = 4, 0.05, 0.1, 6400
    edges = lattice_edges(L)
    model = Ising(fields=np.full(L * L, h), couplings=np.full(len(edges), Jc), edges=edges)
    g = GibbsSampler(C, scan="checkerboard", burn_in=0, seed=12)
    g.run(Ising, model.natural, model.fixed, 1)  # start the chains
    g.states[:] = 1
    x = g.run(Ising, model.natural, model.fixed, 1)[:, 0, :].reshape(C, L, L)
    colour = np.add.outer(np.arange(L), np.arange(L)) % 2
    first = x[:, colour == 0]
    hb, metropolis = sigmoid(2 * (h + 4 * Jc)), 1 - np.exp(-2 * (h + 4 * Jc))
    plus, total = int((first > 0).sum()), first.size
    assert stats.binomtest(plus, total, hb).pvalue > LEVEL
    assert stats.binomtest(plus, total, metropolis).pvalue < 1e-12
    k = sum((np.roll(x, s, a) > 0) for s in (1, -1) for a in (1, 2))  # +1 neighbours
    second = colour == 1
    for kk in range(5):
        sel = x[:, second][k[:, second] == kk]
        if sel.size < 200:
            continue
        f = h + Jc * (2 * kk - 4)
        assert stats.binomtest(int((sel > 0).sum()), sel.size, sigmoid(2 * f)).pvalue > LEVEL
        assert stats.binomtest(int((sel > 0).sum()), sel.size,
                               1 - min(1.0, np.exp(-2 * f))).pvalue < 1e-6


def test_multispin_reproducible_whatever_the_threads():
    import numba

    edges = lattice_edges(8)
    model = Ising(fields=np.full(64, 0.1), couplings=np.full(len(edges), 0.42), edges=edges)
    runs = []
    for threads in (1, numba.config.NUMBA_NUM_THREADS):
        old = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            runs.append(GibbsSampler(300, scan="checkerboard", burn_in=5, seed=13).sample_model(model, 1200))
        finally:
            numba.set_num_threads(old)
    np.testing.assert_array_equal(runs[0], runs[1])
    other = GibbsSampler(300, scan="checkerboard", burn_in=5, seed=14).sample_model(model, 1200)
    assert np.mean(other != runs[0]) > 0.3  # another seed, other chains


def test_multispin_checkpoint_resume(tmp_path):
    edges = lattice_edges(6)
    model = Ising(fields=np.full(36, -0.2), couplings=np.full(len(edges), 0.3), edges=edges)
    g = GibbsSampler(130, scan="checkerboard", burn_in=3, seed=18)
    g.sample_model(model, 130)
    g.save(tmp_path / "lattice.npz")
    cont = g.sample_model(model, 650)
    np.testing.assert_array_equal(GibbsSampler.load(tmp_path / "lattice.npz").sample_model(model, 650), cont)


def test_lattice_detection():
    """The multi-spin kernel runs for uniform periodic rows x cols lattices only."""
    from expfam.ebm.gibbs import _uniform_lattice

    def detect(edges, n, h=0.1, J=0.2):
        return _uniform_lattice(n, edges, np.full(n, h), np.full(len(edges), J))

    assert detect(lattice_edges(3, cols=4), 12) == (3, 4)
    assert detect(lattice_edges(4, cols=3), 12) == (4, 3)
    assert detect(lattice_edges(5), 25) == (5, 5)
    e = lattice_edges(4)
    assert _uniform_lattice(16, e, np.full(16, 0.1), np.r_[0.3, np.full(len(e) - 1, 0.2)]) is None
    assert _uniform_lattice(16, e, np.r_[0.0, np.full(15, 0.1)], np.full(len(e), 0.2)) is None
    assert detect(lattice_edges(4, periodic=False), 16) is None
    ring2 = tuple(sorted({(min(i, (i + d) % 16), max(i, (i + d) % 16)) for i in range(16) for d in (1, 3)}))
    assert len(ring2) == 32 and detect(ring2, 16) is None  # 2n edges, not a lattice
    assert _uniform_lattice(16, None, np.full(16, 0.1), np.full(32, 0.2)) is None


def test_multispin_pack_roundtrip_and_digits():
    from expfam.ebm import _multispin as MS

    rng = np.random.default_rng(15)
    S = np.where(rng.random((130, 7)) < 0.5, 1, -1).astype(np.int8)
    W = MS.pack(S, 3)
    back = np.zeros_like(S)
    MS.unpack(W, back)
    np.testing.assert_array_equal(back, S)
    assert int(W[2, 0]) >> 2 == 0  # lanes beyond the chains are -1
    t = np.array([0, 2**63, 2**64 - 1, 3 * 2**62, 12345], dtype=np.uint64)
    D = MS.digit_masks(t)
    for k, v in enumerate(t.tolist()):
        digits = [int(b) for b in format(v, "064b")]
        np.testing.assert_array_equal(D[:, k] != 0, np.array(digits, dtype=bool))


# ----------------------------------------------------------------------------------
# Dense and sparse kernels: the bracketing table of heat-bath probabilities
# ----------------------------------------------------------------------------------
def test_heat_bath_table_decisions_equal_the_formula():
    """Decisions of the table look-up against 1[u < 1 / (1 + exp(-2 f))] evaluated here,
    for fields on and off the grid, inside and outside the table (ties within 1e-14 of
    the probability excepted: the rounding of P)."""
    from numba import njit

    from expfam.ebm import _gibbs_kernels as K

    @njit
    def decide(f, u, T):
        out = np.zeros(f.size, np.bool_)
        for k in range(f.size):
            out[k] = K.heat_bath_sign(f[k], u[k], T) > 0
        return out

    rng = np.random.default_rng(16)
    f = np.concatenate([rng.uniform(-25, 25, 200_000), np.arange(-1280, 1281) / 64.0,
                        [-np.inf, np.inf, 20.0, -20.0, 19.999999]])
    u = rng.random(f.size)
    grid = rng.random(3000)  # u exactly at the probabilities of grid fields
    f = np.concatenate([f, np.full(3000, 0.5)])
    u = np.concatenate([u, np.where(grid < 0.5, 1 / (1 + np.exp(-1.0)), grid)])
    p = 1.0 / (1.0 + np.exp(-2.0 * f))
    got = decide(f, u, K.SIGMA)
    clear = np.abs(u - p) > 1e-14
    np.testing.assert_array_equal(got[clear], (u < p)[clear])
    assert np.all(np.diff(K.SIGMA) >= 0)  # non-decreasing (1.0 at the top, in float64)


def test_dense_one_sweep_is_heat_bath():
    """From all spins +1, the first site of a sequential sweep becomes +1 with probability
    sigma(2 (h_0 + sum_j J_0j)) (binomial test); the Metropolis probability is rejected."""
    model = sk(7, 17)
    C = 40_000
    g = GibbsSampler(C, scan="sequential", burn_in=0, seed=17, global_flip=False)
    g.run(Ising, model.natural, model.fixed, 1)
    g.states[:] = 1
    x = g.run(Ising, model.natural, model.fixed, 1)[:, 0, :]
    f = model.fields[0] + model.couplings[0].sum()
    plus = int((x[:, 0] > 0).sum())
    assert stats.binomtest(plus, C, sigmoid(2 * f)).pvalue > LEVEL
    metropolis = 1 - min(1.0, np.exp(-2 * f)) if f > 0 else 0.0
    assert stats.binomtest(plus, C, metropolis).pvalue < 1e-6


def test_xoshiro256pp_matches_the_reference_algorithm_and_every_bit_is_fair():
    """next_u64_pp against xoshiro256++ written here on Python integers (Blackman & Vigna
    2018), and every bit of its words fair (binomial tests, Bonferroni over 64 bits): the
    multi-spin kernel uses all 64."""
    from numba import njit

    from expfam.ebm._rng import next_u64_pp, seed_streams

    @njit
    def draws(st, m):
        s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
        out = np.empty(m, np.uint64)
        for k in range(m):
            out[k], s0, s1, s2, s3 = next_u64_pp(s0, s1, s2, s3)
        return out

    mask = (1 << 64) - 1

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & mask

    st = seed_streams(19, 1)[0]
    s = [int(v) for v in st]
    ref = []
    for _ in range(1000):
        ref.append((rotl((s[0] + s[3]) & mask, 23) + s[0]) & mask)
        t = (s[1] << 17) & mask
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    assert [int(v) for v in draws(st, 1000)] == ref
    m = 40_000
    w = draws(st, m)
    ones = ((w[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).sum(0)
    p = [stats.binomtest(int(k), m, 0.5).pvalue for k in ones]
    assert min(p) > LEVEL / 64


# ----------------------------------------------------------------------------------
# Dense lock-step kernel (chains in SIMD lanes)
# ----------------------------------------------------------------------------------
def test_lanes_kernel_frequencies_with_padding_and_thinning():
    """Sequential scan, a chain count that is not a multiple of the lanes, n = 7 (not a
    multiple of the block), thinning and the global flip: chi-square against p."""
    from expfam.ebm._lanes import BLOCK, LANES

    n, C = 7, 600 * 16 + 5
    assert C % LANES and n % BLOCK
    model = sk(n, 21, beta=1.5)
    g = GibbsSampler(C, scan="sequential", thin=3, burn_in=40, seed=21)
    assert frequencies_pvalue(model, g) > LEVEL


def test_lanes_kernel_runs_the_scalar_kernels_chains():
    """Same streams and states: the lanes kernel (parallel and serial twins) gives the
    scalar kernel's chains, records and final streams (float64 fields: the same decisions
    up to rounding of ~1e-16), for the sequential and the ordered scan."""
    from expfam.ebm import _gibbs_kernels as K
    from expfam.ebm._rng import seed_streams

    n, C = 13, 37
    model = sk(n, 22)
    h, J = model.fields, model.couplings
    S0 = np.where(np.random.default_rng(22).random((C, n)) < 0.5, 1, -1).astype(np.int8)
    for scan, order in ((0, np.arange(n)), (2, np.random.default_rng(1).permutation(n))):
        runs = []
        for kernel in ("scalar", K.sweep_dense_lanes, K.sweep_dense_lanes_serial):
            S, rs = S0.copy(), seed_streams(23, C)
            out = np.zeros((C, 4, n), np.int8)
            if kernel == "scalar":
                K.sweep_dense_serial(S, h, J, rs, 12, scan, order, out, 3, True, K.SIGMA)
            else:
                kernel(S, h, J, rs, 12, order, out, 3, True, 0)
            runs.append((S, rs, out))
        for other in runs[1:]:
            for a, b in zip(runs[0], other):
                np.testing.assert_array_equal(a, b)


def test_lane_heat_bath_decisions_equal_the_formula():
    """The vectorised decision (polynomial exp, exact fallback by the caller) against
    1[u (1 + exp(-2 f)) < 1] evaluated here, with u the lane streams' xoshiro256+
    uniforms (checked against the scalar generator); fields random, near the decision
    boundary (f = logit(u) / 2 + 1e-12 .. 1e-4) and beyond the polynomial's range."""
    from numba import njit

    from expfam.ebm._lanes import BLOCK, LANES, aligned_zeros, heat_bath_step
    from expfam.ebm._rng import seed_streams, uniform

    @njit
    def reference_uniforms(st, m):
        u = np.empty((m, st.shape[1]))
        for lane in range(st.shape[1]):
            s0, s1, s2, s3 = st[0, lane], st[1, lane], st[2, lane], st[3, lane]
            for k in range(m):
                u[k, lane], s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        return u

    @njit
    def lanes(f, st, F, X, D, J, idx, U, G):
        m = f.shape[0]
        new, us, fs = np.empty((m, LANES)), np.empty((m, LANES)), np.empty((m, LANES))
        left, change = np.zeros((m, LANES), np.bool_), np.empty((m, LANES))
        for k in range(m):
            for lane in range(LANES):
                X[0, lane] = 1.0
                F[0, lane] = f[k, lane]
            bad = heat_bath_step(st, F, X, J, idx, D, 0, 0.0, U, G)
            for lane in range(LANES):
                new[k, lane] = X[0, lane]
                change[k, lane] = D[0, lane]
                left[k, lane] = (bad >> lane) & 1
                us[k, lane] = U[lane]
                fs[k, lane] = G[lane]
        return new, us, fs, left, change

    m = 40_000
    st0 = seed_streams(24, LANES).T.copy()
    u_ref = reference_uniforms(st0, m)
    rng = np.random.default_rng(24)
    f = rng.uniform(-30, 30, (m, LANES))
    near = rng.random((m, LANES)) < 0.5  # half the fields at the boundary of their u
    eps = 10.0 ** rng.uniform(-12, -4, (m, LANES)) * rng.choice([-1, 1], (m, LANES))
    with np.errstate(divide="ignore"):
        f[near] = (0.5 * np.log(u_ref / (1 - u_ref)) + eps)[near]
    f[:50] = rng.choice([-1e4, -400.0, -346.0, 346.0, 400.0, 1e4, np.inf, -np.inf], (50, LANES))
    st = aligned_zeros(4, LANES, np.uint64)
    st[:] = st0
    work = [aligned_zeros(1, LANES, np.float64), aligned_zeros(1, LANES, np.float64),
            aligned_zeros(BLOCK, LANES, np.float64), np.zeros((1, 1)), np.zeros(BLOCK, np.int64),
            np.empty(LANES), np.empty(LANES)]
    new, us, fs, left, change = lanes(f, st, *work)
    np.testing.assert_array_equal(change, new - 1.0)  # D: the change from spin +1
    np.testing.assert_array_equal(us, u_ref)
    np.testing.assert_array_equal(fs, f)
    with np.errstate(over="ignore", invalid="ignore"):
        z = u_ref * (1.0 + np.exp(-2.0 * f))
    decided = ~left
    clear = decided & ~(np.abs(z - 1.0) < 1e-13)
    np.testing.assert_array_equal(new[clear] > 0, (z < 1.0)[clear])
    assert np.all(left[np.abs(f) > 400])  # beyond the polynomial: left to the caller
    assert np.mean(left[50:][~near[50:]]) < 1e-4  # away from the boundary: (almost) never
    tight = (near & (np.abs(eps) < 1e-9))[50:]
    assert np.all(left[50:][tight])  # within the margin: never guessed
