"""A fused compiled E-step for mixtures of one family without a location pivot.

Given ``u(x_n)``, ``log h(x_n)`` and the observation weights, one pass computes per
observation the joint log terms ``log w_k + log h(x) + u(x) . eta_k - A(eta_k)``, their
log-sum-exp, the responsibilities, and accumulates the M-step's sums ``sum wt r_k``,
``sum wt r_k u(x)``, ``sum wt r_k log h(x)`` and the log-likelihood; no ``(n, K)`` array is
formed.
"""

from __future__ import annotations

import numba
import numpy as np

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)


@numba.njit(cache=True, fastmath=False)
def fused_estep(u, lh, wt, eta, const):
    """``(loglik, N_k, S_k = sum r u, H_k = sum r log h)``; ``const_k = log w_k - A(eta_k)``."""
    n, k = u.shape
    K = eta.shape[0]
    N = np.zeros(K)
    S = np.zeros((K, k))
    H = np.zeros(K)
    LL = 0.0
    j = np.empty(K)
    for t in range(n):
        mx = -np.inf
        for q in range(K):
            v = lh[t] + const[q]
            for i in range(k):
                v += u[t, i] * eta[q, i]
            j[q] = v
            if v > mx:
                mx = v
        tot = 0.0
        for q in range(K):
            j[q] = np.exp(j[q] - mx)
            tot += j[q]
        LL += wt[t] * (mx + np.log(tot))
        scale = wt[t] / tot
        for q in range(K):
            r = scale * j[q]
            N[q] += r
            H[q] += r * lh[t]
            for i in range(k):
                S[q, i] += r * u[t, i]
    return LL, N, S, H
