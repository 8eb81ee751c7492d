"""Exact maximum likelihood: from sufficient statistics to parameters by moment matching.

The MLE solves ``grad A(eta) = E_data[u]`` (the seed's eq. 5 set to zero).  The result
reports the moment residual at the solution, whether the solver converged, the
log-likelihood and information criteria, and standard errors from the inverse Fisher
information.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._labels import check_missing_labels
from ._validation import as_float_array
from .errors import (
    ConvergenceWarning,
    EmptyDataError,
    FamilyMismatchError,
    ModelCapabilityError,
    ParameterError,
    ShapeError,
)
from .families import ExponentialFamily, FamilyLike, resolve_family
from .solvers import relative_residual, solve_mean_to_natural
from .stats import SufficientStats

__all__ = ["fit", "fit_stats", "FitResult", "prior_mean_params", "check_pseudo_count"]


@dataclass
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    model : ExponentialFamily
        The fitted distribution (a batch of them for batched or grouped fits).
    loglik, mean_loglik : ndarray
        Total and per-observation (weighted) log-likelihood.
    loglik_error : ndarray
        A bound on the rounding error of ``loglik``.  From the statistics,
        ``loglik = sum log h + eta . sum u - W A(eta)`` loses digits when these terms are
        much larger than their sum (Poisson counts of 1e8, Binomial with ``n = 1e9``);
        :func:`fit` on data in memory then sums the fitted model's log densities
        observation by observation instead (ungrouped fits).
    n : ndarray
        Number of observations; with weights, ``weight_sum`` is used in the criteria.
    weight_sum : ndarray
        Sum of the weights (``n`` without weights).
    n_params : int
        Number of fitted parameters ``k``.
    aic, bic : ndarray
        ``2k - 2 loglik`` and ``k log(weight_sum) - 2 loglik``.
    se_natural : ndarray, shape (..., k)
        Standard errors of the natural parameters, ``sqrt(diag(I(eta)^-1) / weight_sum)``
        (computed on first access).
    se : dict
        Standard errors of the familiar parameters (delta method; on first access).
    converged : ndarray of bool
        Whether the mean -> natural solver reached its tolerance.
    n_iter : int
        Solver iterations (0 for closed forms).
    residual : ndarray, shape (..., k)
        Moment residual ``E_data[u] - E_model[u]`` at the solution (eq. 5); with
        regularisation, the target is the regularised mean.  For pivot families
        (Normal, LogNormal, MultivariateNormal) ``u`` is taken about the pivot ``shift``
        (see :class:`SufficientStats`), the coordinates in which the fit is solved.
    residual_norm : ndarray
        Euclidean norm of ``residual``, relative to the norm of ``E_data[u]``.
    regularization : dict or None
        ``{"pseudo_count": nu, "prior_mean": mu0}`` when regularised.
    groups : ndarray or None
        Group labels of a ``by=`` fit, in the order of the batch axis, in their own type
        (ints, strings, datetimes...); with ``missing_labels="group"`` an object array
        whose last label, ``None``, is the group of the rows whose label is missing.
    stats : SufficientStats
        The statistics the fit was computed from.
    """

    model: ExponentialFamily
    loglik: np.ndarray
    mean_loglik: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    n_params: int
    aic: np.ndarray
    bic: np.ndarray
    converged: np.ndarray
    n_iter: int
    residual: np.ndarray
    residual_norm: np.ndarray
    regularization: dict | None
    groups: np.ndarray | None
    stats: SufficientStats = field(repr=False)
    loglik_error: np.ndarray | None = None
    #: natural parameters about the pivots and the pivots (pivot families), for the
    #: standard errors; ``(model.natural, None)`` otherwise
    _centred: tuple = field(default=(None, None), repr=False, compare=False)

    @property
    def params(self) -> dict:
        """The fitted familiar parameters."""
        return self.model.params

    @cached_property
    def _standard_errors(self):
        # computed on first use: a large batched fit need not pay for them; pivot
        # families about their pivots (the familiar parameters' errors do not change
        # under a shift; the natural parameters' are mapped back linearly)
        cls, fixed = type(self.model), self.model.fixed
        eta_c, shift = self._centred
        if eta_c is None:
            eta_c = self.model.natural
        se_nat, se = _standard_errors(cls, eta_c, fixed, self.weight_sum)
        if shift is not None:
            se_nat = _unshifted_se(cls, eta_c, shift, fixed, self.weight_sum)
        return se_nat, se

    @property
    def se_natural(self) -> np.ndarray:
        """Standard errors of the natural parameters, ``sqrt(diag(I(eta)^-1) / weight_sum)``."""
        return self._standard_errors[0]

    @property
    def se(self) -> dict:
        """Standard errors of the familiar parameters (delta method)."""
        return self._standard_errors[1]

    def to_json(self, *, indent=None) -> str:
        """This result as JSON (versioned schema; :func:`expfam.from_json` reads it)."""
        from ._json import fit_result_json

        return fit_result_json(self, indent)

    def summary(self) -> str:
        """A short human-readable report."""
        fam = type(self.model).__name__
        n = f"n={_fmt(self.n)}"
        if not np.array_equal(self.n, self.weight_sum):
            n += f" (weight sum {_fmt(self.weight_sum)})"
        lines = [f"{fam} fit: {n}, converged={bool(np.all(self.converged))}"]
        for name, value in self.params.items():
            lines.append(f"  {name:>14} = {_fmt(value)}  (se {_fmt(self.se[name])})")
        lines.append(f"  log-likelihood = {_fmt(self.loglik)}  AIC = {_fmt(self.aic)}  "
                     f"BIC = {_fmt(self.bic)}")
        lines.append(f"  residual norm  = {_fmt(self.residual_norm)}")
        if self.regularization:
            lines.append(f"  regularised with pseudo_count = {self.regularization['pseudo_count']}")
        return "\n".join(lines)


def _fmt(v) -> str:
    v = np.asarray(v)
    return f"{float(v):.6g}" if v.ndim == 0 else np.array2string(v, precision=5, threshold=6)


def fit(family: FamilyLike, data: Any, weights: ArrayLike | None = None, *, by: Any = None,
        column: str | int | None = None, pseudo_count: float | None = None,
        prior_mean: Any = None, missing_labels: str = "error", **fixed: Any) -> FitResult:
    """Maximum-likelihood fit of an exponential family (= minimum KL from the data).

    Parameters
    ----------
    family : ExponentialFamily subclass or str
        The family, e.g. ``expfam.Gamma`` or ``"gamma"``.
    data : array_like, pandas Series or DataFrame, or SufficientStats
        Observations, shape ``(n, *batch, *event)``; every batch element (trailing column)
        is fitted separately in one vectorised pass.  A :class:`SufficientStats` is
        fitted directly.  Real numbers only: complex values, text and datetimes raise
        (nothing is coerced); missing values -- ``None``, ``pd.NA``, the masked entries
        of a masked array -- raise :class:`~expfam.errors.NonFiniteError` naming the
        first (a masked value is never used; drop masked rows first, e.g.
        ``x.compressed()``).
    weights : array_like, optional
        Non-negative observation weights, exactly one per observation: shape ``(n,)`` or
        ``(n, *batch)`` (a single weight is not broadcast to every observation).
    by : array_like or str, optional
        Group labels (shape ``(n,)``, or a column name of ``data``): one fit per group.
        Labels keep their type (``result.groups``); labels of mixed types (``1`` and
        ``"1"``) raise :class:`~expfam.errors.LabelError`, and so do missing labels
        unless ``missing_labels="group"``.
    column : str or int, optional
        DataFrame column (a name) holding the observations, or the index of a column of
        a 2-D array (``data[:, column]``, never a row).
    missing_labels : {"error", "group"}
        Rows whose ``by`` label is missing (``None``, NaN, NaT, ``pd.NA``, masked):
        ``"error"`` (default) raises :class:`~expfam.errors.LabelError` naming the first
        row; ``"group"`` fits them as a group of their own, labelled ``None`` and placed
        last in ``result.groups`` (``None`` is never a real label).
    pseudo_count : float, optional
        Strength ``nu > 0`` of a conjugate prior.  The fit then solves
        ``grad A(eta) = (sum_u + nu * mu0) / (W + nu)``, the posterior mode in the
        natural parametrisation, which exists even for boundary data.
    prior_mean : array_like or ExponentialFamily, optional
        The prior's mean parameters ``mu0`` (or a distribution of the family whose mean
        parameters are used).  Default: the family's reference member (see
        ``reference_mean`` of each family).
    **fixed
        The family's fixed parameters (``n`` for Binomial, ``k`` for Weibull...).

    Returns
    -------
    FitResult

    Raises
    ------
    expfam.errors.DataError
        NaN/inf, values outside the support, empty data, bad shapes or weights.
    expfam.errors.BoundaryError
        The MLE does not exist (boundary data) and no ``pseudo_count`` was given.
    """
    delegate = getattr(resolve_family(family), "fit_samples", None)
    if delegate is not None:  # energy-based models fit themselves (expfam.ebm.learning)
        if by is not None or column is not None or pseudo_count is not None:
            raise ParameterError(f"{resolve_family(family).__name__} takes no by=, column= or "
                                 f"pseudo_count= (regularise with l2= or l1=)")
        return delegate(family, data, weights, **fixed)
    missing_labels = check_missing_labels(missing_labels)
    check_pseudo_count(pseudo_count, prior_mean)  # before reading the data
    if isinstance(data, SufficientStats):
        stats = data
        if weights is not None or by is not None or fixed:
            raise ShapeError("weights, by and fixed parameters are part of SufficientStats already")
        if resolve_family(family) is not stats.family:
            raise FamilyMismatchError(f"statistics of {stats.family.__name__} cannot fit "
                                      f"{resolve_family(family).__name__}")
    elif "dask" in sys.modules and sys.modules["dask"].is_dask_collection(data):
        from .distributed import dask_stats  # dask stays optional: no dask data, no import

        stats = dask_stats(family, data, weights, by=by, column=column,
                           missing_labels=missing_labels, **fixed)
    else:
        stats = SufficientStats.from_data(family, data, weights, by=by, column=column,
                                          missing_labels=missing_labels, **fixed)
        result = fit_stats(stats, pseudo_count=pseudo_count, prior_mean=prior_mean)
        if by is None and np.any(result.loglik_error > LOGLIK_RTOL * np.abs(result.loglik)):
            result = _loglik_by_observation(result, as_float_array(data, column=column), weights)
        return result
    return fit_stats(stats, pseudo_count=pseudo_count, prior_mean=prior_mean)


#: the log-likelihood from the statistics is replaced by the sum over the observations
#: (data in memory) when its rounding bound exceeds this fraction of it
LOGLIK_RTOL = 1e-12
_EPS = np.finfo(np.float64).eps


def _loglik_by_observation(result: FitResult, x: np.ndarray, weights) -> FitResult:
    """``result`` with its log-likelihood summed from the log densities of the
    (validated) observations ``x`` under the fitted model, without the cancellation of
    ``sum log h + eta . sum u - W A(eta)``; ``loglik_error`` bounds the rounding of that
    (pairwise) sum."""
    cls, fixed = type(result.model), result.model.fixed
    with np.errstate(all="ignore"):
        lp = cls.log_density(x, result.model.natural, fixed)
    if weights is not None:  # shape (n,) or (n, *batch)
        w = np.asarray(weights, dtype=np.float64)
        lp = lp * w.reshape(w.shape + (1,) * (lp.ndim - w.ndim))
    loglik = np.sum(lp, axis=0)
    error = 2 * _EPS * max(1.0, np.log2(lp.shape[0])) * np.sum(np.abs(lp), axis=0)
    k, W = result.n_params, result.weight_sum
    return replace(result, loglik=loglik, mean_loglik=loglik / W, aic=2 * k - 2 * loglik,
                   bic=k * np.log(W) - 2 * loglik, loglik_error=error)


def fit_stats(stats: SufficientStats, *, pseudo_count: float | None = None,
              prior_mean: Any = None) -> FitResult:
    """Fit from an accumulator (see :func:`fit`)."""
    cls, fixed = stats.family, stats.fixed
    if not cls.has_log_partition:
        raise ModelCapabilityError(
            f"{cls.__name__} has no tractable log partition, so its exact fit (moment "
            f"matching through grad A) is not available: use expfam.fit_sgd, whose model "
            f"moments come from {cls.moment_source(fixed)!r}")
    W = stats.weight_sum
    if W.size == 0 or not np.all(W > 0):
        raise EmptyDataError(
            "no data to fit: the statistics hold no observations"
            + ("" if W.size == 0 else f" for {np.count_nonzero(~(W > 0))} batch element(s)")
        )
    # pivot families: everything below is about the pivots (the law of x - shift)
    shift = stats.shift
    regularization = None
    target_sum, target_W = stats.sum_u, W
    nu = check_pseudo_count(pseudo_count, prior_mean)
    if nu is not None:
        mu0 = prior_mean_params(cls, fixed, prior_mean, stats.mean.shape)
        mu0_c = mu0 if shift is None else cls.shift_sums(mu0, 1.0, shift, fixed)
        target_sum = stats.sum_u + nu * mu0_c
        target_W = W + nu
        regularization = {"pseudo_count": nu, "prior_mean": mu0}
    mu_target = target_sum / target_W[..., None]

    sol = solve_mean_to_natural(cls, mu_target, fixed, groups=stats.groups, from_data=True)
    eta_c = np.asarray(sol.natural)
    eta = eta_c if shift is None else cls.unshift_natural(eta_c, shift, fixed)
    model = cls.from_natural(eta, **fixed)
    mu_model = sol.mean if sol.mean is not None else cls.mean_from_natural(eta_c, fixed)
    residual = mu_target - mu_model
    with np.errstate(all="ignore"):
        residual_norm = relative_residual(cls, eta_c, mu_target, fixed, mean=mu_model)
    # converged: the solver says so and the residual is a number (never NaN)
    converged = np.asarray(sol.converged) & np.isfinite(residual_norm)
    # Eq. 1: sum_n w_n log p(x_n) = sum w log h + eta . sum w u - W A(eta), about the
    # pivots: the returned model (its parameters rounded to float64) re-centred
    eta_m = eta_c if shift is None else cls.shift_natural(model.natural, shift, fixed)
    linear = eta_m * stats.sum_u
    W_A = W * cls.log_partition(eta_m, fixed)
    loglik = stats.sum_log_h + np.sum(linear, axis=-1) - W_A
    # rounding: a few ulps of the largest terms (the sums themselves are compensated)
    loglik_error = 4 * _EPS * (np.abs(stats.sum_log_h) + np.sum(np.abs(linear), axis=-1)
                               + np.abs(W_A))
    k = cls.natural_dim(fixed)
    if not np.all(np.isfinite(loglik)):
        warnings.warn("the log-likelihood is not finite", ConvergenceWarning, stacklevel=2)
    result = FitResult(
        model=model, loglik=loglik, mean_loglik=loglik / W, n=stats.count, weight_sum=W,
        n_params=k, aic=2 * k - 2 * loglik, bic=k * np.log(W) - 2 * loglik,
        converged=converged, n_iter=sol.n_iter,
        residual=residual, residual_norm=residual_norm, regularization=regularization,
        groups=stats.groups, stats=stats, loglik_error=loglik_error,
    )
    result._centred = (eta_c, shift)
    return result


def check_pseudo_count(pseudo_count, prior_mean=None):
    """Validate ``pseudo_count`` (``None`` or a finite real number > 0; returned as a
    float) and its pairing with ``prior_mean`` (used only with a ``pseudo_count``).

    The one validator of :func:`fit`, :func:`expfam.fit_file` and the stochastic learner.
    """
    if pseudo_count is None:
        if prior_mean is not None:
            raise ParameterError("prior_mean is used only with pseudo_count=...; pass both")
        return None
    if (isinstance(pseudo_count, (bool, np.bool_))
            or not isinstance(pseudo_count, (int, float, np.integer, np.floating))
            or not np.isfinite(pseudo_count) or pseudo_count <= 0):
        raise ParameterError(f"pseudo_count must be a finite number > 0; got {pseudo_count!r}")
    return float(pseudo_count)


def prior_mean_params(cls, fixed, prior_mean, shape) -> np.ndarray:
    """The conjugate prior's mean parameters ``mu0`` for ``pseudo_count`` regularisation,
    broadcast to ``shape`` (that of the data's mean parameters): the family's reference
    member by default, the mean parameters of a distribution of the family, or an array
    in the interior of the mean domain."""
    if prior_mean is None:
        return np.array(np.broadcast_to(cls.reference_mean(np.zeros(shape), fixed), shape))
    if hasattr(prior_mean, "mean_params"):
        if type(prior_mean) is not cls:
            raise FamilyMismatchError(
                f"prior_mean must be a {cls.__name__}; got {type(prior_mean).__name__}")
        return np.array(np.broadcast_to(prior_mean.mean_params, shape))
    mu0 = as_float_array(prior_mean, name="prior_mean", invalid=ParameterError,
                         nonfinite=ParameterError)
    try:
        mu0 = np.array(np.broadcast_to(mu0, shape))
    except ValueError as exc:
        raise ShapeError(f"prior_mean: shape {mu0.shape} does not match {shape}") from exc
    if not np.all(cls.mean_in_interior(mu0, fixed)):
        raise ParameterError(f"prior_mean {mu0} is not in the interior of the mean domain")
    return mu0


def _inverse_fisher(cls, eta, fixed, W):
    """``I(eta)^-1 / W``: the covariance of the natural parameters' estimate."""
    info = cls.fisher_from_natural(eta, fixed)
    with np.errstate(all="ignore"):
        try:
            return np.linalg.inv(info) / W[..., None, None]
        except np.linalg.LinAlgError:
            return np.linalg.pinv(info) / W[..., None, None]


def _unshifted_se(cls, eta_c, shift, fixed, W):
    """Standard errors of the natural parameters of the unshifted law: ``unshift`` is
    linear in ``eta_c``, so its Jacobian ``T`` (central differences, exact for a linear
    map) carries the covariance, ``T I^-1 T' / W``."""
    cov = _inverse_fisher(cls, eta_c, fixed, W)
    k = eta_c.shape[-1]
    T = np.zeros(eta_c.shape + (k,))
    for j in range(k):
        h = 1e-3 * np.maximum(np.abs(eta_c[..., j]), 1e-3)
        plus, minus = eta_c.copy(), eta_c.copy()
        plus[..., j] += h
        minus[..., j] -= h
        with np.errstate(all="ignore"):
            T[..., j] = (cls.unshift_natural(plus, shift, fixed)
                         - cls.unshift_natural(minus, shift, fixed)) / (2 * h)[..., None]
    full = np.einsum("...ij,...jk,...lk->...il", T, cov, T)
    return np.sqrt(np.clip(np.diagonal(full, axis1=-2, axis2=-1), 0, None))


def _standard_errors(cls, eta, fixed, W):
    """Inverse Fisher information for ``eta``; delta method for the familiar parameters."""
    cov = _inverse_fisher(cls, eta, fixed, W)
    se_nat = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0, None))
    base = cls.params_from_natural(eta, fixed)
    k = eta.shape[-1]
    jac = {name: np.zeros(np.shape(v) + (k,)) for name, v in base.items()}
    for j in range(k):
        h = 1e-6 * np.maximum(np.abs(eta[..., j]), 1e-3)
        plus, minus = eta.copy(), eta.copy()
        plus[..., j] += h
        minus[..., j] -= h
        ok_p = np.asarray(cls.natural_in_domain(plus, fixed))
        ok_m = np.asarray(cls.natural_in_domain(minus, fixed))
        # one-sided difference at the edge of the domain
        plus = np.where(ok_p[..., None], plus, eta)
        minus = np.where(ok_m[..., None], minus, eta)
        step = np.where(ok_p, h, 0) + np.where(ok_m, h, 0)
        with np.errstate(all="ignore"):
            pp = cls.params_from_natural(plus, fixed)
            pm = cls.params_from_natural(minus, fixed)
        for name in base:
            d = (np.asarray(pp[name]) - np.asarray(pm[name]))
            s = step.reshape(step.shape + (1,) * (d.ndim - step.ndim))
            jac[name][..., j] = d / s
    se = {}
    for name, J in jac.items():
        # Var(g(eta)) = J Cov J^T, elementwise for array-valued parameters
        extra = J.ndim - 1 - cov.ndim + 2  # event axes of the parameter (vectors, matrices)
        c = cov.reshape(cov.shape[:-2] + (1,) * extra + cov.shape[-2:])
        var = np.einsum("...i,...ij,...j->...", J, c, J)
        se[name] = np.sqrt(np.clip(var, 0, None))
    return se_nat, se
