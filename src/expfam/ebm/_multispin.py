"""Multi-spin coded heat-bath sweeps of periodic lattice Ising models (64 chains per word).

Chain ``64 g + l`` keeps its spin at site ``i`` in bit ``l`` of the word ``W[g, i]`` (bit 1:
spin ``+1``).  A checkerboard sweep updates, word by word, every site of one colour and
then of the other, for the 64 chains of a word at once, in bitwise logic:

- the number ``k`` of ``+1`` neighbours (0 to 4) of every chain is added bit-sliced from the
  four neighbour words (two half adders and a full adder), giving five lane masks
  ``m_k``;
- the new spin of lane ``l`` is ``1[U_l < p_k]`` with ``p_k = P(s = +1 | k)`` the heat-bath
  probability and ``U_l`` a uniform number whose binary digits are the bits ``l`` of
  successive random words ``R_1, R_2, ...``.  The comparison is made digit by digit from
  the most significant one, for the 64 lanes together: with ``B_j`` the word whose bit
  ``l`` is digit ``j`` of ``p_{k(l)}``, a lane is decided at the first digit where
  ``R_j`` and ``B_j`` differ (``U < p`` there iff ``B_j = 1``); the loop stops when every
  lane is decided (about ``log2(64) + 1.3`` words on average).  ``p_k`` is given as the
  64-bit fixed-point ``t_k = floor(p_k 2^64)``: a lane still undecided after 64 digits has
  ``U >= t_k / 2^64`` and gets ``-1``, so ``P(+1) = t_k / 2^64`` exactly.

Each lane reads only its own bits of fresh random words, so the 64 chains of a word are
independent; every word group owns a random stream (xoshiro256++, whose every output
bit is usable), and groups run in parallel without changing the result.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)
from ._rng import next_u64_pp

__all__ = ["pack", "unpack", "digit_masks", "sweep_lattice_packed"]

_ONE = np.uint64(1)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True)
def pack(S, n_groups):
    """Spins ``S`` (int8 ``(C, n)``, values ``+-1``) into words ``(n_groups, n)``; lanes
    beyond ``C`` are spin ``-1``."""
    C, n = S.shape
    W = np.zeros((n_groups, n), dtype=np.uint64)
    for c in range(C):
        g, bit = c >> 6, np.uint64(c & 63)
        for i in range(n):
            if S[c, i] > 0:
                W[g, i] |= _ONE << bit
    return W


@njit(cache=True)
def unpack(W, S):
    """The inverse of :func:`pack` into ``S`` (int8 ``(C, n)``), in place."""
    C, n = S.shape
    for c in range(C):
        g, bit = c >> 6, np.uint64(c & 63)
        for i in range(n):
            S[c, i] = np.int8(1) if (W[g, i] >> bit) & _ONE else np.int8(-1)


def digit_masks(thresholds: np.ndarray) -> np.ndarray:
    """``D[j, k]``: all ones when binary digit ``j + 1`` (after the point) of
    ``thresholds[k] / 2^64`` is 1, else 0; shape ``(64, 5)``, uint64."""
    t = np.asarray(thresholds, dtype=np.uint64)
    shifts = np.arange(63, -1, -1, dtype=np.uint64)
    bits = (t[None, :] >> shifts[:, None]) & np.uint64(1)
    return np.where(bits == 1, _ALL, np.uint64(0)).astype(np.uint64)


@njit(inline="always", cache=True)
def _heat_bath_word(a, b, c, d, D, s0, s1, s2, s3):
    """New word of 64 lanes from the neighbour words ``a, b, c, d`` (see the module)."""
    # bit-sliced k = a + b + c + d = 4 b2 + 2 b1 + b0 (a carry t and c1 are never both 1)
    x1 = a ^ b
    c1 = a & b
    x2 = c ^ d
    c2 = c & d
    b0 = x1 ^ x2
    t = x1 & x2
    b1 = c1 ^ c2 ^ t
    b2 = c1 & c2
    m0 = ~(b2 | b1 | b0)
    m1 = b0 & ~b1
    m2 = b1 & ~b0
    m3 = b1 & b0
    m4 = b2
    new = np.uint64(0)
    und = _ALL
    j = 0
    while und != np.uint64(0) and j < 64:
        R, s0, s1, s2, s3 = next_u64_pp(s0, s1, s2, s3)
        B = (m0 & D[j, 0]) | (m1 & D[j, 1]) | (m2 & D[j, 2]) | (m3 & D[j, 3]) | (m4 & D[j, 4])
        new |= und & B & ~R  # digit of p is 1, digit of U is 0: U < p
        und &= ~(R ^ B)  # equal digits: not decided yet
        j += 1
    return new, s0, s1, s2, s3


@njit(parallel=True, cache=True)
def sweep_lattice_packed(W, rows, cols, D, rs, n_sweeps, out, record_every):
    """``n_sweeps`` checkerboard sweeps of the packed chains ``W`` (uint64
    ``(G, rows * cols)``, sites row major, periodic) in place; ``D``: :func:`digit_masks` of
    the five thresholds (index: number of ``+1`` neighbours); ``rs``: the groups' random
    streams ``(G, 4)``, advanced in place.  ``out`` (int8 ``(C, R, n)``, ``C <= 64 G``)
    receives the state after every ``record_every``-th sweep."""
    G, n = W.shape
    C, R = out.shape[0], out.shape[1]
    for g in prange(G):
        w = W[g]
        s0, s1, s2, s3 = rs[g, 0], rs[g, 1], rs[g, 2], rs[g, 3]
        r = 0
        for sweep in range(n_sweeps):
            for colour in range(2):
                for row in range(rows):
                    up = ((row - 1 + rows) % rows) * cols
                    down = ((row + 1) % rows) * cols
                    here = row * cols
                    for col in range((row + colour) % 2, cols, 2):
                        left = col - 1 if col > 0 else cols - 1
                        right = col + 1 if col < cols - 1 else 0
                        new, s0, s1, s2, s3 = _heat_bath_word(
                            w[up + col], w[down + col], w[here + left], w[here + right], D,
                            s0, s1, s2, s3)
                        w[here + col] = new
            if R > 0 and (sweep + 1) % record_every == 0 and r < R:
                for lane in range(min(64, C - 64 * g)):
                    bit = np.uint64(lane)
                    for i in range(n):
                        out[64 * g + lane, r, i] = np.int8(1) if (w[i] >> bit) & _ONE else np.int8(-1)
                r += 1
        rs[g, 0], rs[g, 1], rs[g, 2], rs[g, 3] = s0, s1, s2, s3
