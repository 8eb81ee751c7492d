"""Categorical distribution on the labels ``{0, 1, ..., K-1}``.

``u(x) = (1[x = 0], ..., 1[x = K-2])`` (one-hot of the first ``K - 1`` categories),
``eta_j = log(p_j / p_{K-1})`` for ``j < K - 1`` (minimal: ``k = K - 1``), ``h = 1``,
``A(eta) = log(1 + sum_j exp(eta_j))``, computed as a log-sum-exp.  The MLE is the vector
of relative frequencies; it exists only when every category is observed.  The
mathematics shared with the Multinomial is :class:`~expfam.families._softmax.SoftmaxFamily`.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_finite, raise_support
from ..domains import NATURALS, Integers
from ..errors import ParameterError, ShapeError
from ._softmax import SoftmaxFamily, log_probs


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
    fixed_params = ("n_categories",)
    integer_fixed = {"n_categories": 2}
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
        bad = ~NATURALS.contains(x)
        if bad.any():
            raise_support(bad, x, str(NATURALS))
        K = int(np.max(x)) + 1
        if K < 2:
            raise ParameterError(
                "n_categories cannot be inferred: every label is 0, so the data show one "
                "category only; pass n_categories=K (K >= 2)"
            )
        return {**fixed, "n_categories": K}

    @classmethod
    def support_of(cls, fixed):
        return Integers(0, fixed["n_categories"] - 1)

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        x = np.asarray(x, dtype=np.float64)
        return (x[..., None] == np.arange(fixed["n_categories"] - 1)).astype(np.float64)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log p_x`` (the largest probability's log without cancellation)."""
        lp = log_probs(eta)[0]
        idx = np.asarray(x, dtype=np.float64)
        idx = np.where((idx >= 0) & (idx < lp.shape[-1]), idx, 0).astype(np.intp)
        lp, idx = np.broadcast_arrays(lp, idx[..., None])
        return np.take_along_axis(lp, idx[..., :1], axis=-1)[..., 0]

    entropy_kernel = "softmax_entropy"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``-sum_j p_j log p_j``, a sum of non-negative terms."""
        lp = log_probs(eta)[0]
        return -np.sum(np.exp(lp) * lp, axis=-1)

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
