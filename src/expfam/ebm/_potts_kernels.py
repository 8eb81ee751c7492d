"""Compiled heat-bath sweeps of Potts models (see :mod:`.potts`), for
:class:`~expfam.ebm.gibbs.GibbsSampler`."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)
from ._rng import uniform

__all__ = ["potts_gibbs"]


@njit(parallel=True, cache=True)
def _potts_sweeps(S, q, H, C, nbr_ptr, nbr, rs, n_sweeps, random_scan, out, record_every):
    """Heat-bath sweeps: ``P(x_i = a | rest) ~ exp(h_i(a) + sum_j J_ij(a, x_j))``."""
    n_chains, n = S.shape
    R = out.shape[1]
    qm = H.shape[1]
    for c in prange(n_chains):
        x = S[c]
        e = np.empty(qm)
        s0, s1, s2, s3 = rs[c, 0], rs[c, 1], rs[c, 2], rs[c, 3]
        r = 0
        for sweep in range(n_sweeps):
            for t in range(n):
                i = t
                if random_scan:
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    i = min(int(u * n), n - 1)
                top = -np.inf
                for a in range(q[i]):
                    v = H[i, a]
                    for p in range(nbr_ptr[i], nbr_ptr[i + 1]):
                        j = nbr[p]
                        v += C[i, j, a, x[j]]
                    e[a] = v
                    top = max(top, v)
                total = 0.0
                for a in range(q[i]):
                    e[a] = np.exp(e[a] - top)
                    total += e[a]
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                target = u * total
                acc = 0.0
                new = q[i] - 1
                for a in range(q[i]):
                    acc += e[a]
                    if target < acc:
                        new = a
                        break
                x[i] = new
            if R > 0 and (sweep + 1) % record_every == 0 and r < R:
                out[c, r, :] = x
                r += 1
        rs[c, 0], rs[c, 1], rs[c, 2], rs[c, 3] = s0, s1, s2, s3


def potts_gibbs(sampler, cls, eta, fixed, rounds):
    """Run a :class:`~expfam.ebm.gibbs.GibbsSampler`'s chains on a Potts model: the
    burn-in when they start, then ``rounds`` records every ``thin`` sweeps; returns the
    records ``(C, rounds, n)`` (int8 states)."""
    q = np.asarray(fixed["q"], dtype=np.int64)
    n = q.size
    H, C = cls.full_params(eta, fixed)
    I, J = cls.pairs(fixed)
    nbrs = [[] for _ in range(n)]
    for i, j in zip(I.tolist(), J.tolist()):
        nbrs[i].append(j)
        nbrs[j].append(i)
    ptr = np.concatenate([[0], np.cumsum([len(v) for v in nbrs])]).astype(np.int64)
    flat = np.array([j for v in nbrs for j in v], dtype=np.int64)
    if sampler.sweeps == 0:  # fresh chains: uniform states, then the burn-in
        init = np.random.default_rng(int(sampler.streams[0, 0] % (2**63)))
        sampler.states = (init.random((sampler.n_chains, n)) * q).astype(np.int8)
        _potts_sweeps(sampler.states, q, H, C, ptr, flat, sampler.streams, sampler.burn_in,
                      sampler.scan == "random", np.zeros((sampler.n_chains, 0, n), np.int8), 1)
        sampler.sweeps = sampler.burn_in
    out = np.zeros((sampler.n_chains, rounds, n), dtype=np.int8)
    _potts_sweeps(sampler.states, q, H, C, ptr, flat, sampler.streams, rounds * sampler.thin,
                  sampler.scan == "random", out, sampler.thin)
    sampler.sweeps += rounds * sampler.thin
    return out
