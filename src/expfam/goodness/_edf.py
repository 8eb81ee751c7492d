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


def edf_compiled(X: np.ndarray, name: str, params: dict, fixed: dict, statistic: str) -> np.ndarray:
    """The statistic of every column of ``X`` (n, B) under the law of the family ``name``
    with the (batched, shape (B,)) fitted ``params``."""
    if "edf" not in _KERNELS:
        from ._edf_jit import edf

        _KERNELS["edf"] = edf
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
