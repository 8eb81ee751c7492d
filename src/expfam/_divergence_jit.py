"""Compiled elementwise kernels for KL divergences and entropies (numba, imported lazily).

A family declares its kernels by name (:attr:`ExponentialFamily.kl_kernel`,
:attr:`ExponentialFamily.entropy_kernel`, in the same class as the NumPy closed form
they speed up); :meth:`ExponentialFamily.kl` calls them through :func:`run_kl` for
batches of at least :data:`expfam.divergence.KERNEL_MIN_SIZE` pairs.  Nothing here
names a family: each kernel is the mathematics of one closed form.

Every kernel has the signature ``kernel(a, b, p, out, bad)`` (``a``, ``b``: natural
parameters, shape ``(n, k)``; ``p``: the family's fixed parameters as floats; ``out``:
the values; ``bad``: set to 1 where the kernel declines an element).  It evaluates, in
one pass without temporaries, either the same cancellation-free form as the NumPy code
(:mod:`expfam._precise`), or the textbook form together with a bound on its rounding
error; where the bound is not below ``_REL`` times the value (nearby laws, huge or tiny
shapes: the terms cancel), the element is declined and the caller evaluates it with the
NumPy form of :mod:`expfam._precise`.  So the kernels keep the accuracy of the NumPy
code at every parameter (``tests/test_divergence_speed_precision.py`` checks them
against mpmath), and are fast where the inputs are ordinary.

Compilation: each kernel is its own dispatcher, compiled (or loaded from numba's disk
cache) on the first call that needs it, and serial (``nogil``): :func:`run` cuts a batch
into row chunks on a small thread pool.  numba's ``parallel=True`` loops compiled
about twice as slowly for the same speed (``benchmarks/bench_kl_compile.py`` prints the
cold compile CPU time per family).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from . import _jit

_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)
_EPS = 2.220446049250313e-16
#: the textbook form is used when its rounding bound ``_C * eps * sum|terms|`` is below
#: ``_REL`` times the value (a relative error below 5e-13; the floor is 1e-12).  The
#: magnitudes summed are those whose rounding the result carries: each lgamma (glibc's,
#: within a few ulps of its value for positive arguments), each digamma's scale
#: (:func:`_digamma`) times its coefficient, each product.
_C = 8.0
_REL = 5e-13
_ACCEPT = _C * _EPS / _REL
_TINY = 2.2250738585072014e-308
_LO, _HI = 2.0**-250, 2.0**250  # magnitudes whose products (and their errors) stay normal


# ----------------------------------------------------------------------------------
# Scalar primitives
# ----------------------------------------------------------------------------------
@njit(inline="always", **_OPTS)
def _log1pmx(t):
    """``log(1 + t) - t`` for ``t > -1``: Taylor series (14 terms) for ``|t| < 0.05``."""
    if abs(t) < 0.05:
        acc = 0.0
        for n in range(14, 1, -1):
            acc = acc * t + ((1.0 if n % 2 == 1 else -1.0) / n)
        return acc * t * t
    return math.log1p(t) - t


#: 1 / k! for k = 0..19
_INV_FACT = np.array([1.0 / math.factorial(k) for k in range(20)])


@njit(inline="always", **_OPTS)
def _log1pmx_fast(t):
    """:func:`_log1pmx` with the compiled ``log1p`` (within 2 ulps; the difference
    ``log1p(t) - t`` for ``|t| >= 0.05`` within ~80 ulps)."""
    if abs(t) < 0.05:
        acc = 0.0
        for n in range(14, 1, -1):
            acc = acc * t + ((1.0 if n % 2 == 1 else -1.0) / n)
        return acc * t * t
    return _jit.flog1p(t) - t


@njit(inline="always", **_OPTS)
def _expm1mx(t):
    """``e^t - 1 - t`` for finite ``t``: Taylor series (to ``t^11 / 11!``, truncation below
    1e-17 relative) for ``|t| < 0.05``; beyond, ``expm1(t) - t`` (the difference loses at
    most ``log2(2 / |t|)`` bits: within ~40 ulps)."""
    if abs(t) < 0.05:
        acc = 0.0
        for k in range(11, 1, -1):
            acc = acc * t + _INV_FACT[k]
        return acc * t * t
    return math.expm1(t) - t


@njit(inline="always", **_OPTS)
def _log_ratio(x, y):
    """``log(x / y)`` for ``x, y > 0``: one rounding where the quotient is a normal float."""
    r = x / y
    if r >= _TINY and r < math.inf:
        return math.log(r)
    return math.log(x) - math.log(y)


@njit(inline="always", **_OPTS)
def _neg_log_ratio_m1(num, den):
    """``r - 1 - log r`` for ``r = num / den > 0`` (``num``, ``den`` of one sign)."""
    t = (num - den) / den
    if abs(t) < 0.5:
        return -_log1pmx(t)
    return (num / den - 1.0) - _log_ratio(abs(num), abs(den))


@njit(inline="always", **_OPTS)
def _det2(a, b, c, d):
    """``a d - b c`` to a few ulps (Kahan's algorithm with fused multiply-adds)."""
    w = b * c
    e = _jit._fma(-b, c, w)
    f = _jit._fma(a, d, -w)
    return f + e


@njit(inline="always", **_OPTS)
def _digamma(a):
    """``(psi(a), scale)`` for ``a > 0``: the recurrence up to ``y >= 10``, then the
    asymptotic series (DLMF 5.5.2, 5.11.2; truncation below 1e-17 at ``y = 10``).  Its
    absolute error is a few ulps of ``scale = log y + sum_i 1 / (a + i)``."""
    acc = 0.0
    y = a
    while y < 10.0:
        acc += 1.0 / y
        y += 1.0
    r = 1.0 / (y * y)
    tail = r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * (1 / 240 - r * (
        1 / 132 - r * (691 / 32760 - r * (1 / 12 - r * 3617 / 8160)))))))
    ly = math.log(y)
    return (ly - 0.5 / y - tail) - acc, ly + acc


@njit(inline="always", **_OPTS)
def _kl0(v):
    """KL >= 0: a negative at rounding level (> -1e-12) is an exact 0 (as in
    :meth:`expfam.families.ExponentialFamily.kl`)."""
    return 0.0 if (v < 0.0 and v > -1e-12) else v


# ----------------------------------------------------------------------------------
# Kernels: kernel(a, b, p, out, bad); the KL kernels return values clamped by _kl0
# ----------------------------------------------------------------------------------
@njit(**_OPTS)
def gaussian_kl(a, b, p, out, bad):
    """``KL(N_p || N_q) = [(r - 1) - log r] / 2 + (m_p - m_q)^2 / (2 v_q)``, ``r = eta2_q /
    eta2_p`` (:func:`expfam._precise.gaussian_kl`): ``r - 1`` as an exact difference over
    ``eta2_p``, ``log1pmx`` near ``r = 1``, and ``m_p - m_q = (eta1_q eta2_p - eta1_p eta2_q)
    / (2 eta2_p eta2_q)`` with the determinant by fused multiply-adds.  Declined where a
    parameter is outside ``[2^-250, 2^250]`` (nonzero), where the NumPy form rescales."""
    for i in range(a.shape[0]):
        e1p, e2p, e1q, e2q = a[i, 0], a[i, 1], b[i, 0], b[i, 1]
        ok = True
        for v in (e1p, e1q, e2p, e2q):
            av = abs(v)
            ok = ok and (av == 0.0 or (av >= _LO and av <= _HI))
        if not ok:
            out[i] = 0.0
            bad[i] = 1
            continue
        shape = 0.5 * _neg_log_ratio_m1(e2q, e2p)
        w = _det2(e1q, e1p, e2q, e2p) / (2.0 * e2p) / e2q * math.sqrt(-e2q)
        out[i] = _kl0(shape + w * w)


@njit(**_OPTS)
def neg_log_kl(a, b, p, out, bad):
    """Bregman divergence of ``A(eta) = -log(-eta)``: ``r - 1 - log r``, ``r = eta_q / eta_p``
    (:func:`expfam.families._scale.kl_neg_log`)."""
    for i in range(a.shape[0]):
        ep, eq = a[i, 0], b[i, 0]
        d = (eq - ep) / ep
        if abs(d) < 0.05:
            out[i] = _kl0(-_log1pmx(d))
        else:
            out[i] = _kl0((eq / ep - 1.0) - _log_ratio(-eq, -ep))


@njit(**_OPTS)
def poisson_kl(a, b, p, out, bad):
    """``lam_p (e^d - 1 - d)``, ``d = eta_q - eta_p`` (:func:`expfam._precise.poisson_kl`),
    written without branches (both sides of each choice computed, then selected) so that
    LLVM vectorises the loop: ``e^d - 1 - d`` by its Taylor series (to ``d^19 / 19!``) for
    ``|d| < 1/2``, directly from the compiled ``exp`` beyond (no cancellation there);
    ``e^eta_q - lam_p (1 + d)`` for ``d > 1``."""
    for i in range(a.shape[0]):
        ep, eq = a[i, 0], b[i, 0]
        d = eq - ep
        lam_p = _jit.fexp(ep)
        dn = min(d, 1.0)
        small = abs(dn) < 0.5
        ts = dn if small else 0.0
        acc = 0.0
        for k in range(19, 1, -1):
            acc = acc * ts + _INV_FACT[k]
        em = acc * ts * ts if small else (_jit.fexp(dn) - 1.0) - dn
        val = lam_p * em if d <= 1.0 else _jit.fexp(eq) - lam_p * (1.0 + d)
        out[i] = 0.0 if (val < 0.0 and val > -1e-12) else val


@njit(inline="always", **_OPTS)
def _softplus(x):
    """``log(1 + e^x)``."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@njit(inline="always", **_OPTS)
def _expit(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(inline="always", **_OPTS)
def _log_expit_ratio(x, y):
    """``log(expit(x) / expit(y)) = softplus(-y) - softplus(-x)``, from the form whose terms
    are small when ``x, y <= 0``."""
    if x <= 0.0 and y <= 0.0:
        return (x - y) + (_softplus(y) - _softplus(x))
    return _softplus(-y) - _softplus(-x)


@njit(inline="always", **_OPTS)
def _expm1_v(t):
    """``expm1(t)`` without branches: Taylor (to ``t^19 / 19!``) for ``|t| < 1/2``, ``e^t -
    1`` from the compiled ``exp`` beyond (no cancellation there: within a few ulps)."""
    small = abs(t) < 0.5
    ts = t if small else 0.0
    acc = 0.0
    for k in range(19, 0, -1):
        acc = acc * ts + _INV_FACT[k]
    return acc * ts if small else _jit.fexp(t) - 1.0


@njit(inline="always", **_OPTS)
def _log1pmx_v(t):
    """:func:`_log1pmx_fast` without branches (both sides computed, then selected)."""
    small = abs(t) < 0.05
    ts = t if small else 0.0
    acc = 0.0
    for n in range(14, 1, -1):
        acc = acc * ts + ((1.0 if n % 2 == 1 else -1.0) / n)
    tl = 0.0 if small else t
    return acc * ts * ts if small else _jit.flog1p(tl) - tl


@njit(inline="always", **_OPTS)
def _softplus_v(x):
    """``log(1 + e^x)`` from the compiled ``exp`` and ``log1p``."""
    return max(x, 0.0) + _jit.flog1p(_jit.fexp(-abs(x)))


@njit(**_OPTS)
def logit_kl(a, b, p, out, bad):
    """``n KL(Bernoulli(expit(a)) || Bernoulli(expit(b)))`` (``n = p[0]``), the form of
    :func:`expfam._precise.logit_kl`: ``p log1pmx(u) + pbar log1pmx(v) + 4 p pbar
    sinh(d/2)^2`` for ``|d| < 1`` (with ``4 sinh(d/2)^2 = -expm1(d) expm1(-d)``, so
    ``4 p pbar sinh(d/2)^2 = -u v / n``), the log ratios of ``expit`` (``softplus(-b) -
    softplus(-a)``, from the form whose terms are small when ``a, b <= 0``) beyond.  No
    branches: both forms are computed and one selected, so that LLVM vectorises."""
    n = p[0]
    for i in range(a.shape[0]):
        x, y = a[i, 0], b[i, 0]
        d = y - x
        e = _jit.fexp(-abs(x))
        s = 1.0 / (1.0 + e)  # expit(|x|)
        big, small = n * s, n * (e * s)  # n expit(|x|), n expit(-|x|)
        pos = x >= 0.0
        pr = big if pos else small
        pbar = small if pos else big
        near_d = abs(d) < 1.0
        dn = d if near_d else 0.0
        em = _expm1_v(dn)
        u, v = pbar * (-em / (1.0 + em)), pr * em  # n times the log1p arguments
        near = pr * _log1pmx_v(u / n) + pbar * _log1pmx_v(v / n) - u * v / n
        spx, spy = _softplus_v(x), _softplus_v(y)
        spmx, spmy = _softplus_v(-x), _softplus_v(-y)
        neg = x <= 0.0 and y <= 0.0
        pos2 = x >= 0.0 and y >= 0.0
        r1 = (x - y) + (spy - spx) if neg else spmy - spmx  # log(expit(x) / expit(y))
        r2 = (y - x) + (spmy - spmx) if pos2 else spy - spx  # log(expit(-x) / expit(-y))
        far = pr * r1 + pbar * r2
        val = near if near_d else far
        out[i] = 0.0 if (val < 0.0 and val > -1e-12) else val


@njit(**_OPTS)
def failure_kl(a, b, p, out, bad):
    """``r`` times the KL of failure counts before one success, ``A(eta) = -log(-expm1(eta))``
    (``r = p[0]``; :func:`expfam.families._failures.geometric_kl`): ``-log1pmx(w) + c (e^d
    - 1 - d)`` with the odds ``c = e^a / -expm1(a)``, ``d = b - a``, ``w = -c expm1(d)``;
    ``log(-expm1(a)) - log(-expm1(b)) - c d`` where ``d > 1`` or ``w < -1/2``.  Without
    branches (both forms computed, one selected) so that LLVM vectorises: ``expm1`` by
    :func:`_expm1_v`, ``e^d - 1 - d`` by its Taylor series (to ``d^19 / 19!``) for ``|d| <
    1/2``, from ``expm1(d) - d`` beyond (at most two bits lost there)."""
    r = p[0]
    for i in range(a.shape[0]):
        x, y = a[i, 0], b[i, 0]
        d = y - x
        dn = min(d, 1.0)
        emx = _expm1_v(x)
        c = _jit.fexp(x) / -emx
        emd = _expm1_v(dn)
        w = -c * emd
        near = d <= 1.0 and w >= -0.5
        small = abs(dn) < 0.5
        ts = dn if small else 0.0
        acc = 0.0
        for k in range(19, 1, -1):
            acc = acc * ts + _INV_FACT[k]
        em = acc * ts * ts if small else emd - dn
        v_near = -_log1pmx_v(w if near else 0.0) + c * em
        v_far = _jit.flog(-emx) - _jit.flog(-_expm1_v(y)) - c * d
        val = r * (v_near if near else v_far)
        out[i] = 0.0 if (val < 0.0 and val > -1e-12) else val


@njit(**_OPTS)
def gamma_kl(a, b, p, out, bad):
    """``KL(Gamma(a_p, b_p) || Gamma(a_q, b_q)) = (a_p - a_q) psi(a_p) - lgamma(a_p) +
    lgamma(a_q) + a_q log(b_p / b_q) + a_p (b_q - b_p) / b_p`` (rates ``b = -eta_1``,
    shapes ``a = eta_2 + 1``), declined where its terms cancel beyond the bound (the caller
    then uses :func:`expfam._precise.gamma_kl`)."""
    for i in range(a.shape[0]):
        bp, bq = -a[i, 0], -b[i, 0]
        ap, aq = a[i, 1] + 1.0, b[i, 1] + 1.0
        delta = b[i, 1] - a[i, 1]  # a_q - a_p from the natural parameters
        psi, psi_mag = _digamma(ap)
        lgp, lgq = math.lgamma(ap), math.lgamma(aq)
        t1 = -delta * psi
        t4 = aq * _log_ratio(bp, bq)
        t5 = ap * ((bq - bp) / bp)
        val = t1 + (lgq - lgp) + t4 + t5
        mag = abs(delta) * psi_mag + abs(lgp) + abs(lgq) + abs(t4) + abs(t5)
        out[i] = val
        if not (val * _REL >= _C * _EPS * mag and val < math.inf):
            bad[i] = 1


@njit(**_OPTS)
def gamma_entropy(a, b, p, out, bad):
    """``a - log b + lgamma(a) + (1 - a) psi(a)``, declined where its terms cancel beyond
    the bound (the caller uses :func:`expfam._precise.gamma_entropy`)."""
    for i in range(a.shape[0]):
        rate = -a[i, 0]
        sh = a[i, 1] + 1.0
        psi, psi_mag = _digamma(sh)
        lg = math.lgamma(sh)
        lb = math.log(rate)
        t = -a[i, 1] * psi  # (1 - a) psi(a), 1 - a = -eta_2 exactly
        val = sh - lb + lg + t
        mag = sh + abs(lb) + abs(lg) + abs(a[i, 1]) * psi_mag
        out[i] = val
        if not (abs(val) * _REL >= _C * _EPS * mag):
            bad[i] = 1


#: B_2k / (2k (2k - 1)): Stirling's series ``S(x) = lgamma(x) - [(x - 1/2) log x - x +
#: log(2 pi) / 2] = sum_k c_k x^(1 - 2k)`` (DLMF 5.11.1; 8 terms: below 1e-17 at x >= 10)
_STIRLING = np.array([1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
                      -3617 / 122400])


@njit(inline="always", **_OPTS)
def _stirling_pair(x):
    """``(S(x), S'(x))`` for ``x >= 10``."""
    r = 1.0 / (x * x)
    s = 0.0
    d = 0.0
    for k in range(7, -1, -1):
        s = s * r + _STIRLING[k]
        d = d * r + _STIRLING[k] * (2 * k + 1)
    return s / x, -d * r


@njit(**_OPTS)
def _lgamma_bregman(a, delta):
    """``(G, err)``: ``G = lgamma(c) - lgamma(a) - (c - a) psi(a) >= 0`` for ``a > 0``,
    ``c = a + delta > 0``, as a sum of non-negative terms, and a bound on its rounding
    error.  The recurrence (DLMF 5.5.1) moves ``a, c`` above 10 and adds
    ``-log1pmx(delta / (a + i)) >= 0`` per step; there, from Stirling's series,
    ``G = a phi(t) - log1pmx(t) / 2 + R`` with ``t = delta / a``, ``phi(t) = (1 + t)
    log1p(t) - t >= 0`` and ``R = S(c) - S(a) - delta S'(a)`` (small: ``R < G / 600``),
    for ``|t| < 1/2`` term by term as non-negative parts (no cancellation as ``t -> 0``)."""
    acc = 0.0
    while a < 10.0 or a + delta < 10.0:
        acc -= _log1pmx(delta / a)
        a += 1.0
    t = delta / a
    lm = _log1pmx(t)
    phi = (1.0 + t) * lm + t * t
    main = a * phi - 0.5 * lm
    if abs(t) < 0.5:
        # R = sum_k c_k a^-m psi_m(t), m = 2k - 1, psi_m(t) = (1 + t)^-m - 1 + m t
        #   = expm1mx(x) - m log1pmx(t) with x = -m log1p(t): two terms >= 0
        r = 0.0
        r_abs = 0.0
        inv = 1.0 / a
        inv2 = inv * inv
        pw = inv
        for k in range(8):
            m = 2.0 * k + 1.0
            term = _STIRLING[k] * pw * (_expm1mx(-m * (t + lm)) - m * lm)
            r += term
            r_abs += abs(term)
            pw *= inv2
        r_err = 8.0 * _EPS * r_abs
    else:
        s_c, _ = _stirling_pair(a + delta)
        s_a, d_a = _stirling_pair(a)
        r = (s_c - s_a) - delta * d_a
        r_err = 4.0 * _EPS * (abs(s_c) + abs(s_a) + abs(delta * d_a))
    # log1pmx is within ~40 ulps where it is log1p(t) - t
    return acc + main + r, 64.0 * _EPS * (acc + main) + r_err


@njit(**_OPTS)
def dirichlet_kl(a, b, p, out, bad):
    """``KL(Dir(alpha_p) || Dir(alpha_q)) = lgamma(s_p) - lgamma(s_q) + sum_j [lgamma(q_j) -
    lgamma(p_j) + (p_j - q_j) (psi(p_j) - psi(s_p))]`` (``alpha = eta + 1``, ``s`` the
    sums; Beta: ``K = 2``).  Where the terms cancel beyond the bound, the second form
    ``sum_j G(q_j; p_j) - G(s_q; s_p)`` (:func:`_lgamma_bregman`, each ``G >= 0``); where
    that one cancels too, declined (the caller uses :func:`expfam._precise.dirichlet_kl`)."""
    k = a.shape[1]
    for i in range(a.shape[0]):
        sp = 0.0
        sq = 0.0
        ds = 0.0
        for j in range(k):
            sp += a[i, j] + 1.0
            sq += b[i, j] + 1.0
            ds += b[i, j] - a[i, j]
        ps, ms = _digamma(sp)
        ls_p, ls_q = math.lgamma(sp), math.lgamma(sq)
        val = ls_p - ls_q
        mag = abs(ls_p) + abs(ls_q)
        for j in range(k):
            ap, aq = a[i, j] + 1.0, b[i, j] + 1.0
            da = a[i, j] - b[i, j]  # p_j - q_j exactly
            pa, ma = _digamma(ap)
            l1, l2 = math.lgamma(ap), math.lgamma(aq)
            val += (l2 - l1) + da * (pa - ps)
            mag += abs(l1) + abs(l2) + abs(da) * (ma + ms + abs(pa - ps))
        out[i] = val
        if val * _REL >= _C * _EPS * mag and val < math.inf:
            continue
        # second form: a sum of non-negative lgamma Bregman divergences
        g_sum = 0.0
        err = 0.0
        for j in range(k):
            g, r = _lgamma_bregman(a[i, j] + 1.0, b[i, j] - a[i, j])
            g_sum += g
            err += r
        g3, r3 = _lgamma_bregman(sp, ds)
        val = g_sum - g3
        out[i] = _kl0(val)
        if not (val * _REL >= err + r3 + _C * _EPS * (g_sum + g3) and val < math.inf):
            bad[i] = 1


@njit(**_OPTS)
def dirichlet_entropy(a, b, p, out, bad):
    """``sum_j lgamma(alpha_j) - lgamma(s) + (s - K) psi(s) - sum_j (alpha_j - 1)
    psi(alpha_j)`` (Beta: ``K = 2``), declined where its terms cancel beyond the bound (the
    caller uses :func:`expfam._precise.dirichlet_entropy`)."""
    k = a.shape[1]
    for i in range(a.shape[0]):
        s = 0.0
        es = 0.0
        for j in range(k):
            s += a[i, j] + 1.0
            es += a[i, j]  # s - K
        ps, ms = _digamma(s)
        l3 = math.lgamma(s)
        val = es * ps - l3
        mag = abs(l3) + abs(es) * (ms + abs(ps))
        for j in range(k):
            e = a[i, j]
            al = e + 1.0
            pa, ma = _digamma(al)
            l1 = math.lgamma(al)
            val += l1 - e * pa
            mag += abs(l1) + abs(e) * (ma + abs(pa))
        out[i] = val
        if not (abs(val) * _REL >= _C * _EPS * mag):
            bad[i] = 1


@njit(**_OPTS)
def log_affine_entropy(a, b, p, out, bad):
    """``p[0] + p[1] log(-eta_j)``, ``j = p[2]``: the entropies that are a constant plus a
    multiple of one log scale (Normal ``(1 + log pi - log(-eta_2)) / 2``, Exponential
    ``1 - log(-eta)``, Rayleigh, Laplace)."""
    c0, c1, j = p[0], p[1], int(p[2])
    # the column first, then the logarithms on contiguous values (where LLVM vectorises
    # flog; a strided read in the same loop keeps it scalar)
    for i in range(a.shape[0]):
        out[i] = -a[i, j]
    for i in range(a.shape[0]):
        out[i] = c0 + c1 * _jit.flog(out[i])


@njit(**_OPTS)
def lognormal_entropy(a, b, p, out, bad):
    """``m + (1 + log pi - log(-eta_2)) / 2`` with the mean ``m = -eta_1 / (2 eta_2)`` as a
    double-float quotient ``m + m_lo`` (the residual ``a - m b`` by a fused multiply-add;
    :func:`expfam._precise.gaussian_location`).  The logarithms in a loop of their own, on
    contiguous values (as :func:`log_affine_entropy`)."""
    for i in range(a.shape[0]):
        out[i] = -a[i, 1]
    for i in range(a.shape[0]):
        out[i] = _jit.flog(out[i])
    for i in range(a.shape[0]):
        num, den = -0.5 * a[i, 0], a[i, 1]
        m = num / den
        pr = m * den
        r = ((num - pr) - _jit._fma(m, den, -pr)) / den
        r = r if abs(r) < math.inf else 0.0
        out[i] = m + (r + (p[0] - 0.5 * out[i]))


@njit(**_OPTS)
def bernoulli_entropy(a, b, p, out, bad):
    """``expit(eta) softplus(-eta) + expit(-eta) softplus(eta)``: two terms >= 0
    (:func:`expfam.families._logit.bernoulli_entropy`)."""
    for i in range(a.shape[0]):
        x = a[i, 0]
        e = _jit.fexp(-abs(x))  # in (0, 1]
        l1 = _jit.flog1p(e)  # softplus(-|x|)
        s = 1.0 / (1.0 + e)  # expit(|x|)
        # expit(|x|) softplus(-|x|) + expit(-|x|) softplus(|x|), softplus(|x|) = |x| + l1
        out[i] = s * l1 + (e * s) * (abs(x) + l1)


#: rows per block of the softmax kernels: a block is copied category-major into small
#: buffers, so that the loops over its rows run on contiguous values (LLVM vectorises the
#: compiled exp there; a loop over the K categories of one row stays scalar)
_ROWS = 64


@njit(inline="always", **_OPTS)
def _softmax_block(src, lo, w, z, e, m, s, ties):
    """Rows ``lo .. lo + w`` of ``src``, with ``z = (src_i, 0)`` stored category-major in
    ``z[:, :w]``: ``m = max z``, ``e = e^(z - m)`` (stored unless ``e`` is ``None``) and ``s``
    the sum of the ``e`` other than one largest (whose ``e`` is exactly 1), so that ``log
    sum e^z = m + log1p(s)`` with nothing lost when ``s`` is tiny (as
    :func:`expfam._precise.log_softmax_and_partition`).  The ``e`` equal to 1 are counted
    instead of summed, in ``ties`` (ties of the largest are exact)."""
    k = src.shape[1]
    for i in range(w):
        z[k, i] = 0.0
        m[i] = 0.0
        s[i] = 0.0
        ties[i] = -1.0  # the largest values less one
    for j in range(k):
        for i in range(w):
            v = src[lo + i, j]
            z[j, i] = v
            m[i] = max(m[i], v)
    for j in range(k + 1):
        for i in range(w):
            y = z[j, i] - m[i]
            t = _jit.fexp(y)
            if e is not None:
                e[j, i] = t
            s[i] += 0.0 if y == 0.0 else t
            ties[i] += 1.0 if y == 0.0 else 0.0
    for i in range(w):
        s[i] += ties[i]


@njit(**_OPTS)
def softmax_kl(a, b, p, out, bad):
    """``n sum_j p_j delta_j`` (``n = p[0]``) with ``delta_j = log(p_j / q_j) = Delta_j - D``,
    ``Delta = z_p - z_q`` (exact inputs), ``D = A_p - A_q = (m_p - m_q) + (log1p(s_p) -
    log1p(s_q))`` (:func:`_softmax_block`).  The terms cancel for nearby laws: declined
    where the rounding bound ``_C eps (sum_j p_j (|Delta_j| + |delta_j|) + |m_p - m_q| +
    log1p(s_p) + log1p(s_q))`` is not below ``_REL`` times the value (the caller uses
    :func:`expfam._precise.softmax_kl`, a sum of non-negative terms)."""
    n = p[0]
    rows, k = a.shape
    zp, ep = np.empty((k + 1, _ROWS)), np.empty((k + 1, _ROWS))
    zq = np.empty((k + 1, _ROWS))
    mp_, sp, mq, sq = np.empty(_ROWS), np.empty(_ROWS), np.empty(_ROWS), np.empty(_ROWS)
    dd, inv, tot, mag = np.empty(_ROWS), np.empty(_ROWS), np.empty(_ROWS), np.empty(_ROWS)
    for lo in range(0, rows, _ROWS):
        w = min(_ROWS, rows - lo)
        _softmax_block(a, lo, w, zp, ep, mp_, sp, inv)
        _softmax_block(b, lo, w, zq, None, mq, sq, inv)
        for i in range(w):
            lp, lq = _jit.flog1p(sp[i]), _jit.flog1p(sq[i])
            dm = mp_[i] - mq[i]
            dd[i] = dm + (lp - lq)
            inv[i] = 1.0 / (1.0 + sp[i])
            tot[i] = 0.0
            mag[i] = abs(dm) + lp + lq
        for j in range(k + 1):
            for i in range(w):
                big = zp[j, i] - zq[j, i]
                delta = big - dd[i]
                pj = ep[j, i] * inv[i]
                tot[i] += pj * delta
                mag[i] += pj * (abs(big) + abs(delta))
        for i in range(w):
            val = n * tot[i]
            out[lo + i] = _kl0(val)
            if not (tot[i] * _REL >= _C * _EPS * mag[i] and val < math.inf):
                bad[lo + i] = 1


@njit(**_OPTS)
def softmax_entropy(a, b, p, out, bad):
    """``-sum_j p_j log p_j = log1p(s) + sum_j p_j (m - z_j)`` (:func:`_softmax_block`): two
    non-negative terms, nothing cancels."""
    rows, k = a.shape
    z, e = np.empty((k + 1, _ROWS)), np.empty((k + 1, _ROWS))
    m, s, acc = np.empty(_ROWS), np.empty(_ROWS), np.empty(_ROWS)
    for lo in range(0, rows, _ROWS):
        w = min(_ROWS, rows - lo)
        _softmax_block(a, lo, w, z, e, m, s, acc)
        for i in range(w):
            acc[i] = 0.0
        for j in range(k + 1):
            for i in range(w):
                acc[i] += e[j, i] * (m[i] - z[j, i])
        for i in range(w):
            out[lo + i] = _jit.flog1p(s[i]) + acc[i] / (1.0 + s[i])


@njit(**_OPTS)
def geometric_entropy(a, b, p, out, bad):
    """``(-q log q - p log p) / p`` with ``q = e^eta``, ``p = -expm1(eta)``: two terms >= 0.
    The column copied first, then one loop without branches on contiguous values (LLVM
    vectorises it; ``expm1`` by :func:`_expm1_v`, exact enough for every ``eta < 0``)."""
    for i in range(a.shape[0]):
        out[i] = a[i, 0]
    for i in range(a.shape[0]):
        x = out[i]
        pr = -_expm1_v(x)
        out[i] = (-_jit.fexp(x) * x - pr * _jit.flog(pr)) / pr


@njit(**_OPTS)
def pareto_entropy(a, b, p, out, bad):
    """``log(x_m / alpha) + 1 / alpha + 1`` (``x_m = p[0]``, ``alpha = -eta``), the log of the
    quotient in one piece where it is a normal float."""
    xm = p[0]
    lxm = math.log(xm)
    for i in range(a.shape[0]):
        out[i] = -a[i, 0]
    for i in range(a.shape[0]):
        al = out[i]
        r = xm / al
        l1 = _jit.flog(r)
        l2 = lxm - _jit.flog(al)
        ok = r >= _TINY and r < math.inf
        out[i] = (l1 if ok else l2) + 1.0 / al + 1.0


# -- multivariate normal: natural parameters (Lam m, theta), theta packed over i <= j in
# numpy.triu_indices order (expfam.families.multivariate_normal), p = [d]
_LN2_HI, _LN2_LO = 0.6931471803691238, 1.9082149292705877e-10
_LOG_2PI = 1.8378770664093453


@njit(**_OPTS)
def _precision(eta, i, d, lam):
    """``Lam = -(T + T')`` from the packed ``theta`` of row ``i`` (exact)."""
    n = d
    for r in range(d):
        for c in range(r, d):
            v = eta[i, n]
            n += 1
            lam[r, c] = -2.0 * v if r == c else -v
            lam[c, r] = lam[r, c]


@njit(**_OPTS)
def _scaled_cholesky(lam, e, sc, c, x):
    """The lower Cholesky factor ``c`` of ``R = S Lam S`` with ``S = diag(sc)``, ``sc_i =
    2^-e_i`` and ``e_i = floor(log2(Lam_ii) / 2)`` (an exact scaling: ``R_ii`` in ``[1, 4)``),
    and ``tr(R^-1) = |c^-1|_F^2``, the bound on ``cond(R) / d`` that the rounding bounds
    use (``R`` has a diagonal near 1).  ``tr = inf`` where ``Lam`` is not positive definite
    (or its diagonal not a finite normal float)."""
    d = lam.shape[0]
    for r in range(d):
        v = lam[r, r]
        if not (v >= _TINY and v < math.inf):
            return math.inf
        e[r] = (((_jit._f2i(v) >> 52) & 0x7FF) - 1023) >> 1
        sc[r] = _jit._i2f((1023 - e[r]) << 52)
    for j in range(d):
        s = lam[j, j] * sc[j] * sc[j]
        for k in range(j):
            s -= c[j, k] * c[j, k]
        if not (s > 0.0 and s < math.inf):
            return math.inf
        c[j, j] = math.sqrt(s)
        for r in range(j + 1, d):
            s = lam[r, j] * sc[r] * sc[j]
            for k in range(j):
                s -= c[r, k] * c[j, k]
            c[r, j] = s / c[j, j]
    return _inverse_norm2(c, 0.0, x)


@njit(**_OPTS)
def _inverse_norm2(c, shift, x):
    """``|(shift I + c)^-1|_F^2`` for a lower triangular ``c``, column by column by forward
    substitution (``x``: scratch of length ``d``)."""
    d = c.shape[0]
    total = 0.0
    for col in range(d):
        for r in range(col, d):
            acc = 1.0 if r == col else 0.0
            for k in range(col, r):
                acc -= c[r, k] * x[k]
            x[r] = acc / (shift + c[r, r])
            total += x[r] * x[r]
    return total


@njit(**_OPTS)
def _solve_lower(c, m):
    """``m <- c^-1 m`` (every column of ``m``, forward substitution)."""
    d = c.shape[0]
    for col in range(m.shape[1]):
        for r in range(d):
            acc = m[r, col]
            for k in range(r):
                acc -= c[r, k] * m[k, col]
            m[r, col] = acc / c[r, r]


@njit(**_OPTS)
def _mvn_mean(eta, i, sc, c, m):
    """``m = Lam^-1 h = S R^-1 S h`` (``h`` the first ``d`` natural parameters of row ``i``;
    ``R = c c'`` from :func:`_scaled_cholesky`): two triangular solves."""
    d = c.shape[0]
    for r in range(d):
        acc = eta[i, r] * sc[r]
        for k in range(r):
            acc -= c[r, k] * m[k]
        m[r] = acc / c[r, r]
    for r in range(d - 1, -1, -1):
        acc = m[r]
        for k in range(r + 1, d):
            acc -= c[k, r] * m[k]
        m[r] = acc / c[r, r]
    for r in range(d):
        m[r] *= sc[r]


@njit(**_OPTS)
def mvn_kl(a, b, p, out, bad):
    """``KL(N_p || N_q) = sum_i (t_i - log1p t_i) / 2 + (m_q - m_p)' Lam_q (m_q - m_p) / 2``,
    ``t_i`` the eigenvalues of the whitened difference ``B = C_p^-1 S_p (Lam_q - Lam_p) S_p
    C_p^-T`` (``d = p[0]``; :func:`_scaled_cholesky`; :func:`expfam._precise.mvn_kl` in
    double-floats).  With the Cholesky factor ``I + E`` of ``I + B`` (``E`` lower, by the
    recurrences in ``B`` itself, so that a small ``B`` loses nothing), ``sum_i (t_i - log1p
    t_i) = tr B - log det(I + B) = sum_j -2 log1pmx(E_jj) + sum_{k <= j} E_jk^2``: a sum of
    non-negative terms, no eigenvalues.  The means by triangular solves.  Declined where
    the rounding bound (``cond R_p`` through ``tr R_p^-1``, ``|(I + E)^-1|``, and the means'
    sizes ``m' Lam m`` against the Mahalanobis term) is not below ``_REL`` times the value,
    or where a precision matrix is not positive definite."""
    d = int(p[0])
    lp, lq, cp, cq = np.zeros((d, d)), np.zeros((d, d)), np.zeros((d, d)), np.zeros((d, d))
    w, bm, em = np.zeros((d, d)), np.zeros((d, d)), np.zeros((d, d))
    ep, eq = np.zeros(d, dtype=np.int64), np.zeros(d, dtype=np.int64)
    x, mp_, mq = np.zeros(d), np.zeros(d), np.zeros(d)
    sp, sq = np.zeros(d), np.zeros(d)
    for i in range(a.shape[0]):
        out[i] = 0.0
        _precision(a, i, d, lp)
        _precision(b, i, d, lq)
        kp = _scaled_cholesky(lp, ep, sp, cp, x)
        kq = _scaled_cholesky(lq, eq, sq, cq, x)
        if not (kp < math.inf and kq < math.inf):
            bad[i] = 1
            continue
        for r in range(d):
            for c in range(d):
                w[r, c] = (lq[r, c] - lp[r, c]) * sp[r] * sp[c]
        _solve_lower(cp, w)  # C^-1 D
        for r in range(d):
            for c in range(d):
                bm[r, c] = w[c, r]
        _solve_lower(cp, bm)  # C^-1 (C^-1 D)' = B
        nb = 0.0
        for r in range(d):
            for c in range(r + 1):
                v = 0.5 * (bm[r, c] + bm[c, r])
                bm[r, c] = v
                nb += v * v * (1.0 if r == c else 2.0)
        nb = math.sqrt(nb)
        ok = True
        shape = 0.0
        ne2 = 0.0
        for j in range(d):
            sj = bm[j, j]
            for k in range(j):
                sj -= em[j, k] * em[j, k]
            ok = ok and sj > -1.0
            if not ok:
                break
            ejj = sj / (1.0 + math.sqrt(1.0 + sj))  # sqrt(1 + s) - 1
            em[j, j] = ejj
            for r in range(j + 1, d):
                acc = bm[r, j]
                for k in range(j):
                    acc -= em[r, k] * em[j, k]
                em[r, j] = acc / (1.0 + ejj)
            shape -= 2.0 * _log1pmx(ejj)
            for k in range(j + 1):
                ne2 += em[j, k] * em[j, k]
        if not ok:
            bad[i] = 1
            continue
        shape += ne2
        # rounding: the factorisation and the solves of B perturb it by a congruence,
        # B (1 + F), |F| <~ d eps tr(R_p^-1), so that sum t_i^2 / (1 + t_i) = |Y|_F^2, Y =
        # (I + E)^-1 B, bounds the change of the value per unit |F|; the recurrences of E
        # are backward stable, |I + B - (I + E)(I + E)'| <~ d eps (|B| + |E|^2), which moves
        # the value by at most |Y|_F |(I + E)^-1|_F that much
        for r in range(d):
            for c in range(d):
                w[r, c] = bm[max(r, c), min(r, c)]
                em[r, c] += 1.0 if r == c else 0.0  # I + E
        _solve_lower(em, w)
        ny2 = 0.0
        for r in range(d):
            for c in range(d):
                ny2 += w[r, c] * w[r, c]
        ng2 = _inverse_norm2(em, 0.0, x)
        _mvn_mean(a, i, sp, cp, mp_)
        _mvn_mean(b, i, sq, cq, mq)
        hmp = 0.0
        hmq = 0.0
        for r in range(d):
            hmp += a[i, r] * mp_[r]
            hmq += b[i, r] * mq[r]
            x[r] = (mq[r] - mp_[r]) / sq[r]  # S_q^-1 (m_q - m_p)
        maha = 0.0
        for r in range(d):
            acc = 0.0
            for k in range(r, d):
                acc += cq[k, r] * x[k]
            maha += acc * acc
        val = 0.5 * (shape + maha)
        # the means' rounding moves |C_q' S_q^-1 (m_q - m_p)| by at most dm (their sizes in
        # the norm of Lam_q, through cond R), hence maha by 2 sqrt(maha) dm + dm^2
        dm = _C * _EPS * d * (kp * math.sqrt((1.0 + nb) * abs(hmp)) + kq * math.sqrt(abs(hmq)))
        err = _C * _EPS * (d * ((kp + d) * ny2 + math.sqrt(ny2 * ng2) * (nb + ne2)) + shape
                           + maha) + dm * (2.0 * math.sqrt(maha) + dm)
        out[i] = _kl0(val)
        if not (val * _REL >= err and val < math.inf):
            bad[i] = 1


@njit(**_OPTS)
def mvn_entropy(a, b, p, out, bad):
    """``(d (1 + log 2 pi) - log det Lam) / 2`` with ``log det Lam = 2 sum_j log C_jj +
    2 sum_j e_j log 2`` (:func:`_scaled_cholesky`; ``d = p[0]``), declined where the bound
    on its rounding (the terms, and ``d tr(R^-1)`` for the factorisation) is not below
    ``_REL`` of the value (:func:`expfam._precise.mvn_logdet_entropy` in double-floats)."""
    d = int(p[0])
    lam, c = np.zeros((d, d)), np.zeros((d, d))
    e = np.zeros(d, dtype=np.int64)
    x, sc = np.zeros(d), np.zeros(d)
    const = d * (1.0 + _LOG_2PI)
    for i in range(a.shape[0]):
        _precision(a, i, d, lam)
        kp = _scaled_cholesky(lam, e, sc, c, x)
        if not kp < math.inf:
            out[i] = 0.0
            bad[i] = 1
            continue
        prod = 1.0  # det C: each C_jj in (0, 2), the product normal unless cond R is huge
        n = 0
        for j in range(d):
            prod *= c[j, j]
            n += 2 * e[j]
        small = math.log(prod)
        mag = abs(small) + d
        logdet = n * _LN2_HI + (n * _LN2_LO + 2.0 * small)
        val = 0.5 * (const - logdet)
        out[i] = val
        err = _C * _EPS * (const + abs(n) * _LN2_HI + 2.0 * mag + d * kp)
        if not (abs(val) * _REL >= err and prod >= _TINY and kp < 1e100):
            bad[i] = 1


#: the largest number of trials whose entropy is summed over the support here
BINOMIAL_MAX_N = 1000


@njit(**_OPTS)
def binomial_entropy(a, b, p, out, bad):
    """``-sum_x f(x) log f(x)`` over ``x = 0..n`` (``p = [n, log C(n, 0), ..., log C(n,
    n)]``), ``log f(x) = log C(n, x) + x log p + (n - x) log q`` with ``log p =
    -softplus(-eta)``, ``log q = -softplus(eta)``: a sum of non-negative terms, each
    relative to the rounding of its ``log f``; declined where that bound exceeds
    ``_REL`` of the sum, or for ``n > BINOMIAL_MAX_N`` (the caller uses
    :func:`expfam._precise.binomial_entropy`)."""
    n = int(p[0])
    for i in range(a.shape[0]):
        if n > BINOMIAL_MAX_N:
            out[i] = 0.0
            bad[i] = 1
            continue
        x = a[i, 0]
        lp = -_softplus(-x)
        lq = -_softplus(x)
        h = 0.0
        err = 0.0
        for k in range(n + 1):
            lc = p[k + 1]
            t1, t2 = k * lp, (n - k) * lq
            lf = lc + t1 + t2
            f = math.exp(lf)
            h -= f * lf
            # |error of lf| <= a few ulps of the magnitudes; f carries it relatively
            err += f * (abs(lc) + abs(t1) + abs(t2)) * (1.0 + abs(lf))
        out[i] = h
        if not (h * _REL >= _C * _EPS * err):
            bad[i] = 1


#: rows per task of :func:`run` (at least; a batch is cut into about four tasks per thread
#: so that a thread held up by other work on its core does not hold up the others)
MIN_CHUNK = 4096
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _threads() -> int:
    """Threads of :func:`run`: numba's configured number (``NUMBA_NUM_THREADS``, by
    default the number of CPUs)."""
    return max(1, int(numba.config.NUMBA_NUM_THREADS))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=max(_threads() - 1, 1), thread_name_prefix="expfam-kl")
        return _POOL


def _forget_pool() -> None:
    """In a forked child: the parent's pool threads do not exist there."""
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def run(name: str, eta_p: np.ndarray, eta_q: np.ndarray | None, params: np.ndarray):
    """Run the kernel ``name`` on natural parameters of shape ``(n, k)`` (``eta_q`` is
    ``None`` for an entropy); ``(out, bad)`` with ``bad`` a boolean mask of the declined
    elements.

    The kernels are serial (``nogil``: they compile several times faster than numba's
    ``parallel=True`` loops); large batches are cut into row chunks run on a small
    thread pool, the calling thread taking a share."""
    kernel = globals()[name]
    n = eta_p.shape[0]
    out = np.empty(n)
    bad = np.zeros(n, dtype=np.uint8)
    a = np.ascontiguousarray(eta_p, dtype=np.float64)
    b = a if eta_q is None else np.ascontiguousarray(eta_q, dtype=np.float64)
    p = np.ascontiguousarray(params, dtype=np.float64)
    threads = _threads()
    tasks = min(4 * threads, n // MIN_CHUNK) if threads > 1 else 1
    if tasks <= 1:
        kernel(a, b, p, out, bad)
        return out, bad.view(bool)
    cuts = np.linspace(0, n, tasks + 1).astype(np.int64)
    counter = itertools.count()  # next() is atomic under the GIL

    def drain():
        for t in iter(counter.__next__, None):
            if t >= tasks:
                return
            lo, hi = cuts[t], cuts[t + 1]
            kernel(a[lo:hi], b[lo:hi], p, out[lo:hi], bad[lo:hi])

    futures = [_pool().submit(drain) for _ in range(min(threads, tasks) - 1)]
    drain()
    for f in futures:
        f.result()
    return out, bad.view(bool)
