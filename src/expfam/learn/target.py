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

from .._validation import as_float_array, format_index, show
from ..errors import BoundaryError, EmptyDataError, ParameterError, ShapeError
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


def check_pseudo_count(pseudo_count, prior_mean):
    """Validate ``pseudo_count`` (``None`` or a finite number > 0)."""
    if pseudo_count is None:
        if prior_mean is not None:
            raise ParameterError("prior_mean is used only with pseudo_count=...; pass both")
        return None
    if (isinstance(pseudo_count, bool)
            or not isinstance(pseudo_count, (int, float, np.integer, np.floating))
            or not np.isfinite(pseudo_count) or pseudo_count <= 0):
        raise ParameterError(f"pseudo_count must be a finite number > 0; got {pseudo_count!r}")
    return float(pseudo_count)


def resolve_prior_mean(cls, fixed, prior_mean, mu_data):
    """The prior's mean parameters ``mu0``, broadcast to ``mu_data``'s shape: the family's
    reference member by default, the mean parameters of a distribution of the family, or
    an array in the interior of the mean domain (the rules of :func:`expfam.fit`)."""
    if prior_mean is None:
        return np.array(np.broadcast_to(cls.reference_mean(mu_data, fixed), mu_data.shape))
    if hasattr(prior_mean, "mean_params"):
        if type(prior_mean) is not cls:
            raise ShapeError(
                f"prior_mean must be a {cls.__name__}; got {type(prior_mean).__name__}")
        mu0 = np.asarray(prior_mean.mean_params, dtype=np.float64)
    else:
        mu0 = as_float_array(prior_mean, name="prior_mean")
    try:
        mu0 = np.array(np.broadcast_to(mu0, mu_data.shape))
    except ValueError as exc:
        raise ShapeError(
            f"prior_mean: shape {mu0.shape} does not match {mu_data.shape}") from exc
    if not np.all(cls.mean_in_interior(mu0, fixed)):
        raise ParameterError(f"prior_mean {mu0} is not in the interior of the mean domain")
    return mu0


def check_interior(cls, mu, fixed, groups=None, *, seen: str = "the data") -> None:
    """Raise :class:`BoundaryError` where ``mu`` is not in the interior of the mean domain
    (the check of :func:`expfam.solvers.solve_mean_to_natural`)."""
    interior = np.asarray(cls.mean_in_interior(mu, fixed))
    if interior.all():
        return
    k = mu.shape[-1]
    bad = np.flatnonzero(~interior)
    i = bad[0]
    where = (f"group {show(groups[i])}" if groups is not None
             else f"batch index {format_index(i, interior.shape)}" if interior.ndim
             else seen)
    raise BoundaryError(
        f"the maximum-likelihood estimate of {cls.__name__} does not exist for {where}"
        f"{f' ({bad.size} batch elements in all)' if bad.size > 1 else ''}: the mean of the "
        f"sufficient statistics {mu.reshape(-1, k)[i]} lies on the boundary of the mean "
        f"domain ({cls.boundary_hint}), so the learner has no finite target. Pass "
        f"pseudo_count=... to regularise with a conjugate prior."
    )


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
        check_interior(cls, mu, fixed, stats.groups, seen=seen)
        return Target(mean=mu, data_weight=W, weight=W)
    mu0 = resolve_prior_mean(cls, fixed, prior_mean, mu)
    mean = (stats.sum_u + pseudo_count * mu0) / (W + pseudo_count)[..., None]
    return Target(mean=mean, data_weight=W, weight=W + pseudo_count,
                  pseudo_count=pseudo_count, prior_mean=mu0)
