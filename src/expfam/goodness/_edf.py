"""Compiled EDF statistics of many samples at once, each under its own fitted law.

For every column ``b`` of a block of samples (one bootstrap sample each), the column is
sorted and the probability integral transform ``F_b(x_(i))`` is evaluated in logarithms
(``log F`` and ``log(1 - F)``, so that Anderson-Darling's tail terms keep their digits),
then

- Kolmogorov-Smirnov ``D = max_i max(i/n - F_i, F_i - (i-1)/n)``,
- Cramer-von Mises ``W^2 = 1/(12n) + sum_i (F_i - (2i-1)/(2n))^2``,
- Anderson-Darling ``A^2 = -n - (1/n) sum_i [(2i-1) log F_i + (2n-2i+1) log(1 - F_i)]``.

The laws with a compiled CDF here: Gamma (regularised incomplete gamma: series below
``a + 1``, Lentz's continued fraction above; Numerical Recipes ch. 6.2) and Beta
(regularised incomplete beta, continued fraction, ch. 6.4), with the closed forms of the
Exponential, Weibull, Rayleigh, Pareto, Normal, LogNormal as ``erfc``/``exp``.  Other
families use their SciPy distribution (:func:`edf_numpy`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["edf_compiled", "edf_numpy", "COMPILED", "STATISTICS"]

#: statistic name -> code in the kernel
STATISTICS = {"ks": 0, "cvm": 1, "ad": 2}
#: family -> code of its compiled log CDF, and how its two law parameters are read from
#: the fitted familiar parameters (see :func:`law_params`)
COMPILED = {"gamma": 0, "beta": 1, "exponential": 2, "weibull": 3, "rayleigh": 4,
            "normal": 5, "lognormal": 6, "chi_square": 7, "pareto": 8}

_KERNELS: dict = {}


def law_params(name: str, params: dict, fixed: dict) -> tuple[np.ndarray, np.ndarray]:
    """The two numbers ``(p1, p2)`` of each law the kernel takes."""
    one = np.ones_like(np.asarray(next(iter(params.values())), dtype=np.float64))
    if name == "gamma":
        return params["shape"] * one, 1.0 / params["rate"] * one
    if name == "beta":
        return params["a"] * one, params["b"] * one
    if name == "exponential":
        return 1.0 / params["rate"] * one, one
    if name == "weibull":
        return fixed["k"] * one, params["scale"] * one
    if name == "rayleigh":
        return params["scale"] * one, one
    if name in ("normal", "lognormal"):
        key = "loc" if "loc" in params else "mu"
        return params[key] * one, params["scale" if "scale" in params else "sigma"] * one
    if name == "chi_square":
        return params["df"] * one, one
    if name == "pareto":
        return params["alpha"] * one, fixed["x_m"] * one
    raise KeyError(name)


def _build():
    from numba import njit, prange

    tiny = 1e-300

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
        c = 1.0 / tiny
        d = 1.0 / b
        h = d
        for i in range(1, 10000):
            an = -i * (i - a)
            b += 2.0
            d = an * d + b
            if abs(d) < tiny:
                d = tiny
            c = b + an / c
            if abs(c) < tiny:
                c = tiny
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
        if abs(d) < tiny:
            d = tiny
        d = 1.0 / d
        h = d
        for m in range(1, 10000):
            m2 = 2 * m
            aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1.0 + aa * d
            if abs(d) < tiny:
                d = tiny
            c = 1.0 + aa / c
            if abs(c) < tiny:
                c = tiny
            d = 1.0 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1.0 + aa * d
            if abs(d) < tiny:
                d = tiny
            c = 1.0 + aa / c
            if abs(c) < tiny:
                c = tiny
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

    return edf


def edf_compiled(X: np.ndarray, name: str, params: dict, fixed: dict, statistic: str) -> np.ndarray:
    """The statistic of every column of ``X`` (n, B) under the law of the family ``name``
    with the (batched, shape (B,)) fitted ``params``."""
    if "edf" not in _KERNELS:
        _KERNELS["edf"] = _build()
    p1, p2 = law_params(name, params, fixed)
    B = X.shape[1]
    p1 = np.ascontiguousarray(np.broadcast_to(p1, (B,)), dtype=np.float64)
    p2 = np.ascontiguousarray(np.broadcast_to(p2, (B,)), dtype=np.float64)
    # columns contiguous (one copy): the kernel reads a column at a time
    Xs = np.sort(np.asfortranarray(X, dtype=np.float64), axis=0)  # along contiguous columns
    return _KERNELS["edf"](Xs, p1, p2, COMPILED[name],
                           STATISTICS[statistic])


def edf_numpy(X: np.ndarray, dist, statistic: str) -> np.ndarray:
    """The statistic of every column of ``X`` (n, B) under the frozen SciPy law ``dist``
    (batch shape (B,))."""
    Xs = np.sort(X, axis=0)
    n = Xs.shape[0]
    i = np.arange(1, n + 1)[:, None]
    with np.errstate(divide="ignore"):
        if statistic == "ad":
            lp, lq = dist.logcdf(Xs), dist.logsf(Xs)
            return -n - np.sum((2 * i - 1) * lp + (2 * n - 2 * i + 1) * lq, axis=0) / n
        F = dist.cdf(Xs)
    if statistic == "ks":
        return np.max(np.maximum(i / n - F, F - (i - 1) / n), axis=0)
    return 1 / (12 * n) + np.sum((F - (2 * i - 1) / (2 * n)) ** 2, axis=0)
