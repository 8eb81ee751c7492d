"""Von Mises distribution on the circle (location ``mu``, concentration ``kappa``).

Angles are represented in ``[-pi, pi)``; data outside that interval are rejected (wrap
them first, e.g. ``np.angle(np.exp(1j * x))``).
``u(x) = (cos x, sin x)``, ``eta = kappa (cos mu, sin mu)``, ``h = 1 / (2 pi)``,
``A(eta) = log I0(|eta|)``; the natural domain is all of ``R^2`` (``eta = 0`` is the
uniform distribution).  ``grad A = A1(kappa) (cos mu, sin mu)`` with
``A1 = I1 / I0``; the MLE inverts ``A1`` on the mean resultant length ``R`` by a
safeguarded Newton iteration.  ``E[log h] = -log(2 pi)`` exactly.

``1 - A1(kappa)`` is computed from the large-argument expansions of ``I0`` and ``I1``
(DLMF 10.40.1) for ``kappa >= 20`` (truncation error below ``e^-2kappa``), so that the
Newton iteration stays accurate up to ``kappa ~ 1e15``.  The variance (of ``x - mu``
wrapped to ``[-pi, pi)``, SciPy's convention) is a Gauss-Legendre quadrature.

Entropy, log density and KL are written so that no term of size ``kappa`` cancels
(:mod:`expfam._precise`): ``H = log(2 pi i0e(kappa)) + kappa (1 - A1)``,
``log p = kappa cosm1(x - mu) - log(2 pi i0e(kappa))`` and
``KL = B(kp, kq) + kq (1 - cos D) A1(kp)``, ``B`` the Bregman divergence of ``log I0``
(series chosen by the size of ``kappa``) and ``D`` the angle between the mean directions.
"""

from __future__ import annotations

import numpy as np

from .._lazy import special, stats
from .._precise import von_mises_entropy, von_mises_kl, von_mises_log_density
from .._special import LOG_2PI, cos, sin
from ..domains import CIRCLE, NONNEGATIVE, REAL
from ..solvers import SolveResult, newton_1d
from ._base import ExponentialFamily

_LOG_2PI = LOG_2PI
#: ``1 - R`` below this counts as zero (all angles equal, up to rounding)
_R_TOL = 64 * np.finfo(float).eps
_ASYMPTOTIC = 20.0
_GL_T, _GL_W = np.polynomial.legendre.leggauss(96)


def _bessel_ratio_tail(kappa):
    """``(g, h)`` with ``g = 1 - A1(kappa)`` and ``h = g - 1 / (2 kappa)``, for large kappa.

    ``I_nu(z) ~ e^z / sqrt(2 pi z) sum_k b_k(nu) z^-k``,
    ``b_k = b_(k-1) ((2k - 1)^2 - 4 nu^2) / (8k)`` (DLMF 10.40.1); ``g = (S0 - S1) / S0``
    and every coefficient of ``S0 - S1`` and of ``S0 - S1 - S0 / (2z)`` is positive.
    """
    z = np.maximum(kappa, _ASYMPTOTIC)
    b0 = b1 = 1.0
    s0 = np.ones_like(z)
    diff = np.zeros_like(z)  # S0 - S1
    hnum = np.zeros_like(z)  # S0 - S1 - S0 / (2z); its k = 1 term vanishes
    zk = np.ones_like(z)
    for k in range(1, 41):
        b0_prev = b0
        b0 = b0 * (2 * k - 1) ** 2 / (8 * k)
        b1 = b1 * ((2 * k - 1) ** 2 - 4) / (8 * k)
        zk = zk / z
        s0 = s0 + b0 * zk
        diff = diff + (b0 - b1) * zk
        if k >= 2:
            hnum = hnum + (b0 - b1 - b0_prev / 2) * zk
    return diff / s0, hnum / s0


def bessel_ratio(kappa):
    """``A1(kappa) = I1(kappa) / I0(kappa)``."""
    return special.i1e(kappa) / special.i0e(kappa)


def one_minus_bessel_ratio(kappa):
    """``1 - A1(kappa)``, relatively accurate for large ``kappa``."""
    kappa = np.asarray(kappa, dtype=np.float64)
    return np.where(kappa < _ASYMPTOTIC, 1 - bessel_ratio(kappa), _bessel_ratio_tail(kappa)[0])


def bessel_ratio_over_kappa(kappa):
    """``A1(kappa) / kappa``, equal to ``1/2`` at ``kappa = 0``."""
    kappa = np.asarray(kappa, dtype=np.float64)
    small = kappa < 1e-4
    k = np.where(small, 1.0, kappa)
    ks = np.where(small, kappa, 0.0)
    series = 0.5 - ks**2 / 16 + ks**4 / 96  # A1 = k/2 - k^3/16 + k^5/96 - ...
    return np.where(small, series, bessel_ratio(k) / k)


def bessel_ratio_derivative(kappa):
    """``A1'(kappa) = 1 - A1 / kappa - A1^2`` (``1/2`` at ``kappa = 0``)."""
    kappa = np.asarray(kappa, dtype=np.float64)
    direct = 1 - bessel_ratio_over_kappa(kappa) - bessel_ratio(kappa) ** 2
    k = np.maximum(kappa, _ASYMPTOTIC)
    g, h = _bessel_ratio_tail(k)
    # with g = 1/(2k) + h:  1 - (1 - g)/k - (1 - g)^2 = 2h + g (1/(2k) - h), no cancellation
    return np.where(kappa < _ASYMPTOTIC, direct, 2 * h + g * (0.5 / k - h))


def _polar(eta):
    kappa = np.hypot(eta[..., 0], eta[..., 1])
    safe = np.where(kappa > 0, kappa, 1.0)
    r = np.where((kappa > 0)[..., None], eta / safe[..., None], np.array([1.0, 0.0]))
    return kappa, r


def solve_bessel_ratio(R, d=None):
    """Solve ``A1(kappa) = R`` for ``kappa >= 0`` (``0 <= R < 1``); ``d = 1 - R`` may be
    given more accurately.  Returns ``(kappa, converged, n_iter)``."""
    R = np.asarray(R, dtype=np.float64)
    d = 1 - R if d is None else np.asarray(d, dtype=np.float64)
    # Best & Fisher (1981) starting values
    with np.errstate(all="ignore"):
        k0 = np.where(
            R < 0.53, 2 * R + R**3 + 5 * R**5 / 6,
            np.where(R < 0.85, -0.4 + 1.39 * R + 0.43 / d, 1 / (R * d * (3 - R))),
        )
    low = R < 0.5

    def f(k, R, d, low):  # increasing in k; relatively accurate on either side of R = 1/2
        return np.where(low, bessel_ratio(k) - R, d - one_minus_bessel_ratio(k))

    kappa, ok, it = newton_1d(f, lambda k, *_: bessel_ratio_derivative(k), k0, 0.0, np.inf,
                              increasing=True, args=(R, d, low), max_iter=30)
    # A1 = k/2 - k^3/16 + k^5/96 - ... inverted: exact to double precision for R < 1e-3
    tiny = R < 1e-3
    kappa = np.where(tiny, 2 * R + R**3 + 5 * R**5 / 6, kappa)
    # converged: the Newton step settled, or the equation holds to rounding
    resid = np.abs(np.where(low, bessel_ratio(kappa) - R, d - one_minus_bessel_ratio(kappa)))
    ok = ok | tiny | (resid <= 1e-14 * np.maximum(R, 1e-300))
    return kappa, ok, it


def _wrap(y):
    """Angles wrapped to ``[-pi, pi)``."""
    y = np.mod(y + np.pi, 2 * np.pi) - np.pi
    return np.where(y >= np.pi, y - 2 * np.pi, y)  # mod may round up to 2 pi


def _quadrature_end(kappa):
    """``pi``, or where ``kappa > 37.5`` the angle with ``kappa cosm1(end) = -75``."""
    with np.errstate(divide="ignore"):
        return 2 * np.arcsin(np.sqrt(np.minimum(1.0, 37.5 / kappa)))  # 1 - cos = 2 sin^2


def _centred_cdf(y, kappa):
    """``C(y) = P(Y <= y)`` for ``Y = x - mu`` in ``[-pi, pi)``, by Gauss-Legendre.

    The tail ``int_|y|^end exp(kappa cosm1(t)) dt`` is integrated directly (relative
    accuracy in the left tail) and normalised by the same quadrature over ``[0, end]``,
    so that ``C`` is exactly 0 and 1 beyond ``+-end``.
    """
    end = _quadrature_end(kappa)

    def tail(a):  # int_a^end exp(kappa cosm1(t)) dt, zero for a >= end
        a = np.minimum(a, end)
        t = a[..., None] + (end - a)[..., None] * (_GL_T + 1) / 2
        return np.sum(np.exp(kappa[..., None] * special.cosm1(t)) * _GL_W, axis=-1) * (end - a) / 2

    half = tail(np.abs(y)) / (2 * tail(np.zeros_like(y)))
    return np.where(y < 0, half, 1 - half)


class VonMises(ExponentialFamily):
    """Von Mises distribution on the circle, density ``exp(kappa cos(x - mu)) /
    (2 pi I0(kappa))`` for angles ``x`` in ``[-pi, pi)``.

    SciPy's equivalent is ``scipy.stats.vonmises(kappa, loc=mu)``.  ``mean()`` is the
    circular mean ``mu`` and ``var()`` the variance of ``x - mu`` wrapped to
    ``[-pi, pi)`` (SciPy's conventions); the circular variance is ``1 - A1(kappa)``.
    ``cdf`` is ``P(-pi <= X <= x)`` for ``X`` represented in ``[-pi, pi)``.

    Parameters
    ----------
    loc : array_like
        Mean direction ``mu`` (any real; reported in ``(-pi, pi]``).
    kappa : array_like
        Concentration ``kappa >= 0``; ``kappa = 0`` is the uniform distribution.
    """

    name = "von_mises"
    param_names = ("loc", "kappa")
    param_domains = {"loc": REAL, "kappa": NONNEGATIVE}
    support = CIRCLE
    boundary_hint = "all angles are equal, so the mean resultant length is 1"
    log_h_constant = True

    def __init__(self, loc=0.0, kappa=1.0):
        self._init_natural(self.natural_from_params({}, loc=loc, kappa=kappa), {})

    @staticmethod
    def element(v, p, c):
        return (cos(v), sin(v)), -LOG_2PI

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, loc=0.0, kappa=1.0):
        p = cls.check_params(loc=loc, kappa=kappa)
        return p["kappa"][..., None] * np.stack([np.cos(p["loc"]), np.sin(p["loc"])], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"loc": np.arctan2(eta[..., 1], eta[..., 0]),
                "kappa": np.hypot(eta[..., 0], eta[..., 1])}

    @classmethod
    def log_partition(cls, eta, fixed):
        kappa = np.hypot(eta[..., 0], eta[..., 1])
        return np.log(special.i0e(kappa)) + kappa

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        kappa = np.hypot(eta[..., 0], eta[..., 1])
        return bessel_ratio_over_kappa(kappa)[..., None] * eta

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        # radial curvature A1'(kappa), tangential A1(kappa) / kappa (both 1/2 at kappa = 0)
        kappa, r = _polar(eta)
        rr = r[..., :, None] * r[..., None, :]
        radial = bessel_ratio_derivative(kappa)[..., None, None]
        tangential = bessel_ratio_over_kappa(kappa)[..., None, None]
        return radial * rr + tangential * (np.eye(2) - rr)

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        R = np.hypot(mu[..., 0], mu[..., 1])
        _, direction = _polar(mu)
        kappa, ok, it = solve_bessel_ratio(R)
        return SolveResult(kappa[..., None] * direction, ok, it)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.ones(eta.shape[:-1], dtype=bool)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return 1 - np.hypot(mu[..., 0], mu[..., 1]) > _R_TOL

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.full(eta.shape[:-1], -_LOG_2PI)

    @classmethod
    def moments(cls, eta, fixed):
        """Circular mean ``mu`` and ``E[(x - mu)^2]`` with ``x - mu`` in ``[-pi, pi)``.

        The variance is a 96-point Gauss-Legendre quadrature of
        ``y^2 exp(kappa cosm1(y))`` over ``[0, L]`` divided by the same quadrature of
        ``exp(kappa cosm1(y))``; ``L = pi``, or where ``kappa > 37.5`` the point with
        ``kappa cosm1(L) = -75``, beyond which the density is below ``e^-75`` of its mode.
        """
        p = cls.params_from_natural(eta, fixed)
        kappa = p["kappa"][..., None]
        y = _quadrature_end(kappa) * (_GL_T + 1) / 2
        w = np.exp(kappa * special.cosm1(y)) * _GL_W
        return p["loc"], np.sum(w * y * y, axis=-1) / np.sum(w, axis=-1)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = cls.params_from_natural(eta, fixed)
        return _wrap(rng.vonmises(p["loc"], p["kappa"], size=size + eta.shape[:-1]))

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        p = cls.params_from_natural(eta, fixed)
        return stats.vonmises(p["kappa"], loc=p["loc"])

    def cdf(self, x):
        """``P(-pi <= X <= x)`` for the angle ``X`` represented in ``[-pi, pi)``.

        Not SciPy's ``vonmises.cdf``, which is unwrapped (``cdf(loc) = 1/2``) and, for
        ``kappa >= 50``, a normal approximation with errors near ``3e-7``: the centred
        cdf ``C(y) = P(x - mu <= y)`` is a 96-point Gauss-Legendre quadrature of the
        density (see :meth:`moments`), and ``F(x) = C(x - mu) - C(-pi - mu)``, plus 1
        when ``[-pi, x]`` wraps past ``mu + pi``.
        """
        x = self._observations(x)
        p = type(self).params_from_natural(self._eta, self._fixed)
        loc, kappa, x = np.broadcast_arrays(p["loc"], p["kappa"], x)
        lo = _wrap(-np.pi - loc)
        hi = _wrap(x - loc)
        f = _centred_cdf(hi, kappa) - _centred_cdf(lo, kappa) + (hi < lo)
        return np.where(x < -np.pi, 0.0, np.where(x >= np.pi, 1.0, np.clip(f, 0.0, 1.0)))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The uniform distribution on the circle (``kappa = 0``): ``mu0 = (0, 0)``."""
        return np.array([0.0, 0.0])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``log(2 pi I0(kappa)) - kappa A1(kappa)`` as ``log(2 pi i0e(kappa)) +
        kappa (1 - A1(kappa))``: no ``kappa`` cancels (:mod:`expfam._precise`)."""
        kappa = np.hypot(eta[..., 0], eta[..., 1])
        return von_mises_entropy(kappa, one_minus_bessel_ratio(kappa))

    @classmethod
    def log_density(cls, x, eta, fixed):
        return von_mises_log_density(x, eta, np.hypot(eta[..., 0], eta[..., 1]))

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        # B(kp, kq) + kq (1 - cos D) A1(kp), B the Bregman divergence of log I0 in kappa
        # and D the angle between the mean directions (expfam._precise.von_mises_kl)
        kp = np.hypot(eta_p[..., 0], eta_p[..., 1])
        kq = np.hypot(eta_q[..., 0], eta_q[..., 1])
        return von_mises_kl(eta_p, eta_q, kp, kq, one_minus_bessel_ratio(kp),
                            bessel_ratio(kp), bessel_ratio_derivative(kp))
