"""Minibatches: validation, one summary per batch, and sampling from an array.

A batch enters the learner only through its :class:`BatchSummary`: the weighted mean
``E_batch[u]`` (the first term of the seed's eq. 5).  The summary also keeps what the
minibatch cross-entropy ``-(1/B) sum_n log p(x_n | eta)`` and its standard error need, for
any ``eta``: with ``z = (log h(x), u(x))`` and ``a = (1, eta)``, ``-log p(x) = A(eta) - a.z``,
so the mean is ``A(eta) - a . mean(z)`` and the variance ``a' Cov(z) a`` (computed once
per batch, then O(k^2) per evaluation -- the full batch is summarised once for a fit).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_finite, check_nonempty, check_weights
from ..errors import ParameterError, ShapeError
from ..families._base import check_support
from ..stats import SufficientStats


def validate_batch(cls, batch, weights, fixed: dict | None, name: str = "batch"):
    """Check one batch of observations; return ``(x, w, fixed)``.

    Raises the usual :class:`~expfam.errors.DataError` subclasses (NaN/inf, values
    outside the support, empty batch, bad shapes or weights).  The fixed parameters the
    family can read from data (``infer_fixed``) are filled in; ``w`` is ``None`` or the
    weights broadcast to the observations' shape ``(B, *batch_shape)``.
    """
    x = as_float_array(batch, name=name)
    check_nonempty(x, name=name)
    if x.ndim < 1 + cls.event_ndim:
        raise ShapeError(
            f"{name}: {cls.__name__} observations have {cls.event_ndim} axis/axes; expected an "
            f"array of shape (n, ...), got {x.shape}"
        )
    check_finite(x, name=name)
    fixed = cls.check_fixed(cls.infer_fixed(x, dict(fixed)))
    check_support(cls, x, fixed, name=name)
    obs_shape = x.shape[: x.ndim - cls.event_ndim]
    w = None if weights is None else check_weights(weights, obs_shape)
    return x, w, fixed


class BatchSummary:
    """What the learner needs from one batch.

    Parameters
    ----------
    u : ndarray, shape (B, *batch, k)
        Sufficient statistics of the observations.
    log_h : ndarray, shape (B, *batch)
        Log base measure of the observations.
    w : ndarray, shape (B, *batch), optional
        Non-negative weights (validated).
    mean_u : ndarray, shape (*batch, k), optional
        The unweighted mean of ``u`` when it is known already (more accurately, from a
        :class:`~expfam.SufficientStats` pass).
    """

    def __init__(self, u, log_h, w=None, mean_u=None):
        self.u, self.log_h, self.w = u, log_h, w
        if w is None:
            self.weight_sum = np.full(u.shape[1:-1], float(u.shape[0]))
            self.mean_u = np.mean(u, axis=0) if mean_u is None else mean_u
        else:
            self.weight_sum = np.sum(w, axis=0)
            self.mean_u = np.sum(u * w[..., None], axis=0) / self.weight_sum[..., None]
        self._z = None  # (mean of z, covariance of z, n_eff), computed on first use

    @classmethod
    def from_data(cls_, family, x, w, fixed) -> "BatchSummary":
        """Summary of validated observations ``x`` (see :func:`validate_batch`)."""
        return cls_(family.sufficient_statistics(x, fixed), family.log_base_measure(x, fixed), w)

    def to_stats(self, family, fixed) -> SufficientStats:
        """The batch as an additive :class:`~expfam.SufficientStats` accumulator."""
        count = (np.full(self.weight_sum.shape, self.u.shape[0]) if self.w is None
                 else np.count_nonzero(self.w > 0, axis=0))
        w = 1.0 if self.w is None else self.w
        sum_u = self.mean_u * self.weight_sum[..., None]
        return SufficientStats(family, fixed, count, self.weight_sum, sum_u,
                               np.sum(self.log_h * w, axis=0))

    def _z_moments(self):
        if self._z is None:
            z = np.concatenate([self.log_h[..., None], self.u], axis=-1)
            n = z.shape[0]
            if self.w is None:
                mean = z.mean(axis=0)
                n_eff = np.full(self.weight_sum.shape, float(n))
                d = (z - mean).reshape(n, -1, z.shape[-1])
                # batched d' d by BLAS: (b, k+1, n) @ (b, n, k+1)
                cov = np.matmul(d.transpose(1, 2, 0), d.transpose(1, 0, 2))
                cov = cov.reshape(mean.shape + z.shape[-1:]) / max(n - 1, 1)
            else:
                W = self.weight_sum
                mean = np.sum(z * self.w[..., None], axis=0) / W[..., None]
                n_eff = W**2 / np.sum(self.w**2, axis=0)
                d = z - mean
                cov = np.einsum("n...,n...i,n...j->...ij", self.w, d, d) / W[..., None, None]
                cov *= (n_eff / np.maximum(n_eff - 1, 1e-300))[..., None, None]
            if n == 1:
                cov = np.full(cov.shape, np.inf)
            self._z = (mean, cov, n_eff)
        return self._z

    def cross_entropy(self, family, eta, fixed):
        """Minibatch cross-entropy ``-(1/B) sum w_n log p(x_n | eta)`` and its standard
        error (the formula of :func:`expfam.mc_cross_entropy`); NaN where the family has
        no tractable log partition."""
        mean, cov, n_eff = self._z_moments()
        if not family.has_log_partition:
            nan = np.full(eta.shape[:-1], np.nan)
            return nan, nan
        A = family.log_partition(eta, fixed)
        a = np.concatenate([np.ones(eta.shape[:-1] + (1,)), eta], axis=-1)
        with np.errstate(all="ignore"):
            est = A - np.sum(a * mean, axis=-1)
            var = np.einsum("...i,...ij,...j->...", a, cov, a)
            se = np.sqrt(np.clip(var, 0, None) / n_eff)
        return est, se


class ArrayBatches:
    """Minibatches drawn from validated in-memory statistics.

    ``u`` and ``log h`` are computed once for the whole array (the data are read once);
    each batch is a selection of rows.

    Parameters
    ----------
    u, log_h : ndarray
        Statistics of all ``n`` observations (leading axis).
    batch_size : int or None
        ``None`` or ``>= n``: every batch is the full data (one summary, reused).
    sampling : {"shuffle", "replacement"}
        ``"shuffle"``: epochs of a fresh random permutation cut into
        ``ceil(n / batch_size)`` consecutive batches of nearly equal sizes (they differ by
        at most one, so that every observation has about the same weight in an epoch and
        the minibatch noise cancels over it); ``"replacement"``: ``batch_size``
        independent uniform draws per batch.
    rng : numpy.random.Generator
    mean_u : ndarray, optional
        The exact mean of ``u`` over all rows (used for the full batch).
    """

    def __init__(self, u, log_h, batch_size, sampling, rng, mean_u=None):
        if sampling not in ("shuffle", "replacement"):
            raise ParameterError(f"sampling must be 'shuffle' or 'replacement'; got {sampling!r}")
        self.u, self.log_h, self.rng, self.sampling = u, log_h, rng, sampling
        self.n = u.shape[0]
        self.full_batch = batch_size is None or batch_size >= self.n
        self.batch_size = self.n if self.full_batch else int(batch_size)
        self._full = BatchSummary(u, log_h, mean_u=mean_u) if self.full_batch else None
        #: batches per epoch, and where each starts in an epoch's permutation
        self.per_epoch = -(-self.n // self.batch_size)
        self._edges = (np.arange(self.per_epoch + 1) * self.n) // self.per_epoch
        self._perm, self._pos = None, self.per_epoch

    def next(self) -> BatchSummary:
        """The next minibatch summary."""
        if self.full_batch:
            return self._full
        if self.sampling == "replacement":
            idx = self.rng.integers(0, self.n, self.batch_size)
        else:
            if self._pos >= self.per_epoch:
                self._perm, self._pos = self.rng.permutation(self.n), 0
            idx = self._perm[self._edges[self._pos]: self._edges[self._pos + 1]]
            self._pos += 1
        return BatchSummary(self.u[idx], self.log_h[idx])
