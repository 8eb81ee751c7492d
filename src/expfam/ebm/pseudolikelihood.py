"""The pseudolikelihood of an Ising model and its gradient (Besag 1975).

In the ``{-1,+1}`` basis, with the local field ``f_i(s) = h_i + sum_j J_ij s_j``, the
conditional of one spin is ``p(s_i | s_rest) = sigma(2 s_i f_i)``.  The mean negative log
pseudolikelihood of weighted samples ``X`` (``N x n``) is

    ``L(h, J) = (1 / W) sum_r w_r sum_i log(1 + exp(-2 x_ri f_ri))``,

with ``dL / df_ri = -(w_r / W) 2 x_ri sigma(-2 x_ri f_ri) =: G_ri``, so
``dL / dh_i = sum_r G_ri`` and ``dL / dJ_ij = (G'X)_ij + (G'X)_ji`` (``J_ij`` enters the
fields of both ``i`` and ``j``).  One compiled pass over the samples (parallel over blocks
of rows) computes the loss and both gradients.  The maximiser is a consistent estimator
(the conditionals are those of the model); it is fast, and the default starting point of
the exact and PCD fits.
"""

from __future__ import annotations

import math

import numpy as np
from numba import get_num_threads, njit, prange

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)

__all__ = ["neg_log_pseudolikelihood"]


def _pl_kernel(X, w, h, Jm, n_blocks):
    N, n = X.shape
    loss = np.zeros(n_blocks)
    gh = np.zeros((n_blocks, n))
    GX = np.zeros((n_blocks, n, n))
    for b in prange(n_blocks):
        lo = b * N // n_blocks
        hi = (b + 1) * N // n_blocks
        g = np.empty(n)
        for r in range(lo, hi):
            wr = w[r]
            for i in range(n):
                acc = h[i]
                for j in range(n):
                    acc += Jm[i, j] * X[r, j]
                z = -2.0 * X[r, i] * acc
                if z > 0:  # log(1 + e^z) and sigma(z), without overflow
                    e = math.exp(-z)
                    l = z + math.log1p(e)
                    sig = 1.0 / (1.0 + e)
                else:
                    e = math.exp(z)
                    l = math.log1p(e)
                    sig = e / (1.0 + e)
                loss[b] += wr * l
                g[i] = -2.0 * X[r, i] * sig * wr
                gh[b, i] += g[i]
            for i in range(n):
                gi = g[i]
                for j in range(n):
                    GX[b, i, j] += gi * X[r, j]
    return loss.sum(), gh.sum(axis=0), GX.sum(axis=0)


_pl_parallel = njit(parallel=True, cache=True)(_pl_kernel)
_pl_serial = njit(cache=True)(_pl_kernel)
#: rows from which the pass runs in parallel (below, threads cost more than they save)
PARALLEL_ROWS = 20_000


def neg_log_pseudolikelihood(eta_pm, X, w, W, I, J):
    """``(L, grad L)`` in the ``{-1,+1}`` basis (``eta_pm = (h, J_pairs)``); ``X`` holds
    ``+-1`` samples (float64, C-contiguous), ``w`` their weights (or ``None``) and ``W``
    the weight sum."""
    n = X.shape[1]
    Jm = np.zeros((n, n))
    Jm[I, J] = eta_pm[n:]
    Jm[J, I] = eta_pm[n:]
    wv = np.ones(X.shape[0]) if w is None else w
    h = np.ascontiguousarray(eta_pm[:n])
    if X.shape[0] >= PARALLEL_ROWS:
        loss, gh, GX = _pl_parallel(X, wv, h, Jm, 4 * get_num_threads())
    else:
        loss, gh, GX = _pl_serial(X, wv, h, Jm, 1)
    return loss / W, np.concatenate([gh, GX[I, J] + GX[J, I]]) / W
