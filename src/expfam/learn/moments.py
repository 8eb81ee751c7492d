"""Sources of the model moment ``E_eta[u]`` (the second term of the seed's eq. 5).

The learner asks a source for the mean of the sufficient statistics at ``eta`` and, for
the natural gradient, for the Fisher information ``Cov_eta[u]``.  It does not care how
they are obtained (DESIGN.md):

- :class:`ExactMoments`: ``grad A`` and ``hess A`` in closed form
  (``cls.mean_from_natural``, ``cls.fisher_from_natural``);
- :class:`SampledMoments`: Monte Carlo averages over ``m`` samples of the current model,
  for families whose log partition is intractable.  The sampler is pluggable (the
  default is the family's exact ``draw``; an MCMC sampler for Ising models fits the same
  slot).

A source is any object with the methods ``mean(cls, eta, fixed, rng) -> MomentEstimate``
and ``fisher(cls, eta, fixed, rng) -> ndarray (..., k, k)`` and an attribute ``exact``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError


@dataclass(frozen=True)
class MomentEstimate:
    """The model moment ``E_eta[u]``, shape ``(..., k)``, with its Monte Carlo standard
    error (zeros for an exact source)."""

    mean: np.ndarray
    se: np.ndarray


class ExactMoments:
    """Closed-form moments: ``E_eta[u] = grad A(eta)``, Fisher ``= hess A(eta)``."""

    exact = True

    def mean(self, cls, eta, fixed, rng=None) -> MomentEstimate:
        mu = cls.mean_from_natural(eta, fixed)
        return MomentEstimate(mu, np.zeros(np.shape(mu)))

    def fisher(self, cls, eta, fixed, rng=None) -> np.ndarray:
        return cls.fisher_from_natural(eta, fixed)

    def __repr__(self):
        return "ExactMoments()"


def draw_sampler(cls, eta, fixed, size: int, rng):
    """The default sampler: ``size`` exact draws of the model (``cls.draw``)."""
    return cls.draw(eta, fixed, (size,), rng)


class SampledMoments:
    """Monte Carlo moments from ``n_samples`` draws of the current model.

    ``E_eta[u]`` is the sample mean of ``u`` over the draws, with standard error
    ``sd / sqrt(n_samples)``; the Fisher information is the sample covariance of ``u``
    over a *second, independent* set of draws.  (Estimating both from the same draws
    would correlate the preconditioner with the residual and bias the fixed point of the
    natural-gradient iteration by O(1/n_samples).)

    Parameters
    ----------
    n_samples : int
        Number of model samples per moment estimate (>= 2).
    sampler : callable, optional
        ``sampler(cls, eta, fixed, size, rng)`` returning ``size`` samples of the model,
        shape ``(size, *batch, *event)``.  Default: :func:`draw_sampler` (exact draws);
        an MCMC sampler may be plugged in here (its samples should then be close to
        independent, or the standard errors are too small).
    """

    exact = False

    def __init__(self, n_samples: int, sampler=None):
        if (isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer))
                or n_samples < 2):
            raise ParameterError(f"n_model_samples must be an integer >= 2; got {n_samples!r}")
        self.n_samples = int(n_samples)
        self.sampler = draw_sampler if sampler is None else sampler

    def _stats(self, cls, eta, fixed, rng):
        x = self.sampler(cls, eta, fixed, self.n_samples, rng)
        return cls.sufficient_statistics(np.asarray(x, dtype=np.float64), fixed)

    def mean(self, cls, eta, fixed, rng) -> MomentEstimate:
        u = self._stats(cls, eta, fixed, rng)
        return MomentEstimate(u.mean(axis=0), u.std(axis=0, ddof=1) / np.sqrt(self.n_samples))

    def fisher(self, cls, eta, fixed, rng) -> np.ndarray:
        u = self._stats(cls, eta, fixed, rng)
        d = u - u.mean(axis=0)
        return np.einsum("n...i,n...j->...ij", d, d) / (self.n_samples - 1)

    def __repr__(self):
        return f"SampledMoments(n_samples={self.n_samples})"


def resolve_moments(moments, n_model_samples):
    """The moment source from the user's ``moments`` / ``n_model_samples`` arguments."""
    if moments is not None and n_model_samples is not None:
        raise ParameterError("give either moments= or n_model_samples=, not both")
    if n_model_samples is not None:
        return SampledMoments(n_model_samples)
    if moments is None or (isinstance(moments, str) and moments == "exact"):
        return ExactMoments()
    if all(hasattr(moments, a) for a in ("mean", "fisher", "exact")):
        return moments
    raise ParameterError(
        f"moments must be 'exact' or a moment source (ExactMoments, SampledMoments...); "
        f"got {moments!r}"
    )
