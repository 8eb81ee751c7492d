"""Beta distribution (shapes ``a``, ``b``) on the open interval ``(0, 1)``.

``u(x) = (log x, log1p(-x))``, ``eta = (a - 1, b - 1)``, ``h = 1`` (so ``E[log h] = 0``),
``A(eta) = lgamma(a) + lgamma(b) - lgamma(a + b)`` (``betaln``).  The mean parameters
``psi(a) - psi(a + b)`` and ``psi(b) - psi(a + b)`` are computed without cancellation
(:func:`~expfam.families._concentration.digamma_difference`).  The MLE exists iff
``exp(mu_1) + exp(mu_2) < 1``.  It is found by a plain 2 x 2 Newton iteration (written
once, :func:`newton_start` / :func:`newton_step`, run vectorised or compiled for large
batches), and the elements it leaves short of the tolerance by the robust Dirichlet
solver with ``K = 2`` (:func:`~expfam.families._concentration.solve_concentration`).
"""

from __future__ import annotations

import numpy as np

from .. import _kernels, _precise
from .._lazy import special, stats
from .._special import digamma_difference_pair, exp, expm1, log, log1p, logaddexp, select, trigamma
from ..domains import POSITIVE, UNIT_INTERVAL
from ..solvers import RTOL, SolveResult, relative_residual
from ._base import ExponentialFamily
from ._concentration import GAP_TOL, digamma_difference, solve_concentration


def newton_start(m1, m2):
    """The large-concentration start ``a = s exp(mu_1)``, ``b = s exp(mu_2)`` with
    ``1 - exp(mu_1) - exp(mu_2) ~ 1 / (2 s)``."""
    s = 0.5 - 0.5 / expm1(logaddexp(m1, m2))
    return s * exp(m1), s * exp(m2)


def newton_step(state, m1, m2):
    """One Newton step on ``psi(a) - psi(a + b) = mu_1``, ``psi(b) - psi(a + b) = mu_2``
    (the 2 x 2 Jacobian inverted in closed form; halving instead of leaving ``a, b > 0``).
    Done after a step of relative size 3e-8 (quadratic: the next error is ~1e-15)."""
    a, b = state
    t = trigamma(a + b)
    g1 = digamma_difference_pair(a, b) - m1
    g2 = digamma_difference_pair(b, a) - m2
    ta, tb = trigamma(a) - t, trigamma(b) - t
    det = ta * tb - t * t
    da, db = (tb * g1 + t * g2) / det, (t * g1 + ta * g2) / det
    an, bn = a - da, b - db
    done = (abs(da) <= 3e-8 * a) & (abs(db) <= 3e-8 * b)
    return (select(an > 0.0, an, 0.5 * a), select(bn > 0.0, bn, 0.5 * b)), done


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
    param_domains = {"a": POSITIVE, "b": POSITIVE}
    support = UNIT_INTERVAL
    support_from_statistics = True
    boundary_hint = "all observations are equal, so exp(mean log x) + exp(mean log(1 - x)) = 1"
    log_h_constant = True

    def __init__(self, a=1.0, b=1.0):
        self._init_natural(self.natural_from_params({}, a=a, b=b), {})

    @staticmethod
    def element(v, p, c):
        return (log(v), log1p(-v)), 0.0

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, a=1.0, b=1.0):
        p = cls.check_params(a=a, b=b)
        return np.stack([p["a"] - 1, p["b"] - 1], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"a": eta[..., 0] + 1, "b": eta[..., 1] + 1}

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
        # the elements whose residual is not at the tolerance after it.  The batch is
        # flattened, so that a single distribution (0-d batch) takes the same path.
        mu = np.asarray(mu, dtype=np.float64)
        m = mu.reshape(-1, 2)
        (a, b), _, it = _kernels.iterate(newton_start, newton_step, (m[:, 0], m[:, 1]),
                                         max_iter=8)
        eta = np.stack([a - 1, b - 1], axis=-1)
        with np.errstate(all="ignore"):
            mean = cls.mean_from_natural(eta, fixed)
            res = relative_residual(cls, eta, m, fixed, mean=mean)
            retry = ~(res <= RTOL) | ~np.all(eta > -1, axis=-1)
            if retry.any():
                eta[retry], it2 = solve_concentration(m[retry])
                mean[retry] = cls.mean_from_natural(eta[retry], fixed)
                res[retry] = relative_residual(cls, eta[retry], m[retry], fixed, mean=mean[retry])
                it += it2
        ok = (res <= RTOL) & np.all(eta > -1, axis=-1)
        return SolveResult(eta.reshape(mu.shape), ok.reshape(mu.shape[:-1]), it,
                           mean.reshape(mu.shape))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return (eta[..., 0] > -1) & (eta[..., 1] > -1)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        # Jensen: exp(E log x) + exp(E log(1 - x)) < E x + E(1 - x) = 1 unless x is constant
        with np.errstate(all="ignore"):
            lse = np.logaddexp(mu[..., 0], mu[..., 1])
            return np.isfinite(mu[..., 0]) & np.isfinite(mu[..., 1]) & (lse < -GAP_TOL)

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

    # expfam._divergence_jit: the textbook forms with a rounding bound; the elements
    # where the terms cancel are declined and take the forms of expfam._precise below
    kl_kernel = "dirichlet_kl"
    entropy_kernel = "dirichlet_entropy"

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``log B(a, b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b)``, from
        Stirling's series for ``a + b >= 20`` (:func:`expfam._precise.dirichlet_entropy`)."""
        alpha = eta + 1
        return _precise.dirichlet_entropy(alpha, eta, _precise.rest_sums(alpha))

    @classmethod
    def log_density(cls, x, eta, fixed):
        """The Dirichlet form with ``K = 2`` at ``(x, 1 - x)`` (``1 - x`` as an exact
        pair; :func:`expfam._precise.dirichlet_log_density`)."""
        x = np.asarray(x, dtype=np.float64)
        shape = np.broadcast_shapes(x.shape, eta.shape[:-1])
        x = np.broadcast_to(x, shape)
        eta = np.broadcast_to(eta, shape + (2,))
        one_minus, om_lo = _precise.two_sum(1.0, -x)
        xs = np.stack([x, one_minus], axis=-1)
        xs_lo = np.stack([np.zeros(shape), om_lo], axis=-1)
        logs = np.stack([np.log(x), np.log1p(-x)], axis=-1)
        return _precise.dirichlet_log_density(xs, xs_lo, logs, eta)

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """The Dirichlet KL with ``K = 2`` (:func:`expfam._precise.dirichlet_kl`)."""
        return _precise.dirichlet_kl(eta_p, eta_q)
