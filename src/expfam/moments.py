"""Sources of the model moment ``E_eta[u]`` (the second term of the seed's eq. 5).

DESIGN.md names three sources behind one interface; a learner asks a model for its
source (``cls.moment_source(fixed)``) and never probes for what the model lacks:

- :class:`ExactMoments`: ``grad A`` and ``hess A`` of a family with a tractable log
  partition (``cls.mean_from_natural`` and ``cls.fisher_from_natural``; closed forms,
  or sums over a finite support for :class:`~expfam.families.FiniteSupportFamily`);
- :class:`EnumeratedMoments`: a weighted sum over every state of a finite support, for
  any sufficient-statistic model (small energy-based models: an Ising model of a dozen
  spins has 4,096 states); the log partition is a log-sum-exp;
- :class:`SampledMoments`: Monte Carlo averages over samples of the current model, with
  their standard errors, for models whose log partition is intractable.  Its sampler may
  keep state between calls (persistent Markov chains, :class:`Sampler`).

A source is an object with ``exact`` (bool), ``mean(cls, eta, fixed, rng) ->
MomentEstimate`` and ``fisher(cls, eta, fixed, rng) -> ndarray (..., k, k)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError

__all__ = ["MomentEstimate", "ExactMoments", "EnumeratedMoments", "SampledMoments", "Sampler",
           "DrawSampler", "enumerate_log_partition", "enumerate_moments", "in_hull_interior"]


@dataclass(frozen=True)
class MomentEstimate:
    """The model moment ``E_eta[u]``, shape ``(..., k)``, with its Monte Carlo standard
    error (zeros for an exact source)."""

    mean: np.ndarray
    se: np.ndarray


class ExactMoments:
    """Moments from the model's log partition: ``E_eta[u] = grad A(eta)``,
    Fisher information ``= hess A(eta)``."""

    exact = True

    def mean(self, cls, eta, fixed, rng=None) -> MomentEstimate:
        mu = cls.mean_from_natural(eta, fixed)
        return MomentEstimate(mu, np.zeros(np.shape(mu)))

    def fisher(self, cls, eta, fixed, rng=None) -> np.ndarray:
        return cls.fisher_from_natural(eta, fixed)

    def __repr__(self):
        return "ExactMoments()"


# ----------------------------------------------------------------------------------
# Enumeration over a finite support
# ----------------------------------------------------------------------------------
def _log_weights(eta, U, log_h):
    """``log h(s) + eta . u(s)`` for every state ``s``: shape ``batch + (S,)``."""
    return log_h + np.einsum("...k,sk->...s", eta, U)


def enumerate_log_partition(eta, U, log_h):
    """``A(eta) = log sum_s h(s) exp(eta . u(s))`` by a log-sum-exp over the states.

    Parameters
    ----------
    eta : ndarray, shape (..., k)
    U : ndarray, shape (S, k)
        Sufficient statistics of every state.
    log_h : ndarray, shape (S,)
        Log base measure of every state.
    """
    z = _log_weights(np.asarray(eta, dtype=np.float64), U, log_h)
    top = np.max(z, axis=-1, keepdims=True)
    return top[..., 0] + np.log(np.sum(np.exp(z - top), axis=-1))


def enumerate_moments(eta, U, log_h, *, fisher: bool = False):
    """``E_eta[u]`` (and ``Cov_eta[u]`` when ``fisher``) as exact weighted sums over the
    states; the weights are ``softmax(log h + eta . u)``.

    The covariance is summed from centred statistics (no cancellation of
    ``E[u u'] - E[u] E[u]'``).
    """
    z = _log_weights(np.asarray(eta, dtype=np.float64), U, log_h)
    z = z - np.max(z, axis=-1, keepdims=True)
    p = np.exp(z)
    p /= np.sum(p, axis=-1, keepdims=True)
    mean = p @ U
    if not fisher:
        return mean
    d = U - mean[..., None, :]
    return mean, np.einsum("...s,...si,...sj->...ij", p, d, d)


def in_hull_interior(U, mu) -> np.ndarray:
    """Whether each ``mu`` (shape ``(..., k)``) lies in the relative interior of the convex
    hull of the rows of ``U`` (the statistics of the states of a finite support): the
    mean domain's interior, where the maximum-likelihood estimate exists.

    A linear program per ``mu``: the largest ``t`` with ``mu = sum_s p_s u(s)``,
    ``sum_s p_s = 1``, ``p_s >= t`` is positive exactly in the relative interior.
    """
    from scipy.optimize import linprog

    U = np.asarray(U, dtype=np.float64)
    S, k = U.shape
    flat = np.asarray(mu, dtype=np.float64).reshape(-1, k)
    out = np.zeros(flat.shape[0], dtype=bool)
    c = np.zeros(S + 1)  # variables (p_1..p_S, t): maximise t
    c[-1] = -1.0
    A_eq = np.zeros((k + 1, S + 1))
    A_eq[:k, :S] = U.T
    A_eq[k, :S] = 1.0
    A_ub = np.hstack([-np.eye(S), np.ones((S, 1))])  # t - p_s <= 0
    scale = max(1.0, float(np.max(np.abs(U))))
    for n, m in enumerate(flat):
        if not np.all(np.isfinite(m)):
            continue
        res = linprog(c, A_ub=A_ub, b_ub=np.zeros(S), A_eq=A_eq,
                      b_eq=np.concatenate([m, [1.0]]),
                      bounds=[(0, None)] * S + [(None, 1.0)], method="highs")
        out[n] = res.status == 0 and -res.fun > 1e-12 * scale
    return out.reshape(np.shape(mu)[:-1])


class EnumeratedMoments:
    """Exact moments of any model on a finite support, by summing over its states.

    Parameters
    ----------
    states : callable
        ``states(cls, fixed) -> (U, log_h)``: the sufficient statistics ``(S, k)`` and log
        base measures ``(S,)`` of every state (computed once per fixed parameters).
    """

    exact = True

    def __init__(self, states) -> None:
        self._states = states
        self._cache: dict = {}

    def _table(self, cls, fixed):
        key = (cls, tuple(sorted((k, repr(v)) for k, v in fixed.items())))
        if key not in self._cache:
            U, log_h = self._states(cls, fixed)
            self._cache[key] = (np.asarray(U, dtype=np.float64), np.asarray(log_h, dtype=np.float64))
        return self._cache[key]

    def mean(self, cls, eta, fixed, rng=None) -> MomentEstimate:
        U, log_h = self._table(cls, fixed)
        mu = enumerate_moments(eta, U, log_h)
        return MomentEstimate(mu, np.zeros(np.shape(mu)))

    def fisher(self, cls, eta, fixed, rng=None) -> np.ndarray:
        U, log_h = self._table(cls, fixed)
        return enumerate_moments(eta, U, log_h, fisher=True)[1]

    def log_partition(self, cls, eta, fixed) -> np.ndarray:
        """``A(eta)`` by a log-sum-exp over the states."""
        U, log_h = self._table(cls, fixed)
        return enumerate_log_partition(eta, U, log_h)

    def __repr__(self):
        return "EnumeratedMoments()"


# ----------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------
class Sampler:
    """Draws samples of a model; may keep state between calls.

    A stateless sampler draws independent samples (:class:`DrawSampler`); a Markov chain
    sampler keeps its chains from one call to the next (persistent chains, as in
    persistent contrastive divergence) and continues them at the new parameters.
    Subclasses implement :meth:`sample`; :meth:`reset` forgets the state.
    """

    #: whether successive samples are independent (their standard errors are then exact)
    independent: bool = True

    def sample(self, cls, eta, fixed, size: int, rng) -> np.ndarray:
        """``size`` samples of the model at ``eta``: shape ``(size, *batch, *event)``."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget any state (chains restart from scratch at the next call)."""


class DrawSampler(Sampler):
    """Independent exact draws (``cls.draw``)."""

    def sample(self, cls, eta, fixed, size, rng):
        return cls.draw(eta, fixed, (size,), rng)


class _FunctionSampler(Sampler):
    """A plain function ``sampler(cls, eta, fixed, size, rng)`` as a stateless sampler."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def sample(self, cls, eta, fixed, size, rng):
        return self.fn(cls, eta, fixed, size, rng)


def _as_sampler(sampler):
    if sampler is None:
        return DrawSampler()
    if isinstance(sampler, Sampler) or hasattr(sampler, "sample"):
        return sampler
    if callable(sampler):  # a plain function sampler(cls, eta, fixed, size, rng)
        return _FunctionSampler(sampler)
    raise ParameterError(f"sampler must be a Sampler or a callable; got {sampler!r}")


class SampledMoments:
    """Monte Carlo moments from ``n_samples`` samples of the current model.

    ``E_eta[u]`` is the sample mean of ``u`` over the draws, with standard error
    ``sd / sqrt(n_samples)``; the Fisher information is the sample covariance of ``u``
    over a *second, independent* set of draws.  (Estimating both from the same draws
    would correlate the preconditioner with the residual and bias the fixed point of the
    natural-gradient iteration by O(1/n_samples).)

    Parameters
    ----------
    n_samples : int
        Number of model samples per moment estimate (>= 2).
    sampler : Sampler or callable, optional
        Default: :class:`DrawSampler` (exact independent draws).  A stateful sampler
        (persistent Markov chains) keeps its state across the learner's steps; its
        samples should then be nearly independent, or the standard errors are too small.
    """

    exact = False

    def __init__(self, n_samples: int, sampler=None):
        if (isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer))
                or n_samples < 2):
            raise ParameterError(f"n_model_samples must be an integer >= 2; got {n_samples!r}")
        self.n_samples = int(n_samples)
        self.sampler = _as_sampler(sampler)

    def _stats(self, cls, eta, fixed, rng):
        x = self.sampler.sample(cls, eta, fixed, self.n_samples, rng)
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
