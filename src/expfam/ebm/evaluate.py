"""Evaluating fitted energy-based models.

- :func:`log_likelihood`: mean log-likelihood of (held-out) samples with its standard
  error -- ``sd(log p~(x_n)) / sqrt(N)`` from the samples (the seed's eq. 3) combined with
  the standard error of ``log Z`` when it is estimated by AIS (exact ``log Z`` for
  ``n <= 24``); :func:`cross_entropy` is its negative.
- :func:`kl_divergence`: ``KL(p || q)`` exactly by enumeration (the Bregman divergence of
  ``log Z``).
- :func:`connected_correlations`: ``E[x_i x_j] - E[x_i] E[x_j]`` of samples (or of a model,
  exactly).
- :func:`coupling_error`: ``sqrt(sum (J_fit - J_true)^2 / sum J_true^2)`` over the pairs.
"""

from __future__ import annotations

import numpy as np

from ..divergence import MonteCarloEstimate
from ..errors import ParameterError, ShapeError
from .data import sample_matrix
from .ising import Ising

__all__ = ["log_likelihood", "cross_entropy", "kl_divergence", "connected_correlations",
           "coupling_error"]


def log_likelihood(model: Ising, samples, weights=None, *, method: str = "auto",
                   level: float = 0.95, **ais_options) -> MonteCarloEstimate:
    """Mean log-likelihood per sample of ``samples`` under ``model``, with its standard
    error.

    Parameters
    ----------
    model : Ising
    samples : array_like, shape (N, n)
    weights : array_like, shape (N,), optional
    method : {"auto", "exact", "ais"}
        How ``log Z`` is obtained: enumeration (``"auto"`` for ``n <= 24``) or annealed
        importance sampling (``ais_options`` go to
        :func:`~expfam.ebm.ais.ais_log_partition`).
    level : float
        Confidence level of the interval.
    """
    from scipy import stats

    if not isinstance(model, Ising):
        raise ParameterError(f"log_likelihood needs an Ising model; got {type(model).__name__}")
    X, w = sample_matrix(samples, model.n, type(model).values(model.fixed), weights)
    lp = type(model).sufficient_statistics(X, model.fixed) @ model.natural
    if method == "auto":
        method = "exact" if model.n <= 24 else "ais"
    if method == "exact":
        logz, logz_se = model.log_partition(), 0.0
    elif method == "ais":
        est = model.log_partition(method="ais", **ais_options)
        logz, logz_se = est.value, est.se
    else:
        raise ParameterError(f"method must be 'auto', 'exact' or 'ais'; got {method!r}")
    if w is None:
        N = lp.size
        mean = float(lp.mean())
        var = float(lp.var(ddof=1)) if N > 1 else 0.0
        n_eff = float(N)
    else:
        W = float(w.sum())
        mean = float(w @ lp / W)
        n_eff = W**2 / float(w @ w)
        var = float(w @ (lp - mean) ** 2 / W) * n_eff / max(n_eff - 1, 1.0)
    se = float(np.sqrt(var / n_eff + logz_se**2))
    est = mean - logz
    zq = float(stats.norm.isf((1 - level) / 2))
    return MonteCarloEstimate(estimate=np.asarray(est), se=np.asarray(se),
                              ci_low=np.asarray(est - zq * se), ci_high=np.asarray(est + zq * se),
                              n=int(X.shape[0]), n_eff=np.asarray(n_eff), level=level)


def cross_entropy(model: Ising, samples, weights=None, **options) -> MonteCarloEstimate:
    """``-(mean log-likelihood)`` of the samples under ``model`` (nats per sample), with
    its standard error (see :func:`log_likelihood`)."""
    ll = log_likelihood(model, samples, weights, **options)
    return MonteCarloEstimate(estimate=-ll.estimate, se=ll.se, ci_low=-ll.ci_high,
                              ci_high=-ll.ci_low, n=ll.n, n_eff=ll.n_eff, level=ll.level)


def kl_divergence(p: Ising, q: Ising) -> float:
    """``KL(p || q)`` exactly (enumeration, ``n <= 24``)."""
    return p.kl(q)


def connected_correlations(samples, weights=None) -> np.ndarray:
    """``E[x_i x_j] - E[x_i] E[x_j]`` (``n x n``) of samples (weighted), or exactly of an
    :class:`Ising` model."""
    if isinstance(samples, Ising):
        return samples.connected_correlations()
    X = np.asarray(samples, dtype=np.float64)
    if X.ndim != 2:
        raise ShapeError(f"samples: expected shape (N, n); got {X.shape}")
    X, w = sample_matrix(X, X.shape[1], np.unique(X), weights)
    wv = np.full(X.shape[0], 1.0 / X.shape[0]) if w is None else w / w.sum()
    m = wv @ X
    return (X.T * wv) @ X - np.outer(m, m)


def coupling_error(fitted, true) -> float:
    """``sqrt(sum (J_fit - J_true)^2 / sum J_true^2)`` over the pairs ``i < j`` (models or
    coupling matrices)."""
    Jf = fitted.couplings if isinstance(fitted, Ising) else np.asarray(fitted, dtype=np.float64)
    Jt = true.couplings if isinstance(true, Ising) else np.asarray(true, dtype=np.float64)
    if Jf.shape != Jt.shape or Jf.ndim != 2:
        raise ShapeError(f"coupling matrices of shapes {Jf.shape} and {Jt.shape}")
    i, j = np.triu_indices(Jt.shape[0], 1)
    denom = float(np.sum(Jt[i, j] ** 2))
    if denom == 0:
        raise ParameterError("the true couplings are all zero: the relative error is undefined")
    return float(np.sqrt(np.sum((Jf[i, j] - Jt[i, j]) ** 2) / denom))
