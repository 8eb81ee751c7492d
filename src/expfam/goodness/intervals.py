"""Confidence intervals of fitted parameters: Wald (Fisher information), profile
likelihood, and the percentile bootstrap.

The log-likelihood is a function of the statistics only,
``l(eta) = sum log h + eta . sum u - W A(eta)``, so a profile ``max_{other} l`` costs no
pass over the data.  The profile interval of a parameter ``theta`` is
``{theta : 2 (l_max - l_profile(theta)) <= chi2_1(level)}``; it follows the skewness of
the likelihood where the Wald interval ``theta_hat +- z se`` cannot (shape parameters at
small n).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from ..errors import ParameterError

__all__ = ["wald_interval", "profile_interval", "percentile_interval"]


def wald_interval(estimate: float, se: float, level: float) -> tuple[float, float]:
    """``estimate -+ z_{(1+level)/2} se``."""
    z = stats.norm.isf((1 - level) / 2)
    return float(estimate - z * se), float(estimate + z * se)


def _loglik(cls, fixed, st, params):
    with np.errstate(all="ignore"):
        try:
            eta = np.asarray(cls.natural_from_params(fixed, **params), dtype=np.float64)
        except Exception:  # noqa: BLE001 - outside the parameter domain: no likelihood
            return -np.inf
        if not np.all(np.isfinite(eta)) or not np.all(cls.natural_in_domain(eta, fixed)):
            return -np.inf
        c = None
        if cls.pivot and st.shift is not None:
            c = st.shift
            eta = cls.shift_natural(eta, c, fixed)
        value = st.sum_log_h + np.sum(eta * st.sum_u) - st.weight_sum * cls.log_partition(eta, fixed)
    return float(value) if np.isfinite(value) else -np.inf


def profile_interval(fit, name: str, level: float) -> tuple[float, float]:
    """The profile-likelihood interval of the familiar parameter ``name`` of a scalar
    fit (other parameters maximised numerically, on the log scale where positive)."""
    model, st = fit.model, fit.stats
    cls, fixed = type(model), model.fixed
    params = {k: float(np.asarray(v)) for k, v in model.params.items()}
    if name not in params:
        raise ParameterError(f"no parameter {name!r}; the parameters are {list(params)}")
    others = [k for k in params if k != name]
    positive = {k: params[k] > 0 for k in params}
    l_max = float(fit.loglik)
    cut = stats.chi2.ppf(level, 1) / 2

    def to_params(theta, z):
        out = {name: theta}
        for k, v in zip(others, z):
            out[k] = float(np.exp(v)) if positive[k] else float(v)
        return out

    z0 = np.array([np.log(params[k]) if positive[k] else params[k] for k in others])

    def profile(theta):
        if not others:
            return _loglik(cls, fixed, st, {name: theta})
        if len(others) == 1:  # one other parameter: Brent's method on its (log) scale
            f = lambda z: -_loglik(cls, fixed, st, to_params(theta, [z]))  # noqa: E731
            res = optimize.minimize_scalar(f, bracket=(z0[0] - 0.1, z0[0] + 0.1),
                                           method="brent", options={"xtol": 1e-7})
            return -res.fun
        res = optimize.minimize(lambda z: -_loglik(cls, fixed, st, to_params(theta, z)), z0,
                                method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12,
                                                               "maxiter": 2000})
        return -res.fun

    theta_hat = params[name]
    se = float(np.asarray(fit.se[name]))
    pos = positive[name]  # a positive parameter is searched on the log scale

    def excess(s):
        return l_max - profile(float(np.exp(s)) if pos else s) - cut

    s_hat = np.log(theta_hat) if pos else theta_hat
    base = (se / theta_hat if pos else se) if np.isfinite(se) and se > 0 else 0.1
    ends = []
    for sign in (-1.0, 1.0):
        step = 2.0 * base
        inner, outer = s_hat, s_hat + sign * step
        for _ in range(60):  # widen until the profile drops below the cut
            if excess(outer) > 0:
                break
            inner, step = outer, 2 * step
            outer = inner + sign * step
        else:
            ends.append(0.0 if pos and sign < 0 else sign * np.inf)
            continue
        # (the profile's error is quadratic in the inner maximiser's: 1e-7 there is
        # 1e-14 here; the ends to 1e-9 relative)
        root = optimize.brentq(excess, min(inner, outer), max(inner, outer), xtol=1e-12,
                               rtol=1e-9)
        ends.append(float(np.exp(root)) if pos else float(root))
    return ends[0], ends[1]


def percentile_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile bootstrap interval of the bootstrap estimates ``samples``."""
    a = (1 - level) / 2
    lo, hi = np.quantile(samples, [a, 1 - a])
    return float(lo), float(hi)
