"""The pseudolikelihood of an Ising model and its gradient (Besag 1975).

In the ``{-1,+1}`` basis, with the local field ``f_i(s) = h_i + sum_j J_ij s_j``, the
conditional of one spin is ``p(s_i | s_rest) = sigma(2 s_i f_i)``.  The mean negative log
pseudolikelihood of weighted samples ``X`` (``N x n``) is

    ``L(h, J) = (1 / W) sum_r w_r sum_i log(1 + exp(-2 x_ri f_ri))``,

with ``dL / df_ri = -(w_r / W) 2 x_ri sigma(-2 x_ri f_ri) =: G_ri``, so
``dL / dh_i = sum_r G_ri`` and ``dL / dJ_ij = (G'X)_ij + (G'X)_ji`` (``J_ij`` enters the
fields of both ``i`` and ``j``).  Per block of rows: the fields ``X J`` and ``G'X`` are
two matrix products (BLAS); one compiled pass between them (parallel over rows) turns the
fields into the loss and ``G`` in place.  The maximiser is a consistent estimator (the
conditionals are those of the model); it is fast, and the default starting point of the
exact and PCD fits.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)

__all__ = ["neg_log_pseudolikelihood"]

#: rows per block (bounds the ``rows x n`` work array)
BLOCK_ROWS = 65_536


def _loss_and_g(F, X, h, w):
    """Sum of ``w_r log(1 + exp(z_ri))``, ``z = -2 x (F + h)``, and ``F <- G`` (in place)."""
    N, n = F.shape
    n_blocks = min(N, 64)
    loss = np.zeros(n_blocks)
    for b in prange(n_blocks):
        acc = 0.0
        for r in range(b * N // n_blocks, (b + 1) * N // n_blocks):
            wr = w[r]
            lin = 0.0
            prod = 1.0
            for i in range(n):
                z = -2.0 * X[r, i] * (F[r, i] + h[i])
                e = math.exp(-abs(z))  # log(1 + e^z) = max(z, 0) + log(1 + e), no overflow
                lin += max(z, 0.0)
                prod *= 1.0 + e  # one log per row (or per 1000 spins): factors in (1, 2]
                if prod > 1e250:
                    lin += math.log(prod)
                    prod = 1.0
                s = 1.0 / (1.0 + e)
                F[r, i] = -2.0 * wr * X[r, i] * (s if z > 0 else e * s)
            acc += wr * (lin + math.log(prod))
        loss[b] = acc
    return loss.sum()


_loss_and_g_parallel = njit(parallel=True, cache=True)(_loss_and_g)
_loss_and_g_serial = njit(cache=True)(_loss_and_g)
#: row-spin cells from which the pass runs in parallel (below, threads cost more than they save)
PARALLEL_CELLS = 200_000


def neg_log_pseudolikelihood(eta_pm, X, w, W, I, J):
    """``(L, grad L)`` in the ``{-1,+1}`` basis (``eta_pm = (h, J_pairs)``); ``X`` holds
    ``+-1`` samples (float64, C-contiguous), ``w`` their weights (or ``None``) and ``W``
    the weight sum."""
    N, n = X.shape
    Jm = np.zeros((n, n))
    Jm[I, J] = eta_pm[n:]
    Jm[J, I] = eta_pm[n:]
    h = np.ascontiguousarray(eta_pm[:n])
    loss, gh, GX = 0.0, np.zeros(n), np.zeros((n, n))
    for lo in range(0, N, BLOCK_ROWS):
        Xb = X[lo:lo + BLOCK_ROWS]
        wb = np.ones(Xb.shape[0]) if w is None else w[lo:lo + BLOCK_ROWS]
        G = Xb @ Jm  # the coupling part of the local fields
        kernel = _loss_and_g_parallel if G.size >= PARALLEL_CELLS else _loss_and_g_serial
        loss += kernel(G, Xb, h, wb)
        gh += G.sum(axis=0)
        GX += G.T @ Xb
    return loss / W, np.concatenate([gh, GX[I, J] + GX[J, I]]) / W
