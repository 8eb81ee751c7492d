"""PCD: the Monte Carlo standard error, the honest stopping rule, checkpoint / resume, Potts PCD.

Oracles: brute-force enumeration written here (exact moments, Potts energies and KL), the
empirical spread over seeds of the sampled moments, the exact residual of a fit (n <= 20)
against the Monte Carlo error its stopping rule reported, and an uninterrupted run of the
same seed (for resume).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import expfam
from expfam.ebm import GibbsSampler, Ising, Potts, fit_ising
from expfam.ebm.pcd import chain_moments
from expfam.ebm.potts_learning import fit_potts
from expfam.errors import ConvergenceWarning, FileFormatError, ParameterError


def brute_ising(h, J):
    """Exact mean of ``u = (s_i, s_i s_j for i < j)`` by enumerating the ``2^n`` states."""
    n = h.size
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    i, j = np.triu_indices(n, 1)
    U = np.column_stack([S, S[:, i] * S[:, j]])
    logp = S @ h + 0.5 * np.einsum("si,ij,sj->s", S, J, S)
    p = np.exp(logp - logsumexp(logp))
    return p @ U


class _Ctx:
    """The statistics of an Ising model as the PCD loop sees them, written independently."""

    cls = Ising

    def __init__(self, n):
        self.fixed = {"n": n, "spins": "+-1", "edges": None}
        self.i, self.j = np.triu_indices(n, 1)
        self.k = n + self.i.size

    def chain_sums(self, x):
        return np.concatenate([x.sum(axis=1), (x[:, :, self.i] * x[:, :, self.j]).sum(axis=1)], axis=1)

    @staticmethod
    def second_moment(mean):
        return np.ones_like(mean)


@pytest.mark.parametrize("chains", [4, 64, 200])
def test_reported_se_matches_the_spread_over_seeds(chains):
    """The batch-means standard error of the sampled moments agrees with their spread over
    30 independent seeds (within a factor 1.5 per statistic on the median, 2 for every one),
    for few chains (batches in time), many chains (one batch per chain) and more chains than
    batches (100 groups of 2 chains); the means are
    centred on the exact moments (chi-square test at level 0.001)."""
    rng = np.random.default_rng(1)
    n = 8
    J = np.triu(rng.normal(0, 1.0 / np.sqrt(n), (n, n)), 1) * 1.5
    J = J + J.T
    h = rng.normal(0, 0.3, n)
    model = Ising(fields=h, couplings=J)
    exact = brute_ising(h, J)
    ctx = _Ctx(n)
    rounds = 4000 // chains * 4
    means, ses = [], []
    for seed in range(30):
        g = GibbsSampler(chains, scan="sequential", burn_in=100, seed=seed)
        m = chain_moments(ctx, g, model.natural, rounds)
        means.append(m["mean"])
        ses.append(m["se"])
    means, ses = np.array(means), np.array(ses)
    spread = means.std(axis=0, ddof=1)
    ratio = ses.mean(axis=0) / spread
    assert 1 / 1.5 <= np.median(ratio) <= 1.5, ratio
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    z = (means - exact) / ses
    assert np.sum(z**2) <= stats.chi2.isf(0.001, z.size)


def test_pcd_n12_reaches_the_statistical_floor_and_its_residual_is_honest():
    """SK n = 12, 10^5 exact samples: KL(truth || PCD) within 1.5x KL(truth || exact MLE);
    the exact residual of the PCD fit is within the Monte Carlo error its stopping rule
    reported (chi-square at level 0.001)."""
    rng = np.random.default_rng(4)
    n = 12
    J = np.triu(rng.normal(0, 1 / np.sqrt(n), (n, n)), 1)
    true = Ising(fields=rng.normal(0, 0.3, n), couplings=J + J.T)
    x = true.sample(100_000, rng=5)
    mle = expfam.fit(Ising, x, method="exact")
    pcd = expfam.fit(Ising, x, method="pcd", rng=6)
    assert pcd.converged, pcd.message
    assert true.kl(pcd.model) <= 1.5 * true.kl(mle.model)
    z = pcd.residual / pcd.mc_check["se"]  # exact residual (n <= 20) over the reported error
    assert np.sum(z**2) <= stats.chi2.isf(0.001, z.size)


def test_pcd_that_cannot_meet_its_tolerance_says_so():
    rng = np.random.default_rng(2)
    x = np.where(rng.random((3000, 5)) < 0.5, 1, -1)
    with pytest.warns(ConvergenceWarning, match="not zero within its Monte Carlo error"):
        # alpha = 0.9999: a chi-square critical value no honest residual can stay below
        r = fit_ising(x, method="pcd", rng=0, n_chains=20, alpha=0.9999, max_rounds=1, warmup=5)
    assert not r.converged and r.status == "not_significant"
    assert "converged=False" in r.summary()


class _Stop(Exception):
    pass


def _interrupt_at(m):
    def cb(t, eta):
        if t == m:
            raise _Stop

    return cb


@pytest.mark.parametrize("kind", ["ising", "potts"])
def test_interrupted_and_resumed_run_equals_the_uninterrupted_one(tmp_path, kind):
    rng = np.random.default_rng(3)
    if kind == "ising":
        x = np.where(rng.random((2000, 5)) < 0.4, 1, -1)
        fit = fit_ising
    else:
        x = rng.integers(0, 3, (2000, 4))
        fit = fit_potts
    opts = dict(method="pcd", rng=11, n_chains=40, warmup=10, max_rounds=3, l2=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = fit(x, **opts)
        path = tmp_path / "run.npz"
        with pytest.raises(_Stop):
            fit(x, checkpoint=path, checkpoint_every=7, callback=_interrupt_at(33), **opts)
        with np.load(path, allow_pickle=False) as z:  # the last checkpoint: step 28
            assert '"t": 28' in str(z["header"])
        resumed = fit(x, checkpoint=path, checkpoint_every=7, resume=True, **opts)
    np.testing.assert_array_equal(resumed.model.natural, whole.model.natural)
    assert resumed.n_iter == whole.n_iter and resumed.converged == whole.converged
    np.testing.assert_array_equal(resumed.trace["step_norm"], whole.trace["step_norm"])


def test_checkpoint_errors(tmp_path):
    rng = np.random.default_rng(3)
    x = np.where(rng.random((500, 4)) < 0.4, 1, -1)
    opts = dict(method="pcd", rng=1, n_chains=20, warmup=5, max_rounds=1, l2=1e-3)
    path = tmp_path / "c.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_ising(x, checkpoint=path, checkpoint_every=5, **opts)
        with pytest.raises(ParameterError, match="different run"):
            fit_ising(x[:400], checkpoint=path, resume=True, **opts)
        bad = tmp_path / "bad.npz"
        bad.write_bytes(b"not a checkpoint")
        with pytest.raises(FileFormatError, match="bad.npz"):
            fit_ising(x, checkpoint=bad, resume=True, **opts)
    with pytest.raises(ParameterError, match="pcd"):
        fit_ising(x, method="exact", checkpoint=path)


def _potts_brute(H, C, q):
    """All joint states, and their log-probabilities for lattice-gas parameters (H, C)."""
    S = np.array(list(itertools.product(*[range(k) for k in q])))
    n = len(q)
    E = np.zeros(len(S))
    for i in range(n):
        E += H[i, S[:, i]]
        for j in range(i + 1, n):
            E += C[i, j, S[:, i], S[:, j]]
    return S, E - logsumexp(E)


def test_potts_pcd_reaches_the_exact_mle_floor():
    """A Potts model with q = (3, 2, 4, 3): KL(truth || PCD) within 1.5x KL(truth || exact
    MLE) on 20,000 samples, KL by enumeration written here."""
    rng = np.random.default_rng(7)
    q = (3, 2, 4, 3)
    n, qm = len(q), max(q)
    H = np.zeros((n, qm))
    C = np.zeros((n, n, qm, qm))
    for i in range(n):
        H[i, 1:q[i]] = rng.normal(0, 0.5, q[i] - 1)
        for j in range(i + 1, n):
            C[i, j, 1:q[i], 1:q[j]] = rng.normal(0, 0.5, (q[i] - 1, q[j] - 1))
            C[j, i] = C[i, j].T
    S, logp = _potts_brute(H, C, q)
    x = S[rng.choice(len(S), size=20_000, p=np.exp(logp))]

    def kl(res):
        Hf, Cf = res.model.parameters("lattice-gas")
        _, logq = _potts_brute(Hf, Cf, q)
        return float(np.exp(logp) @ (logp - logq))

    mle = expfam.fit(Potts, x, method="exact", q=q)
    pcd = expfam.fit(Potts, x, method="pcd", q=q, rng=3)
    assert pcd.converged, pcd.message
    assert kl(pcd) <= 1.5 * kl(mle)


def test_rao_blackwellised_moments_are_unbiased_with_less_variance():
    """The Rao-Blackwellised chain statistics of a dense +-1 model (learning's context):
    centred on the exact moments (enumeration; chi-square at level 0.001 over 20 seeds with
    their reported errors), their reported error matches their spread over the seeds (median
    ratio within 1.5), and it is below that of the raw statistics ``u`` (``_Ctx``) for every
    field and for most pairs."""
    from expfam.ebm.learning import _Context

    rng = np.random.default_rng(7)
    n = 8
    J = np.triu(rng.normal(0, 0.6 / np.sqrt(n), (n, n)), 1)
    J = J + J.T
    h = rng.normal(0, 0.3, n)
    model = Ising(fields=h, couplings=J)
    exact = brute_ising(h, J)
    x = model.sample(200, rng=1)
    fixed = {"n": n, "spins": "+-1", "edges": None}
    I, K = Ising.pairs(fixed)
    mu = exact.copy()
    ctx = _Context(fixed, x, None, 200.0, mu, I, K, Ising.basis_map(fixed)[0], 0.0, 0.0)
    raw = _Ctx(n)
    means, ses, ses_raw = [], [], []
    for seed in range(20):
        m = chain_moments(ctx, GibbsSampler(64, scan="sequential", burn_in=50, seed=seed),
                          model.natural, 100)
        r = chain_moments(raw, GibbsSampler(64, scan="sequential", burn_in=50, seed=seed),
                          model.natural, 100)
        means.append(m["mean"])
        ses.append(m["se"])
        ses_raw.append(r["se"])
    means, ses, ses_raw = np.array(means), np.array(ses), np.array(ses_raw)
    z = (means - exact) / ses
    assert np.sum(z**2) <= stats.chi2.isf(0.001, z.size)
    ratio = ses.mean(axis=0) / means.std(axis=0, ddof=1)
    assert 1 / 1.5 <= np.median(ratio) <= 1.5, ratio
    gain = ses_raw.mean(axis=0) / ses.mean(axis=0)
    assert np.all(gain[:n] > 1.2) and np.median(gain[n:]) > 1.1, gain
