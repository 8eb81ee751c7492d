"""Standard errors of a fitted mixture from the observed information (Louis' method).

Parameters ``theta = (eta_1, ..., eta_K, a_1, ..., a_{K-1})`` with mixing weights
``w = softmax(a, a_K = 0)``.  Given ``z = k`` the complete-data score is
``g_k = (0, .., u_k(x) - mu_k, .., 0 ; e_k - w)`` and the complete-data information is
``blockdiag(F_k, diag(w) - w w')`` (only component ``k``'s block for the ``eta`` part).
Louis (1982): the observed information is

    I_obs = sum_n [ E(I_c | x_n) - E(g g' | x_n) + S_n S_n' ],   S_n = E(g | x_n),

expectations over ``z ~ r_n`` (the responsibilities).  Its inverse is the covariance of
``theta``; the familiar parameters and the weights follow by the delta method.
"""

from __future__ import annotations

import numpy as np


def _param_jacobians(cls, eta, fixed):
    """Central-difference Jacobians of ``params_from_natural`` at ``eta`` (one component)."""
    base = {k: np.asarray(v, dtype=float) for k, v in cls.params_from_natural(eta, fixed).items()}
    k = eta.shape[-1]
    jac = {name: np.zeros(v.shape + (k,)) for name, v in base.items()}
    for j in range(k):
        h = 1e-6 * max(abs(eta[j]), 1e-3)
        plus, minus = eta.copy(), eta.copy()
        plus[j] += h
        minus[j] -= h
        pp, pm = cls.params_from_natural(plus, fixed), cls.params_from_natural(minus, fixed)
        for name in base:
            jac[name][..., j] = (np.asarray(pp[name]) - np.asarray(pm[name])) / (2 * h)
    return jac


def _layout(mix):
    dims = [c.natural.shape[-1] for c in mix.components]
    offs = np.concatenate([[0], np.cumsum(dims)]).astype(int)
    return offs, int(offs[-1]) + mix.n_components - 1


def information_terms(mix, x, wt, R):
    """The data sums of Louis' information over one chunk of observations:
    ``(sum_n [S_n S_n' - E(g g' | x_n)], N_k, W)``; additive over chunks."""
    K = mix.n_components
    offs, P = _layout(mix)
    n = x.shape[0]
    w = mix.weights
    M = np.zeros((P, P))
    S = np.zeros((n, P))
    WR = wt[:, None] * R
    for k, c in enumerate(mix.components):
        cls, fixed = type(c), c.fixed
        sl = slice(offs[k], offs[k + 1])
        G = np.zeros((n, P))
        G[:, sl] = cls.sufficient_statistics(x, fixed) - cls.mean_from_natural(c.natural, fixed)
        G[:, offs[-1]:] = -w[: K - 1]
        if k < K - 1:
            G[:, offs[-1] + k] += 1.0
        M -= G.T @ (WR[:, k:k + 1] * G)  # - E(g g' | x)
        S += R[:, k:k + 1] * G
    M += S.T @ (wt[:, None] * S)  # + S S'
    return M, WR.sum(axis=0), float(wt.sum())


def information_from_terms(mix, terms) -> np.ndarray:
    """Louis' observed information from the (summed) :func:`information_terms`: adds the
    expected complete-data information ``sum_k N_k F_k`` and ``W (diag(w) - w w')``."""
    M, Nk, W = terms
    K = mix.n_components
    offs, P = _layout(mix)
    w = mix.weights
    info = M.copy()
    for k, c in enumerate(mix.components):
        sl = slice(offs[k], offs[k + 1])
        # E(I_c | x): the eta block of component k, weighted by N_k
        info[sl, sl] += Nk[k] * type(c).fisher_from_natural(c.natural, c.fixed)
    a = slice(int(offs[-1]), P)
    info[a, a] += W * (np.diag(w[: K - 1]) - np.outer(w[: K - 1], w[: K - 1]))
    return info


def observed_information(mix, x, wt, R) -> np.ndarray:
    """Louis' observed information of ``theta`` (see the module docstring), ``(P, P)``."""
    return information_from_terms(mix, information_terms(mix, x, wt, R))


def mixture_standard_errors(mix, x, wt, R, info=None) -> dict:
    """Standard errors of the weights, the natural and the familiar parameters (from
    ``info``, the observed information, when given; else computed from ``x, wt, R``)."""
    K = mix.n_components
    if info is None:
        info = observed_information(mix, x, wt, R)
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    dims = [c.natural.shape[-1] for c in mix.components]
    offs = np.concatenate([[0], np.cumsum(dims)])
    w = mix.weights
    # dw_i / da_j = w_i (delta_ij - w_j), j < K
    Jw = (np.diag(w) - np.outer(w, w))[:, : K - 1]
    ca = cov[offs[-1]:, offs[-1]:]
    se_w = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Jw, ca, Jw), 0, None))
    se_nat, se_par = [], []
    for k, c in enumerate(mix.components):
        sl = slice(offs[k], offs[k + 1])
        ck = cov[sl, sl]
        se_nat.append(np.sqrt(np.clip(np.diag(ck), 0, None)))
        jac = _param_jacobians(type(c), np.array(c.natural, dtype=float), c.fixed)
        se_par.append({name: np.sqrt(np.clip(np.einsum("...i,ij,...j->...", J, ck, J), 0, None))
                       for name, J in jac.items()})
    return {"weights": se_w, "natural": se_nat, "params": se_par, "covariance": cov}
