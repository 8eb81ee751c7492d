"""Multinomial distribution: counts of ``n`` independent draws among ``K`` categories.

An observation is a count vector ``x = (x_0, ..., x_{K-1})`` of non-negative integers
with ``sum x = n``.  ``u(x) = (x_0, ..., x_{K-2})`` (the last count is determined),
``eta_j = log(p_j / p_{K-1})`` (minimal: ``k = K - 1``), ``log h = log n! - sum log x_j!``,
``A(eta) = n log(1 + sum_j exp(eta_j))`` (log-sum-exp).

``E[log h]`` (for the entropy) is exact: each count is ``x_j ~ Binomial(n, p_j)``, so
``E[log x_j!] = sum_{m=0}^{n} P(x_j = m) log m!``, a finite sum over ``0..n`` costing
``O(n K)`` per distribution.  ``log(1 - p_j)`` is a log-sum-exp of the other
log-probabilities, accurate when ``p_j`` is close to 1.
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from .._validation import check_finite, format_index, raise_support
from ..domains import CountVectors
from ..errors import ParameterError, ShapeError
from ._base import check_integer
from ._softmax import SoftmaxFamily, log_probs


def log_complement(logp: np.ndarray) -> np.ndarray:
    """``log(1 - p_j) = log sum_{i != j} p_i`` for log-probabilities of shape ``(..., K)``."""
    K = logp.shape[-1]
    L = np.array(np.broadcast_to(logp[..., None, :], logp.shape + (K,)))
    L[..., np.arange(K), np.arange(K)] = -np.inf
    return special.logsumexp(L, axis=-1)


def expected_log_factorial_binomial(logp, logq, n: int) -> np.ndarray:
    """``E[log x!]`` for ``x ~ Binomial(n, p)`` given ``log p`` and ``log(1 - p)``:
    the exact sum over ``m = 0..n``."""
    m = np.arange(n + 1, dtype=np.float64)
    lf = special.gammaln(m + 1)
    logpmf = (
        special.gammaln(n + 1.0) - lf - lf[::-1]
        + m * np.asarray(logp)[..., None] + (n - m) * np.asarray(logq)[..., None]
    )
    return np.sum(np.exp(logpmf) * lf, axis=-1)


class Multinomial(SoftmaxFamily):
    """Multinomial distribution of ``n`` draws with category probabilities ``probs``.

    Parameters
    ----------
    n : int
        Number of draws, a positive integer (fixed parameter).  When fitting it is inferred
        from the data if every row has the same total.
    probs : array_like, shape (..., K)
        Category probabilities, all > 0, each row summing to 1.  ``K >= 2`` (the fixed
        parameter ``n_categories``) is the length of the last axis; when fitting it is the
        length of the data's last axis.
    """

    name = "multinomial"
    event_ndim = 1
    fixed_params = ("n", "n_categories")
    integer_fixed = {"n": 1, "n_categories": 2}
    boundary_hint = "a category has zero total count, so its estimated probability is 0"

    def __init__(self, n=1, probs=(0.5, 0.5)):
        if np.ndim(probs) == 0:
            raise ShapeError(f"parameter 'probs' must be a vector of probabilities; got {probs!r}")
        fixed = {"n": n, "n_categories": np.shape(probs)[-1]}
        self._init_natural(self.natural_from_params(self.check_fixed(fixed), probs=probs), fixed)

    @classmethod
    def _draws(cls, fixed):
        return fixed["n"]

    @classmethod
    def infer_fixed(cls, x, fixed):
        check_finite(x)  # infer_fixed may run before the data are checked
        fixed = dict(fixed)
        K = x.shape[-1]
        if "n_categories" not in fixed:
            fixed["n_categories"] = K
        elif check_integer(fixed["n_categories"], "n_categories", 2) != K:
            raise ShapeError(
                f"data: observations have {K} categories (last axis) but "
                f"n_categories={fixed['n_categories']!r}"
            )
        if "n" in fixed:
            return fixed
        bad = ~np.all((x >= 0) & (x == np.floor(x)), axis=-1)
        if bad.any():
            raise_support(bad, x, "count vectors of non-negative integers")
        totals = np.sum(x, axis=-1)
        differ = totals != totals.flat[0]
        if differ.any():
            i = np.flatnonzero(differ)[0]
            raise ParameterError(
                f"n cannot be inferred: row {format_index(0, totals.shape)} sums to "
                f"{totals.flat[0]:g} but row {format_index(i, totals.shape)} sums to "
                f"{totals.flat[i]:g}; pass n=..."
            )
        fixed["n"] = float(totals.flat[0])
        return fixed

    @classmethod
    def _check_event(cls, x, fixed):
        K = fixed["n_categories"]
        if np.ndim(x) < 1 or np.shape(x)[-1] != K:
            raise ShapeError(
                f"{cls.__name__} observations are count vectors of length {K}; got an array "
                f"of shape {np.shape(x)}"
            )

    @classmethod
    def support_of(cls, fixed):
        return CountVectors(fixed["n_categories"], fixed["n"])

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        cls._check_event(x, fixed)
        return np.asarray(x, dtype=np.float64)[..., :-1]

    @classmethod
    def log_base_measure(cls, x, fixed):
        return special.gammaln(fixed["n"] + 1.0) - np.sum(special.gammaln(np.asarray(x) + 1), axis=-1)

    @classmethod
    def in_support(cls, x, fixed):
        cls._check_event(x, fixed)
        return cls.support_of(fixed).contains(x)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        n = fixed["n"]
        logp = log_probs(eta)[0]
        elf = expected_log_factorial_binomial(logp, log_complement(logp), n)
        return special.gammaln(n + 1.0) - np.sum(elf, axis=-1)

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log n! - sum log x_j! + sum x_j log p_j`` in the deviance form
        (:func:`expfam._precise.multinomial_log_pmf`)."""
        return _precise.multinomial_log_pmf(x, fixed["n"], log_probs(eta)[0])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """Shannon entropy in nats (:func:`expfam._precise.multinomial_entropy`)."""
        return _precise.multinomial_entropy(fixed["n"], eta)

    @classmethod
    def moments(cls, eta, fixed):
        n = fixed["n"]
        logp = log_probs(eta)[0]
        p = np.exp(logp)
        cov = -n * p[..., :, None] * p[..., None, :]
        K = p.shape[-1]
        # diagonal n p_j (1 - p_j), with 1 - p_j from the other probabilities
        cov[..., np.arange(K), np.arange(K)] = n * p * np.exp(log_complement(logp))
        return n * p, cov

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = np.exp(log_probs(eta)[0])
        return rng.multinomial(fixed["n"], p, size=size + eta.shape[:-1]).astype(np.float64)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.multinomial(fixed["n"], np.exp(log_probs(eta)[0]))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The uniform multinomial, ``p_j = 1/K`` (mean counts ``n/K``): a pseudo count
        ``nu`` adds ``nu`` rows of ``n/K`` counts per category."""
        n, K = fixed["n"], fixed["n_categories"]
        return np.full(K - 1, n / K)
