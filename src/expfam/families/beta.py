"""Beta distribution (shapes ``a``, ``b``) on the open interval ``(0, 1)``.

``u(x) = (log x, log1p(-x))``, ``eta = (a - 1, b - 1)``, ``h = 1`` (so ``E[log h] = 0``),
``A(eta) = lgamma(a) + lgamma(b) - lgamma(a + b)`` (``betaln``).  The mean parameters
``psi(a) - psi(a + b)`` and ``psi(b) - psi(a + b)`` are computed without cancellation
(:func:`~expfam.families.dirichlet.digamma_difference`).  The MLE exists iff
``exp(mu_1) + exp(mu_2) < 1`` and is found by the Dirichlet solver with ``K = 2``
(:func:`~expfam.families.dirichlet.solve_concentration`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .._kernels import _load_jit
from .._lazy import stats
from ..solvers import RTOL, relative_residual
from ._base import ExponentialFamily, SolveResult, broadcast_params, require
from .dirichlet import _GAP_TOL, _trigamma_fast, digamma_difference, solve_concentration

#: batch size from which the compiled Newton iteration is used
_COMPILED_MIN = 4096


def _newton(mu, max_iter: int = 8):
    """Newton steps on ``psi(a) - psi(a + b) = mu_1``, ``psi(b) - psi(a + b) = mu_2`` from
    the large-concentration start ``a = s exp(mu_1)``, ``b = s exp(mu_2)`` with
    ``1 - exp(mu_1) - exp(mu_2) ~ 1 / (2 s)``; the 2 x 2 Jacobian is inverted in closed
    form.  Returns ``(eta, n_iter)``; the caller checks the residual."""
    m1, m2 = np.asarray(mu[..., 0], dtype=np.float64), np.asarray(mu[..., 1], dtype=np.float64)
    if m1.size >= _COMPILED_MIN and (jit := _load_jit()) is not None:  # many fits at once
        a, b, _ = jit.run(jit.beta_newton, np.ascontiguousarray(m1).reshape(-1),
                          np.ascontiguousarray(m2).reshape(-1), max_iter)
        return np.stack([a.reshape(m1.shape) - 1, b.reshape(m1.shape) - 1], axis=-1), max_iter
    it = 0
    with np.errstate(all="ignore"):
        s = 0.5 - 0.5 / np.expm1(np.logaddexp(m1, m2))
        a, b = s * np.exp(m1), s * np.exp(m2)
        for it in range(1, max_iter + 1):
            psi_ab, t = special.digamma(a + b), _trigamma_fast(a + b)
            g1 = special.digamma(a) - psi_ab - m1
            g2 = special.digamma(b) - psi_ab - m2
            ta, tb = _trigamma_fast(a) - t, _trigamma_fast(b) - t
            det = ta * tb - t * t
            da, db = (tb * g1 + t * g2) / det, (t * g1 + ta * g2) / det
            a = np.where(a - da > 0, a - da, 0.5 * a)
            b = np.where(b - db > 0, b - db, 0.5 * b)
            if np.all(np.maximum(np.abs(da / a), np.abs(db / b)) < 1e-8):
                break
    return np.stack([a - 1, b - 1], axis=-1), it


class Beta(ExponentialFamily):
    """Beta distribution with density ``x^(a-1) (1-x)^(b-1) / B(a, b)`` on ``0 < x < 1``.

    Parameters
    ----------
    a : array_like
        First shape parameter, > 0.
    b : array_like
        Second shape parameter, > 0.
    """

    name = "beta"
    param_names = ("a", "b")
    support = "(0, 1)"
    boundary_hint = "all observations are equal, so exp(mean log x) + exp(mean log(1 - x)) = 1"

    def __init__(self, a=1.0, b=1.0):
        self._init_natural(self.natural_from_params({}, a=a, b=b), {})

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, a=1.0, b=1.0):
        p = broadcast_params(a=a, b=b)
        require(p["a"] > 0, p["a"], "a", "> 0")
        require(p["b"] > 0, p["b"], "b", "> 0")
        return np.stack([p["a"] - 1, p["b"] - 1], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"a": eta[..., 0] + 1, "b": eta[..., 1] + 1}

    @classmethod
    def sufficient_statistics(cls, x, fixed):
        return np.stack([np.log(x), np.log1p(-x)], axis=-1)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x))

    @classmethod
    def log_partition(cls, eta, fixed):
        return special.betaln(eta[..., 0] + 1, eta[..., 1] + 1)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return digamma_difference(eta + 1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        a, b = eta[..., 0] + 1, eta[..., 1] + 1
        c = -special.polygamma(1, a + b)
        return np.stack(
            [np.stack([special.polygamma(1, a) + c, c], -1),
             np.stack([c, special.polygamma(1, b) + c], -1)], -2
        )

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        # Plain Newton first (fast for typical data); the robust Dirichlet solver takes
        # the elements whose residual is not at the tolerance after it.
        eta, it = _newton(mu)
        with np.errstate(all="ignore"):
            mean = cls.mean_from_natural(eta, fixed)
            res = relative_residual(cls, eta, mu, fixed, mean=mean)
            retry = ~(res <= RTOL) | ~np.all(eta > -1, axis=-1)
            if retry.any():
                eta[retry], it2 = solve_concentration(mu[retry])
                mean[retry] = cls.mean_from_natural(eta[retry], fixed)
                res[retry] = relative_residual(cls, eta[retry], mu[retry], fixed, mean=mean[retry])
                it += it2
        return SolveResult(eta, (res <= RTOL) & np.all(eta > -1, axis=-1), it, mean)

    @classmethod
    def in_support(cls, x, fixed):
        return (x > 0) & (x < 1)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return (eta[..., 0] > -1) & (eta[..., 1] > -1)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        # Jensen: exp(E log x) + exp(E log(1 - x)) < E x + E(1 - x) = 1 unless x is constant
        with np.errstate(all="ignore"):
            lse = np.logaddexp(mu[..., 0], mu[..., 1])
            return np.isfinite(mu[..., 0]) & np.isfinite(mu[..., 1]) & (lse < -_GAP_TOL)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def moments(cls, eta, fixed):
        a, b = eta[..., 0] + 1, eta[..., 1] + 1
        s = a + b
        return a / s, a * b / (s * s * (s + 1))

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        a, b = eta[..., 0] + 1, eta[..., 1] + 1
        return rng.beta(a, b, size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.beta(eta[..., 0] + 1, eta[..., 1] + 1)

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Beta(1, 1), the uniform distribution: ``mu0 = (psi(1) - psi(2),) * 2 = (-1, -1)``."""
        return np.array([-1.0, -1.0])
