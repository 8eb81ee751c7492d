"""Numba kernels behind :mod:`expfam._kernels` (imported lazily, on the first large fit).

One pass over the data maps every value ``v`` to up to three raw statistics (``v``,
``log v``, ``v^2``... see :func:`_map`), counts the values outside the support (NaN and
inf included) and sums the statistics.

Accuracy of the sums (1-D data, :func:`sums_1d`): the data are cut into blocks of
``BLOCK`` values.  Inside a block, every run of 128 values is summed with 8 interleaved
accumulators of 16 terms each (error below ``19 eps`` times the sum of the magnitudes of
the run, the bound of NumPy's pairwise sum at its leaves); the run sums are added with
Neumaier's compensated summation, and the per-chunk partials are combined with
``math.fsum`` by the caller.  The rounding error therefore does not grow with ``n``.
Batched data (:func:`sums_2d`) add runs of at most 128 rows plainly, then fold them into
compensated column sums; grouped data (:func:`grouped_sums`) are scatter-added, with
compensation when the groups are large.  The chunk partition depends only on the data's
shape, so the sums are bit-for-bit reproducible whatever the number of threads.

Elementary functions: ``log``, ``log1p``, ``exp`` and ``sin/cos`` are written here
branch-free (bit manipulation of the IEEE exponent plus a series) so that LLVM vectorises
the loops; libm's scalar functions run several times slower than NumPy's SIMD ones.
``log``, ``log1p``, ``sin`` and ``cos`` are within 2 ulps of NumPy's; ``x^k`` computed as
``exp(k log x)`` within about ``|k log x|`` ulps (tested in ``tests/test_kernels.py``).
``fastmath`` stays off: the compensated sums and the split constants rely on IEEE
arithmetic.  ``error_model="numpy"`` removes the division-by-zero checks that would stop
vectorisation.
"""

from __future__ import annotations

import math
import os
import threading

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

if "NUMBA_THREADING_LAYER" not in os.environ:
    # Without TBB numba would pick GNU OpenMP, which is not fork-safe: a process that
    # forks after a fit (multiprocessing's default on Linux) kills its children.  A
    # fork-safe layer is chosen instead (workqueue without TBB); it is not thread-safe,
    # so `run` serialises the launches.  Takes effect only if no parallel numba code ran
    # before in this process; the user's NUMBA_THREADING_LAYER always wins.
    numba.config.THREADING_LAYER = "forksafe"
_LAUNCH = threading.Lock()

#: values per block (one block's buffers, 3 x 8 KiB, stay in L1)
BLOCK = 1024
_RUN = 128
#: widest column tile of 2-D data (a row segment streamed per call)
WIDE = 4096

_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)
_INF = np.inf


# ----------------------------------------------------------------------------------
# Bit casts between float64 and int64 (no NumPy view on scalars inside numba)
# ----------------------------------------------------------------------------------
@intrinsic
def _f2i(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def _i2f(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


# ----------------------------------------------------------------------------------
# Elementary functions, vectorisable (no calls, no data-dependent branches)
# ----------------------------------------------------------------------------------
_LN2_HI = 0.6931471803691238  # ln 2 rounded to 32 significant bits: n * _LN2_HI is exact
_LN2_LO = 1.9082149292705877e-10
_BITS_SQRT_HALF = 0x3FE6A09E667F3BCD  # IEEE bits of sqrt(1/2)
_TINY = 2.2250738585072014e-308  # smallest normal number
_TWO54 = 18014398509481984.0
# log(1 + f) = f - s (f - R(s^2)),  s = f / (2 + f),  R(z) = sum_{j>=1} 2 z^j / (2j + 1)
_L1, _L2, _L3, _L4, _L5, _L6 = 2 / 3, 2 / 5, 2 / 7, 2 / 9, 2 / 11, 2 / 13
_L7, _L8, _L9, _L10, _L11 = 2 / 15, 2 / 17, 2 / 19, 2 / 21, 2 / 23


@njit(inline="always", **_OPTS)
def flog(x):
    """Natural logarithm for finite ``x > 0`` (subnormals included); garbage otherwise."""
    sub = x < _TINY
    xs = x * _TWO54 if sub else x
    ix = _f2i(xs)
    # x = 2^e m with m in [sqrt(1/2), sqrt(2))
    e = (ix - _BITS_SQRT_HALF) >> 52
    m = _i2f(ix - (e << 52))
    dk = float(e) - (54.0 if sub else 0.0)
    f = m - 1.0
    s = f / (2.0 + f)  # |s| <= 0.1716, so z^12 / 12 < 2e-19: 11 terms of R suffice
    z = s * s
    R = z * (_L1 + z * (_L2 + z * (_L3 + z * (_L4 + z * (_L5 + z * (_L6 + z * (
        _L7 + z * (_L8 + z * (_L9 + z * (_L10 + z * _L11))))))))))
    hfsq = 0.5 * f * f
    # log(1 + f) = f - (hfsq - s (hfsq + R)): the large terms are exact or nearly so
    return dk * _LN2_HI - ((hfsq - (s * (hfsq + R) + dk * _LN2_LO)) - f)


@njit(inline="always", **_OPTS)
def flog1p(y):
    """``log(1 + y)`` for ``y > -1``, accurate for small ``|y|``."""
    u = 1.0 + y
    # log(1 + y) = log(u) - ((u - 1) - y) / u + O(rounding^2)  (u - 1 is exact)
    return flog(u) - ((u - 1.0) - y) / u


_INV_LN2 = 1.4426950408889634
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer
_EXP_MAX = 709.782712893384
_EXP_MIN = -745.1332191019412
_E2, _E3, _E4, _E5, _E6, _E7 = [1.0 / math.factorial(j) for j in range(2, 8)]
_E8, _E9, _E10, _E11, _E12, _E13 = [1.0 / math.factorial(j) for j in range(8, 14)]


@njit(inline="always", **_OPTS)
def fexp(y):
    """``exp(y)`` for finite ``y`` (overflow to inf, underflow to 0)."""
    yc = min(max(y, -746.0), 710.0)
    q = (yc * _INV_LN2 + _SHIFTER) - _SHIFTER
    r = (yc - q * _LN2_HI) - q * _LN2_LO  # |r| <= ln(2) / 2
    p = 1.0 + r * (1.0 + r * (_E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * (_E6 + r * (
        _E7 + r * (_E8 + r * (_E9 + r * (_E10 + r * (_E11 + r * (_E12 + r * _E13))))))))))))
    n = np.int64(q)
    n1 = n >> 1  # two halves keep each power of two normal (subnormal results)
    n2 = n - n1
    out = p * _i2f((n1 + 1023) << 52) * _i2f((n2 + 1023) << 52)
    out = _INF if y > _EXP_MAX else out
    return 0.0 if y < _EXP_MIN else out


_TWO_OVER_PI = 0.6366197723675814
_PIO2_1 = 1.5707963267341256  # pi/2 in three parts of 33 bits: q * part is exact
_PIO2_2 = 6.077100506303966e-11
_PIO2_3 = 2.0222662487959506e-21
_S3, _S5, _S7, _S9, _S11, _S13, _S15, _S17 = [
    (-1.0) ** j / math.factorial(2 * j + 1) for j in range(1, 9)
]
_C4, _C6, _C8, _C10, _C12, _C14, _C16, _C18 = [
    (-1.0) ** j / math.factorial(2 * j) for j in range(2, 10)
]


@njit(inline="always", **_OPTS)
def fsincos(x):
    """``(cos x, sin x)`` for ``|x| <= 4`` (the von Mises support)."""
    q = (x * _TWO_OVER_PI + _SHIFTER) - _SHIFTER
    r = ((x - q * _PIO2_1) - q * _PIO2_2) - q * _PIO2_3  # |r| <= pi/4 (+ rounding)
    z = r * r
    s = r + r * z * (_S3 + z * (_S5 + z * (_S7 + z * (_S9 + z * (_S11 + z * (
        _S13 + z * (_S15 + z * _S17)))))))
    c = (1.0 - 0.5 * z) + z * z * (_C4 + z * (_C6 + z * (_C8 + z * (_C10 + z * (
        _C12 + z * (_C14 + z * (_C16 + z * _C18)))))))
    iq = np.int64(q) & 3
    # x = q pi/2 + r: sin x = (s, c, -s, -c)[q mod 4], cos x = (c, -s, -c, s)[q mod 4]
    sw = (iq & 1) == 1
    sin_x = c if sw else s
    cos_x = s if sw else c
    sin_x = -sin_x if (iq & 2) == 2 else sin_x
    cos_x = -cos_x if ((iq + 1) & 2) == 2 else cos_x
    return cos_x, sin_x


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@njit(inline="always", **_OPTS)
def flgamma1p_large(v):
    """``lgamma(v + 1)`` for ``v >= 1023`` (Stirling series, relative error < 1e-17)."""
    w = v + 1.0
    iw = 1.0 / w
    iw2 = iw * iw
    corr = iw * (1.0 / 12 - iw2 * (1.0 / 360 - iw2 * (1.0 / 1260 - iw2 / 1680)))
    return (w - 0.5) * flog(w) - w + _HALF_LOG_2PI + corr


# ----------------------------------------------------------------------------------
# The per-family map: raw statistics of a contiguous run of values
# ----------------------------------------------------------------------------------
# Codes (kept in step with _kernels._SPECS).  Raw statistics written to out[0..2]:
NORMAL = 0  # v, v^2
EXPONENTIAL = 1  # v                          support [0, inf)
GAMMA = 2  # v, log v                         (0, inf)
BETA = 3  # log v, log1p(-v)                  (0, 1)
LOGNORMAL = 4  # log v, (log v)^2             (0, inf)
INVERSE_GAUSSIAN = 5  # v, 1/v, log v         (0, inf)
VON_MISES = 6  # cos v, sin v                 [-pi, pi)
WEIBULL = 7  # v^k, log v                     (0, inf); p[0] = k
POISSON = 8  # v, log h(v)                    {0, 1, ...}; p = table of log h
RAYLEIGH = 9  # v^2, log v                    (0, inf)
PARETO = 10  # log v                          [x_m, inf); p[0] = x_m
LAPLACE = 11  # |v - loc|                     (-inf, inf); p[0] = loc
CHI_SQUARE = 12  # log v, v                   (0, inf)
INVERSE_GAMMA = 13  # 1/v, log v              (0, inf)
BERNOULLI = 14  # v                           {0, 1}
BINOMIAL = 15  # v, log h(v)                  {0, ..., n}; p = table of log h, length n+1
GEOMETRIC = 16  # v                           {0, 1, ...}


@njit(**_OPTS)
def _map(code, x, i0, m, out, p):
    """Raw statistics of ``x[i0:i0+m]`` into ``out[:, :m]``; returns the number of values
    outside the support (NaN and inf included)."""
    # views: indices from range() are known non-negative, so no wraparound selects
    # (which would turn the loads into gathers and stop vectorisation)
    xs = x[i0 : i0 + m]
    o0 = out[0]
    o1 = out[1]
    o2 = out[2]
    bad = 0
    if code == NORMAL:
        for j in range(m):
            v = xs[j]
            o0[j] = v
            o1[j] = v * v
            bad += not (abs(v) < _INF)
    elif code == EXPONENTIAL:
        for j in range(m):
            v = xs[j]
            o0[j] = v
            bad += not ((v >= 0.0) & (v < _INF))
    elif code == GAMMA:
        for j in range(m):
            v = xs[j]
            o0[j] = v
            o1[j] = flog(v)
            bad += not ((v > 0.0) & (v < _INF))
    elif code == BETA:
        for j in range(m):
            v = xs[j]
            o0[j] = flog(v)
            o1[j] = flog1p(-v)
            bad += not ((v > 0.0) & (v < 1.0))
    elif code == LOGNORMAL:
        for j in range(m):
            v = xs[j]
            y = flog(v)
            o0[j] = y
            o1[j] = y * y
            bad += not ((v > 0.0) & (v < _INF))
    elif code == INVERSE_GAUSSIAN:
        for j in range(m):
            v = xs[j]
            o0[j] = v
            o1[j] = 1.0 / v
            o2[j] = flog(v)
            bad += not ((v > 0.0) & (v < _INF))
    elif code == VON_MISES:
        for j in range(m):
            v = xs[j]
            c, s = fsincos(v)
            o0[j] = c
            o1[j] = s
            bad += not ((v >= -np.pi) & (v < np.pi))
    elif code == WEIBULL:
        k = p[0]
        for j in range(m):
            v = xs[j]
            y = flog(v)
            o0[j] = fexp(k * y)
            o1[j] = y
            bad += not ((v > 0.0) & (v < _INF))
    elif code == POISSON:
        top = p.shape[0] - 1.0
        big = 0
        for j in range(m):  # vectorised: copy and check
            v = xs[j]
            o0[j] = v
            bad += not ((v >= 0.0) & (v < _INF) & (v == np.floor(v)))
            big += v > top
        if bad == 0:  # every v is a count now; log h from the table (scalar loop)
            for j in range(m):
                o1[j] = p[np.uint64(min(xs[j], top))]
            if big > 0:  # rare large counts: Stirling series
                for j in range(m):
                    if xs[j] > top:
                        o1[j] = -flgamma1p_large(xs[j])
    elif code == GEOMETRIC:
        for j in range(m):
            v = xs[j]
            o0[j] = v
            bad += not ((v >= 0.0) & (v < _INF) & (v == np.floor(v)))
    elif code == RAYLEIGH:
        for j in range(m):
            v = xs[j]
            o0[j] = v * v
            o1[j] = flog(v)
            bad += not ((v > 0.0) & (v < _INF))
    elif code == PARETO:
        xm = p[0]
        for j in range(m):
            v = xs[j]
            o0[j] = flog(v)
            bad += not ((v >= xm) & (v < _INF))
    elif code == LAPLACE:
        loc = p[0]
        for j in range(m):
            v = xs[j]
            o0[j] = abs(v - loc)
            bad += not (abs(v) < _INF)
    elif code == CHI_SQUARE:
        for j in range(m):
            v = xs[j]
            o0[j] = flog(v)
            o1[j] = v
            bad += not ((v > 0.0) & (v < _INF))
    elif code == INVERSE_GAMMA:
        for j in range(m):
            v = xs[j]
            o0[j] = 1.0 / v
            o1[j] = flog(v)
            bad += not ((v > 0.0) & (v < _INF))
    elif code == BERNOULLI:
        for j in range(m):
            v = xs[j]
            o0[j] = v
            bad += not ((v == 0.0) | (v == 1.0))
    elif code == BINOMIAL:
        top = p.shape[0] - 1.0  # n
        for j in range(m):  # vectorised: copy and check
            v = xs[j]
            o0[j] = v
            bad += not ((v >= 0.0) & (v <= top) & (v == np.floor(v)))
        if bad == 0:
            for j in range(m):  # scalar: log h from the table
                o1[j] = p[np.uint64(xs[j])]
    else:
        bad = -1
    return bad


# ----------------------------------------------------------------------------------
# Summation
# ----------------------------------------------------------------------------------
@njit(inline="always", **_OPTS)
def _two_sum(s, c, t):
    """Neumaier step: ``s + t`` with the rounding error accumulated in ``c``."""
    u = s + t
    if abs(s) >= abs(t):
        c += (s - u) + t
    else:
        c += (t - u) + s
    return u, c


@njit(**_OPTS)
def _run_sums(r, m):
    """Sum of ``r[:m]`` as (sum, compensation): runs of 128 with 8 accumulators,
    run sums added with Neumaier's method."""
    total = 0.0
    comp = 0.0
    full = m - m % _RUN
    for c0 in range(0, full, _RUN):
        a0 = r[c0]
        a1 = r[c0 + 1]
        a2 = r[c0 + 2]
        a3 = r[c0 + 3]
        a4 = r[c0 + 4]
        a5 = r[c0 + 5]
        a6 = r[c0 + 6]
        a7 = r[c0 + 7]
        for j in range(c0 + 8, c0 + _RUN, 8):
            a0 += r[j]
            a1 += r[j + 1]
            a2 += r[j + 2]
            a3 += r[j + 3]
            a4 += r[j + 4]
            a5 += r[j + 5]
            a6 += r[j + 6]
            a7 += r[j + 7]
        total, comp = _two_sum(total, comp, ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)))
    rest = 0.0
    for j in range(full, m):
        rest += r[j]
    total, comp = _two_sum(total, comp, rest)
    return total, comp


_TWO52 = 4503599627370496.0
_BITS_TWO52 = 0x4330000000000000


@njit(inline="always", **_OPTS)
def _idx(v, top):
    """``min(v, top)`` as an unsigned index, for ``v`` a non-negative integer value
    (adding 2^52 puts the integer in the low mantissa bits: cheaper than a conversion)."""
    return np.uint64(_f2i(min(v, top) + _TWO52) - _BITS_TWO52)


@njit(**_OPTS)
def _poisson_block(x, i0, m, p, S, C, c):
    """Poisson without the buffer: check, sum ``v`` in place, and sum the table lookups
    of ``log h(v)`` in runs of 128 with 8 accumulators (the lookups are the cost here).
    Adds into ``S[c, :2], C[c, :2]``; returns the number of bad values."""
    xs = x[i0 : i0 + m]
    top = p.shape[0] - 1.0
    bad = 0
    big = 0
    for j in range(m):  # vectorised
        v = xs[j]
        bad += not ((v >= 0.0) & (v < _INF) & (v == np.floor(v)))
        big += v > top
    if bad > 0:
        return bad
    t, tc = _run_sums(xs, m)
    u, cc = _two_sum(S[c, 0], C[c, 0], t)
    S[c, 0] = u
    C[c, 0] = cc + tc
    total = 0.0
    comp = 0.0
    full = m - m % _RUN
    for c0 in range(0, full, _RUN):
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        for j in range(c0, c0 + _RUN, 8):
            a0 += p[_idx(xs[j], top)]
            a1 += p[_idx(xs[j + 1], top)]
            a2 += p[_idx(xs[j + 2], top)]
            a3 += p[_idx(xs[j + 3], top)]
            a4 += p[_idx(xs[j + 4], top)]
            a5 += p[_idx(xs[j + 5], top)]
            a6 += p[_idx(xs[j + 6], top)]
            a7 += p[_idx(xs[j + 7], top)]
        total, comp = _two_sum(total, comp, ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)))
    rest = 0.0
    for j in range(full, m):
        rest += p[_idx(xs[j], top)]
    total, comp = _two_sum(total, comp, rest)
    if big > 0:  # rare large counts: replace the clamped lookup by the Stirling series
        for j in range(m):
            if xs[j] > top:
                total, comp = _two_sum(total, comp, -flgamma1p_large(xs[j]) - p[-1])
    u, cc = _two_sum(S[c, 1], C[c, 1], total)
    S[c, 1] = u
    C[c, 1] = cc + comp
    return 0


@njit(parallel=True, **_OPTS)
def sums_1d(x, code, ns, p, nchunks):
    """Raw sums of 1-D contiguous ``x``.

    Returns ``(S, C, bad)``: per chunk the sums ``S[c, :ns]`` and their compensations
    ``C[c, :ns]`` (the total is ``fsum(S[:, s]) + fsum(C[:, s])``), and the number of
    values outside the support per chunk (-1 for an unknown code).
    """
    n = x.shape[0]
    nblk = (n + BLOCK - 1) // BLOCK
    S = np.zeros((nchunks, ns))
    C = np.zeros((nchunks, ns))
    bad = np.zeros(nchunks, np.int64)
    for c in prange(nchunks):
        buf = np.empty((3, BLOCK))
        nbad = 0
        for b in range(c * nblk // nchunks, (c + 1) * nblk // nchunks):
            i0 = b * BLOCK
            m = min(BLOCK, n - i0)
            if code == POISSON:
                nbad += _poisson_block(x, i0, m, p, S, C, c)
                if nbad > 0:
                    break
                continue
            nb = _map(code, x, i0, m, buf, p)
            if nb < 0:
                nbad = -1
                break
            nbad += nb
            if nbad > 0:  # the result will be discarded: stop early
                break
            for s in range(ns):
                t, tc = _run_sums(buf[s], m)
                u, cc = _two_sum(S[c, s], C[c, s], t)
                S[c, s] = u
                C[c, s] = cc + tc
        bad[c] = nbad
    return S, C, bad


@njit(parallel=True, **_OPTS)
def sums_2d(x, code, ns, p, nchunks):
    """Raw column sums of 2-D C-contiguous ``x`` (shape ``(n, M)``).

    Rows are split into ``nchunks`` chunks and columns into tiles of at most ``WIDE``
    (one task per chunk and tile).  A task maps either ``R`` whole rows (narrow data) or
    one row of its tile (wide data) per call, adds the raw statistics elementwise into a
    plain accumulator of the same layout, and every 128 calls folds the accumulator into
    its column sums with Neumaier's method.  Returns ``(S, C, bad)`` with ``S, C`` of
    shape ``(nchunks, ns, M)``.
    """
    n, M = x.shape
    flat = x.reshape(n * M)
    W = min(M, WIDE)
    ntiles = (M + W - 1) // W
    R = max(1, min(_RUN, BLOCK // W)) if W == M else 1  # rows per map call
    L = R * W
    S = np.zeros((nchunks, ns, M))
    C = np.zeros((nchunks, ns, M))
    bad = np.zeros(nchunks * ntiles, np.int64)
    for t in prange(nchunks * ntiles):
        rc = t // ntiles
        c0 = (t - rc * ntiles) * W
        w = min(W, M - c0)
        r0 = rc * n // nchunks
        r1 = (rc + 1) * n // nchunks
        buf = np.empty((3, L))
        acc = np.zeros((ns, L))
        nbad = 0
        calls = 0
        for rb in range(r0, r1, R):
            nr = min(R, r1 - rb)
            m = nr * w  # nr > 1 only when w == M: the rows are contiguous
            nb = _map(code, flat, rb * M + c0, m, buf, p)
            if nb != 0:
                nbad = nb
                break
            for s in range(ns):
                av = acc[s]
                bv = buf[s]
                for i in range(m):  # vectorised
                    av[i] += bv[i]
            calls += 1
            if calls == _RUN or rb + R >= r1:
                for s in range(ns):
                    sv = S[rc, s, c0 : c0 + w]
                    cv = C[rc, s, c0 : c0 + w]
                    for r in range(R):
                        av = acc[s, r * w : (r + 1) * w]
                        for j in range(w):
                            u, cc = _two_sum(sv[j], cv[j], av[j])
                            sv[j] = u
                            cv[j] = cc
                            av[j] = 0.0
                calls = 0
        bad[t] = nbad
    return S, C, bad


@njit(parallel=True, **_OPTS)
def dirichlet_sums(x, tol, nchunks):
    """Sums of ``log x_j - log(sum_i x_i)`` over the rows of C-contiguous ``x`` (n, K),
    checking every entry in (0, 1) and every row sum within ``tol`` of 1.

    Rows are taken in blocks of ``BLOCK // K``: the logarithms of a block (contiguous)
    are computed in one vectorised loop, then added per column; each block's column sums
    are added with Neumaier's method.  Returns ``(S, C, bad)``, ``S, C`` of shape
    ``(nchunks, K)``.
    """
    n, K = x.shape
    flat = x.reshape(n * K)
    R = max(1, BLOCK // K)
    nblk = (n + R - 1) // R
    S = np.zeros((nchunks, K))
    C = np.zeros((nchunks, K))
    bad = np.zeros(nchunks, np.int64)
    for c in prange(nchunks):
        logs = np.empty(R * K)
        lt = np.empty(R)
        acc = np.empty(K)
        nbad = 0
        for b in range(c * nblk // nchunks, (c + 1) * nblk // nchunks):
            r0 = b * R
            nr = min(R, n - r0)
            xs = flat[r0 * K : (r0 + nr) * K]
            for i in range(nr * K):  # vectorised
                v = xs[i]
                logs[i] = flog(v)
                nbad += not ((v > 0.0) & (v < 1.0))
            for r in range(nr):
                tot = 0.0
                for j in range(K):
                    tot += xs[r * K + j]
                nbad += not (abs(tot - 1.0) <= tol)
                lt[r] = tot
            if nbad > 0:
                break
            for r in range(nr):  # vectorised
                lt[r] = flog(lt[r])
            acc[:] = 0.0
            for r in range(nr):
                for j in range(K):
                    acc[j] += logs[r * K + j] - lt[r]
            for j in range(K):
                u, cc = _two_sum(S[c, j], C[c, j], acc[j])
                S[c, j] = u
                C[c, j] = cc
        bad[c] = nbad
    return S, C, bad


@njit(parallel=True, **_OPTS)
def grouped_sums(x, inv, G, code, ns, p, nchunks, compensated):
    """Raw sums of 1-D contiguous ``x`` per group ``inv`` (codes ``0..G-1``).

    Each chunk of the data scatter-adds into its own accumulator: ``A[c, g, 2 s]`` is the
    sum and, when ``compensated``, ``A[c, g, 2 s + 1]`` its Neumaier compensation (plain
    sums are used for small groups, where the sequential error is small and the scatter
    is memory-bound); ``A[c, g, 2 ns]`` counts the observations.  Returns ``(A, bad)``.
    """
    n = x.shape[0]
    nblk = (n + BLOCK - 1) // BLOCK
    A = np.zeros((nchunks, G, 2 * ns + 1))
    bad = np.zeros(nchunks, np.int64)
    for c in prange(nchunks):
        buf = np.empty((3, BLOCK))
        acc = A[c]
        nbad = 0
        for b in range(c * nblk // nchunks, (c + 1) * nblk // nchunks):
            i0 = b * BLOCK
            m = min(BLOCK, n - i0)
            nb = _map(code, x, i0, m, buf, p)
            if nb != 0:
                nbad = nb
                break
            gs = inv[i0 : i0 + m]
            if compensated:
                for j in range(m):
                    g = gs[j]
                    for s in range(ns):
                        u, cc = _two_sum(acc[g, 2 * s], acc[g, 2 * s + 1], buf[s, j])
                        acc[g, 2 * s] = u
                        acc[g, 2 * s + 1] = cc
                    acc[g, 2 * ns] += 1.0
            else:
                for j in range(m):
                    g = gs[j]
                    for s in range(ns):
                        acc[g, 2 * s] += buf[s, j]
                    acc[g, 2 * ns] += 1.0
        bad[c] = nbad
    return A, bad


def run(kernel, *args):
    """Call a parallel kernel, one launch at a time (the threading layer may not be
    thread-safe).  Static scheduling: numba's chunked dynamic scheduling
    (``numba.parallel_chunksize``) was ten times slower here."""
    with _LAUNCH:
        return kernel(*args)


# ----------------------------------------------------------------------------------
# Gamma shape: solve log(a) - digamma(a) = s for many s at once (batched fits)
# ----------------------------------------------------------------------------------
@njit(inline="always", **_OPTS)
def _log_minus_digamma(a):
    """``log(a) - digamma(a)``: recurrence ``psi(a) = psi(a + 1) - 1/a`` up to ``y >= 20``,
    then the asymptotic series of ``log(y) - psi(y)`` (DLMF 5.11.2)."""
    acc = 0.0
    y = a
    while y < 20.0:
        acc += 1.0 / y
        y += 1.0
    r = 1.0 / (y * y)
    tail = 0.5 / y + r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * (1 / 240 - r / 132))))
    return math.log(a / y) + tail + acc


@njit(inline="always", **_OPTS)
def _log_minus_digamma_prime(a):
    """``1/a - trigamma(a)`` (recurrence up to ``y >= 6``, then DLMF 5.15.8): relative
    error below 1e-9, ample for a Newton derivative (it sets the rate, not the root)."""
    head = 0.0
    y = a
    while y < 6.0:
        head += 1.0 / (y * y)
        y += 1.0
    r = 1.0 / y
    r2 = r * r
    tail = 0.5 * r2 + r * r2 * (1 / 6 - r2 * (1 / 30 - r2 * (1 / 42 - r2 / 30)))
    return (1.0 / a - r) - head - tail


@njit(parallel=True, **_OPTS)
def gamma_shape(s, max_iter):
    """Newton iterations for ``log(a) - digamma(a) = s`` from Minka's start, one element
    per task; returns ``(a, converged, n_iter)``."""
    n = s.size
    a = np.empty(n)
    ok = np.zeros(n, dtype=np.bool_)
    iters = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        si = s[i]
        x = (3.0 - si + math.sqrt((si - 3.0) ** 2 + 24.0 * si)) / (12.0 * si)
        f_prev = np.inf
        for it in range(1, max_iter + 1):
            f = _log_minus_digamma(x) - si
            if f == 0.0 or abs(f) >= f_prev:  # exact, or at the rounding floor of f
                ok[i] = True
                iters[i] = it
                break
            step = f / _log_minus_digamma_prime(x)
            xn = x - step
            if not xn > 0.0:
                xn = 0.5 * x
            f_prev = abs(f)
            # quadratic convergence: after a step of relative size 3e-8 the error is ~1e-15
            if abs(xn - x) <= 3e-8 * x:
                x = xn
                ok[i] = True
                iters[i] = it
                break
            x = xn
        a[i] = x
    return a, ok, iters


# ----------------------------------------------------------------------------------
# Beta concentrations: plain Newton on psi(a) - psi(a + b) = m1, psi(b) - psi(a + b) = m2
# ----------------------------------------------------------------------------------
@njit(inline="always", **_OPTS)
def _digamma(x):
    """``psi(x)``: recurrence up to ``y >= 10``, then DLMF 5.11.2 (absolute error ~1e-15;
    the caller checks the final residual with an accurate evaluation)."""
    acc = 0.0
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    r = 1.0 / (x * x)
    return math.log(x) - 0.5 / x - r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * (1 / 240 - r / 132)))) + acc


@njit(inline="always", **_OPTS)
def _trigamma(x):
    """``psi1(x)`` to about 1e-9 relative (a Newton derivative)."""
    return 1.0 / x - _log_minus_digamma_prime(x)


@njit(parallel=True, **_OPTS)
def beta_newton(m1, m2, max_iter):
    """Newton iterations for the Beta concentrations from the large-concentration start
    ``a = s exp(m1)``, ``b = s exp(m2)``; returns ``(a, b, settled)``."""
    n = m1.size
    a_out = np.empty(n)
    b_out = np.empty(n)
    settled = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        x1, x2 = m1[i], m2[i]
        top = max(x1, x2)
        lse = top + math.log(math.exp(x1 - top) + math.exp(x2 - top))
        s = 0.5 - 0.5 / math.expm1(lse)
        a, b = s * math.exp(x1), s * math.exp(x2)
        for _ in range(max_iter):
            psi_ab, t = _digamma(a + b), _trigamma(a + b)
            g1 = _digamma(a) - psi_ab - x1
            g2 = _digamma(b) - psi_ab - x2
            ta, tb = _trigamma(a) - t, _trigamma(b) - t
            det = ta * tb - t * t
            da, db = (tb * g1 + t * g2) / det, (t * g1 + ta * g2) / det
            an, bn = a - da, b - db
            a = an if an > 0.0 else 0.5 * a
            b = bn if bn > 0.0 else 0.5 * b
            if abs(da) <= 3e-8 * a and abs(db) <= 3e-8 * b:  # quadratic: next error ~1e-15
                settled[i] = True
                break
        a_out[i], b_out[i] = a, b
    return a_out, b_out, settled


@njit(inline="always", **_OPTS)
def _digamma_tail(b):
    r = 1.0 / (b * b)
    inner = 1 / 240 - r * (1 / 132 - r * 691 / 32760)
    return r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * inner)))


@njit(parallel=True, **_OPTS)
def digamma_difference_rows(alpha):
    """``psi(alpha_j) - psi(alpha_0)`` per row of ``alpha`` (n, K): the same formula as
    :func:`expfam.families.dirichlet.digamma_difference`, element by element."""
    n, K = alpha.shape
    out = np.empty((n, K))
    for i in prange(n):
        top = 0
        for j in range(1, K):
            if alpha[i, j] > alpha[i, top]:
                top = j
        total = 0.0
        others = 0.0
        for j in range(K):
            total += alpha[i, j]
            if j != top:
                others += alpha[i, j]
        for j in range(K):
            a = alpha[i, j]
            rest = others if j == top else total - a
            b = a
            corr = 0.0
            if a < 20.0:
                for t in range(20):
                    corr += rest / ((a + t) * (a + t + rest))
                b = a + 20.0
            b0 = b + rest
            tail = _digamma_tail(b) - _digamma_tail(b0)
            out[i, j] = -math.log1p(rest / b) - 0.5 * rest / (b * b0) - tail - corr
    return out
