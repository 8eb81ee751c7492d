"""Shared mathematics of the one-parameter families whose statistic is exponential.

Exponential (``u = x``), Rayleigh (``u = x^2``), Weibull (``u = x^k``), Laplace
(``u = |x - loc|``) and Pareto (``u = log x``, up to a shift) all have
``A(eta) = -log(-eta)`` (plus a constant or a term linear in ``eta``) on ``eta < 0``:
``u`` is exponential with rate ``-eta``.
"""

from __future__ import annotations

import numpy as np

from .._special import log1p_minus_x
from .._validation import as_float_array
from ..errors import ParameterError, ShapeError
from ..solvers import closed_form
from ._base import ExponentialFamily, require


def kl_neg_log(eta_p, eta_q):
    """KL divergence for ``A(eta) = -log(-eta)`` (plus any term linear in ``eta``).

    With ``r = eta_q / eta_p`` the Bregman divergence is ``r - 1 - log r``; near ``r = 1``
    it is evaluated as ``d - log1p(d)``, ``d = r - 1``, to keep full relative accuracy
    as ``q -> p``; where ``r`` under- or overflows, ``log r`` comes from the logarithms
    of ``-eta_q`` and ``-eta_p``.
    """
    e_p, e_q = eta_p[..., 0], eta_q[..., 0]
    with np.errstate(all="ignore"):
        d = (e_q - e_p) / e_p
        r = e_q / e_p
        normal = np.isfinite(r) & (r >= np.finfo(float).tiny)
        log_r = np.where(normal, np.log(np.where(normal, r, 1.0)), np.log(-e_q) - np.log(-e_p))
        direct = (r - 1.0) - log_r
        return np.where(np.abs(d) < 0.05, -log1p_minus_x(d), direct)


def check_real_fixed(fixed: dict, name: str, positive: bool = False) -> dict:
    """Validate the fixed parameter ``fixed[name]`` (finite, and > 0 if ``positive``);
    a float or an array."""
    if isinstance(fixed[name], (str, bytes)):  # never parsed as a number
        raise ParameterError(f"fixed parameter {name!r} must be a number; got {fixed[name]!r}")
    try:  # real numbers only: complex, too large ints, masked values... raise
        v = as_float_array(fixed[name], name=f"fixed parameter {name!r}",
                           invalid=ParameterError, nonfinite=ParameterError)
    except ShapeError as exc:
        raise ParameterError(f"fixed parameter {name!r} must be a number; got {fixed[name]!r}") from exc
    if positive:
        require(np.isfinite(v) & (v > 0), v, name, "finite and > 0")
    else:
        require(np.isfinite(v), v, name, "finite")
    fixed = dict(fixed)
    fixed[name] = float(v) if v.ndim == 0 else v
    return fixed


class ExponentialScaleFamily(ExponentialFamily):
    """Base of the one-parameter families whose statistic ``u(x)`` is exponential with
    rate ``-eta``: ``A(eta) = -log(-eta)`` on ``eta < 0``.

    ``grad A = -1 / eta`` (the mean of ``u``), ``hess A = 1 / eta^2`` (its variance), and
    the MLE ``eta = -1 / mean(u)`` is closed form; it exists when ``mean(u)`` is positive
    and finite.  Subclasses define ``element`` (``u`` and ``log h``), the parameters, the
    support, the moments of ``x``, sampling and the SciPy mapping (and override ``A`` when
    it has an extra constant or linear term, which the KL divergence ignores).
    """

    @classmethod
    def natural_dim(cls, fixed):
        return 1

    @classmethod
    def log_partition(cls, eta, fixed):
        return -np.log(-eta[..., 0])

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return -1.0 / eta

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        return ((1.0 / eta) ** 2)[..., None]

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        return closed_form(-1.0 / mu)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 0] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return (mu[..., 0] > 0) & np.isfinite(mu[..., 0])

    kl_kernel = "neg_log_kl"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        return kl_neg_log(eta_p, eta_q)
