"""A fused compiled EM pass for mixtures of full-covariance normals.

One pass over the data computes, per observation, every component's log density
(``-d/2 log 2 pi - sum log diag C_k - |C_k^-1 (x - m_k)|^2 / 2`` with ``Sigma_k = C_k C_k'``),
the log-sum-exp over components, the responsibilities, and accumulates the M-step's
weighted statistics about the current means (``sum r (x - m_k)`` and
``sum r (x - m_k)(x - m_k)'``: centred sums keep the covariance's digits).  The data are
read once per iteration and no ``(n, K)`` array is formed.
"""

from __future__ import annotations

import numba
import numpy as np

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)
from ..errors import DegenerateComponentError

_LOG2PI = float(np.log(2 * np.pi))


@numba.njit(cache=True, fastmath=False)
def _pass(X, wt, logw, means, chols, n_chunks):
    n, d = X.shape
    K = means.shape[0]
    const = np.empty(K)
    inv_diag = np.empty((K, d))
    for k in range(K):
        const[k] = logw[k] - 0.5 * d * _LOG2PI
        for i in range(d):
            const[k] -= np.log(chols[k, i, i])
            inv_diag[k, i] = 1.0 / chols[k, i, i]
    N = np.zeros(K)
    S1 = np.zeros((K, d))
    S2 = np.zeros((K, d, d))
    LL = 0.0
    lp = np.empty(K)
    y = np.empty(d)
    diff = np.empty((K, d))
    for t in range(n):
        mx = -np.inf
        for k in range(K):
            # forward substitution C y = x - m
            q = 0.0
            for i in range(d):
                di = X[t, i] - means[k, i]
                diff[k, i] = di
                s = di
                for j in range(i):
                    s -= chols[k, i, j] * y[j]
                y[i] = s * inv_diag[k, i]
                q += y[i] * y[i]
            lp[k] = const[k] - 0.5 * q
            if lp[k] > mx:
                mx = lp[k]
        tot = 0.0
        for k in range(K):
            lp[k] = np.exp(lp[k] - mx)
            tot += lp[k]
        wt_t = wt[t]
        LL += wt_t * (mx + np.log(tot))
        scale = wt_t / tot
        for k in range(K):
            r = scale * lp[k]
            N[k] += r
            for i in range(d):
                rdi = r * diff[k, i]
                S1[k, i] += rdi
                for j in range(i + 1):
                    S2[k, i, j] += rdi * diff[k, j]
    return LL, N, S1, S2


def gaussian_em_step(X, wt, weights, means, covs, n_chunks=1):
    """One fused E-step + M-step statistics pass.

    Returns ``(loglik at the given parameters, N_k, new means, new covariances)``.
    """
    try:
        chols = np.linalg.cholesky(covs)
    except np.linalg.LinAlgError as exc:
        raise DegenerateComponentError(f"a component's covariance is not positive definite: {exc}") from exc
    ll, N, S1, S2 = _pass(X, wt, np.log(weights), means, chols, n_chunks)
    S2 = S2 + np.swapaxes(np.tril(S2, -1), 1, 2)  # the upper triangle from the lower
    with np.errstate(all="ignore"):
        d1 = S1 / N[:, None]
        new_means = means + d1
        new_covs = S2 / N[:, None, None] - d1[:, :, None] * d1[:, None, :]
    return ll, N, new_means, new_covs


def gaussian_responsibilities(X, weights, means, covs):
    """Responsibilities and the log-likelihood terms ``log p(x_n)`` by the Cholesky
    formula of the module docstring (vectorised NumPy)."""
    from scipy.linalg import solve_triangular
    from scipy.special import logsumexp

    n, d = X.shape
    lp = np.empty((n, len(weights)))
    for k, (w, m, c) in enumerate(zip(weights, means, covs)):
        C = np.linalg.cholesky(c)
        y = solve_triangular(C, (X - m).T, lower=True)
        lp[:, k] = (np.log(w) - 0.5 * d * _LOG2PI - np.sum(np.log(np.diag(C)))
                    - 0.5 * np.einsum("ij,ij->j", y, y))
    lse = logsumexp(lp, axis=1)
    return np.exp(lp - lse[:, None]), lse
