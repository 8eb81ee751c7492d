"""Compiled heat-bath (Gibbs) sweeps over many chains, one thread per block of chains.

Heat-bath update of spin ``i`` of a ``{-1,+1}`` Ising model
``p(s) ~ exp(h.s + sum_{i<j} J_ij s_i s_j)``: with the local field
``f_i = h_i + sum_j J_ij s_j``, ``P(s_i = +1 | rest) = 1 / (1 + exp(-2 f_i))``.

- dense couplings, sequential or ordered scan (:func:`sweep_dense_lanes`): blocks of
  :data:`._lanes.LANES` chains in lock-step, one chain per SIMD lane: all lanes update
  the same site, the decision vectorised (a polynomial ``exp`` with an exact fallback,
  :func:`._lanes.heat_bath_step`) and the fields of all lanes updated as
  ``F[j] += sum_q J[i_q, j] D[q]`` over a block of sites (``D``: the lanes' spin changes,
  0 where none), branch-free: ``n`` fused multiply-adds per update whether the spin
  changes or not, but in 16 lanes; 2x to 4.5x the updates per CPU-second of the scalar
  kernel for n = 300 to 30 (3.2x at n = 100: ``benchmarks/bench_gibbs_dense.py``);
- dense couplings, random scan (:func:`sweep_dense`; the lanes would draw different
  sites): the local fields of every spin are kept and updated when a spin flips
  (``f += 2 s_i J[i, :]``), so an update costs one random number, a look-up in a table
  of ``P(s = +1 | f)`` that brackets the probability (:func:`heat_bath_sign`; ``exp``
  for under 1% of the updates) and ``n`` additions only when the spin changes;
- in both, the fields are recomputed from scratch at every call (parameters may have
  changed between calls: persistent chains);
- sparse couplings (CSR neighbour lists): the same, over the neighbours;
- the periodic lattice with uniform coupling and field: multi-spin coded, in
  :mod:`._multispin`.

Optionally (``flip``) every sweep ends with the Metropolis move ``s -> -s`` of the whole
configuration (accepted with probability ``min(1, exp(-2 h.s))``: the couplings do not
change the energy of a global flip).  It leaves the distribution invariant and removes
the slowest mode of near-symmetric models, whose magnetisation otherwise flips only
rarely.

Scans: ``0`` sequential (sites ``0..n-1`` in turn), ``1`` random (``n`` sites drawn
uniformly with replacement per sweep), ``2`` checkerboard / colour classes (sites in the
given order; within a class the updates commute).
Every chain has its own random stream (:mod:`._rng`): results do not depend on threads
(the dense and sparse kernels have a serial twin for calls too small to share; the lanes
kernel's result does not depend on which chains share a block either).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)
from ._lanes import (
    BLOCK,
    LANES,
    aligned_zeros,
    block_update,
    heat_bath_step,
    lanes_dot,
    lanes_scale,
    lanes_uniform,
)
from ._rng import below, uniform

SEQUENTIAL, RANDOM, ORDERED = 0, 1, 2

#: cells per unit of the local field in the table of heat-bath probabilities
STEPS = 64
#: the table covers local fields in ``[-FMAX, FMAX]``
FMAX = 20.0


def sigma_table() -> np.ndarray:
    """``P(s = +1 | f) = 1 / (1 + exp(-2 f))`` at the grid ``f_k = -FMAX + k / STEPS``
    (exact binary fractions), increasing in ``k``."""
    f = np.arange(-FMAX * STEPS, FMAX * STEPS + 1) / STEPS
    return 1.0 / (1.0 + np.exp(-2.0 * f))


#: the table passed to the kernels (20 KB: stays in cache)
SIGMA = sigma_table()


@njit(inline="always", cache=True, error_model="numpy")
def heat_bath_sign(f, u, T):
    """``+1.0`` with probability ``P(s = +1 | f)``, else ``-1.0``, given ``u`` uniform on
    ``[0, 1)``.

    ``P`` increases with ``f``, so for ``f_k <= f < f_{k+1}`` the grid values bracket it:
    ``u < T[k]`` means ``u < P`` and ``u >= T[k + 1]`` means ``u >= P``; only a ``u``
    between the two (probability ``T[k+1] - T[k] <= 1 / (2 STEPS)``, under 1% of the
    updates) or a field outside the table needs ``exp``.  Both comparisons are made
    before the one (well predicted) branch: no misprediction on the random outcome.  The
    result is that of ``u (1 + exp(-2 f)) < 1`` up to the rounding of ``P`` (``~1e-16``).
    """
    y = (f + FMAX) * STEPS
    yc = min(max(y, 0.0), T.shape[0] - 2.0)
    k = int(yc)
    lo = u < T[k]
    hi = u >= T[k + 1]
    if lo == hi or y != yc:
        return 1.0 if u * (1.0 + math.exp(-2.0 * f)) < 1.0 else -1.0
    return 2.0 * lo - 1.0


@njit(inline="always", cache=True)
def _global_flip(x, F, h, s0, s1, s2, s3):
    """Metropolis move ``s -> -s``: the pair energy is unchanged, so it is accepted with
    probability ``min(1, exp(-2 h.s))``; the coupling fields ``F = J s`` change sign."""
    hs = 0.0
    for i in range(x.shape[0]):
        hs += h[i] * x[i]
    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    if hs <= 0.0 or u < math.exp(-2.0 * hs):
        for i in range(x.shape[0]):
            x[i] = -x[i]
            F[i] = -F[i]
    return s0, s1, s2, s3


def _sweep_dense(S, h, J, rs, n_sweeps, scan, order, out, record_every, flip, T):
    """``n_sweeps`` sweeps of every chain of ``S`` (int8, shape ``(C, n)``), in place.

    ``out`` (int8, ``(C, R, n)``) receives the state after every ``record_every``-th sweep
    (``R`` records; ``R = 0``: nothing recorded).  ``order``: the site order of the ordered
    scan.  ``rs``: the chains' random streams ``(C, 4)``, advanced in place.  ``T``:
    :data:`SIGMA`, the table of :func:`heat_bath_sign`.
    """
    C, n = S.shape
    R = out.shape[1]
    for c in prange(C):
        x = S[c].astype(np.float64)  # the spins as floats: no conversion in the loop
        F = np.zeros(n)
        for j in range(n):
            if x[j] != 0.0:
                for i in range(n):
                    F[i] += J[j, i] * x[j]
        s0, s1, s2, s3 = rs[c, 0], rs[c, 1], rs[c, 2], rs[c, 3]
        r = 0
        for sweep in range(n_sweeps):
            for t in range(n):
                if scan == 1:
                    i, s0, s1, s2, s3 = below(n, s0, s1, s2, s3)
                elif scan == 2:
                    i = order[t]
                else:
                    i = t
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                new = heat_bath_sign(h[i] + F[i], u, T)
                if new != x[i]:
                    d = 2.0 * new
                    Ji = J[i]
                    for j in range(n):
                        F[j] += d * Ji[j]
                    x[i] = new
            if flip:
                s0, s1, s2, s3 = _global_flip(x, F, h, s0, s1, s2, s3)
            if R > 0 and (sweep + 1) % record_every == 0 and r < R:
                for j in range(n):
                    out[c, r, j] = np.int8(x[j])
                r += 1
        for j in range(n):
            S[c, j] = np.int8(x[j])
        rs[c, 0], rs[c, 1], rs[c, 2], rs[c, 3] = s0, s1, s2, s3


def _sweep_sparse(S, h, indptr, indices, values, rs, n_sweeps, scan, order, out, record_every,
                  flip, T):
    """As :func:`sweep_dense`, with the couplings as CSR neighbour lists (both directions)."""
    C, n = S.shape
    R = out.shape[1]
    for c in prange(C):
        x = S[c].astype(np.float64)
        F = np.zeros(n)
        for i in range(n):
            acc = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                acc += values[p] * x[indices[p]]
            F[i] = acc
        s0, s1, s2, s3 = rs[c, 0], rs[c, 1], rs[c, 2], rs[c, 3]
        r = 0
        for sweep in range(n_sweeps):
            for t in range(n):
                if scan == 1:
                    i, s0, s1, s2, s3 = below(n, s0, s1, s2, s3)
                elif scan == 2:
                    i = order[t]
                else:
                    i = t
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                new = heat_bath_sign(h[i] + F[i], u, T)
                if new != x[i]:
                    d = 2.0 * new
                    for p in range(indptr[i], indptr[i + 1]):
                        F[indices[p]] += d * values[p]
                    x[i] = new
            if flip:
                s0, s1, s2, s3 = _global_flip(x, F, h, s0, s1, s2, s3)
            if R > 0 and (sweep + 1) % record_every == 0 and r < R:
                for j in range(n):
                    out[c, r, j] = np.int8(x[j])
                r += 1
        for j in range(n):
            S[c, j] = np.int8(x[j])
        rs[c, 0], rs[c, 1], rs[c, 2], rs[c, 3] = s0, s1, s2, s3


@njit(cache=True)
def _lane_fields(F, J, X, idx, D):
    """``F = J X`` for a block of lanes (``(n, LANES)``; ``J`` symmetric), summed in the
    dtype of ``F`` by :func:`block_update` (``idx``, ``D``: its work arrays)."""
    n = J.shape[0]
    F[:] = 0.0
    for t0 in range(0, n, BLOCK):
        for m in range(BLOCK):
            idx[m] = min(t0 + m, n - 1)
            for lane in range(LANES):
                D[m, lane] = X[idx[m], lane] if t0 + m < n else 0.0
        block_update(F, J, idx, D)


@njit(cache=True)
def _lane_global_flip(X, F, h, st, U, G, sign):
    """:func:`_global_flip` in every lane (one uniform per lane from its stream; ``U``,
    ``G``, ``sign``: work arrays of ``LANES``)."""
    lanes_dot(h, X, G)  # h.s of every lane
    lanes_uniform(st, U)
    flips = 0
    for lane in range(LANES):
        accept = G[lane] <= 0.0 or U[lane] < math.exp(-2.0 * G[lane])
        sign[lane] = -1.0 if accept else 1.0
        flips += accept
    if flips:
        lanes_scale(X, sign)
        lanes_scale(F, sign)


def _sweep_dense_lanes(S, h, J, rs, n_sweeps, order, out, record_every, flip, refresh):
    """:func:`_sweep_dense` for the sequential and ordered scans (sites in the order
    ``order``; no table argument): the chains run in lock-step blocks of :data:`LANES`
    (:mod:`._lanes`), updating :data:`BLOCK` sites per pass over the fields.

    Every chain draws from its own stream exactly the uniforms of :func:`_sweep_dense`
    (one per update, one per global flip) and applies the same rule ``u (1 + exp(-2 f))
    < 1``: with float64 ``J`` the two kernels give the same chains (fields differ by
    rounding, ~1e-16).  The fields have the dtype of ``J``: float32 is faster but its
    rounding accumulates over the updates, so it needs ``refresh`` (sweeps between two
    recomputations of the fields from scratch; ``0``: at the start of the call only,
    enough for float64).
    """
    C, n = S.shape
    R = out.shape[1]
    for b in prange(-(-C // LANES)):
        c0 = b * LANES
        X = aligned_zeros(n, LANES, J.dtype)
        F = aligned_zeros(n, LANES, J.dtype)
        D = aligned_zeros(BLOCK, LANES, J.dtype)
        st = aligned_zeros(4, LANES, np.uint64)
        U = np.empty(LANES)
        G = np.empty(LANES)
        idx = np.zeros(BLOCK, np.int64)
        sign = np.empty(LANES, J.dtype)
        for lane in range(LANES):
            c = min(c0 + lane, C - 1)  # lanes past the last chain repeat it, not written back
            for k in range(4):
                st[k, lane] = rs[c, k]
            for j in range(n):
                X[j, lane] = S[c, j]
        _lane_fields(F, J, X, idx, D)
        r = 0
        for sweep in range(n_sweeps):
            for t0 in range(0, n, BLOCK):
                for m in range(BLOCK):
                    if t0 + m >= n:  # a short last block: no change
                        idx[m] = idx[0]
                        D[m, :] = 0.0
                        continue
                    i = order[t0 + m]
                    idx[m] = i
                    bad = heat_bath_step(st, F, X, J, idx, D, m, h[i], U, G)
                    if bad != 0:
                        for lane in range(LANES):
                            if (bad >> lane) & 1:
                                new = 1.0 if U[lane] * (1.0 + math.exp(-2.0 * G[lane])) < 1.0 else -1.0
                                D[m, lane] += new - X[i, lane]
                                X[i, lane] = new
                block_update(F, J, idx, D)
            if flip:
                _lane_global_flip(X, F, h, st, U, G, sign)
            if refresh > 0 and (sweep + 1) % refresh == 0:
                _lane_fields(F, J, X, idx, D)
            if R > 0 and (sweep + 1) % record_every == 0 and r < R:
                for lane in range(min(LANES, C - c0)):
                    for j in range(n):
                        out[c0 + lane, r, j] = np.int8(X[j, lane])
                r += 1
        for lane in range(min(LANES, C - c0)):
            for k in range(4):
                rs[c0 + lane, k] = st[k, lane]
            for j in range(n):
                S[c0 + lane, j] = np.int8(X[j, lane])


sweep_dense_lanes = njit(parallel=True, cache=True, error_model="numpy")(_sweep_dense_lanes)
sweep_dense_lanes_serial = njit(cache=True, error_model="numpy")(_sweep_dense_lanes)
sweep_dense = njit(parallel=True, cache=True, error_model="numpy")(_sweep_dense)
sweep_dense_serial = njit(cache=True, error_model="numpy")(_sweep_dense)
sweep_sparse = njit(parallel=True, cache=True, error_model="numpy")(_sweep_sparse)
sweep_sparse_serial = njit(cache=True, error_model="numpy")(_sweep_sparse)
#: updates per call below which the serial kernels run (threads cost more than they save)
PARALLEL_UPDATES = 2_000_000
