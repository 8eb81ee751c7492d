"""The compiled kernels of :mod:`._edf` (imported on first use: numba compiles them
once and caches them on disk)."""

import math

import numpy as np
from numba import njit, prange

from .. import _threading  # noqa: F401 (numba's fork-safe threading layer)

_TINY = 1e-300


@njit(cache=True)
def log1mexp(v):  # log(1 - exp(v)) for v <= 0, accurate at both ends
    if v > -0.6931471805599453:
        return math.log(-math.expm1(v))
    return math.log1p(-math.exp(v))


@njit(cache=True)
def gamma_logpq(a, x, lga):  # lga = lgamma(a)
    if x <= 0.0:
        return -np.inf, 0.0
    lpre = a * math.log(x) - x - lga
    if x < a + 1.0:
        ap, d = a, 1.0 / a
        s = d
        for _ in range(10000):
            ap += 1.0
            d *= x / ap
            s += d
            if abs(d) < abs(s) * 1e-14:
                break
        lp = lpre + math.log(s)
        return lp, log1mexp(min(lp, 0.0))
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _TINY:
            d = _TINY
        c = b + an / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        de = d * c
        h *= de
        if abs(de - 1.0) < 1e-14:
            break
    lq = lpre + math.log(h)
    return log1mexp(min(lq, 0.0)), lq


@njit(cache=True)
def betacf(a, b, x):
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _TINY:
        d = _TINY
    d = 1.0 / d
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        de = d * c
        h *= de
        if abs(de - 1.0) < 1e-14:
            break
    return h


@njit(cache=True)
def beta_logpq(a, b, x, lnb):  # lnb = -log B(a, b)
    if x <= 0.0:
        return -np.inf, 0.0
    if x >= 1.0:
        return 0.0, -np.inf
    lbt = lnb + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        lp = lbt + math.log(betacf(a, b, x) / a)
        return lp, log1mexp(min(lp, 0.0))
    lq = lbt + math.log(betacf(b, a, 1.0 - x) / b)
    return log1mexp(min(lq, 0.0)), lq


@njit(cache=True)
def normal_logpq(z):
    # log Phi(z), log Phi(-z) through erfc (no cancellation in either tail)
    p = 0.5 * math.erfc(-z / math.sqrt(2.0))
    q = 0.5 * math.erfc(z / math.sqrt(2.0))
    lp = math.log(p) if p > 0 else -0.5 * z * z - math.log(-z * math.sqrt(2 * math.pi))
    lq = math.log(q) if q > 0 else -0.5 * z * z - math.log(z * math.sqrt(2 * math.pi))
    return lp, lq


@njit(cache=True)
def log_const(kind, p1, p2):
    if kind == 0:
        return math.lgamma(p1)
    if kind == 1:
        return math.lgamma(p1 + p2) - math.lgamma(p1) - math.lgamma(p2)
    if kind == 7:
        return math.lgamma(0.5 * p1)
    return 0.0


@njit(cache=True)
def log_pq(kind, x, p1, p2, c):
    if kind == 0:
        return gamma_logpq(p1, x / p2, c)
    if kind == 1:
        return beta_logpq(p1, p2, x, c)
    if kind == 7:
        return gamma_logpq(0.5 * p1, 0.5 * x, c)
    if kind == 5:
        return normal_logpq((x - p1) / p2)
    if kind == 6:
        if x <= 0.0:
            return -np.inf, 0.0
        return normal_logpq((math.log(x) - p1) / p2)
    if kind == 8:  # Pareto: S = (x_m / x)^alpha
        if x <= p2:
            return -np.inf, 0.0
        lq = p1 * math.log(p2 / x)
        return log1mexp(lq), lq
    # survival functions exp(-t): exponential, Weibull, Rayleigh
    if x <= 0.0:
        return -np.inf, 0.0
    if kind == 2:
        t = x / p1
    elif kind == 3:
        t = (x / p2) ** p1
    else:
        t = 0.5 * (x / p1) ** 2
    return log1mexp(-t), -t


@njit(parallel=True, cache=True)
def edf(X, P1, P2, kind, stat):
    n, B = X.shape
    out = np.empty(B)
    for b in prange(B):
        col = X[:, b]
        c = log_const(kind, P1[b], P2[b])
        acc = 0.0
        for i in range(n):
            lp, lq = log_pq(kind, col[i], P1[b], P2[b], c)
            if stat == 2:
                acc += (2.0 * i + 1.0) * lp + (2.0 * n - 2.0 * i - 1.0) * lq
            else:
                F = math.exp(lp)
                if stat == 0:
                    acc = max(acc, (i + 1.0) / n - F, F - i / n)
                else:
                    acc += (F - (2.0 * i + 1.0) / (2.0 * n)) ** 2
        if stat == 2:
            out[b] = -n - acc / n
        elif stat == 1:
            out[b] = acc + 1.0 / (12.0 * n)
        else:
            out[b] = acc
    return out
