"""Binomial distribution with a fixed number of trials ``n``.

``u(x) = x``, ``eta = logit(p)``, ``log h = log C(n, x)`` on ``{0, ..., n}``,
``A(eta) = n log(1 + e^eta)``.  The MLE is ``p = mean(x) / n``.

``E[log C(n, x)]`` (for the entropy) is the exact finite sum over the support.  Terms
farther than ``40 sd + 300`` from the mean are left out: by Bernstein's inequality their
total probability is below ``e^-225``, so for ``n`` up to a few hundred the sum runs over
all of ``0..n`` and for larger ``n`` over a window of ``O(sqrt(n p (1 - p)))`` terms.
The weights are normalised by their computed sum, which cancels the rounding error of
``lgamma(n + 1)`` common to every term.  The entropy does not use this sum (``n
H_Bernoulli(p) - E[log C(n, x)]`` cancels for large ``n``): see
:func:`expfam._precise.binomial_entropy`; the log mass is Loader's saddle point form
(:func:`expfam._precise.binomial_log_pmf`).
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from .._special import lookup
from ..domains import UNIT_INTERVAL
from ._logit import LogitFamily, softplus

#: at most this many terms of the sum are held in memory at once
_CHUNK = 1 << 22
#: largest n whose table of log C(n, x) the compiled kernels use
_TABLE_MAX = 1 << 20


def expected_log_binomial_coefficient(n: int, eta) -> np.ndarray:
    """``E[log C(n, x)]`` for ``x ~ Binomial(n, expit(eta))``, elementwise in ``eta``."""
    eta = np.asarray(eta, dtype=np.float64)
    e = eta.reshape(-1)
    log_p, log_q = -softplus(-e), -softplus(e)
    mean = n * special.expit(e)
    half = 40 * np.sqrt(n * special.expit(e) * special.expit(-e)) + 300
    lo = np.clip(np.floor(mean - half), 0, n)
    hi = np.clip(np.ceil(mean + half), 0, n)
    width = int(np.max(hi - lo, initial=0)) + 1
    j = np.arange(width, dtype=np.float64)
    lgn = special.gammaln(n + 1.0)
    out = np.empty(e.shape)
    step = max(1, _CHUNK // width)
    for start in range(0, e.size, step):  # loop over chunks of the batch, not elements
        s = slice(start, start + step)
        k = lo[s, None] + j
        inside = k <= hi[s, None]
        k = np.minimum(k, n)
        logc = lgn - special.gammaln(k + 1) - special.gammaln(n - k + 1)
        logw = logc + k * log_p[s, None] + (n - k) * log_q[s, None]
        logw = np.where(inside, logw, -np.inf)
        w = np.exp(logw - np.max(logw, axis=-1, keepdims=True))
        out[s] = np.sum(w * logc, axis=-1) / np.sum(w, axis=-1)
    return out.reshape(eta.shape)


class Binomial(LogitFamily):
    """Binomial distribution: the number of successes in ``n`` independent trials.

    Parameters
    ----------
    n : int
        Number of trials, a positive integer (fixed, not fitted):
        ``expfam.fit(expfam.Binomial, x, n=10)``.
    p : array_like
        Success probability of one trial, ``0 < p < 1``.
    """

    name = "binomial"
    fixed_params = ("n",)
    param_domains = {"p": UNIT_INTERVAL}
    integer_fixed = {"n": 1}
    boundary_hint = "all counts are 0 or all are n, so p would be 0 or 1"

    def __init__(self, n=1, p=0.5):
        fixed = self.check_fixed({"n": n})
        self._init_natural(self.natural_from_params(fixed, p=p), fixed)

    @staticmethod
    def element(v, p, c):
        # p: the table of log C(n, x) for x = 0..n (the kernels' path)
        return (v,), lookup(p, v)

    @classmethod
    def element_params(cls, fixed):
        n = fixed["n"]
        if n > _TABLE_MAX:
            return None
        return cls.log_base_measure(np.arange(n + 1, dtype=np.float64), fixed)

    @classmethod
    def element_params_numpy(cls, fixed):
        return np.zeros(1)  # u only: log h comes from log_base_measure

    @classmethod
    def _trials(cls, fixed):
        return fixed["n"]

    @classmethod
    def log_base_measure(cls, x, fixed):
        n = fixed["n"]
        x = np.asarray(x, dtype=np.float64)
        return special.gammaln(n + 1.0) - special.gammaln(x + 1) - special.gammaln(n - x + 1)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return expected_log_binomial_coefficient(fixed["n"], eta[..., 0])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.binom(fixed["n"], special.expit(eta[..., 0]))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Binomial(n, 1/2): ``mu0 = n / 2``."""
        return np.array([fixed["n"] / 2])

    entropy_kernel = "binomial_entropy"  # expfam._divergence_jit: the sum over the support

    @classmethod
    def entropy_params(cls, fixed):
        """``[n, log C(n, 0), ..., log C(n, n)]`` for the compiled entropy (up to
        ``n = 1000``; larger ``n`` takes the NumPy form)."""
        from math import lgamma

        n = int(fixed["n"])
        if n > 1000:
            return np.array([float(n)])
        ln = lgamma(n + 1.0)
        return np.array([float(n)] + [ln - lgamma(k + 1.0) - lgamma(n - k + 1.0)
                                      for k in range(n + 1)])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """Shannon entropy in nats (:func:`expfam._precise.binomial_entropy`: the sum of
        ``-p log p`` with Loader's log masses, or the lattice Edgeworth series for
        ``n p q > 1e5``), free of the cancellation in ``n H_Bernoulli(p) - E[log C(n, x)]``.
        """
        return _precise.binomial_entropy(float(fixed["n"]), eta[..., 0])
