"""Negative binomial distribution with a fixed number of successes ``r > 0``.

``x`` counts the failures before the ``r``-th success:
``P(x = k) = C(k + r - 1, k) p^r (1 - p)^k`` on ``{0, 1, 2, ...}`` (``scipy.stats.nbinom``).
``u(x) = x``, ``eta = log(1 - p)`` (``eta < 0``),
``log h = log C(x + r - 1, x) = lgamma(x + r) - lgamma(x + 1) - lgamma(r)``,
``A(eta) = -r log p = -r log(-expm1(eta))``.  The MLE is ``p = r / (r + mean(x))``.

``E[log h]`` (for the entropy) has no closed form.  Summing the series over the support
needs ``O(1 / p)`` terms (its tail decays like ``(1 - p)^k``), so the series is summed
exactly in integral form instead.  Malmsten's integral
``log Gamma(z) = int_0^inf [(z - 1) e^-t - (e^-t - e^-zt) / (1 - e^-t)] dt / t``
applied to ``lgamma(x + r) - lgamma(x + 1) - lgamma(r)`` and averaged over ``x`` with the
probability generating function ``E[e^-xt] = (1 + c (1 - e^-t))^-r``, ``c = (1 - p) / p``,
gives

``E[log h] = int_0^inf [1 - (1 + c (1 - e^-t))^-r] (e^-t - e^-rt) / (1 - e^-t) dt / t``.

The integrand has one sign (that of ``r - 1``) and is evaluated without cancellation.  In
``s = log t`` it is analytic and bounded in the strip ``|Im s| < pi/2``, so composite
Gauss-Legendre (16 nodes per panel of width <= 1) converges like ``5^-32``.  The range
``t in [1e-20 tau, 50 / min(1, r)]``, ``tau = 1 / max(1, r, c, r c)`` (below ``tau``
the integrand is ``~ r c (r - 1) t``), leaves out less than ``1e-20`` of the integral
at either end (``t >= e^-800``; below ``t = e^-30`` the integrand is evaluated from
``s = log t`` with first-order expansions in ``t``, so that odds ``c`` up to 1e300 work).
Checked against the series summed in 40-digit arithmetic (tests) and against mpmath
(``tests/precision/cases_discrete.py``).
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from ..domains import UNIT_INTERVAL
from ..errors import ParameterError
from ._failures import FailureCountFamily, odds_from_natural

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
#: at most this many quadrature nodes are held in memory at once
_CHUNK = 1 << 21


def expected_log_coefficient(r: float, eta) -> np.ndarray:
    """``E[log C(x + r - 1, x)]`` for ``x ~ NegativeBinomial(r, 1 - e^eta)``, elementwise."""
    eta = np.asarray(eta, dtype=np.float64)
    c = odds_from_natural(eta.reshape(-1))
    a, b = min(1.0, r), abs(r - 1.0)
    out = np.zeros(c.shape)
    if b == 0:  # r = 1: the geometric distribution, h = 1
        return out.reshape(eta.shape)
    # tau = 1 / max(1, r, c, r c): below it, 1 - pgf ~ r c t and the kernel ~ |r - 1|
    # (t down to e^-800: below 1e-308 the integrand is evaluated from s = log t itself)
    log_c = eta.reshape(-1) - np.log(-np.expm1(eta.reshape(-1)))
    s_lo = np.maximum(np.log(1e-20) - np.log(max(1.0, r)) - np.maximum(0.0, log_c), -800.0)
    s_hi = np.log(50.0 / a)
    n_panels = int(np.ceil(np.max(s_hi - s_lo, initial=1.0)))
    h = (s_hi - s_lo) / n_panels
    u = (np.arange(n_panels)[:, None] + (_GL_X + 1) / 2).ravel()  # nodes in [0, n_panels]
    w = np.tile(_GL_W / 2, n_panels)
    step = max(1, _CHUNK // u.size)
    for start in range(0, c.size, step):  # loop over chunks of the batch, not elements
        sl = slice(start, start + step)
        s = s_lo[sl, None] + h[sl, None] * u
        t = np.exp(s)
        # c (1 - e^-t) = exp(log c + log(1 - e^-t)), log(1 - e^-t) = s - t/2 + O(t^2) for
        # tiny t (t itself may underflow)
        tiny = s < -30.0
        with np.errstate(all="ignore"):
            log_w = np.where(tiny, s - t / 2, np.log(-np.expm1(-np.where(tiny, 1.0, t))))
            one_minus_pgf = -np.expm1(-r * np.log1p(np.exp(log_c[sl, None] + log_w)))
            # |e^-t - e^-rt| / (1 - e^-t) = e^-min(1,r)t (1 - e^-|r-1|t) / (1 - e^-t),
            # b (1 - (b - 1) t / 2 - a t) + O(t^2) for tiny t
            tt = np.where(tiny, 1.0, t)
            kernel = np.where(tiny, b * (1.0 - (0.5 * (b - 1.0) + a) * t),
                              np.exp(-a * tt) * np.expm1(-b * tt) / np.expm1(-tt))
        out[sl] = h[sl] * np.sum(w * one_minus_pgf * kernel, axis=-1)
    return (np.sign(r - 1.0) * out).reshape(eta.shape)


class NegativeBinomial(FailureCountFamily):
    """Negative binomial distribution of the number of failures before ``r`` successes,
    ``P(x = k) = C(k + r - 1, k) p^r (1 - p)^k`` on ``{0, 1, 2, ...}``.

    Same convention as ``scipy.stats.nbinom(r, p)``; ``r = 1`` is :class:`Geometric`.

    Parameters
    ----------
    r : float
        Number of successes, a real number ``r > 0`` (fixed, not fitted):
        ``expfam.fit(expfam.NegativeBinomial, x, r=2.5)``.
    p : array_like
        Success probability of one trial, ``0 < p < 1``.
    """

    name = "negative_binomial"
    fixed_params = ("r",)
    param_domains = {"p": UNIT_INTERVAL}

    def __init__(self, r=1.0, p=0.5):
        fixed = self.check_fixed({"r": r})
        self._init_natural(self.natural_from_params(fixed, p=p), fixed)

    @classmethod
    def check_fixed(cls, fixed):
        fixed = super().check_fixed(fixed)
        r = fixed["r"]
        v = np.asarray(r)
        if not (v.ndim == 0 and v.dtype.kind in "iuf" and np.isfinite(v) and v > 0):
            shown = float(v) if v.ndim == 0 and v.dtype.kind in "iuf" else r
            raise ParameterError(f"fixed parameter 'r' must be a finite number > 0; got {shown!r}")
        fixed["r"] = float(v)
        return fixed

    @classmethod
    def _successes(cls, fixed):
        return fixed["r"]

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        return np.asarray(x, dtype=np.float64)[..., None]

    @classmethod
    def log_base_measure(cls, x, fixed):
        # log C(x + r - 1, x) = -log x - log B(x, r) for x >= 1 (accurate for large r)
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            return np.where(x > 0, -np.log(x) - special.betaln(x, fixed["r"]), 0.0)

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log C(x + r - 1, x) + r log p + x log q`` in Loader's saddle point form
        (:func:`expfam._precise.negative_binomial_log_pmf`)."""
        e = eta[..., 0]
        return _precise.negative_binomial_log_pmf(x, fixed["r"], np.log(-np.expm1(e)), e)

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """Shannon entropy in nats: ``A - eta mu - E[log h]`` with the quadrature of
        :func:`expected_log_coefficient` for ``r <= 1000`` (no cancellation for
        ``r <= 1``: ``E[log h] <= 0``; at most about ``log10(r)`` digits lost above), and
        :func:`expfam._precise.negative_binomial_entropy` (``-E[log pmf]`` summed or
        integrated) for larger ``r``."""
        r = fixed["r"]
        if r > 1000.0:
            return _precise.negative_binomial_entropy(r, eta[..., 0])
        return super().entropy_natural(eta, fixed)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return expected_log_coefficient(fixed["r"], eta[..., 0])

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = -np.expm1(eta[..., 0])
        return rng.negative_binomial(fixed["r"], p, size=size + eta.shape[:-1]).astype(np.float64)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.nbinom(fixed["r"], -np.expm1(eta[..., 0]))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """NegativeBinomial(r, 1/2): as many failures as successes, ``mu0 = r``."""
        return np.array([fixed["r"]])
