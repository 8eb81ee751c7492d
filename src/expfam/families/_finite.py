"""Families on a finite set of states, whose log partition is a sum over the states.

A subclass gives its states (:meth:`FiniteSupportFamily.states`: an array of shape
``(S, *event)``, any shape of state), ``u`` and ``log h`` (``element`` for scalar states,
or :meth:`sufficient_statistics` / :meth:`log_base_measure` for vector states), the natural
domain (all of ``R^k`` by default) and its parameters; everything else comes from
enumeration (:mod:`expfam.moments`): ``A`` is a log-sum-exp over the states,
``grad A`` and ``hess A`` exact weighted sums, ``E[log h]`` a weighted sum, sampling a
draw among the states.  The mean -> natural map is the generic safeguarded Newton
iteration from ``eta = 0`` (the base measure itself), and the MLE exists iff the mean of
the statistics lies in the interior of the convex hull of the states' statistics, which a
linear program decides exactly.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from ..domains import FiniteSet
from ..moments import enumerate_log_partition, enumerate_moments, in_hull_interior
from ._base import ExponentialFamily

__all__ = ["FiniteSupportFamily"]


class FiniteSupportFamily(ExponentialFamily):
    """An exponential family on a finite set of states (``A`` by enumeration)."""

    @classmethod
    @abstractmethod
    def states(cls, fixed: dict) -> np.ndarray:
        """Every state of the support, shape ``(S, *event)``."""

    @classmethod
    def _table(cls, fixed):
        """``(states, U, log_h)`` of the support, cached per fixed parameters."""
        cache = cls.__dict__.get("_finite_cache")
        if cache is None:
            cache = {}
            cls._finite_cache = cache
        key = tuple(sorted((k, repr(v)) for k, v in fixed.items()))
        if key not in cache:
            x = np.asarray(cls.states(fixed), dtype=np.float64)
            U = np.asarray(cls.sufficient_statistics(x, fixed), dtype=np.float64)
            U = U.reshape(x.shape[0], -1)
            log_h = np.asarray(cls.log_base_measure(x, fixed), dtype=np.float64).reshape(-1)
            cache[key] = (x, U, log_h)
        return cache[key]

    @classmethod
    def support_of(cls, fixed):
        """The states, as a :class:`~expfam.domains.FiniteSet`."""
        return FiniteSet(cls._table(fixed)[0])

    @classmethod
    def natural_dim(cls, fixed):
        return cls._table(fixed)[1].shape[1]

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.all(np.isfinite(eta), axis=-1)

    @classmethod
    def log_partition(cls, eta, fixed):
        _, U, log_h = cls._table(fixed)
        return enumerate_log_partition(eta, U, log_h)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        _, U, log_h = cls._table(fixed)
        return enumerate_moments(eta, U, log_h)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        _, U, log_h = cls._table(fixed)
        return enumerate_moments(eta, U, log_h, fisher=True)[1]

    @classmethod
    def _probabilities(cls, eta, fixed):
        _, U, log_h = cls._table(fixed)
        z = log_h + np.einsum("...k,sk->...s", eta, U)
        z = z - np.max(z, axis=-1, keepdims=True)
        p = np.exp(z)
        return p / np.sum(p, axis=-1, keepdims=True)

    @classmethod
    def initial_natural(cls, mu, fixed):
        """``eta = 0``: the base measure normalised, inside the domain."""
        return np.zeros(np.shape(mu))

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        """Whether ``mu`` lies in the relative interior of the convex hull of the states'
        statistics (:func:`expfam.moments.in_hull_interior`, a linear program)."""
        return in_hull_interior(cls._table(fixed)[1], mu)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        _, _, log_h = cls._table(fixed)
        return cls._probabilities(eta, fixed) @ log_h

    @classmethod
    def moments(cls, eta, fixed):
        x, _, _ = cls._table(fixed)
        p = cls._probabilities(eta, fixed)
        flat = x.reshape(x.shape[0], -1)
        mean = p @ flat
        d = flat - mean[..., None, :]
        cov = np.einsum("...s,...si,...sj->...ij", p, d, d)
        if x.ndim == 1:
            return mean[..., 0], cov[..., 0, 0]
        return mean.reshape(mean.shape[:-1] + x.shape[1:]), cov

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        x, _, _ = cls._table(fixed)
        p = cls._probabilities(eta, fixed)
        cdf = np.cumsum(p, axis=-1)
        u = rng.random(tuple(size) + p.shape[:-1])
        idx = np.minimum(np.sum(u[..., None] >= cdf, axis=-1), x.shape[0] - 1)
        return x[idx]
