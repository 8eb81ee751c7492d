"""Families whose log partition is a weighted sum over a node table that depends on
``eta``: a truncated series (integers) or an adaptive quadrature (an interval).

A subclass gives :meth:`TabulatedFamily._rule`: for one ``eta`` (shape ``(k,)``) a table
of nodes ``x_i``, statistics ``U_i``, log base measures ``log h_i`` and log weights
``log w_i`` (0 for a series; Kronrod weight times Jacobian for a quadrature), with
``A(eta) = logsumexp_i(log w_i + log h_i + eta . U_i)`` and an error bound, or ``None``
where ``A`` is infinite (``eta`` outside the natural domain).  Everything else is a
softmax-weighted sum over the table, like an enumeration (:mod:`expfam.moments`):
``grad A = E[u]``, ``hess A = Cov[u]`` (summed from centred statistics),
``E[log h]``, the mean and variance of ``x``.  Rules are cached per ``eta`` (the Newton
iteration asks for ``A``, ``grad A`` and ``hess A`` at the same point).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

import numpy as np

from ..errors import ParameterError
from ._base import ExponentialFamily

__all__ = ["TabulatedFamily"]

#: rules kept per family (the most recently used)
CACHE_SIZE = 256
_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class TabulatedFamily(ExponentialFamily):
    """An exponential family whose ``A`` is a sum over an ``eta``-dependent node table."""

    @classmethod
    def _rule(cls, eta: np.ndarray):
        """The node table at one ``eta`` (shape ``(k,)``), or ``None`` outside the domain."""
        raise NotImplementedError

    @classmethod
    def _draw_rule(cls, rule, eta: np.ndarray, n: int, rng) -> np.ndarray:
        """``n`` draws at one ``eta`` from its rule."""
        raise NotImplementedError

    # ------------------------------------------------------------------
    @classmethod
    def _cached_rule(cls, eta_row: np.ndarray):
        cache = _CACHES.get(cls)
        if cache is None:
            cache = _CACHES[cls] = OrderedDict()
        key = np.ascontiguousarray(eta_row, dtype=np.float64).tobytes()
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        rule = cls._rule(np.array(eta_row, dtype=np.float64)) if np.all(np.isfinite(eta_row)) else None
        cache[key] = rule
        if len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
        return rule

    @classmethod
    def _rules(cls, eta):
        eta = np.asarray(eta, dtype=np.float64)
        flat = eta.reshape(-1, eta.shape[-1])
        return [cls._cached_rule(row) for row in flat], eta.shape[:-1]

    @classmethod
    def _weights(cls, rule, eta_row):
        """Normalised probabilities of the table's nodes at ``eta_row``."""
        z = rule.log_w + rule.log_h + rule.U @ eta_row - rule.log_partition
        p = np.exp(z)
        return p / np.sum(p)

    @classmethod
    def _each(cls, eta, fn, out_shape=()):
        """``fn(rule, p, eta_row)`` for every batch element (NaN outside the domain)."""
        rules, batch = cls._rules(eta)
        flat = np.asarray(eta, dtype=np.float64).reshape(-1, np.shape(eta)[-1])
        out = np.full((len(rules),) + out_shape, np.nan)
        for i, (rule, row) in enumerate(zip(rules, flat)):
            if rule is not None:
                out[i] = fn(rule, cls._weights(rule, row), row)
        return out.reshape(batch + out_shape)

    # ------------------------------------------------------------------
    @classmethod
    def natural_in_domain(cls, eta, fixed):
        rules, batch = cls._rules(eta)
        return np.array([r is not None for r in rules], dtype=bool).reshape(batch)

    @classmethod
    def log_partition(cls, eta, fixed):
        """``A(eta)``; ``inf`` outside the natural domain."""
        rules, batch = cls._rules(eta)
        return np.array([np.inf if r is None else r.log_partition for r in rules]).reshape(batch)

    @classmethod
    def log_partition_bound(cls, eta, fixed) -> np.ndarray:
        """A bound on the error of ``A(eta)`` (series: the truncation bound; quadrature: the
        summed Gauss-Kronrod error estimates and tail bounds); ``inf`` outside the domain."""
        rules, batch = cls._rules(eta)
        return np.array([np.inf if r is None else r.error for r in rules]).reshape(batch)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        k = np.shape(eta)[-1]
        return cls._each(eta, lambda r, p, e: p @ r.U, (k,))

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        k = np.shape(eta)[-1]

        def cov(r, p, e):
            d = r.U - p @ r.U
            return (d * p[:, None]).T @ d

        return cls._each(eta, cov, (k, k))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return cls._each(eta, lambda r, p, e: p @ r.log_h)

    @classmethod
    def moments(cls, eta, fixed):
        def mv(r, p, e):
            m = p @ r.x
            return np.array([m, p @ (r.x - m) ** 2])

        out = cls._each(eta, mv, (2,))
        return out[..., 0], out[..., 1]

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        eta = np.asarray(eta, dtype=np.float64)
        rules, batch = cls._rules(eta)
        n = int(np.prod(size, dtype=np.int64))
        flat = eta.reshape(-1, eta.shape[-1])
        cols = []
        for rule, row in zip(rules, flat):
            if rule is None:
                raise ParameterError(f"{cls.__name__}: natural parameters {row} outside the domain")
            cols.append(cls._draw_rule(rule, row, n, rng))
        out = np.stack(cols, axis=-1) if cols else np.zeros((n, 0))
        return out.reshape(tuple(size) + batch)
