"""Dirichlet distribution on the open simplex ``{x : x_j > 0, sum_j x_j = 1}``.

``u(x) = log x`` (``K`` statistics; rows are normalised by their sum, which the support
check allows to differ from 1 by ``1e-9``), ``eta = alpha - 1``, ``h = 1``,
``A(eta) = sum_j lgamma(alpha_j) - lgamma(alpha_0)`` with ``alpha_0 = sum_j alpha_j``.
The mean parameters are ``psi(alpha_j) - psi(alpha_0)`` (digamma differences, computed
without cancellation for large ``alpha``); ``E[log h] = 0`` exactly.  The mean -> natural
map and its accuracy: :mod:`expfam.families._concentration` (shared with the Beta).
The map is ill-conditioned for large ``alpha`` (the precision moves the log means by
``O(1 / alpha)``), so ``alpha`` itself is recovered to a relative error of roughly
``1e-15 * alpha_0``.
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from .._special import log
from ..domains import POSITIVE, Simplex
from ..errors import ShapeError
from ..solvers import RTOL, SolveResult, relative_residual
from ._base import ExponentialFamily, broadcast_params, check_integer, require
from ._concentration import GAP_TOL, digamma_difference, solve_concentration

#: tolerance on ``sum(x) = 1`` for an observation to lie on the simplex
_SUM_TOL = 1e-9


class Dirichlet(ExponentialFamily):
    """Dirichlet distribution with density
    ``Gamma(alpha_0) / prod_j Gamma(alpha_j) * prod_j x_j^(alpha_j - 1)`` on the simplex.

    Parameters
    ----------
    alpha : array_like, shape (..., K)
        Concentrations, all > 0.  The number of components ``K >= 2`` (the fixed
        parameter ``n_categories``) is the length of the last axis; when fitting, it is
        read from the last axis of the data.
    """

    name = "dirichlet"
    event_ndim = 1
    fixed_params = ("n_categories",)
    integer_fixed = {"n_categories": 2}
    param_names = ("alpha",)
    param_domains = {"alpha": POSITIVE}
    boundary_hint = "all observations are equal, so sum_j exp(mean log x_j) = 1"

    def __init__(self, alpha=(1.0, 1.0)):
        if np.ndim(alpha) == 0 or np.shape(alpha)[-1] < 2:
            raise ShapeError(
                f"parameter 'alpha' must be a vector of K >= 2 concentrations (last axis); "
                f"got {alpha!r}"
            )
        fixed = {"n_categories": np.shape(alpha)[-1]}
        self._init_natural(self.natural_from_params(self.check_fixed(fixed), alpha=alpha), fixed)

    @classmethod
    def infer_fixed(cls, x, fixed):
        K = x.shape[-1]
        if "n_categories" in fixed:
            given = check_integer(fixed["n_categories"], "n_categories", 2)
            if given != K:
                raise ShapeError(f"data: rows have {K} components but n_categories={given}")
            return fixed
        if K < 2:
            raise ShapeError(f"data: Dirichlet rows need K >= 2 components; got shape {x.shape}")
        return {**fixed, "n_categories": K}

    @classmethod
    def natural_dim(cls, fixed):
        return fixed["n_categories"]

    @classmethod
    def natural_from_params(cls, fixed, alpha=(1.0, 1.0)):
        a = broadcast_params(alpha=alpha)["alpha"]
        K = fixed["n_categories"]
        if a.ndim == 0 or a.shape[-1] != K:
            raise ShapeError(f"parameter 'alpha' must have shape (..., {K}); got shape {a.shape}")
        require(a > 0, a, "alpha", f"in {POSITIVE}")
        return a - 1

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"alpha": eta + 1}

    @classmethod
    def _check_width(cls, x, fixed):
        K = fixed["n_categories"]
        if np.ndim(x) == 0 or np.shape(x)[-1] != K:
            raise ShapeError(
                f"x: Dirichlet observations have {K} components; got shape {np.shape(x)}"
            )

    @classmethod
    def support_of(cls, fixed):
        return Simplex(fixed["n_categories"], _SUM_TOL)

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        cls._check_width(x, fixed)
        return np.log(x) - np.log(np.sum(x, axis=-1, keepdims=True))

    @staticmethod
    def rows_element(xs, nr, K, p, out, scratch):
        """The row kernel's map (compiled by :mod:`expfam._jit`): ``u_j = log x_j -
        log(sum_i x_i)`` of ``nr`` rows (``xs``: their ``nr * K`` values) into
        ``out[j, r]``; returns the number of rows off the simplex (``p[0]``: the tolerance
        on the row sum).  The logarithms of the block are taken in one vectorised loop."""
        nbad = 0
        m = nr * K
        for i in range(m):  # vectorised
            v = xs[i]
            scratch[i] = log(v)
            nbad += not ((v > 0.0) & (v < 1.0))
        for r in range(nr):
            tot = 0.0
            for j in range(K):
                tot += xs[r * K + j]
            nbad += not (abs(tot - 1.0) <= p[0])
            scratch[m + r] = tot
        for r in range(nr):  # vectorised
            scratch[m + r] = log(scratch[m + r])
        for r in range(nr):
            lt = scratch[m + r]
            for j in range(K):
                out[j, r] = scratch[r * K + j] - lt
        return nbad

    @classmethod
    def element_params(cls, fixed):
        return np.array([_SUM_TOL])

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x)[:-1])

    @classmethod
    def log_partition(cls, eta, fixed):
        a = eta + 1
        return np.sum(special.gammaln(a), axis=-1) - special.gammaln(np.sum(a, axis=-1))

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return digamma_difference(eta + 1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        a = eta + 1
        K = a.shape[-1]
        c = special.polygamma(1, np.sum(a, axis=-1))[..., None, None]
        return special.polygamma(1, a)[..., None] * np.eye(K) - c

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        eta, it = solve_concentration(mu)
        with np.errstate(all="ignore"):
            ok = relative_residual(cls, eta, mu, fixed) <= RTOL
        return SolveResult(eta, ok & np.all(eta > -1, axis=-1), it)

    @classmethod
    def in_support(cls, x, fixed):
        cls._check_width(x, fixed)
        return cls.support_of(fixed).contains(x)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.all(eta > -1, axis=-1)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        with np.errstate(all="ignore"):
            return np.all(np.isfinite(mu), axis=-1) & (special.logsumexp(mu, axis=-1) < -GAP_TOL)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def moments(cls, eta, fixed):
        """Mean ``alpha / alpha_0`` and covariance ``(diag(p) - p p^T) / (alpha_0 + 1)``."""
        a = eta + 1
        a0 = np.sum(a, axis=-1, keepdims=True)
        p = a / a0
        cov = (p[..., :, None] * np.eye(a.shape[-1]) - p[..., :, None] * p[..., None, :])
        return p, cov / (a0[..., None] + 1)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        # normalised Gamma(alpha_j) variates, in logs: for alpha < 1,
        # log G(alpha) = log G(alpha + 1) + log(U) / alpha (no underflow to 0)
        a = np.broadcast_to(eta + 1, size + eta.shape)
        log_g = np.log(rng.standard_gamma(np.where(a < 1, a + 1, a)))
        small = a < 1
        if small.any():
            u = rng.random(a.shape)
            log_g = np.where(small, log_g + np.log(u) / a, log_g)
        log_g -= np.max(log_g, axis=-1, keepdims=True)
        g = np.exp(log_g)
        return g / np.sum(g, axis=-1, keepdims=True)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        """``scipy.stats.dirichlet`` for one distribution (SciPy has no batches; its
        ``logpdf`` takes the components on the first axis); ``None`` for a batch."""
        return stats.dirichlet(eta + 1) if eta.ndim == 1 else None

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The uniform Dirichlet(1, ..., 1): ``mu0_j = psi(1) - psi(K) = -sum_{i<K} 1/i``."""
        K = fixed["n_categories"]
        return np.full(K, -np.sum(1.0 / np.arange(1, K)))

    # expfam._divergence_jit: the textbook forms with a rounding bound; the elements
    # where the terms cancel are declined and take the forms of expfam._precise below
    kl_kernel = "dirichlet_kl"
    entropy_kernel = "dirichlet_entropy"

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``log B(alpha) + (alpha_0 - K) psi(alpha_0) - sum_j (alpha_j - 1) psi(alpha_j)``,
        from Stirling's series for ``alpha_0 >= 20``
        (:func:`expfam._precise.dirichlet_entropy`)."""
        alpha = eta + 1
        return _precise.dirichlet_entropy(alpha, eta, _precise.rest_sums(alpha))

    @classmethod
    def log_density(cls, x, eta, fixed):
        """At ``x / sum(x)`` (the statistics' normalisation), the quotient carried as a
        pair (:func:`expfam._precise.dirichlet_log_density`)."""
        x = np.asarray(x, dtype=np.float64)
        shape = np.broadcast_shapes(x.shape, eta.shape)
        x = np.broadcast_to(x, shape)
        eta = np.broadcast_to(eta, shape)
        tot, tot_lo = _precise.dd_sum(x, np.zeros(shape))
        q = x / tot[..., None]
        p, e = _precise.product_pair(q, tot[..., None])
        q_lo = ((x - p) - e - q * tot_lo[..., None]) / tot[..., None]
        log_q = _precise.log_pair(q, q_lo, np.log(x) - np.log(tot)[..., None])
        return _precise.dirichlet_log_density(q, q_lo, log_q, eta)

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """Through the Gamma representation (:func:`expfam._precise.dirichlet_kl`)."""
        return _precise.dirichlet_kl(eta_p, eta_q)
