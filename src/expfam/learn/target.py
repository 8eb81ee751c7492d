"""What the learner aims at: the mean of the sufficient statistics over all the data.

The maximum-likelihood estimate of the data solves ``grad A(eta) = mu_hat`` with
``mu_hat = sum_u / W`` over *all* the data the learner has (the training array, or every
batch passed so far), whatever the minibatches were.  With ``pseudo_count = nu`` the
target is the regularised mean ``(sum_u + nu * mu0) / (W + nu)``, exactly as
:func:`expfam.fit` computes it.  When the (unregularised) target lies on the boundary of the
mean domain the MLE does not exist, and :func:`make_target` raises
:class:`~expfam.errors.BoundaryError` as :func:`expfam.fit` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import EmptyDataError
from ..fitting import check_pseudo_count, prior_mean_params  # noqa: F401 (one validator)
from ..solvers import check_interior as _check_interior
from ..stats import SufficientStats


@dataclass(frozen=True)
class Target:
    """The learner's target on the data it has.

    Attributes
    ----------
    mean : ndarray, shape (..., k)
        ``sum_u / W``, or ``(sum_u + nu mu0) / (W + nu)`` when regularised.
    data_weight : ndarray
        ``W``, the sum of the weights of the data.
    weight : ndarray
        ``W + nu`` (``W`` without regularisation): the weight behind ``mean``, which sets
        its standard error.
    pseudo_count : float or None
    prior_mean : ndarray or None
    """

    mean: np.ndarray
    data_weight: np.ndarray
    weight: np.ndarray
    pseudo_count: float | None = None
    prior_mean: np.ndarray | None = None

    def batch_mean(self, mu_batch: np.ndarray) -> np.ndarray:
        """The minibatch's estimate of :attr:`mean`: ``mu_batch`` itself, or with
        regularisation ``(W mu_batch + nu mu0) / (W + nu)``, whose expectation over
        uniformly drawn minibatches is the regularised target (the prior enters every
        step with the weight it has in the full objective)."""
        if self.pseudo_count is None:
            return mu_batch
        W = self.data_weight[..., None]
        return (W * mu_batch + self.pseudo_count * self.prior_mean) / (W + self.pseudo_count)

    @property
    def regularization(self) -> dict | None:
        """``{"pseudo_count": nu, "prior_mean": mu0}`` (as in :class:`expfam.FitResult`), or
        ``None``."""
        if self.pseudo_count is None:
            return None
        return {"pseudo_count": self.pseudo_count, "prior_mean": self.prior_mean}


def check_interior(cls, mu, fixed, groups=None, *, seen: str = "the data") -> None:
    """Raise :class:`BoundaryError` where ``mu`` is not in the interior of the mean domain
    (the check of :func:`expfam.fit`)."""
    _check_interior(cls, mu, fixed, groups=groups, where=seen, from_data=True,
                    consequence=", so the learner has no finite target")


def make_target(stats: SufficientStats, pseudo_count=None, prior_mean=None, *,
                seen: str = "the data") -> Target:
    """The target on ``stats`` (``pseudo_count`` already validated by
    :func:`check_pseudo_count`).

    Raises
    ------
    EmptyDataError
        A batch element has no weight.
    BoundaryError
        Without ``pseudo_count``: the data mean is on the boundary of the mean domain.
    """
    cls, fixed = stats.family, stats.fixed
    W = np.asarray(stats.weight_sum, dtype=np.float64)
    if not np.all(W > 0):
        raise EmptyDataError(
            f"no data to fit: {np.count_nonzero(~(W > 0))} batch element(s) have zero weight")
    mu = stats.mean
    if pseudo_count is None:
        # about the pivots (pivot families), where the boundary test keeps its digits
        check_interior(cls, stats.centred_mean, fixed, stats.groups, seen=seen)
        return Target(mean=mu, data_weight=W, weight=W)
    mu0 = prior_mean_params(cls, fixed, prior_mean, mu.shape)
    mean = (W[..., None] * mu + pseudo_count * mu0) / (W + pseudo_count)[..., None]
    return Target(mean=mean, data_weight=W, weight=W + pseudo_count,
                  pseudo_count=pseudo_count, prior_mean=mu0)
