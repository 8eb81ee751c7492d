"""Per-chain random streams for the compiled samplers: xoshiro256+ (Blackman & Vigna 2018).

Every chain owns four 64-bit words of state, drawn from a :class:`numpy.random.SeedSequence`,
so a chain's draws depend on its seed only, never on which
thread runs it or on how many threads there are: the same seed gives the same chains.

The generator functions take and return the state as four ``uint64`` scalars (kept in
registers inside the compiled loops).  ``uniform`` takes the top 53 bits (a double in
``[0, 1)`` on the grid ``2^-53``); ``below`` draws an integer in ``[0, m)`` without bias
(Lemire's multiply-and-reject on 32-bit halves).  The low bits of xoshiro256+ are weak
(low linear complexity), which the float conversions drop; ``next_u64_pp`` is the
xoshiro256++ output of the same state transition, whose 64 bits are all usable, for the
bit-sliced kernels that use every bit of a word (:mod:`._multispin`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["seed_streams", "next_u64", "next_u64_pp", "uniform", "below"]

_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U19 = np.uint64(19)
_U23 = np.uint64(23)
_U41 = np.uint64(41)
_U32 = np.uint64(32)
_MASK32 = np.uint64(0xFFFFFFFF)
_TWO_M53 = 1.0 / 9007199254740992.0


def seed_streams(seed, n_streams: int) -> np.ndarray:
    """State of ``n_streams`` independent xoshiro256+ streams, shape ``(n_streams, 4)``.

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        An integer or a seed sequence; a Generator gives a seed drawn from it.
    n_streams : int
    """
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**63))
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    # 256 bits of the seed sequence's output per stream: independent starting points of a
    # generator of period 2^256 - 1 (overlaps of the streams used are of negligible chance)
    state = ss.generate_state(4 * n_streams, dtype=np.uint64).reshape(n_streams, 4)
    zero = ~state.any(axis=1)  # the all-zero state is the generator's one fixed point
    state[zero, 0] = 1
    return state


@njit(inline="always", cache=True)
def next_u64(s0, s1, s2, s3):
    """One 64-bit output and the next state."""
    result = s0 + s3
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    return result, s0, s1, s2, s3


@njit(inline="always", cache=True)
def next_u64_pp(s0, s1, s2, s3):
    """One 64-bit xoshiro256++ output, ``rotl(s0 + s3, 23) + s0``, and the next state."""
    x = s0 + s3
    result = ((x << _U23) | (x >> _U41)) + s0
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    return result, s0, s1, s2, s3


@njit(inline="always", cache=True)
def uniform(s0, s1, s2, s3):
    """A double uniform on ``[0, 1)`` (53 random bits) and the next state."""
    x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
    return float(x >> _U11) * _TWO_M53, s0, s1, s2, s3


@njit(inline="always", cache=True)
def below(m, s0, s1, s2, s3):
    """An integer uniform on ``[0, m)`` (``m < 2^32``), without bias, and the next state."""
    mm = np.uint64(m)
    while True:
        x, s0, s1, s2, s3 = next_u64(s0, s1, s2, s3)
        prod = (x >> _U32) * mm  # multiply-shift (Lemire 2019) on the top 32 bits
        low = prod & _MASK32
        if low >= (np.uint64(4294967296 - m) % mm):  # reject the 2^32 mod m biased values
            return np.int64(prod >> _U32), s0, s1, s2, s3
