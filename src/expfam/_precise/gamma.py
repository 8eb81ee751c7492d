"""Entropies, log densities and divergences of the gamma-type families (Gamma,
InverseGamma, ChiSquare, Exponential, Weibull, Rayleigh, Pareto, Beta, Dirichlet)
without cancellation.

Part of :mod:`expfam._precise`; accuracy against mpmath in ``tests/precision``.
"""

from __future__ import annotations

import functools

import numpy as np

from .._lazy import special
from .._special import (
    EULER_GAMMA,
    HALF_LOG_2PI,
    LOG_2PI,
    _digamma_tail,
    log_minus_digamma,
)
from .shared import _STIRLING, _normal, bd0, log_ratio, stirling_remainder, two_prod, two_sum

# ----------------------------------------------------------------------------------
# Gamma-type families (Gamma, InverseGamma, ChiSquare, Exponential, Weibull, Rayleigh,
# Pareto, Beta, Dirichlet)
#
# Notation: S(x) is stirling_remainder, L(x) = log x - psi(x) (log_minus_digamma),
# L~(x) = L(x) - 1/(2x) = -S'(x) (about 1/(12 x^2)) and M(x) = x L(x) - 1/2 (about
# 1/(12 x)).
# Error-free transformations (Dekker 1971, Knuth TAOCP 4.2.2) carry the few sums and
# products whose rounding would otherwise be amplified; a pair (hi, lo) is hi + lo.
# ----------------------------------------------------------------------------------





def one_plus(eta):
    """``1 + eta`` as a pair ``(hi, lo)`` (shape parameters from their natural ones)."""
    return two_sum(np.asarray(eta, dtype=np.float64), 1.0)






def neg_log1pmx_over_sq(t):
    """``(t - log1p(t)) / t^2`` for ``t > -1`` (1/2 at 0; Taylor series for ``|t| < 0.05``,
    so that ``-m log1pmx(t) = (m t) t h(t)`` neither under- nor overflows early)."""
    t = np.asarray(t, dtype=np.float64)
    out = np.empty(t.shape)
    small = np.abs(t) < 0.05
    _fill(out, small, _neg_log1pmx_over_sq_series, t)
    with np.errstate(all="ignore"):
        _fill(out, ~small, lambda t: (t - np.log1p(t)) / t / t, t)
    return out


def _neg_log1pmx_over_sq_series(t):
    acc = np.zeros_like(t)
    for n in range(17, 1, -1):  # sum_{n>=2} (-1)^n t^(n-2) / n
        acc = acc * t + (1.0 if n % 2 == 0 else -1.0) / n
    return acc


def _fill(out, mask, fn, *args):
    """``out[mask] = fn(*(x[mask] for x in args))`` (each branch of a piecewise formula
    evaluated only where it applies); ``args`` have ``out``'s shape."""
    if np.any(mask):
        out[mask] = fn(*(x[mask] for x in args))


def lmd_tail(x):
    """``L~(x) = log x - psi(x) - 1/(2x) = -S'(x)`` for ``x > 0`` (DLMF 5.11.2 for
    ``x >= 20``, where it is about ``1 / (12 x^2)``)."""
    x = np.asarray(x, dtype=np.float64)
    big = x >= 20.0
    xb = np.where(big, x, 20.0)
    xs = np.where(big, 1.0, x)
    return np.where(big, _digamma_tail(xb), log_minus_digamma(xs) - 0.5 / xs)


def lmd_scaled(x):
    """``M(x) = x (log x - psi(x)) - 1/2`` for ``x > 0`` (about ``1 / (12 x)``)."""
    x = np.asarray(x, dtype=np.float64)
    return x * lmd_tail(x)


def _bregman_power_coefficients(m):
    """Coefficients of ``P_m(t) = [(1 + t)^-m - 1 + m t] (1 + t)^m / t^2`` (a polynomial
    of degree ``m - 1`` with positive coefficients ``m C(m, j-1) - C(m, j)``)."""
    from math import comb
    return [m * comb(m, j - 1) - comb(m, j) for j in range(2, m + 2)]


_BREGMAN_POWER = [_bregman_power_coefficients(2 * k + 1) for k in range(len(_STIRLING))]


def stirling_bregman(a, t):
    """``B_S(a (1 + t); a) = S(c) - S(a) - (c - a) S'(a)`` for ``a >= 10``, ``c >= 10``,
    ``|t| <= 1/2``: the Stirling series (DLMF 5.11.1) term by term, each power's Bregman
    divergence ``a^-m [(1+t)^-m - 1 + m t] = a^-m t^2 P_m(t) / (1+t)^m`` in closed form
    (each is >= 0 and formed without cancellation; the first term dominates the rest,
    which fall off like ``a^-2``)."""
    inv = 1.0 / (1.0 + t)
    ia = 1.0 / a
    ia2 = ia * ia
    total = np.zeros(np.shape(t))
    scale = ia * inv  # a^-m (1+t)^-m, m = 1, 3, 5, ...
    for coef, poly in zip(_STIRLING, _BREGMAN_POWER):
        p = np.zeros(np.shape(t))
        for cj in reversed(poly):
            p = p * t + cj
        total = total + coef * scale * p
        scale = scale * ia2 * inv * inv
    return total * t * t


_SHIFT_N = 10


def _shape_div_large(a, c, delta):
    t = delta / a
    return stirling_bregman(a, t) + 0.5 * t * t * neg_log1pmx_over_sq(t)


def _shape_div_small(a, c, delta):
    t = delta / a
    a2 = a + _SHIFT_N
    c2 = c + _SHIFT_N
    t2 = delta / a2
    k = stirling_bregman(a2, t2) + 0.5 * t2 * t2 * neg_log1pmx_over_sq(t2)
    for i in range(_SHIFT_N):
        ti = delta / (a + i)
        k = k + ti * ti * neg_log1pmx_over_sq(ti)
    return (k - c2 * t2 * t2 * neg_log1pmx_over_sq(t2)
            + c * t * t * neg_log1pmx_over_sq(t) - _SHIFT_N * t * t2)


def _shape_div_far(a, c, delta):
    return (stirling_remainder(c) - stirling_remainder(a) + delta * lmd_tail(a)
            - 0.5 * (log_ratio(c, a) - delta / a))


def gamma_shape_divergence(a, c, delta):
    """``KL(Gamma(a, a) || Gamma(c, c))`` (equal means, shapes ``a -> c``) for ``a, c > 0``,
    ``delta = c - a`` (passed in, from the natural parameters, exactly).

    ``= B_S(c; a) - log1pmx(t) / 2`` with ``t = delta / a`` (both terms >= 0; from
    ``lgamma = Stirling's main part + S``).  For ``|t| <= 1/2`` and ``a, c >= 10`` the
    Bregman divergence of ``S`` comes from :func:`stirling_bregman`; for ``|t| <= 1/2``
    and a smaller shape, the recurrence ``lgamma(x) = lgamma(x + N) - sum_i log(x + i)``
    (DLMF 5.5.1, ``N = 10``) moves it to ``a + N, c + N``::

        K = B_S(c'; a') - log1pmx(t')/2 - sum_i log1pmx(delta / (a + i))
            + c' log1pmx(t') - c log1pmx(t) - N t t'

    (``t' = delta / a'``).  Otherwise ``B_S = S(c) - S(a) + delta L~(a)`` directly.
    """
    a, c, delta = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, c, delta)))
    out = np.empty(a.shape)
    with np.errstate(all="ignore"):
        near = np.abs(delta / a) <= 0.5
        large = near & (np.minimum(a, c) >= 10.0)
        _fill(out, large, _shape_div_large, a, c, delta)
        _fill(out, near & ~large, _shape_div_small, a, c, delta)
        _fill(out, ~near, _shape_div_far, a, c, delta)
    return out


def lgamma_bregman(a, c, delta):
    """``B(c; a) = lgamma(c) - lgamma(a) - (c - a) psi(a) >= 0``, ``delta = c - a``:
    :func:`gamma_shape_divergence` ``K`` plus ``c log(c/a) - delta``, written as
    ``t^2 (a - c h(t))`` for ``|t| <= 1/2`` (``t = delta / a``; both forms >= 0)."""
    with np.errstate(all="ignore"):
        k = gamma_shape_divergence(a, c, delta)
        t = delta / a
        near = np.abs(t) <= 0.5
        tn = np.where(near, t, 0.0)
        rest_near = tn * tn * (a - c * neg_log1pmx_over_sq(tn))
        rest_far = c * log_ratio(c, a) - delta
        return k + np.where(near, rest_near, rest_far)


#: coefficients of log x - psi(x) - 1/(2x) in powers of x^-2 (DLMF 5.11.2)
_DIGAMMA_TAIL = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12, -3617 / 8160)


def digamma_increment(x, beta):
    """``psi(x + beta) - psi(x)`` for ``x > 0``, ``beta >= 0``, to a few ulps also for
    ``beta << x``: after the recurrence to ``b = x + 20`` (DLMF 5.5.2),
    ``log1p(u) + beta / (2 b b0) + sum_k c_k b^-2k (1 - (1 + u)^-2k)`` with
    ``u = beta / b``, ``b0 = b + beta`` and each ``1 - (1 + u)^-2k`` as an ``expm1``
    (so that the difference of the asymptotic tails does not cancel)."""
    x = np.asarray(x, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    with np.errstate(all="ignore"):
        small = x < 20.0
        corr = np.zeros(np.broadcast_shapes(x.shape, beta.shape))
        for i in range(20):
            corr = corr + np.where(small, beta / ((x + i) * (x + i + beta)), 0.0)
        b = np.where(small, x + 20.0, x)
        u = beta / b
        l1 = np.log1p(u)
        r = 1.0 / (b * b)
        rk = np.ones_like(r)
        tail = np.zeros_like(corr)
        for k, c in enumerate(_DIGAMMA_TAIL, start=1):
            rk = rk * r
            tail = tail + c * rk * -np.expm1(-2 * k * l1)
        return corr + l1 + beta / (2.0 * b * (b + beta)) + tail


def lgamma_increment(x, beta):
    """``G(x, beta) = lgamma(x + beta) - lgamma(x)`` for ``x > 0``, ``beta >= 0``.

    For ``u = beta / x <= 1/2`` and ``x >= 10`` from Stirling's series::

        G = -beta u h(u) - log1p(u)/2 + beta log(x + beta) - beta L~(x) + B_S(x + beta; x)

    (:func:`neg_log1pmx_over_sq`, :func:`stirling_bregman`), for smaller ``x`` after the
    recurrence ``G(x, beta) = G(x + N, beta) - sum_{i<N} log1p(beta / (x + i))``; for
    ``u > 1/2`` the difference of ``gammaln`` (which then does not cancel badly).
    """
    x = np.asarray(x, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    with np.errstate(all="ignore"):
        u = beta / x
        near = u <= 0.5
        small = near & (x < 10.0)
        xs = np.where(near, np.where(small, x + _SHIFT_N, x), 10.0)
        bs = np.where(near, beta, 0.0)
        us = bs / xs
        g = (-bs * us * neg_log1pmx_over_sq(us) - 0.5 * np.log1p(us) + bs * np.log(xs + bs)
             - bs * lmd_tail(xs) + stirling_bregman(xs, us))
        for i in range(_SHIFT_N):
            g = g - np.where(small, np.log1p(bs / (x + i)), 0.0)
        direct = special.gammaln(x + beta) - special.gammaln(x)
        return np.where(near, g, direct)


def _rate_ratio_m1(bp, bp_lo, bq, bq_lo, ap, ap_lo, aq, aq_lo):
    """``u = (b_q a_p) / (b_p a_q) - 1`` (the rates of ``q`` and of the member with
    ``p``'s mean and ``q``'s shape), the numerator by exact products near ``u = 0``."""
    with np.errstate(all="ignore"):
        rho = (bq / bp) * (ap / aq)
        plain = rho - 1.0
        # scale the rates by 2^-e(b_p) and the shapes by 2^-e(a_q): exact (powers of 2)
        _, eb = np.frexp(bp)
        _, ea = np.frexp(aq)
        bps, bqs = np.ldexp(bp, -eb), np.ldexp(bq, -eb)
        aps, aqs = np.ldexp(ap, -ea), np.ldexp(aq, -ea)
        apl, aql = np.ldexp(ap_lo, -ea), np.ldexp(aq_lo, -ea)
        bpl, bql = np.ldexp(bp_lo, -eb), np.ldexp(bq_lo, -eb)
        p1, e1 = two_prod(bqs, aps)
        p2, e2 = two_prod(bps, aqs)
        num = (p1 - p2) + ((e1 - e2) + ((bqs * apl + bql * aps) - (bps * aql + bpl * aqs)))
        exact = num / (p2 + (e2 + bps * aql + bpl * aqs))
    use = (np.abs(plain) < 0.5) & np.isfinite(exact)
    return np.where(use, exact, plain), rho


def gamma_kl(ap, ap_lo, bp, aq, aq_lo, bq, delta, bp_lo=0.0, bq_lo=0.0):
    """``KL(Gamma(a_p, b_p) || Gamma(a_q, b_q))`` (rates ``b``), ``delta = a_q - a_p``;
    shapes as pairs ``(a, a_lo)`` (``1 + eta`` rounded and its rounding error), rates
    optionally too (``bp_lo``, ``bq_lo``).

    Split exactly at ``q' = Gamma(a_q, b_p a_q / a_p)``, which has ``p``'s mean:
    ``KL(p||q) = KL(p||q') + a_q (rho - 1 - log rho)``, ``rho = b_q a_p / (b_p a_q)``:
    two terms >= 0, the first :func:`gamma_shape_divergence`, the second
    ``(a_q u) u h(u)`` with ``u = rho - 1`` and :func:`neg_log1pmx_over_sq`.
    """
    k_shape = gamma_shape_divergence(ap, aq, delta)
    u, rho = _rate_ratio_m1(bp, bp_lo, bq, bq_lo, ap, ap_lo, aq, aq_lo)
    with np.errstate(all="ignore"):
        near = np.abs(u) < 0.5
        un = np.where(near, u, 0.0)
        k_near = (aq * un) * un * neg_log1pmx_over_sq(un)
        # far: a_q (rho - 1 - log rho), log rho from the logs where rho leaves float64
        log_rho = np.where(_normal(rho), np.log(np.where(_normal(rho), rho, 1.0)),
                           log_ratio(bq, bp) + log_ratio(ap, aq))
        # a_q rho = b_q a_p / b_p, from the logarithms where rho is not a normal float
        aq_rho = np.where(_normal(rho), aq * rho, np.exp(np.log(aq) + log_rho))
        k_far = (aq_rho - aq) - aq * log_rho
    return k_shape + np.where(near, k_near, k_far)


def gamma_entropy(a, coef, b, inverse=False):
    """Entropy of ``Gamma(a, rate b)`` (``inverse``: of the inverse gamma with scale
    ``b``, the law of ``1/x``), ``coef`` the exact coefficient of ``psi(a)``: ``1 - a``
    (``-eta`` of the gamma) or ``-(1 + a)`` (``eta`` of the inverse gamma).

    Direct for ``a < 10``: ``a -+ log b + lgamma(a) + coef psi(a)``.  For ``a >= 10``,
    where that cancels, from Stirling's series (DLMF 5.11.1-2, ``psi = log - L``)::

        gamma:          H = (1 + log 2 pi)/2 + log(sqrt(a) / b)   + S(a) + M(a) - L(a)
        inverse gamma:  H = (1 + log 2 pi)/2 + log(b / a^(3/2))  + S(a) + M(a) + L(a)

    with the logarithm of the quotient taken in one piece where it is a normal float.
    """
    sign = 1.0 if inverse else -1.0

    def direct(a, coef, b):
        return a + special.gammaln(a) + coef * special.digamma(a) + sign * np.log(b)

    def series(a, coef, b):
        if inverse:
            a32 = a * np.sqrt(a)
            main = np.where(np.isfinite(a32), log_ratio(b, a32), np.log(b) - 1.5 * np.log(a))
        else:
            main = log_ratio(np.sqrt(a), b)
        corr = stirling_remainder(a) + lmd_scaled(a) + sign * log_minus_digamma(a)
        return 0.5 * (1.0 + LOG_2PI) + main + corr

    a, coef, b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, coef, b)))
    out = np.empty(a.shape)
    with np.errstate(all="ignore"):
        big = a >= 10.0
        _fill(out, big, series, a, coef, b)
        _fill(out, ~big, direct, a, coef, b)
    return out[()]  # a NumPy scalar for a single distribution


def bd0_pair(x, x_lo, m, m_lo, log_m):
    """``bd0(x, m) = x log(x / m) + m - x`` at ``x + x_lo``, ``m + m_lo``.

    Near ``x = m`` (``|t| < 1/2``, ``t = (x - m) / m`` from the pairs):
    ``m t^2 [1 - (1 + t) h(t)]`` with ``h`` of :func:`neg_log1pmx_over_sq` (no
    cancellation; the pairs' difference is formed before the rounding).  Farther out,
    ``bd0`` of the leading parts with first-order corrections (``d/dx = log(x/m)``,
    ``d/dm = 1 - x/m``); ``log_m`` (``log m`` from the factors) is used where ``m`` or
    ``x / m`` leaves float64."""
    with np.errstate(all="ignore"):
        d = (x - m) + (x_lo - m_lo)
        t = d / m
        near = (np.abs(t) < 0.5) & _normal(m)
        tn = np.where(near, t, 0.0)
        k_near = (m * tn) * tn * (1.0 - (1.0 + tn) * neg_log1pmx_over_sq(tn))
        core = bd0(x, m)
        ok = np.isfinite(core) & _normal(m)
        lr = np.where(_normal(m), log_ratio(x, m), np.log(x) - log_m)
        core = np.where(ok, core, x * lr + m - x)
        dm = np.where(m_lo == 0.0, 0.0, (1.0 - np.exp(np.minimum(lr, 700.0))) * m_lo)
        dx = np.where(x_lo == 0.0, 0.0, lr * x_lo)
        return np.where(near, k_near, core + dx + dm)


def product_pair(x, y):
    """``x y`` as a pair ``(p, lo)``: Dekker's exact product of the mantissas (the
    exponents split off by ``frexp``, exactly); ``lo = 0`` where the product is not a
    normal float."""
    with np.errstate(all="ignore"):
        mx, ex = np.frexp(x)
        my, ey = np.frexp(y)
        p, e = two_prod(mx, my)
        scale = ex + ey
        p, e = np.ldexp(p, scale), np.ldexp(e, scale)
        ok = _normal(p) & np.isfinite(e)
    return np.where(ok, p, np.asarray(x) * np.asarray(y)), np.where(ok, e, 0.0)


@functools.cache
def _lgamma1p_coefficients() -> tuple:
    """(-1)^k zeta(k) / k, k = 2..60, for lgamma(1 + a) = -euler_gamma a + sum_k ... a^k
    (computed on first use: SciPy is not imported with expfam)."""
    return tuple((-1) ** k * float(special.zeta(k)) / k for k in range(2, 61))


def lgamma1p(a):
    """``lgamma(1 + a)`` for ``0 <= a <= 1/2`` from its Taylor series at 1 (DLMF 5.7.3),
    to full relative precision for small ``a`` (where ``gammaln(1 + a)`` loses it)."""
    a = np.asarray(a, dtype=np.float64)
    acc = np.zeros_like(a)
    for c in reversed(_lgamma1p_coefficients()):
        acc = acc * a + c
    return a * (acc * a - EULER_GAMMA)


def log_pair(y, y_lo, fallback):
    """``log(y + y_lo)``; ``fallback`` (the logarithm from the factors) where ``y`` is
    not a normal float (a product or quotient that under- or overflowed)."""
    with np.errstate(all="ignore"):
        ok = _normal(y)
        ys = np.where(ok, y, 1.0)
        return np.where(ok, np.log(ys) + np.where(ok, y_lo, 0.0) / ys, fallback)


def gamma_log_density(x, a, a_lo, am1, y, y_lo, log_y, log_h, log_x=None, magnitude=False):
    """``log p = a log y - y - log x - lgamma(a)`` of ``Gamma(a, rate b)`` at ``x`` with
    ``y = b x`` (the inverse gamma: ``y = b / x``), given as a pair ``(y, y_lo)`` with
    ``log_y``, ``am1 = a - 1`` and ``log_h = log y - log x`` (``log b``, or
    ``log b - 2 log x``), each computed by the caller without cancellation.

    - ``a >= 10``: Loader's form ``-log x + log(a / (2 pi))/2 - S(a) - bd0(a, y)``, free
      of the cancellation between ``a log y``, ``y`` and ``lgamma(a)`` near the mode;
    - ``1/2 <= a < 10``: ``(a - 1) log y - y + log_h - lgamma(a)`` (exact ``a - 1``);
    - ``a < 1/2``: ``log(a / x) + a log y - y - lgamma(1 + a)``, which keeps ``log p``'s
      relative precision when ``x`` is near ``a`` (``lgamma(a) = lgamma(1 + a) - log a``).

    ``log_x`` defaults to ``log(x)``.  With ``magnitude``, also the sum of the absolute
    values of the terms added (a bound on the rounding error, in units of ``eps``).
    """
    x = np.asarray(x, dtype=np.float64)
    if log_x is None:
        log_x = np.log(x)
    args = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                 for v in (x, a, a_lo, am1, y, y_lo, log_y, log_h, log_x)))
    a = args[1]
    out = np.empty((2,) + a.shape)
    with np.errstate(all="ignore"):
        big = a >= 10.0
        tiny = a < 0.5
        _fill_pair(out, big, _gamma_logpdf_loader, *args)
        _fill_pair(out, tiny, _gamma_logpdf_tiny, *args)
        _fill_pair(out, ~(big | tiny), _gamma_logpdf_mid, *args)
    return (out[0], out[1]) if magnitude else out[0]


def _fill_pair(out, mask, fn, *args):
    """:func:`_fill` for a branch returning ``(value, magnitude)`` into ``out[0], out[1]``."""
    if np.any(mask):
        terms = fn(*(v[mask] for v in args))
        out[0, ...][mask] = sum(terms)
        out[1, ...][mask] = sum(map(np.abs, terms))


def _gamma_logpdf_loader(x, a, a_lo, am1, y, y_lo, log_y, log_h, log_x):
    return (-log_x, 0.5 * (np.log(a) - LOG_2PI), -stirling_remainder(a),
            -bd0_pair(a, a_lo, y, y_lo, log_y))


def _gamma_logpdf_mid(x, a, a_lo, am1, y, y_lo, log_y, log_h, log_x):
    return (am1 * log_y, -(y + y_lo), log_h, -special.gammaln(a))


def _gamma_logpdf_tiny(x, a, a_lo, am1, y, y_lo, log_y, log_h, log_x):
    return (log_ratio(a, x), a * log_y, -(y + y_lo), -lgamma1p(a))


def dirichlet_entropy(alpha, eta, rest):
    """Entropy of ``Dirichlet(alpha)`` (last axis; ``eta = alpha - 1`` exact, ``rest_j =
    alpha_0 - alpha_j`` summed without cancellation).

    For ``alpha_0 < 20`` the textbook ``log B(alpha) + (alpha_0 - K) psi(alpha_0)
    - sum_j (alpha_j - 1) psi(alpha_j)``; above, from Stirling's series::

        H = (K-1)/2 (1 + log 2 pi - log alpha_0) - sum_j log1p(rest_j / alpha_j) / 2
            + sum_j [S + M - L](alpha_j) - S(alpha_0) - M(alpha_0) + K L(alpha_0)
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    K = alpha.shape[-1]
    s = np.sum(alpha, axis=-1)
    big = s >= 20.0
    with np.errstate(all="ignore"):
        sb = np.where(big, s, 20.0)
        per = (stirling_remainder(alpha) + lmd_scaled(alpha) - log_minus_digamma(alpha)
               + 0.5 * log_ratio(alpha, alpha + rest))
        series = (0.5 * (K - 1) * (1.0 + LOG_2PI - np.log(sb)) + np.sum(per, axis=-1)
                  - stirling_remainder(sb) - lmd_scaled(sb) + K * log_minus_digamma(sb))
        ss = np.where(big, 1.0, s)
        direct = (np.sum(special.gammaln(alpha), axis=-1) - special.gammaln(ss)
                  + (np.sum(eta, axis=-1)) * special.digamma(ss)
                  - np.sum(eta * special.digamma(alpha), axis=-1))
    return np.where(big, series, direct)[()]  # a NumPy scalar for a single distribution


def dd_sum(x_hi, x_lo):
    """Sum along the last axis of pairs ``x_hi + x_lo`` as a pair (cascaded two_sum)."""
    s = np.zeros(x_hi.shape[:-1])
    e = np.zeros(x_hi.shape[:-1])
    for j in range(x_hi.shape[-1]):
        s, err = two_sum(s, x_hi[..., j])
        e = e + err + x_lo[..., j]
    return two_sum(s, e)


def dirichlet_kl(eta_p, eta_q):
    """``KL(Dir(alpha_p) || Dir(alpha_q))`` along the last axis.

    ``KL = sum_j B(alpha_qj; alpha_pj) - B(alpha_0q; alpha_0p)`` (:func:`lgamma_bregman`)
    has two arrangements, and the one with the smaller sum of absolute terms is taken:

    - the Gamma representation (independent ``G_j ~ Gamma(alpha_j, beta)`` normalised
      by their sum ``~ Gamma(alpha_0, beta)``, independent of the proportions), for rates
      ``beta_p = alpha_0p``, ``beta_q = alpha_0q``: ``KL = sum_j KL_Gamma(j) -
      KL_Gamma(alpha_0)``, every term from :func:`gamma_kl` (``>= 0``); good unless one
      component dominates ``alpha_0`` and changes a lot;
    - around the dominant component ``*`` of ``alpha_p`` (``b`` the sum of the others):
      ``B(a_q; a_p) - B(alpha_0q; alpha_0p) = G(a_p, b_p) - G(a_q, b_q)
      + (a_q - a_p) (psi(alpha_0p) - psi(a_p)) + (b_q - b_p) psi(alpha_0p)``
      (:func:`lgamma_increment`), plus ``B`` of the other components.
    """
    ap, ap_lo = one_plus(eta_p)
    aq, aq_lo = one_plus(eta_q)
    sp, sp_lo = dd_sum(ap, ap_lo)
    sq, sq_lo = dd_sum(aq, aq_lo)
    delta = eta_q - eta_p
    ds = (sq - sp) + (sq_lo - sp_lo)
    with np.errstate(all="ignore"):
        k_sum = gamma_shape_divergence(sp, sq, ds)
        comp = gamma_kl(ap, ap_lo, sp[..., None], aq, aq_lo, sq[..., None], delta,
                        sp_lo[..., None], sq_lo[..., None])
        total = np.sum(comp, axis=-1)
        by_gamma = total - k_sum
        # the other arrangement only where this one's terms exceed the result 100-fold
        out = np.array(by_gamma, dtype=np.float64)
        need = ~(total + k_sum <= _CANCEL * by_gamma)
        if np.any(need):
            by_top, mag_top = _dirichlet_kl_top(ap[need], aq[need], delta[need], sp[need])
            use = np.isfinite(by_top) & (mag_top < (total + k_sum)[need])
            out[need] = np.where(use, by_top, by_gamma[need])
    return out[()]


#: a sum whose absolute terms exceed its value this many times tries the other form
_CANCEL = 100.0


def _dirichlet_kl_top(ap, aq, delta, sp):
    """The KL arrangement around the largest component of ``alpha_p`` (rows of
    :func:`dirichlet_kl`): ``(value, sum of absolute terms)``."""
    top = np.argmax(ap, axis=-1)[..., None]
    is_top = np.arange(ap.shape[-1]) == top
    breg = np.sum(np.where(is_top, 0.0, lgamma_bregman(ap, aq, delta)), axis=-1)
    a1p = np.take_along_axis(ap, top, -1)[..., 0]
    a1q = np.take_along_axis(aq, top, -1)[..., 0]
    da = np.take_along_axis(delta, top, -1)[..., 0]
    bp = np.sum(np.where(is_top, 0.0, ap), axis=-1)
    bq = np.sum(np.where(is_top, 0.0, aq), axis=-1)
    db = np.sum(np.where(is_top, 0.0, delta), axis=-1)
    terms = (lgamma_increment(a1p, bp), -lgamma_increment(a1q, bq),
             da * digamma_increment(a1p, bp), db * special.digamma(sp))
    return breg + sum(terms), breg + sum(map(np.abs, terms))


def rest_sums(alpha):
    """``alpha_0 - alpha_j`` along the last axis, for the largest component as the sum of
    the others (no cancellation when it dominates)."""
    alpha = np.asarray(alpha, dtype=np.float64)
    top = np.argmax(alpha, axis=-1)[..., None]
    others = alpha.copy()
    np.put_along_axis(others, top, 0.0, axis=-1)
    rest = np.sum(alpha, axis=-1, keepdims=True) - alpha
    np.put_along_axis(rest, top, np.sum(others, axis=-1, keepdims=True), axis=-1)
    return rest


def dirichlet_log_density(x, x_lo, log_x, eta):
    """``log p`` of ``Dirichlet(alpha)``, ``alpha = 1 + eta``, at the point ``x + x_lo``
    of the simplex (pairs; ``log_x`` their logarithms), along the last axis.

    Two arrangements; the one with the smaller sum of absolute terms is taken:

    - with ``y_j = alpha_0 x_j`` (``sum_j y_j = alpha_0``),
      ``log p = sum_j g_j + S(alpha_0) - log(alpha_0)/2 + log(2 pi)/2`` where
      ``g_j = alpha_j log y_j - y_j - log x_j - lgamma(alpha_j)`` is the log density of
      ``Gamma(alpha_j, rate alpha_0)`` at ``x_j`` (:func:`gamma_log_density`, Loader's
      form for large ``alpha_j``): good for large concentrations near the mode;
    - around the largest ``alpha_*`` (``b`` the sum of the others):
      ``log p = (alpha_* - 1) log x_* + G(alpha_*, b) + sum_{j != *} c_j`` with
      :func:`lgamma_increment` ``G`` and ``c_j = (alpha_j - 1) log x_j - lgamma(alpha_j)``,
      for ``alpha_j < 1/2`` as ``log(alpha_j / x_j) + alpha_j log x_j - lgamma(1 + alpha_j)``;
      when ``alpha_0 < 1/2`` the logarithms ``log(alpha_j / x_j)`` and ``-log alpha_0``
      are taken as one logarithm of a product (all of them cancel together).
    """
    a, a_lo = one_plus(eta)
    s, s_lo = dd_sum(a, a_lo)
    with np.errstate(all="ignore"):
        sx = s[..., None]
        y, y_lo = product_pair(sx, x)
        y_lo = y_lo + sx * x_lo + s_lo[..., None] * x
        log_s = np.log(s) + s_lo / s
        log_y = log_pair(y, y_lo, log_s[..., None] + log_x)
        g, mag = gamma_log_density(x, a, a_lo, eta, y, y_lo, log_y, log_s[..., None],
                                   log_x=log_x, magnitude=True)
        tail = (stirling_remainder(s), -0.5 * log_s, HALF_LOG_2PI)
        by_gamma = np.sum(g, axis=-1) + sum(tail)
        mag_gamma = np.sum(mag, axis=-1) + sum(map(np.abs, tail))
        # the other arrangements only where needed
        out = np.array(by_gamma, dtype=np.float64)
        all_tiny = s < 0.5
        need = all_tiny | ~(mag_gamma <= _CANCEL * np.abs(by_gamma))
        if np.any(need):
            rows = (x[need], x_lo[need], log_x[need], eta[need], a[need], a_lo[need])
            by_top, mag_top, by_tiny = _dirichlet_logpdf_top(*rows, s[need], s_lo[need])
            use = np.isfinite(by_top) & (mag_top < mag_gamma[need])
            best = np.where(use, by_top, by_gamma[need])
            out[need] = np.where(all_tiny[need], by_tiny, best)
    return out[()]


def _dirichlet_logpdf_top(x, x_lo, log_x, eta, a, a_lo, s, s_lo):
    """The logpdf arrangements of :func:`dirichlet_log_density` around the largest
    concentration (``value, sum of absolute terms``) and for ``alpha_0 < 1/2``."""
    top = np.argmax(a, axis=-1)[..., None]
    is_top = np.arange(a.shape[-1]) == top
    tiny = a < 0.5
    at = np.where(tiny, a, 0.25)
    # log(alpha_j / x_j) with the low parts of alpha_j and x_j to first order
    lr = log_ratio(at, x) + a_lo / at - x_lo / x
    c_tiny = (lr, at * log_x, -lgamma1p(at))
    c_mid = (eta * log_x, -special.gammaln(np.where(tiny, 1.0, a)))
    others = np.where(is_top, 0.0, np.where(tiny, sum(c_tiny), sum(c_mid)))
    mag_others = np.where(is_top, 0.0, np.where(tiny, sum(map(np.abs, c_tiny)),
                                                sum(map(np.abs, c_mid))))
    a1 = np.take_along_axis(a, top, -1)[..., 0]
    b = np.sum(np.where(is_top, 0.0, a), axis=-1)
    top_terms = (np.sum(np.where(is_top, eta * log_x, 0.0), axis=-1), lgamma_increment(a1, b))
    by_top = np.sum(others, axis=-1) + sum(top_terms)
    mag_top = np.sum(mag_others, axis=-1) + sum(map(np.abs, top_terms))
    # all concentrations below 1/2: prod_j (alpha_j / x_j) / alpha_0 in one logarithm
    all_tiny = s < 0.5
    ratio = np.prod(np.where(tiny, at / x, 1.0), axis=-1) / s
    ok = all_tiny & _normal(ratio)
    log_all = np.where(ok, np.log(np.where(ok, ratio, 1.0)), np.sum(lr, axis=-1) - np.log(s))
    log_all = log_all + np.where(ok, np.sum(a_lo / at - x_lo / x, axis=-1), 0.0) - s_lo / s
    tiny_terms = (log_all, np.sum(at * log_x, axis=-1), -np.sum(lgamma1p(at), axis=-1),
                  lgamma1p(np.where(all_tiny, s, 0.25)))
    return by_top, mag_top, sum(tiny_terms)
