"""KL divergence, entropy and cross-entropy: closed forms and Monte Carlo estimates.

Within one family, ``KL(p || q)`` is the Bregman divergence of the log partition
(DESIGN.md); the cross-entropy is ``H(p) + KL(p || q)``.  Across families, or for any
model with a log-density and a sampler, the seed's eq. 3 gives a Monte Carlo estimate,
reported with its standard error and a confidence interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._lazy import special as _special
from ._validation import as_float_array, as_rng, check_finite, check_int, check_nonempty, check_weights
from .errors import FamilyMismatchError, InputTypeError, ParameterError, ShapeError

#: batches of at least this many pairs take the family's compiled kernel (if it declares
#: one, see :meth:`expfam.families.ExponentialFamily._compiled`); smaller ones the NumPy
#: closed forms, so that a small call never waits for numba's import or a compilation
#: (the kernels are cached on disk: compiled once per machine)
KERNEL_MIN_SIZE = 1 << 14


def _declared_with(cls: type, attr: str, method: str) -> bool:
    """Whether the class that gives ``cls`` its ``attr`` also gives it ``method`` (a
    subclass that overrides the closed form does not inherit its parent's kernel)."""
    for klass in cls.__mro__:
        if attr in klass.__dict__ or method in klass.__dict__:
            return attr in klass.__dict__ and bool(klass.__dict__[attr])
    return False


def kernel_for(cls: type, what: str, size: int) -> str | None:
    """The name of the compiled kernel for ``what`` (``"kl"`` or ``"entropy"``) of a batch of
    ``size`` distributions of family ``cls``, or ``None``: below :data:`KERNEL_MIN_SIZE`,
    when the family declares none, or when the kernels are off
    (``EXPFAM_DISABLE_KERNELS=1``) or numba is missing."""
    if size < KERNEL_MIN_SIZE:
        return None
    attr, method = f"{what}_kernel", f"{what}_natural"
    if not _declared_with(cls, attr, method):
        return None
    from ._kernels import _load_jit

    if _load_jit() is None:
        return None
    return getattr(cls, attr)


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A Monte Carlo estimate with its uncertainty.

    Attributes
    ----------
    estimate : ndarray
        The sample average.
    se : ndarray
        Its standard error, ``sd / sqrt(n_eff)``.
    ci_low, ci_high : ndarray
        Normal-approximation confidence interval at level ``level``.
    n : int
        Number of samples.
    n_eff : ndarray
        Effective sample size (Kish's ``(sum w)^2 / sum w^2`` with weights; ``n`` without).
    level : float
        Confidence level of the interval.
    """

    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: int
    n_eff: np.ndarray
    level: float

    def __float__(self):
        return float(self.estimate)

    def __repr__(self):
        e, s = np.asarray(self.estimate), np.asarray(self.se)
        if e.ndim == 0:
            return f"MonteCarloEstimate({float(e):.6g} +- {float(s):.2g}, n={self.n})"
        return f"MonteCarloEstimate(estimate={e}, se={s}, n={self.n})"


def _describe(obj) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__name__} (an instance is needed, e.g. {obj.__name__}(...))"
    text = repr(obj)
    return f"{type(obj).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def require_distribution(obj, role: str, *methods: str) -> None:
    """Raise :class:`~expfam.errors.InputTypeError` unless ``obj`` is a distribution (an
    instance) with one of each group of ``methods`` (``"logpdf|logpmf"``: either)."""
    ok = not isinstance(obj, type) and all(
        any(callable(getattr(obj, m, None)) for m in group.split("|")) for group in methods)
    if not ok:
        need = " and ".join(group.replace("|", " or ") for group in methods)
        raise InputTypeError(f"{role}: expected a distribution (an expfam family instance such "
                             f"as expfam.Gamma(shape=2.0, rate=1.0), or an object with {need}); "
                             f"got {_describe(obj)}")


def check_batch_shapes(p, q, what: str) -> tuple:
    """The broadcast batch shape of two distributions; :class:`ShapeError` naming both
    shapes when they do not broadcast."""
    a, b = tuple(getattr(p, "batch_shape", ())), tuple(getattr(q, "batch_shape", ()))
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise ShapeError(f"{what}: the batch shapes {a} and {b} of the two distributions do "
                         f"not broadcast (each axis must be equal or 1)") from None


def require_same_family(p, q, what: str) -> None:
    """Raise :class:`~expfam.errors.FamilyMismatchError` unless ``p`` and ``q`` are members
    of one family (with a tractable log partition) with the same fixed parameters
    (:class:`~expfam.errors.InputTypeError` when either is not a distribution, and
    :class:`~expfam.errors.ShapeError` when their batch shapes do not broadcast)."""
    require_distribution(p, f"{what}: p", "logpdf|logpmf")
    require_distribution(q, f"{what}: q", "logpdf|logpmf")
    if not (hasattr(p, "same_family") and hasattr(p, "log_partition_value")
            and p.same_family(q)):
        raise FamilyMismatchError(
            f"{what} in closed form needs two members of one family with the same fixed "
            f"parameters; got {p!r} and {q!r}. Use the Monte Carlo estimate (mc_kl) instead."
        )
    check_batch_shapes(p, q, what)


def kl(p: Any, q: Any) -> np.ndarray:
    """``KL(p || q)`` in closed form for two members of one family (batched).

    Computed as the Bregman divergence of the log partition,
    ``A(eta_q) - A(eta_p) - (eta_q - eta_p) . grad A(eta_p)``, or a family's own closed
    form where that is better conditioned.  Raises
    :class:`~expfam.errors.FamilyMismatchError` for different families: use
    :func:`mc_kl` there.  Negative values at rounding level (> -1e-12) are returned as 0.
    """
    require_same_family(p, q, "KL")
    return p.kl(q)


def entropy(p: Any) -> np.ndarray:
    """Entropy of ``p`` in nats: ``A(eta) - eta . mu - E[log h(x)]``.

    Raises :class:`~expfam.errors.InputTypeError` when ``p`` is not a distribution."""
    require_distribution(p, "entropy", "entropy")
    return p.entropy()


def cross_entropy(p: Any, q: Any) -> np.ndarray:
    """``H(p, q) = -E_p[log q(x)] = H(p) + KL(p || q)`` in closed form (same family).

    Summed from the entropy and the KL so that a family's better-conditioned closed
    forms of either are used.
    """
    require_same_family(p, q, "the cross-entropy")
    return p.entropy() + kl(p, q)


def _estimate(values: np.ndarray, w, level: float) -> MonteCarloEstimate:
    if (isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.integer,
                                                                      np.floating))
            or not 0 < level < 1):
        raise ParameterError(f"level must be a number in (0, 1); got {level!r}")
    n = values.shape[0]
    z = _special.ndtri(0.5 + level / 2)
    with np.errstate(invalid="ignore"):
        if w is None:
            est = values.mean(axis=0)
            sd = values.std(axis=0, ddof=1) if n > 1 else np.full(est.shape, np.inf)
            n_eff = np.full(np.shape(est), float(n))
        else:
            W = w.sum(axis=0)
            est = np.sum(w * values, axis=0) / W
            n_eff = W**2 / np.sum(w * w, axis=0)
            var = np.sum(w * (values - est) ** 2, axis=0) / W
            sd = np.sqrt(var * n_eff / np.maximum(n_eff - 1, 1e-300))
        # an infinite estimate (support mismatch) is exact: no sampling error
        se = np.where(np.isfinite(est), sd / np.sqrt(n_eff), 0.0)
    return MonteCarloEstimate(est, se, est - z * se, est + z * se, n, n_eff, level)


def mc_cross_entropy(q: Any, samples: ArrayLike, weights: ArrayLike | None = None, *,
                     level: float = 0.95) -> MonteCarloEstimate:
    """Monte Carlo cross-entropy ``-(1/N) sum_n log q(x_n)`` (the seed's eq. 3).

    Parameters
    ----------
    q : distribution
        Anything with a ``logpdf`` method (an expfam family, a frozen SciPy distribution).
    samples : array_like
        Samples ``x_n ~ p``, shape ``(N, *batch, *event)``: axis 0 is the sample axis, and
        for an expfam ``q`` of batch shape ``B`` the next ``len(B)`` axes match ``B``
        (each equal or 1: ``(N, 1)`` scores the same samples under every distribution
        of a batch of shape ``(b,)``; plain ``(N,)`` samples for a batched ``q`` raise a
        :class:`~expfam.errors.ShapeError`, since they would be matched against the
        batch axis).
    weights : array_like, optional
        Importance or frequency weights, one per sample: shape ``(N,)`` or
        ``(N, *batch)``.
    level : float
        Confidence level of the interval.

    Returns
    -------
    MonteCarloEstimate
        The estimate of ``H(p, q)``, its standard error ``sd / sqrt(N)`` and interval.
        Samples outside the support of ``q`` make the estimate ``+inf``.
    """
    require_distribution(q, "mc_cross_entropy: q", "logpdf|logpmf")
    x = as_float_array(samples, name="samples")
    check_nonempty(x, name="samples")
    check_finite(x, name="samples")
    _check_samples(q, x)
    logq = np.asarray(_logpdf(q, x), dtype=np.float64)
    if logq.shape[:1] != x.shape[:1]:  # a non-expfam q that does not keep the sample axis
        raise ShapeError(f"samples: shape {x.shape}; q.logpdf returned shape {logq.shape}, "
                         f"which has no sample axis of length {x.shape[0]} first")
    w = None if weights is None else check_weights(weights, logq.shape, name="weights")
    return _estimate(-logq, w, level)


def mc_kl(p: Any, q: Any, n: int = 100_000, rng: Any = None, *,
          level: float = 0.95) -> MonteCarloEstimate:
    """Monte Carlo ``KL(p || q) = E_p[log p(x) - log q(x)]`` for any two models.

    ``p`` needs ``sample`` (or SciPy's ``rvs``) and ``logpdf``; ``q`` needs ``logpdf``.
    The families may differ.  Samples of ``p`` outside the support of ``q`` make the
    estimate ``+inf`` (and that is exact).

    Parameters
    ----------
    p, q : distributions
    n : int
        Number of samples of ``p``.
    rng : numpy.random.Generator or int, optional
    level : float
        Confidence level of the interval.
    """
    n = check_int(n, "n", 2)
    require_distribution(p, "mc_kl: p", "sample|rvs", "logpdf|logpmf")
    require_distribution(q, "mc_kl: q", "logpdf|logpmf")
    batch = check_batch_shapes(p, q, "mc_kl")
    rng = as_rng(rng)
    if hasattr(p, "sample"):
        x = p.sample(n, rng=rng)
    else:
        x = p.rvs(size=(n,) + tuple(np.shape(p.mean())), random_state=rng)
    # the samples' batch axes aligned with the broadcast batch shape (after the sample axis)
    extra = len(batch) - len(getattr(p, "batch_shape", batch))
    if extra > 0:
        x = np.asarray(x)[(slice(None),) + (None,) * extra]
    with np.errstate(invalid="ignore"):
        d = np.asarray(_logpdf(p, x)) - np.asarray(_logpdf(q, x))
    return _estimate(d, None, level)


def _check_samples(q, x) -> None:
    """Samples ``(N, *batch, *event)`` for an expfam model ``q`` of batch shape ``B``: the
    axes after the sample axis match ``B`` (each equal or 1)."""
    batch = getattr(q, "batch_shape", None)
    event_ndim = getattr(q, "event_ndim", None)
    if batch is None or event_ndim is None or not batch:
        return
    mid = x.shape[1: x.ndim - event_ndim]
    if len(mid) != len(batch) or any(m not in (1, b) for m, b in zip(mid, batch)):
        want = (("N",) + tuple(batch) + x.shape[x.ndim - event_ndim:] if x.ndim > event_ndim
                else ("N",) + tuple(batch))
        raise ShapeError(
            f"samples: shape {x.shape} for a model of batch shape {tuple(batch)}; expected "
            f"{'(' + ', '.join(map(str, want)) + ')'}: axis 0 holds the samples, the next "
            f"{len(batch)} axis/axes the batch (size 1 to share the samples across it)")


def _logpdf(dist, x):
    if hasattr(dist, "logpdf"):
        return dist.logpdf(x)
    return dist.logpmf(x)
