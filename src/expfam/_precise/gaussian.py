"""Entropies, log densities and divergences of the Gaussian-type families (Normal,
LogNormal, MultivariateNormal, Laplace, InverseGaussian, VonMises) without cancellation.

Part of :mod:`expfam._precise`; accuracy against mpmath in ``tests/precision``.
"""

from __future__ import annotations

import numpy as np

from .._lazy import special
from .shared import log1pmx, two_prod, two_sum

# ----------------------------------------------------------------------------------
# Gaussian-type families (Normal, LogNormal, MultivariateNormal, Laplace,
# InverseGaussian, VonMises)
# ----------------------------------------------------------------------------------

#: ``log(2)`` split so that ``n * _LN2_HI`` is exact for ``|n| < 2^20`` (fdlibm's split)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
#: ``log(pi) / 2`` and ``(1 + log(pi)) / 2``, correctly rounded
_HALF_LOG_PI = 0.5723649429247001
_HALF_1_LOG_PI = 1.0723649429247002








def quotient_dd(a, b):
    """``(q, r)`` with ``q = fl(a / b)`` and ``q + r = a / b`` to about ``eps^2``
    relative: ``r = (a - q b) / b`` with the residual ``a - q b`` exact (two_prod)."""
    q = a / b
    p, e = two_prod(q, b)
    with np.errstate(all="ignore"):
        r = ((a - p) - e) / b
    return q, np.where(np.isfinite(r), r, 0.0)


def log_sum(*terms):
    """``sum_i c_i log(x_i)`` for ``x_i > 0`` and coefficients ``c_i`` that are multiples
    of 1/4, with an absolute error of a few ``eps`` whatever the sizes of the logs.

    Each ``x = f 2^e`` with ``f`` in ``[sqrt(1/2), sqrt(2))``: ``log x = log1p(f - 1) +
    e log 2``, and ``sum c_i e_i`` is summed exactly before it multiplies ``log 2`` (split
    into a head whose products are exact and a tail), so that large logarithms that
    cancel (``log(m^3 / lam)`` with ``m``, ``lam`` near 1e300) leave no rounding behind.
    ``terms`` are pairs ``(c, x)``.
    """
    small = 0.0
    n = 0.0
    for c, x in terms:
        f, e = np.frexp(np.asarray(x, dtype=np.float64))
        low = f < 0.7071067811865476
        f = np.where(low, 2 * f, f)
        e = np.where(low, e - 1, e)
        small = small + c * np.log1p(f - 1.0)
        n = n + c * e.astype(np.float64)
    return n * _LN2_HI + (n * _LN2_LO + small)


def gaussian_location(eta1, eta2):
    """``(m, m_lo)``: the mean ``m = -eta1 / (2 eta2)`` of a normal law in natural
    parameters as an unevaluated sum ``m + m_lo``, exact to about ``eps^2 |m|``, so that
    ``x - m`` and ``m_p - m_q`` keep their digits when they are much smaller than ``m``."""
    return quotient_dd(-0.5 * np.asarray(eta1, dtype=np.float64), eta2)


def gaussian_log_density(y, eta1, eta2):
    """``log N(y; m, v)`` from ``eta = (m / v, -1 / (2 v))``:
    ``log(-eta2) / 2 - log(pi) / 2 - z^2`` with ``z = (y - m) sqrt(-eta2)``, ``y - m``
    taken against the double-float mean (:func:`gaussian_location`); no overflow while
    ``z^2`` is finite."""
    m, m_lo = gaussian_location(eta1, eta2)
    z = ((y - m) - m_lo) * np.sqrt(-eta2)
    return (0.5 * np.log(-eta2) - _HALF_LOG_PI) - z * z


def gaussian_entropy(eta2):
    """``log(2 pi e v) / 2 = (1 + log(pi) - log(-eta2)) / 2`` (``v = -1 / (2 eta2)``)."""
    return _HALF_1_LOG_PI - 0.5 * np.log(-eta2)


def half_neg_log1pmx(t, r, log_r=None):
    """``(r - 1 - log r) / 2`` for ``r = 1 + t > 0``: ``-log1pmx(t) / 2`` near 1 (no
    cancellation as ``r -> 1``), the direct form otherwise.  ``t`` and ``r`` must agree;
    each is used where it is the accurate one.  ``log_r`` may be given where ``r`` itself
    under- or overflows (a ratio of 1e-600)."""
    t = np.asarray(t, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    near = np.abs(t) < 0.5
    with np.errstate(all="ignore"):
        direct = 0.5 * ((r - 1.0) - (np.log(r) if log_r is None else log_r))
    return np.where(near, -0.5 * log1pmx(np.where(near, t, 0.0)), direct)


def _half_neg_log1pmx_ratio(num, den):
    """``(r - 1 - log r) / 2`` for ``r = num / den`` (both < 0 or both > 0)."""
    with np.errstate(all="ignore"):
        return half_neg_log1pmx((num - den) / den, num / den,
                                log_sum((1.0, np.abs(num)), (-1.0, np.abs(den))))


def _exponent(x):
    """``e`` with ``|x| = f 2^e``, ``f`` in ``[1/2, 1)`` (0 for ``x = 0``)."""
    return np.frexp(np.asarray(x, dtype=np.float64))[1]


def _well_scaled(*xs):
    """Whether the power-of-two scaled copies are all finite and, unless zero, far from
    the subnormal range (where :func:`two_prod` would lose digits)."""
    ok = True
    for x in xs:
        ax = np.abs(x)
        ok = ok & np.isfinite(ax) & ((ax == 0) | (ax >= 2.0**-900))
    return ok


def det2(a, b, c, d):
    """``a d - b c`` with a relative error of a few ``eps`` (two_prod for both products,
    so that nearly equal products cancel exactly)."""
    p1, e1 = two_prod(a, d)
    p2, e2 = two_prod(b, c)
    return (p1 - p2) + (e1 - e2)


def gaussian_mean_gap(eta_p, eta_q):
    """``(m_p - m_q) sqrt(-eta2_q)`` for normal laws in natural parameters (``m = -eta1 /
    (2 eta2)``), accurate to a few ``eps`` relative even when the means differ in their
    last bits and the scales are far smaller:
    ``m_p - m_q = (eta1_q eta2_p - eta1_p eta2_q) / (2 eta2_p eta2_q)``, the numerator by
    :func:`det2` on copies of ``eta1`` and ``eta2`` scaled by powers of two (no overflow)."""
    e1p, e2p = eta_p[..., 0], eta_p[..., 1]
    e1q, e2q = eta_q[..., 0], eta_q[..., 1]
    s1 = _exponent(np.maximum(np.abs(e1p), np.abs(e1q)))
    s2 = _exponent(e2p)
    a1p, a1q = np.ldexp(e1p, -s1), np.ldexp(e1q, -s1)
    a2p, a2q = np.ldexp(e2p, -s2), np.ldexp(e2q, -s2)
    scaled_gap = det2(a1q, a1p, a2q, a2p) / (2 * a2p) / a2q  # (m_p - m_q) 2^(s2 - s1)
    k, j = np.divmod(s2, 2)  # sqrt(-eta2_q) = sqrt(-a2q 2^j) 2^k
    with np.errstate(all="ignore"):
        gap = np.ldexp(scaled_gap * np.sqrt(-np.ldexp(a2q, j)), s1 - s2 + k)
        # variances 1e300 apart over- or underflow the scaled copies: there the means'
        # difference from the double-float means (nothing cancels at such a distance)
        mp_, mp_lo = gaussian_location(e1p, e2p)
        mq, mq_lo = gaussian_location(e1q, e2q)
        plain = ((mp_ - mq) + (mp_lo - mq_lo)) * np.sqrt(-e2q)
        good = _well_scaled(a1p, a1q, a2p, a2q) & np.isfinite(scaled_gap)
        return np.where(good, gap, plain)


def gaussian_kl(eta_p, eta_q):
    """``KL(N_p || N_q) = [(r - 1) - log r] / 2 + (m_p - m_q)^2 / (2 v_q)`` with
    ``r = v_p / v_q = eta2_q / eta2_p``; ``r - 1 = (eta2_q - eta2_p) / eta2_p`` (an exact
    difference for nearby laws), the bracket by ``log1pmx`` and ``m_p - m_q`` by
    :func:`gaussian_mean_gap`."""
    e2p, e2q = eta_p[..., 1], eta_q[..., 1]
    with np.errstate(all="ignore"):
        shape_term = _half_neg_log1pmx_ratio(e2q, e2p)
        w = gaussian_mean_gap(eta_p, eta_q)  # (m_p - m_q) / sqrt(2 v_q)
        return shape_term + w * w


#: ``(1 + log(pi)) / 2 + 3/2 log 4``: the constant of the InverseGaussian entropy for small ``lam/m``
_IG_SMALL_CONST = 3.151806484604536
_EULER = 0.5772156649015329


def exp1_scaled(z):
    """``e^z E1(z)`` for ``z > 0``: directly for ``z <= 50``, above by the asymptotic series
    ``sum_k (-1)^k k! / z^(k+1)`` (DLMF 6.12.1, 30 terms, error below 1e-18 relative)."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        direct = np.exp(z) * special.exp1(z)
        zz = np.maximum(z, 50.0)
        term = 1 / zz
        series = term.copy()
        for k in range(1, 31):
            term = -term * k / zz
            series = series + term
    return np.where(z > 50, series, direct)


def exp1_scaled_plus_log(z):
    """``e^z E1(z) + log z`` for ``0 < z <= 1`` (it tends to ``-gamma`` as ``z -> 0``,
    where each term is large): with ``E1(z) + log z = -gamma - sum_k (-z)^k / (k k!)``
    (DLMF 6.6.2, 24 terms), ``e^z (E1 + log z) - log(z) expm1(z)``."""
    z = np.asarray(z, dtype=np.float64)
    term = np.ones_like(z)
    acc = np.zeros_like(z)
    for k in range(1, 25):
        term = term * (-z) / k
        acc = acc + term / k
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(z) * (-_EULER - acc) - np.log(z) * np.expm1(z)


def inverse_gaussian_entropy(eta1, eta2):
    """Entropy of the inverse Gaussian law with ``eta = (-lam / (2 m^2), -lam / 2)``:
    ``H = (1 + log pi) / 2 + log(-eta2) / 4 - 3 log(-eta1) / 4 - 3/2 e^z E1(z)`` with
    ``z = 2 lam / m = 4 sqrt(eta1 eta2)`` (module :mod:`expfam.families.inverse_gaussian`);
    for ``z < 1`` the logarithm in ``e^z E1(z) ~ -log z`` is taken out,
    ``H = (1 + log pi) / 2 + 3/2 log 4 + log(-eta2) - 3/2 [e^z E1(z) + log z]``, so that
    the ``log(-eta1)`` terms cancel exactly.  Sums of logarithms by :func:`log_sum`."""
    a, b = -np.asarray(eta1, dtype=np.float64), -np.asarray(eta2, dtype=np.float64)
    z = 4 * np.sqrt(a) * np.sqrt(b)
    small = z < 1
    zs = np.where(small, z, 1.0)
    zl = np.where(small, 1.0, z)
    h_small = _IG_SMALL_CONST + log_sum((1.0, b)) - 1.5 * exp1_scaled_plus_log(zs)
    h_large = _HALF_1_LOG_PI + log_sum((0.25, b), (-0.75, a)) - 1.5 * exp1_scaled(zl)
    return np.where(small, h_small, h_large)


def inverse_gaussian_log_density(x, eta1, eta2):
    """``log p(x) = log(-eta2) / 2 - 3/2 log x - log(pi) / 2 - (sqrt(-eta1 x) -
    sqrt(-eta2 / x))^2`` (the exponent ``-lam (x - m)^2 / (2 m^2 x)``), with the
    difference of square roots as ``(-eta1 x + eta2 / x) / (sqrt(-eta1 x) + sqrt(-eta2 /
    x))`` and its numerator from exact products (no cancellation at ``x ~ m``)."""
    x = np.asarray(x, dtype=np.float64)
    a, b = -np.asarray(eta1, dtype=np.float64), -np.asarray(eta2, dtype=np.float64)
    with np.errstate(all="ignore"):
        p1, q1 = two_prod(a, x)  # -eta1 x
        h, lo = quotient_dd(-b, x)  # eta2 / x
        num = (p1 + h) + (q1 + lo)
        root_sum = np.sqrt(a) * np.sqrt(x) + np.sqrt(b) / np.sqrt(x)
        w = num / root_sum
        return (log_sum((0.5, b), (-1.5, x)) - _HALF_LOG_PI) - w * w


def inverse_gaussian_kl(eta_p, eta_q):
    """``KL = (r - 1 - log r) / 2 + lam_q (m_p - m_q)^2 / (2 m_p m_q^2)``,
    ``r = lam_q / lam_p = eta2_q / eta2_p``.  The bracket by :func:`half_neg_log1pmx`;
    the second term as ``(lam_q / (2 m_p)) rho^2`` with ``rho = (m_p - m_q) / m_q =
    (m_p^2 - m_q^2) / (m_q^2 (1 + m_p / m_q))`` and ``m_p^2 - m_q^2 = (eta2_p eta1_q -
    eta2_q eta1_p) / (eta1_p eta1_q)`` by :func:`det2` (on copies scaled by powers of two:
    ``rho`` does not change)."""
    e1p, e2p = eta_p[..., 0], eta_p[..., 1]
    e1q, e2q = eta_q[..., 0], eta_q[..., 1]
    with np.errstate(all="ignore"):
        shape_term = _half_neg_log1pmx_ratio(e2q, e2p)
        s1 = _exponent(np.maximum(np.abs(e1p), np.abs(e1q)))
        s2 = _exponent(np.maximum(np.abs(e2p), np.abs(e2q)))
        a1p, a1q = np.ldexp(e1p, -s1), np.ldexp(e1q, -s1)
        a2p, a2q = np.ldexp(e2p, -s2), np.ldexp(e2q, -s2)
        ratio = np.sqrt((a2p / a1p) / (a2q / a1q))  # m_p / m_q
        rho = det2(a2p, a2q, a1p, a1q) / (a1p * a2q) / (1 + ratio)
        # parameters 1e300 apart over- or underflow the scaled copies: there rho directly
        ratio_plain = (np.sqrt(-e2p) / np.sqrt(-e1p)) / (np.sqrt(-e2q) / np.sqrt(-e1q))
        good = _well_scaled(a1p, a1q, a2p, a2q) & np.isfinite(rho)
        rho = np.where(good, rho, ratio_plain - 1.0)
        weight = np.sqrt(-e1p) * np.sqrt(-e2q) * (np.sqrt(-e2q) / np.sqrt(-e2p))  # lam_q/(2m_p)
        return shape_term + weight * rho * rho


#: ``log(2 pi)``, correctly rounded
_LOG_2PI = 1.8378770664093456


def _log_series_coefficients(a):
    """Coefficients ``c`` of ``log(sum_n a_n u^n)`` (``a_0 = 1``), ``c_0 = 0``:
    ``n c_n = n a_n - sum_{i<n} i c_i a_(n-i)``."""
    c = [0.0]
    for n in range(1, len(a)):
        c.append((n * a[n] - sum(i * c[i] * a[n - i] for i in range(1, n))) / n)
    return c


def _log_i0_small_coefficients(n):
    """``d_n`` with ``log I0(k) = sum_n d_n k^(2n)`` (from ``I0 = sum_m (k^2/4)^m / m!^2``,
    DLMF 10.25.2); the series converges for ``k < 2.405`` (the first zero of ``J0``)."""
    a = [1.0]
    for m in range(1, n + 1):
        a.append(a[-1] / (4.0 * m * m))
    return _log_series_coefficients(a)


def _log_i0_large_coefficients(n):
    """``c_j`` with ``log I0(k) - k + log(2 pi k) / 2 ~ sum_j c_j k^-j``, from
    ``I0(k) ~ e^k / sqrt(2 pi k) sum_j b_j k^-j``, ``b_j = b_(j-1) (2j - 1)^2 / (8j)``
    (DLMF 10.40.1)."""
    b = [1.0]
    for j in range(1, n + 1):
        b.append(b[-1] * (2 * j - 1) ** 2 / (8.0 * j))
    return _log_series_coefficients(b)


_VM_SMALL_N = 45
_VM_SMALL_MAX = 1.5
_VM_LOG_I0_SMALL = _log_i0_small_coefficients(_VM_SMALL_N)
_VM_LARGE_N = 40
_VM_LARGE_MIN = 25.0
_VM_LOG_I0_LARGE = _log_i0_large_coefficients(_VM_LARGE_N)
_VM_RICCATI_N = 30


def von_mises_entropy(kappa, g):
    """``log(2 pi I0(kappa)) - kappa A1(kappa) = log 2 pi + log i0e(kappa) + kappa g``
    with ``g = 1 - A1(kappa)`` given accurately (``kappa g -> 1/2``): no ``kappa`` to
    cancel."""
    kappa = np.asarray(kappa, dtype=np.float64)
    return (_LOG_2PI + np.log(special.i0e(kappa))) + kappa * g


def von_mises_log_density(x, eta, kappa):
    """``kappa cos(x - mu) - log(2 pi I0(kappa)) = kappa cosm1(x - mu) - log(2 pi
    i0e(kappa))``, ``mu = atan2(eta_2, eta_1)`` (exact when ``eta_2 = 0``)."""
    mu = np.arctan2(eta[..., 1], eta[..., 0])
    return kappa * special.cosm1(x - mu) - (_LOG_2PI + np.log(special.i0e(kappa)))


def _kappa_gap(eta_p, eta_q, kp, kq):
    """``|eta_q| - |eta_p| = (|eta_q|^2 - |eta_p|^2) / (|eta_q| + |eta_p|)`` with the
    differences of squares factored (exact differences of nearby coordinates)."""
    total = kp + kq
    safe = np.where(total > 0, total, 1.0)
    s = np.zeros_like(kp)
    for i in (0, 1):  # (q_i - p_i) (q_i + p_i) / (kq + kp), without overflow
        s = s + (eta_q[..., i] - eta_p[..., i]) * ((eta_q[..., i] + eta_p[..., i]) / safe)
    return np.where(total > 0, s, 0.0)


def _bregman_log_i0_small(kp, kq, gap):
    """``log I0(kq) - log I0(kp) - A1(kp) (kq - kp)`` for ``kp, kq <= 1.5`` by the power
    series: ``sum_n d_n kp^2n phi_2n(t)``, ``t = gap / kp``, ``phi_m(t) = (1 + t)^m - 1 -
    m t`` by the recurrence ``phi_(m+1) = (1 + t) phi_m + m t^2`` (all terms >= 0); for
    ``|t| > 1/2`` (and ``kp = 0``) the terms ``kq^2n - kp^2n - 2n kp^(2n-1) gap``."""
    near = (kp > 0) & (np.abs(gap) <= 0.5 * kp)
    kps = np.where(near, kp, 1.0)
    t = np.where(near, gap / kps, 0.0)
    k2, kp2, kq2 = kps * kps, kp * kp, kq * kq
    phi = np.zeros_like(t)  # phi_1
    power = np.ones_like(t)
    series = np.zeros_like(t)
    pp, pq = np.ones_like(kp), np.ones_like(kq)
    direct = np.zeros_like(kp)
    for n in range(1, _VM_SMALL_N + 1):
        phi = (1 + t) * phi + (2 * n - 1) * t * t  # phi_2n
        power = power * k2
        series = series + _VM_LOG_I0_SMALL[n] * power * phi
        phi = (1 + t) * phi + 2 * n * t * t  # phi_(2n+1)
        odd = pp * kp  # kp^(2n-1)
        pp, pq = pp * kp2, pq * kq2
        direct = direct + _VM_LOG_I0_SMALL[n] * ((pq - pp) - 2 * n * odd * gap)
    return np.where(near, series, direct)


def _bregman_log_i0_large(kp, gap):
    """The same Bregman divergence for ``kp, kq >= 25`` from the expansion
    ``log I0(k) = k - log(2 pi k) / 2 + sum_j c_j k^-j``: ``-log1pmx(t) / 2 + sum_j c_j
    kp^-j psi_j(t)``, ``t = gap / kp``, ``psi_j(t) = (1 + t)^-j - 1 + j t`` by the
    recurrence ``psi_(j+1) = (psi_j + (j + 1) t^2) / (1 + t)`` (all terms >= 0)."""
    kps = np.maximum(kp, _VM_LARGE_MIN)
    t = gap / kps
    psi = np.zeros_like(t)
    inv = 1.0 / kps
    power = np.ones_like(t)
    tail = np.zeros_like(t)
    for j in range(1, _VM_LARGE_N + 1):
        psi = (psi + j * t * t) / (1 + t)
        power = power * inv
        tail = tail + _VM_LOG_I0_LARGE[j] * power * psi
    return -0.5 * log1pmx(t) + tail


def _bregman_log_i0_riccati(kp, gap, a0, a1):
    """The same Bregman divergence for ``kp >= 1`` and ``|gap| < 1/2`` as
    ``int_0^gap (A1(kp + s) - A1(kp)) ds = sum_(n>=1) a_n gap^(n+1) / (n + 1)`` with the
    Taylor coefficients ``a_n`` of ``A1`` at ``kp`` from the Riccati equation
    ``A1' = 1 - A1 / k - A1^2`` (``a_0 = A1(kp)``, ``a_1 = A1'(kp)`` given accurately);
    the radius of convergence is at least ``sqrt(kp^2 + 5.78) > 2.6``."""
    kps = np.maximum(kp, 1.0)
    w = [1.0 / kps]
    for _ in range(_VM_RICCATI_N):
        w.append(-w[-1] / kps)  # 1 / (kp + s) = sum_j (-1)^j s^j / kp^(j+1)
    a = [a0, a1]
    for n in range(1, _VM_RICCATI_N):
        conv = sum(a[i] * (w[n - i] + a[n - i]) for i in range(n + 1))
        a.append(-conv / (n + 1))
    total = np.zeros_like(kps)
    power = gap * gap
    for n in range(1, _VM_RICCATI_N + 1):
        total = total + a[n] * power / (n + 1)
        power = power * gap
    return total


def von_mises_kl(eta_p, eta_q, kp, kq, gp, a1p, a1p_prime):
    """``KL(p || q) = B + kq (1 - cos D) A1(kp)`` with ``B = log I0(kq) - log I0(kp) -
    A1(kp) (kq - kp) >= 0`` (the Bregman divergence of ``log I0`` in ``kappa``) and ``D``
    the angle between ``eta_p`` and ``eta_q`` (``atan2`` of a cross product by
    :func:`det2`).  ``B`` by the power series of ``log I0`` (``kappa <= 1.5``), its
    large-argument expansion (``kappa >= 25``, ``|kq - kp| < kp / 4``), the
    Riccati-Taylor series of ``A1`` (``|kq - kp| < 1/2``) or directly as
    ``log(i0e(kq) / i0e(kp)) + g(kp)(kq - kp)`` (far pairs, where nothing cancels).
    ``gp = 1 - A1(kp)``, ``a1p = A1(kp)`` and ``a1p_prime = A1'(kp)`` come from the family
    module (each accurate on its own: ``1 - gp`` would lose ``A1 ~ kp / 2`` for small
    ``kp``)."""
    with np.errstate(all="ignore"):
        gap = _kappa_gap(eta_p, eta_q, kp, kq)
        small = np.maximum(kp, kq) <= _VM_SMALL_MAX
        # (far pairs, |kq - kp| > kp / 4, lose nothing in the direct form)
        large = (np.minimum(kp, kq) >= _VM_LARGE_MIN) & (np.abs(gap) < 0.25 * kp)
        riccati = ~small & ~large & (kp >= 1.0) & (np.abs(gap) < 0.5)
        b = np.log(special.i0e(kq) / special.i0e(kp)) + gp * gap  # far pairs
        if np.any(small):
            b = np.where(small, _bregman_log_i0_small(np.where(small, kp, 0.0),
                                                      np.where(small, kq, 0.0),
                                                      np.where(small, gap, 0.0)), b)
        if np.any(large):
            b = np.where(large, _bregman_log_i0_large(kp, np.where(large, gap, 0.0)), b)
        if np.any(riccati):
            b = np.where(riccati, _bregman_log_i0_riccati(
                kp, np.where(riccati, gap, 0.0), a1p, a1p_prime), b)
        # the angle does not change when both vectors are scaled by a power of two
        e = -_exponent(np.maximum(kp, kq))[..., None]
        p, q = np.ldexp(eta_p, e), np.ldexp(eta_q, e)
        cross = det2(p[..., 0], p[..., 1], q[..., 0], q[..., 1])
        dot = p[..., 0] * q[..., 0] + p[..., 1] * q[..., 1]
        angle = np.arctan2(cross, dot)
        turn = -kq * special.cosm1(angle) * a1p
        return b + turn


# -- double-float arithmetic for the multivariate normal (Dekker 1971) ------------------
# A double-float is a pair (hi, lo) of arrays with |lo| <= ulp(hi) / 2: about 106 bits.
def _fasttwo_sum(a, b):
    s = a + b
    return s, b - (s - a)


def dd_add(a, b):
    """``a + b`` for double-floats."""
    s, e = two_sum(a[0], b[0])
    return _fasttwo_sum(s, e + (a[1] + b[1]))


def dd_neg(a):
    return -a[0], -a[1]


def dd_mul(a, b):
    """``a b`` for double-floats."""
    p, e = two_prod(a[0], b[0])
    return _fasttwo_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def dd_div(a, b):
    """``a / b`` for double-floats (one correction step)."""
    q = a[0] / b[0]
    r = dd_add(a, dd_neg(dd_mul((q, np.zeros_like(q)), b)))
    return _fasttwo_sum(q, r[0] / b[0])


def dd_sqrt(a):
    """``sqrt(a)`` for a double-float ``a > 0`` (one Newton correction)."""
    s = np.sqrt(a[0])
    r = dd_add(a, dd_neg(dd_mul((s, np.zeros_like(s)), (s, np.zeros_like(s)))))
    return _fasttwo_sum(s, r[0] / (2 * s))


def _dd(x):
    x = np.asarray(x, dtype=np.float64)
    return x, np.zeros_like(x)


class DDCholesky:
    """The Cholesky factor of symmetric positive definite matrices (batch shape + (d, d))
    in double-float arithmetic, after an exact scaling by powers of two
    ``A' = S A S`` (``S = diag(2^-e_i)``, ``A_ii 2^-2e_i`` near 1): ``A' = C C'``.

    Its rounding is about ``eps^2 cond(A')``, so that log-determinants, solves and
    whitened differences keep float64's relative accuracy for condition numbers far
    beyond 1e8 (a float64 factorisation loses ``eps cond``)."""

    def __init__(self, A):
        A = np.asarray(A, dtype=np.float64)
        self.d = d = A.shape[-1]
        diag = np.diagonal(A, axis1=-2, axis2=-1)
        self.e = np.round(np.log2(diag) / 2).astype(np.int64)  # A_ii ~ 4^e_i
        As = np.ldexp(A, -(self.e[..., :, None] + self.e[..., None, :]))
        C = [[None] * d for _ in range(d)]
        for j in range(d):
            s = _dd(As[..., j, j])
            for k in range(j):
                s = dd_add(s, dd_neg(dd_mul(C[j][k], C[j][k])))
            C[j][j] = dd_sqrt(s)
            for i in range(j + 1, d):
                s = _dd(As[..., i, j])
                for k in range(j):
                    s = dd_add(s, dd_neg(dd_mul(C[i][k], C[j][k])))
                C[i][j] = dd_div(s, C[j][j])
        self.C = C

    def logdet(self):
        """``log det A`` (float): ``2 sum log C_ii + 2 sum e_i log 2``."""
        small = 0.0
        for i in range(self.d):
            hi, lo = self.C[i][i]
            small = small + (np.log(hi) + lo / hi)
        n = 2.0 * np.sum(self.e, axis=-1)
        return n * _LN2_HI + (n * _LN2_LO + 2 * small)

    def solve_lower(self, b):
        """``C^-1 b`` for a list of ``d`` double-floats ``b``."""
        y = []
        for i in range(self.d):
            s = b[i]
            for k in range(i):
                s = dd_add(s, dd_neg(dd_mul(self.C[i][k], y[k])))
            y.append(dd_div(s, self.C[i][i]))
        return y

    def solve_upper(self, y):
        """``C'^-1 y``."""
        x = [None] * self.d
        for i in reversed(range(self.d)):
            s = y[i]
            for k in range(i + 1, self.d):
                s = dd_add(s, dd_neg(dd_mul(self.C[k][i], x[k])))
            x[i] = dd_div(s, self.C[i][i])
        return x

    def upper_times(self, v):
        """``C' v``."""
        out = []
        for i in range(self.d):
            s = _dd(np.zeros_like(v[0][0]))
            for k in range(i, self.d):
                s = dd_add(s, dd_mul(self.C[k][i], v[k]))
            out.append(s)
        return out

    def scale(self, v, sign):
        """``S^sign v`` (exact): ``v_i 2^(-sign e_i)``."""
        return [(np.ldexp(v[i][0], -sign * self.e[..., i]), np.ldexp(v[i][1], -sign * self.e[..., i]))
                for i in range(self.d)]

    def solve(self, b):
        """``A^-1 b`` (``A = S^-1 C C' S^-1``) for a list of double-floats ``b``."""
        return self.scale(self.solve_upper(self.solve_lower(self.scale(b, 1))), 1)

    def norm2_upper(self, v):
        """``v' A v = |C' S^-1 v|^2`` (float)."""
        u = self.upper_times(self.scale(v, -1))
        return sum(ui[0] * ui[0] + 2 * ui[0] * ui[1] for ui in u)


def mvn_logdet_entropy(Lam):
    """``(log det Lam, entropy)`` with the entropy ``(d (1 + log 2 pi) - log det Lam) / 2``."""
    ch = DDCholesky(Lam)
    ld = ch.logdet()
    return ld, 0.5 * (ch.d * (1.0 + _LOG_2PI) - ld)


def mvn_log_density(x, h, Lam):
    """``log N(x; m, Lam^-1)`` with ``Lam m = h``: ``-d log(2 pi) / 2 + log det(Lam) / 2 -
    (x - m)' Lam (x - m) / 2``, the mean solved and ``x - m`` formed in double-floats."""
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[-1]
    batch = np.broadcast_shapes(x.shape[:-1], h.shape[:-1])
    x = np.broadcast_to(x, batch + (d,))
    h = np.broadcast_to(h, batch + (d,))
    ch = DDCholesky(np.broadcast_to(Lam, batch + (d, d)))
    m = ch.solve([_dd(h[..., i]) for i in range(d)])
    diff = [dd_add(_dd(x[..., i]), dd_neg(m[i])) for i in range(d)]
    return (0.5 * ch.logdet() - 0.5 * d * _LOG_2PI) - 0.5 * ch.norm2_upper(diff)


def mvn_kl(h_p, Lam_p, h_q, Lam_q):
    """``KL(N_p || N_q) = sum_i (t_i - log1p(t_i)) / 2 + (m_q - m_p)' Lam_q (m_q - m_p) / 2``
    with ``t_i`` the eigenvalues of ``C_p^-1 (Lam_q - Lam_p) C_p^-T`` (``Lam_p = C_p C_p'``,
    double-float Cholesky, the difference exact as a double-float): ``1 + t_i`` are those
    of ``Lam_q Sigma_p``, so that ``tr - d - log det`` does not cancel for nearby laws
    and ill-conditioned ``Lam_p`` does not amplify rounding; the means solved and
    subtracted in double-floats."""
    d = Lam_p.shape[-1]
    chp, chq = DDCholesky(Lam_p), DDCholesky(Lam_q)
    # Lam_q - Lam_p exactly, as double-floats, scaled like Lam_p
    hi, lo = two_sum(Lam_q, -Lam_p)
    ex = -(chp.e[..., :, None] + chp.e[..., None, :])
    hi, lo = np.ldexp(hi, ex), np.ldexp(lo, ex)
    cols = [chp.solve_lower([(hi[..., i, j], lo[..., i, j]) for i in range(d)])
            for j in range(d)]
    # cols[j][i] = (C^-1 D)_ij; B = C^-1 (C^-1 D)' (D symmetric)
    B = np.empty(Lam_p.shape)
    for i in range(d):
        row = chp.solve_lower([cols[j][i] for j in range(d)])
        for j in range(d):
            B[..., j, i] = row[j][0]
    B = 0.5 * (B + np.swapaxes(B, -1, -2))
    t = np.linalg.eigvalsh(B)
    shape_term = np.sum(half_neg_log1pmx(t, 1.0 + t), axis=-1)
    mp_ = chp.solve([_dd(h_p[..., i]) for i in range(d)])
    mq = chq.solve([_dd(h_q[..., i]) for i in range(d)])
    diff = [dd_add(mq[i], dd_neg(mp_[i])) for i in range(d)]
    return shape_term + 0.5 * chq.norm2_upper(diff)
