"""Categorical distribution on the labels ``{0, 1, ..., K-1}``.

``u(x) = (1[x = 0], ..., 1[x = K-2])`` (one-hot of the first ``K - 1`` categories),
``eta_j = log(p_j / p_{K-1})`` for ``j < K - 1`` (minimal: ``k = K - 1``), ``h = 1``,
``A(eta) = log(1 + sum_j exp(eta_j))``, computed as a log-sum-exp.  The MLE is the vector
of relative frequencies; it exists only when every category is observed.

:class:`SoftmaxFamily` holds the mathematics shared with the Multinomial (``n`` draws).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, raise_support
from ..errors import ParameterError, ShapeError
from ._base import ExponentialFamily, broadcast_params, closed_form, require

#: relative rounding allowance per category when deciding that ``p_K = 1 - sum mu`` is 0
_RTOL = 64 * np.finfo(float).eps
#: tolerance on ``sum(probs) = 1`` for user-supplied probabilities
_SUM_TOL = 1e-9


def log_probs(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities of all ``K`` categories and ``log(1 + sum exp eta)``.

    ``log p = (eta, 0) - A``, with ``A = m + log1p(sum of the other exp(z - m))`` where
    ``m`` is the largest entry of ``z = (eta, 0)``: no overflow, and no loss of precision
    when every ``eta_j`` is very negative.
    """
    eta = np.asarray(eta, dtype=np.float64)
    z = np.concatenate([eta, np.zeros(eta.shape[:-1] + (1,))], axis=-1)
    top = np.argmax(z, axis=-1)[..., None]
    m = np.take_along_axis(z, top, axis=-1)
    e = np.exp(z - m)
    np.put_along_axis(e, top, 0.0, axis=-1)
    A = m[..., 0] + np.log1p(np.sum(e, axis=-1))
    return z - A[..., None], A



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

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        # n sum_j p_j (log p_j - log q_j): no cancellation between the two log partitions
        lp, lq = log_probs(eta_p)[0], log_probs(eta_q)[0]
        return cls._draws(fixed) * np.sum(np.exp(lp) * (lp - lq), axis=-1)


class Categorical(SoftmaxFamily):
    """Categorical distribution: ``P(x = j) = p_j`` for ``j = 0, ..., K-1``.

    Parameters
    ----------
    probs : array_like, shape (..., K)
        Category probabilities, all > 0, each row summing to 1.  The number of categories
        ``K >= 2`` (the fixed parameter ``n_categories``) is the length of the last axis.
        When fitting, ``n_categories`` is inferred from the data as the largest label + 1
        unless given.
    """

    name = "categorical"
    discrete = True
    fixed_params = ("n_categories",)
    integer_fixed = {"n_categories": 2}
    param_names = ("probs",)
    support = "{0, 1, ..., n_categories - 1}"
    boundary_hint = "a category was never observed, so its estimated probability is 0"

    def __init__(self, probs=(0.5, 0.5)):
        if np.ndim(probs) == 0:
            raise ShapeError(f"parameter 'probs' must be a vector of probabilities; got {probs!r}")
        fixed = {"n_categories": np.shape(probs)[-1]}
        self._init_natural(self.natural_from_params(fixed, probs=probs), fixed)

    @classmethod
    def _draws(cls, fixed):
        return 1

    @classmethod
    def infer_fixed(cls, x, fixed):
        if "n_categories" in fixed:
            return fixed
        check_finite(x)  # infer_fixed may run before the data are checked
        # labels must be valid before the largest one can define K
        bad = ~((x >= 0) & (x == np.floor(x)))
        if bad.any():
            raise_support(bad, x, cls.support)
        K = int(np.max(x)) + 1
        if K < 2:
            raise ParameterError(
                "n_categories cannot be inferred: every label is 0, so the data show one "
                "category only; pass n_categories=K (K >= 2)"
            )
        return {**fixed, "n_categories": K}

    @classmethod
    def sufficient_statistics(cls, x, fixed):
        x = np.asarray(x, dtype=np.float64)
        return (x[..., None] == np.arange(fixed["n_categories"] - 1)).astype(np.float64)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x))

    @classmethod
    def in_support(cls, x, fixed):
        return (x >= 0) & (x <= fixed["n_categories"] - 1) & (x == np.floor(x))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def moments(cls, eta, fixed):
        p = np.exp(log_probs(eta)[0])
        labels = np.arange(fixed["n_categories"], dtype=np.float64)
        mean = np.sum(p * labels, axis=-1)
        return mean, np.sum(p * (labels - mean[..., None]) ** 2, axis=-1)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        # inverse cdf: x = #{j < K-1 : cdf_j <= U}
        cdf = np.cumsum(np.exp(log_probs(eta)[0]), axis=-1)[..., :-1]
        u = rng.random(size + eta.shape[:-1])
        return np.sum(u[..., None] >= cdf, axis=-1).astype(np.float64)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        """SciPy has no vectorised categorical distribution: ``None``."""
        return None

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The uniform distribution, ``p_j = 1/K``: a pseudo count ``nu`` adds ``nu / K``
        observations to every category."""
        K = fixed["n_categories"]
        return np.full(K - 1, 1.0 / K)
