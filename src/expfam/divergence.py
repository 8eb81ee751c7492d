"""KL divergence, entropy and cross-entropy: closed forms and Monte Carlo estimates.

Within one family, ``KL(p || q)`` is the Bregman divergence of the log partition
(DESIGN.md); the cross-entropy is ``H(p) + KL(p || q)``.  Across families, or for any
model with a log-density and a sampler, the seed's eq. 3 gives a Monte Carlo estimate,
reported with its standard error and a confidence interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special as _special

from ._validation import as_float_array, check_finite, check_nonempty, check_weights
from .errors import FamilyMismatchError, ParameterError


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


def require_same_family(p, q, what: str) -> None:
    """Raise :class:`~expfam.errors.FamilyMismatchError` unless ``p`` and ``q`` are members
    of one family (with a tractable log partition) with the same fixed parameters."""
    if not (hasattr(p, "same_family") and hasattr(p, "log_partition_value")
            and p.same_family(q)):
        raise FamilyMismatchError(
            f"{what} in closed form needs two members of one family with the same fixed "
            f"parameters; got {p!r} and {q!r}. Use the Monte Carlo estimate (mc_kl) instead."
        )


def kl(p, q) -> np.ndarray:
    """``KL(p || q)`` in closed form for two members of one family (batched).

    Computed as the Bregman divergence of the log partition,
    ``A(eta_q) - A(eta_p) - (eta_q - eta_p) . grad A(eta_p)``, or a family's own closed
    form where that is better conditioned.  Raises
    :class:`~expfam.errors.FamilyMismatchError` for different families: use
    :func:`mc_kl` there.  Negative values at rounding level (> -1e-12) are returned as 0.
    """
    require_same_family(p, q, "KL")
    return p.kl(q)


def entropy(p) -> np.ndarray:
    """Entropy of ``p`` in nats: ``A(eta) - eta . mu - E[log h(x)]``."""
    return p.entropy()


def cross_entropy(p, q) -> np.ndarray:
    """``H(p, q) = -E_p[log q(x)] = H(p) + KL(p || q)`` in closed form (same family).

    Summed from the entropy and the KL so that a family's better-conditioned closed
    forms of either are used.
    """
    require_same_family(p, q, "the cross-entropy")
    return p.entropy() + kl(p, q)


def _estimate(values: np.ndarray, w, level: float) -> MonteCarloEstimate:
    if not 0 < level < 1:
        raise ParameterError(f"level must lie in (0, 1); got {level!r}")
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


def mc_cross_entropy(q, samples, weights=None, *, level: float = 0.95) -> MonteCarloEstimate:
    """Monte Carlo cross-entropy ``-(1/N) sum_n log q(x_n)`` (the seed's eq. 3).

    Parameters
    ----------
    q : distribution
        Anything with a ``logpdf`` method (an expfam family, a frozen SciPy distribution).
    samples : array_like
        Samples ``x_n ~ p``, shape ``(N, ...)``.
    weights : array_like, optional
        Importance or frequency weights, shape ``(N,)``.
    level : float
        Confidence level of the interval.

    Returns
    -------
    MonteCarloEstimate
        The estimate of ``H(p, q)``, its standard error ``sd / sqrt(N)`` and interval.
        Samples outside the support of ``q`` make the estimate ``+inf``.
    """
    x = as_float_array(samples, name="samples")
    check_nonempty(x, name="samples")
    check_finite(x, name="samples")
    logq = np.asarray(_logpdf(q, x), dtype=np.float64)
    w = None if weights is None else check_weights(weights, logq.shape, name="weights")
    return _estimate(-logq, w, level)


def mc_kl(p, q, n: int = 100_000, rng=None, *, level: float = 0.95) -> MonteCarloEstimate:
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
    if int(n) < 2:
        raise ParameterError(f"n must be >= 2 to estimate a standard error; got {n!r}")
    rng = np.random.default_rng(rng)
    if hasattr(p, "sample"):
        x = p.sample(int(n), rng=rng)
    else:
        x = p.rvs(size=(int(n),) + tuple(np.shape(p.mean())), random_state=rng)
    with np.errstate(invalid="ignore"):
        d = np.asarray(_logpdf(p, x)) - np.asarray(_logpdf(q, x))
    return _estimate(d, None, level)


def _logpdf(dist, x):
    if hasattr(dist, "logpdf"):
        return dist.logpdf(x)
    return dist.logpmf(x)
