"""Exact sums over every state of a small Ising model (up to about 24 spins).

Spins ``s in {-1,+1}^n``; state index ``x`` (an integer of ``n`` bits) has
``s_i = 1 - 2 * bit_i(x)``, so that the Walsh function ``(-1)^popcount(A & x)`` is the
product ``s_A = prod_{i in A} s_i``.

- Log-weights of all ``2^n`` states, ``h.s + sum_{i<j} J_ij s_i s_j``, as a blocked sum:
  the spins split into a low half ``a`` and a high half ``b``; the cross term is one matrix
  product ``S_b J_ba S_a'`` (shape ``2^(n - n/2) x 2^(n/2)``).
- ``log Z`` by a log-sum-exp.
- ``E[s_A]`` for *every* subset ``A`` by one fast Walsh-Hadamard transform of the
  probabilities (``n 2^n`` additions, compiled).  Then the mean parameters are
  ``E[s_i]``, ``E[s_i s_j]``, and since ``s_i^2 = 1`` the Fisher information is
  ``Cov(s_A, s_B) = E[s_(A xor B)] - E[s_A] E[s_B]`` (a gather; its absolute rounding
  error is about ``n`` ulps of 1).
- Mean parameters alone come from the blocked products ``S' diag(p) S`` without the
  transform.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ENUMERATE_MAX", "spin_table", "log_weights", "log_partition", "walsh_moments",
           "masks_of", "exact_moments"]

#: largest number of spins enumerated (2^24 states: 128 MB per array of log-weights)
ENUMERATE_MAX = 24


def spin_table(n: int) -> np.ndarray:
    """Every state of ``n`` spins, shape ``(2^n, n)``: row ``x`` has ``s_i = 1 - 2 bit_i(x)``."""
    x = np.arange(2**n, dtype=np.int64)[:, None]
    return (1 - 2 * ((x >> np.arange(n)) & 1)).astype(np.float64)


def _half_energy(S, h, J):
    # h.s + sum_{i<j} J_ij s_i s_j = h.s + s'Js / 2 (J symmetric, zero diagonal)
    return S @ h + 0.5 * np.einsum("si,si->s", S @ J, S)


def log_weights(h: np.ndarray, J: np.ndarray) -> np.ndarray:
    """``h.s + sum_{i<j} J_ij s_i s_j`` of every state, shape ``(2^n,)`` (by state index).

    Parameters
    ----------
    h : ndarray, shape (n,)
    J : ndarray, shape (n, n)
        Symmetric, zero diagonal.
    """
    n = h.size
    lo = n // 2
    S_lo, S_hi = spin_table(lo), spin_table(n - lo)
    E_lo = _half_energy(S_lo, h[:lo], J[:lo, :lo])
    E_hi = _half_energy(S_hi, h[lo:], J[lo:, lo:])
    E = (S_hi @ J[lo:, :lo]) @ S_lo.T  # cross terms, (2^(n-lo), 2^lo)
    E += E_hi[:, None]
    E += E_lo[None, :]
    return E.reshape(-1)  # index = hi * 2^lo + lo: bits 0..lo-1 are spins 0..lo-1


def _probabilities(h, J):
    z = log_weights(h, J)
    top = z.max()
    z -= top
    np.exp(z, out=z)
    total = z.sum()
    z /= total
    return z, top + np.log(total)


def log_partition(h: np.ndarray, J: np.ndarray) -> float:
    """``log Z = log sum_s exp(h.s + sum_{i<j} J_ij s_i s_j)`` (log-sum-exp)."""
    z = log_weights(h, J)
    top = z.max()
    return float(top + np.log(np.sum(np.exp(z - top))))


def walsh_moments(h: np.ndarray, J: np.ndarray) -> tuple[np.ndarray, float]:
    """``E[s_A]`` for every subset ``A`` (indexed by its bit mask) and ``log Z``."""
    from ._walsh import fwht  # compiled on first use (import expfam compiles nothing)

    p, logz = _probabilities(h, J)
    fwht(p)
    return p, logz


def masks_of(n: int, I: np.ndarray, Jdx: np.ndarray) -> np.ndarray:
    """Bit masks of the statistics ``(s_1..s_n, s_i s_j for the pairs)``."""
    single = np.left_shift(np.int64(1), np.arange(n, dtype=np.int64))
    return np.concatenate([single, single[I] | single[Jdx]])


def exact_moments(h, J, I, Jdx, *, fisher: bool = False):
    """``(log Z, E[u], Cov[u] or None)`` of the ``{-1,+1}`` model, ``u = (s, s_i s_j for
    the pairs (I, Jdx))``."""
    n = h.size
    if not fisher:
        p, logz = _probabilities(h, J)
        lo = n // 2
        P = p.reshape(2 ** (n - lo), 2**lo)
        S_lo, S_hi = spin_table(lo), spin_table(n - lo)
        c_lo, c_hi = P.sum(axis=0), P.sum(axis=1)
        m = np.concatenate([c_lo @ S_lo, c_hi @ S_hi])
        M = np.empty((n, n))
        M[:lo, :lo] = S_lo.T @ (c_lo[:, None] * S_lo)
        M[lo:, lo:] = S_hi.T @ (c_hi[:, None] * S_hi)
        M[lo:, :lo] = S_hi.T @ P @ S_lo
        M[:lo, lo:] = M[lo:, :lo].T
        return float(logz), np.concatenate([m, M[I, Jdx]]), None
    W, logz = walsh_moments(h, J)
    masks = masks_of(n, I, Jdx)
    mu = W[masks]
    F = W[masks[:, None] ^ masks[None, :]] - mu[:, None] * mu[None, :]
    return float(logz), mu, F
