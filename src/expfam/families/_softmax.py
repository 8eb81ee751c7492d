"""Shared mathematics of category counts of ``n`` draws among ``K`` categories
(Categorical, Multinomial).

``eta_j = log(p_j / p_{K-1})`` for ``j < K - 1`` (minimal: ``k = K - 1``),
``A(eta) = n log(1 + sum_j exp(eta_j))``, computed as a log-sum-exp.
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from ..errors import ShapeError
from ..solvers import closed_form
from ._base import ExponentialFamily, broadcast_params, require

#: relative rounding allowance per category when deciding that ``p_K = 1 - sum mu`` is 0
_RTOL = 64 * np.finfo(float).eps
#: tolerance on ``sum(probs) = 1`` for user-supplied probabilities
_SUM_TOL = 1e-9


def log_probs(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities of all ``K`` categories and ``log(1 + sum exp eta)``
    (:func:`expfam._precise.log_softmax_and_partition`: no overflow, and no loss of
    precision when every ``eta_j`` is very negative)."""
    return _precise.log_softmax_and_partition(eta)


def natural_from_probs(probs, n_categories: int) -> np.ndarray:
    """Validate ``probs`` (shape ``batch + (K,)``) and return ``eta_j = log(p_j / p_K)``."""
    p = broadcast_params(probs=probs)["probs"]
    if p.ndim == 0 or p.shape[-1] != n_categories:
        raise ShapeError(
            f"parameter 'probs' must have shape (..., {n_categories}) (one entry per "
            f"category); got shape {p.shape}"
        )
    require(p > 0, p, "probs", "> 0")
    s = np.sum(p, axis=-1)
    require(np.abs(s - 1) <= _SUM_TOL, s, "probs", f"rows summing to 1 (within {_SUM_TOL:g})")
    return np.log(p[..., :-1]) - np.log(p[..., -1:])


def probs_fisher(p: np.ndarray) -> np.ndarray:
    """``diag(p) - p p^T`` for the first ``K - 1`` probabilities (``Cov`` of the one-hot)."""
    return p[..., :, None] * (np.eye(p.shape[-1]) - p[..., None, :])


class SoftmaxFamily(ExponentialFamily):
    """Base of the category counts of ``n`` independent draws among ``K`` categories
    (Categorical: ``n = 1``, observed as a label; Multinomial).

    ``eta_j = log(p_j / p_{K-1})`` for ``j < K - 1``, ``A(eta) = n log(1 + sum_j exp(eta_j))``,
    so ``grad A = n p`` (first ``K - 1`` entries), ``hess A = n (diag(p) - p p^T)``; the KL
    divergence is ``n sum_j p_j (log p_j - log q_j)``.  Subclasses give ``n``
    (:meth:`_draws`), ``u``, ``log h``, the support, moments, sampling and the reference
    mean.
    """

    discrete = True
    param_names = ("probs",)

    @classmethod
    def _draws(cls, fixed):
        """The number of draws ``n``."""
        raise NotImplementedError

    @classmethod
    def natural_dim(cls, fixed):
        return fixed["n_categories"] - 1

    @classmethod
    def natural_from_params(cls, fixed, probs=(0.5, 0.5)):
        return natural_from_probs(probs, fixed["n_categories"])

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"probs": np.exp(log_probs(eta)[0])}

    @classmethod
    def log_partition(cls, eta, fixed):
        return cls._draws(fixed) * log_probs(eta)[1]

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return cls._draws(fixed) * np.exp(log_probs(eta)[0][..., :-1])

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        return cls._draws(fixed) * probs_fisher(np.exp(log_probs(eta)[0][..., :-1]))

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        # E[x_K] = n p_K = n - sum_j mu_j; eta_j = log(mu_j / E[x_K])
        with np.errstate(all="ignore"):
            last = cls._draws(fixed) - np.sum(mu, axis=-1, keepdims=True)
            return closed_form(np.log(mu) - np.log(last))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.ones(eta.shape[:-1], dtype=bool)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        # every category seen (mu_j > 0) and the last one too (n - sum mu > rounding)
        n, K = cls._draws(fixed), fixed["n_categories"]
        last = n - np.sum(mu, axis=-1)
        return np.all(mu > 0, axis=-1) & (last > _RTOL * K * n)

    kl_kernel = "softmax_kl"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def divergence_params(cls, fixed):
        """``p = [n]`` for the compiled KL."""
        return np.array([float(cls._draws(fixed))])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """``n sum_j p_j log(p_j / q_j)`` as a sum of non-negative terms
        (:func:`expfam._precise.softmax_kl`)."""
        return _precise.softmax_kl(eta_p, eta_q, float(cls._draws(fixed)))
