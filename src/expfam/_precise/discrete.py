"""Entropies, log masses and divergences of the discrete families (Poisson, Binomial,
NegativeBinomial, Geometric, Bernoulli, Categorical, Multinomial) without cancellation.

Part of :mod:`expfam._precise`; accuracy against mpmath in ``tests/precision``.
"""

from __future__ import annotations

import numpy as np

from .._lazy import special
from .._special import (
    HALF_LOG_2PI,
)
from .shared import bd0, log1pmx, stirling_remainder, two_prod

# ----------------------------------------------------------------------------------
# Discrete families (Poisson, Binomial, NegativeBinomial, Geometric, Bernoulli,
# Categorical, Multinomial)
# ----------------------------------------------------------------------------------
#: log(2 pi)
_LOG_2PI = 2.0 * HALF_LOG_2PI
#: at most this many terms of a summed entropy are held in memory at once
_CHUNK = 1 << 21
#: variances above which a lattice entropy is taken from its asymptotic series
_VAR_SERIES = 1e5


def expm1mx(t):
    """``e^t - 1 - t >= 0``, accurate for small ``|t|`` (Taylor series for ``|t| < 1/2``)."""
    t = np.asarray(t, dtype=np.float64)
    small = np.abs(t) < 0.5
    ts = np.where(small, t, 0.0)
    series = ts * ts * _taylor_tail(ts)
    with np.errstate(over="ignore", invalid="ignore"):
        direct = np.expm1(t) - t
    return np.where(small, series, direct)


def _taylor_tail(t):
    """``(e^t - 1 - t) / t^2 = sum_{k >= 2} t^(k-2) / k!`` for ``|t| < 1/2`` (Horner,
    truncated after ``k = 19``: ``0.5^18 / 20! < 1e-23``)."""
    acc = np.zeros_like(t)
    for k in range(19, 1, -1):
        acc = acc * t + 1.0 / special.factorial(k)
    return acc


def poisson_log_pmf(x, lam, log_lam):
    """``x log lam - lam - log x!`` for counts ``x >= 0`` without cancellation (Loader 2000):
    ``-log(2 pi x) / 2 - stirlerr(x) - bd0(x, lam)`` for ``x >= 1``, ``-lam`` at 0."""
    x = np.asarray(x, dtype=np.float64)
    xs = np.where(x > 0, x, 1.0)
    with np.errstate(all="ignore"):
        pos = -0.5 * (_LOG_2PI + np.log(xs)) - stirling_remainder(xs) - bd0(xs, lam, log_lam)
    return np.where(x > 0, pos, -np.asarray(lam, dtype=np.float64))


def _summed_entropy(lo, hi, log_pmf):
    """``-sum_{k = lo}^{hi} p(k) log p(k)`` per row (1-D ``lo``, ``hi``).

    ``log_pmf(k, rows)`` returns the log masses at the counts ``k`` (shape
    ``(len(rows), m)``) of the rows ``rows`` (a slice).  Every term is ``>= 0``, so the
    sum keeps the relative accuracy of the terms.
    """
    def term(k, rows):
        lp = log_pmf(k, rows)
        with np.errstate(all="ignore"):
            return np.where(lp > -np.inf, -np.exp(lp) * lp, 0.0)

    return _summed_expectation(lo, hi, term)


def _window(mean, sd, top=np.inf):
    """Counts within ``40 sd + 40`` of the mean, clipped to ``[0, top]``: the left-out
    mass is below ``e^-40`` relative (Bernstein) and its ``-p log p`` below 1e-17."""
    half = 40.0 * sd + 40.0
    return (np.clip(np.floor(mean - half), 0, top), np.clip(np.ceil(mean + half), 0, top))


def lattice_entropy_series(var, g1, g2):
    """Entropy of an integer-valued law with large variance from its Edgeworth expansion
    (negentropy to fourth order in the cumulants):
    ``log(2 pi e var) / 2 - g1^2 / 12 - g2^2 / 48 - 7 g1^4 / 48 + g1^2 g2 / 8``, with the
    skewness ``g1`` and excess kurtosis ``g2``; the error is ``O(var^-3)`` for laws whose
    cumulants grow like the variance (Poisson, binomial), ``< 1e-16`` relative for
    ``var >= 1e5``.  (For the Poisson law it gives ``-1/(12 lam) - 1/(24 lam^2)``, the
    first terms of its known series.)"""
    return (0.5 * (_LOG_2PI + 1.0 + np.log(var)) - g1 * g1 / 12.0
            - (g2 * g2 / 48.0 + 7.0 * g1 ** 4 / 48.0 - g1 * g1 * g2 / 8.0))


def poisson_entropy(eta):
    """Entropy of the Poisson law with rate ``lam = e^eta``, to 1e-15 relative.

    ``-sum p log p`` with Loader's log masses (no cancellation: every term is >= 0) for
    ``lam <= 1e5``; above, the asymptotic series
    ``log(2 pi e lam) / 2 - 1/(12 lam) - 1/(24 lam^2) - 19/(360 lam^3) + O(lam^-4)``.
    For tiny rates the sum is ``lam (1 - log lam) + O(lam^2 log lam)``, kept exactly.
    """
    eta = np.asarray(eta, dtype=np.float64)
    e = eta.reshape(-1)
    lam = np.exp(e)
    big = lam > _VAR_SERIES
    out = np.empty(e.shape)
    r = 1.0 / lam[big]
    out[big] = 0.5 * (_LOG_2PI + 1.0 + e[big]) - r * (1 / 12 + r * (1 / 24 + r * 19 / 360))
    small = ~big
    ls, es = lam[small], e[small]
    lo, hi = _window(ls, np.sqrt(ls))
    out[small] = _summed_entropy(
        lo, hi, lambda k, rows: poisson_log_pmf(k, ls[rows, None], es[rows, None]))
    return out.reshape(eta.shape)


def poisson_kl(eta_p, eta_q):
    """``KL(Poisson(lam_p) || Poisson(lam_q)) = lam_p (e^d - 1 - d)``, ``d = eta_q - eta_p``
    (the natural parameters' difference, so nearby rates keep their relative accuracy)."""
    eta_p = np.asarray(eta_p, dtype=np.float64)
    eta_q = np.asarray(eta_q, dtype=np.float64)
    d = eta_q - eta_p
    lam_p = np.exp(eta_p)
    with np.errstate(over="ignore", invalid="ignore"):
        near = lam_p * expm1mx(np.minimum(d, 1.0))
        far = np.exp(eta_q) - lam_p * (1.0 + d)  # d > 1: e^d >= 1 + d + 0.7
    return np.where(d <= 1.0, near, far)


def binomial_log_pmf(x, n, log_p, log_q, y=None, p=None, q=None):
    """``log C(n, x) + x log p + (n - x) log q`` for real ``n > 0``, ``0 <= x <= n`` (Loader's
    saddle point form, ``dbinom_raw``): ``stirlerr(n) - stirlerr(x) - stirlerr(n - x)
    - bd0(x, n p) - bd0(n - x, n q) - log(2 pi x (n - x) / n) / 2``; ``n log q`` at
    ``x = 0`` and ``n log p`` at ``x = n``.  ``log p``, ``log q`` are given so that
    probabilities down to the smallest floats keep their accuracy.  ``y`` (optional) is
    ``n - x`` when ``n`` itself was rounded (``n = fl(x + y)``); ``p``, ``q`` (optional)
    the probabilities when known more accurately than ``exp(log p)`` (whose relative
    error is ``|log p|`` ulps)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    log_p = np.asarray(log_p, dtype=np.float64)
    log_q = np.asarray(log_q, dtype=np.float64)
    inner = (x > 0) & (x < n)
    xi = np.where(inner, x, 1.0)
    ni = np.where(inner, n, 2.0)
    yi = ni - xi if y is None else np.where(inner, y, 1.0)
    with np.errstate(all="ignore"):
        lnp, lnq = np.log(ni) + log_p, np.log(ni) + log_q
        p = np.exp(log_p) if p is None else np.asarray(p, dtype=np.float64)
        q = np.exp(log_q) if q is None else np.asarray(q, dtype=np.float64)
        # the deviation from the mean from the smaller probability's exact product
        # n fl(p) (so that x - n p keeps its digits when n is large); y - n q = -(x - n p)
        p_small = log_p <= log_q
        hi, lo = two_prod(ni, np.where(p_small, p, q))
        dev = (np.where(p_small, xi, yi) - hi) - lo
        dx, dy = np.where(p_small, dev, -dev), np.where(p_small, -dev, dev)
        val = (stirling_remainder(ni) - stirling_remainder(xi) - stirling_remainder(yi)
               - bd0(xi, ni * p, lnp, dx) - bd0(yi, ni * q, lnq, dy)
               - 0.5 * (_LOG_2PI + _log_harmonic(xi, yi, ni)))
        ends = np.where(x == 0, n * log_q, n * log_p)
    return np.where(inner, val, ends)




def _log_harmonic(x, y, n):
    """``log(x y / n)`` for ``x + y = n``: ``log(small) + log1p(-small / n)``, the smaller of
    ``x``, ``y`` taken (``1 - x / n`` would lose the digits of a small ``y``)."""
    s = np.minimum(x, y)
    return np.log(s) + np.log1p(-s / n)


def binomial_entropy(n, eta):
    """Entropy of ``Binomial(n, expit(eta))``: ``-sum p log p`` with Loader's log masses
    over ``40 sd + 40`` about the mean for ``n p q <= 1e5`` (exact to rounding; this also
    covers the Poisson-like ``n p`` small); :func:`lattice_entropy_series` above
    (``g1 = (q - p) / sd``, ``g2 = (1 - 6 p q) / sd^2``)."""
    eta = np.asarray(eta, dtype=np.float64)
    e = eta.reshape(-1)
    p, q = special.expit(e), special.expit(-e)
    log_p, log_q = -np.logaddexp(0.0, -e), -np.logaddexp(0.0, e)
    var = n * p * q
    big = var > _VAR_SERIES
    out = np.empty(e.shape)
    vb = var[big]
    out[big] = lattice_entropy_series(vb, (q[big] - p[big]) / np.sqrt(vb),
                                      (1.0 - 6.0 * p[big] * q[big]) / vb)
    small = ~big
    lp, lq = log_p[small], log_q[small]
    lo, hi = _window(n * p[small], np.sqrt(var[small]), n)
    out[small] = _summed_entropy(
        lo, hi, lambda k, rows: binomial_log_pmf(k, n, lp[rows, None], lq[rows, None]))
    return out.reshape(eta.shape)


def _log_expit_ratio(a, b):
    """``log(expit(a) / expit(b)) = softplus(-b) - softplus(-a)``, from the form whose
    terms are small: ``(a - b) + softplus(b) - softplus(a)`` when ``a, b <= 0``."""
    both_neg = (a <= 0) & (b <= 0)
    sp = np.logaddexp
    return np.where(both_neg, (a - b) + (sp(0.0, b) - sp(0.0, a)), sp(0.0, -b) - sp(0.0, -a))


def logit_kl(a, b, n=1.0):
    """``n KL(Bernoulli(expit(a)) || Bernoulli(expit(b)))`` from the logits (``n`` scales
    the probabilities first, so that no product passes through the subnormal range).

    With ``p = expit(a)``, ``pbar = expit(-a)``, ``d = b - a``:
    ``KL = p log1p(u) + pbar log1p(v)``, ``u = pbar expm1(-d)``, ``v = p expm1(d)``.  For
    ``|d| < 1`` the first-order terms cancel, so it is summed as
    ``p log1pmx(u) + pbar log1pmx(v) + 4 p pbar sinh(d/2)^2`` (``p u + pbar v``
    in closed form; the parts differ by a factor 2 at most).  For ``|d| >= 1`` the log
    ratios are taken by :func:`_log_expit_ratio`.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = b - a
    p, pbar = n * special.expit(a), n * special.expit(-a)
    dn = np.clip(d, -1.0, 1.0)
    u, v = pbar * np.expm1(-dn), p * np.expm1(dn)  # n times the log1p arguments
    sh = np.sinh(0.5 * dn)
    near = p * log1pmx(u / n) + pbar * log1pmx(v / n) + 4.0 * p * (pbar / n) * sh * sh
    with np.errstate(invalid="ignore"):
        far = p * _log_expit_ratio(a, b) + pbar * _log_expit_ratio(-a, -b)
    return np.where(np.abs(d) < 1.0, near, far)


def log_softmax(eta):
    """Log-probabilities of the ``K`` categories from ``eta_j = log(p_j / p_K)``
    (:func:`log_softmax_and_partition`)."""
    return log_softmax_and_partition(eta)[0]


def log_softmax_and_partition(eta):
    """Log-probabilities of all ``K`` categories and ``A = log(1 + sum exp eta)``:
    ``log p = (z - m) - log1p(s)`` with ``z = (eta, 0)``, ``m = max z`` and ``s`` the sum of
    the other ``e^(z - m)``.  No overflow, no loss when every ``eta_j`` is very negative,
    and the largest category's log-probability is exactly ``-log1p(s)`` (its probability
    may be ``1 - 1e-300``)."""
    eta = np.asarray(eta, dtype=np.float64)
    z = np.concatenate([eta, np.zeros(eta.shape[:-1] + (1,))], axis=-1)
    top = np.argmax(z, axis=-1)[..., None]
    m = np.take_along_axis(z, top, axis=-1)
    e = np.exp(z - m)
    np.put_along_axis(e, top, 0.0, axis=-1)
    s = np.log1p(np.sum(e, axis=-1))
    return (z - m) - s[..., None], m[..., 0] + s


def softmax_kl(eta_p, eta_q, n=1.0):
    """``n sum_j p_j log(p_j / q_j)`` for categorical laws given by their natural
    parameters (``n`` draws: each term is scaled before the product with the small
    ``e^-delta - 1 + delta`` so that it does not pass through the subnormal range).

    With ``delta_j = log(p_j / q_j)``, ``sum_j p_j (e^-delta_j - 1) = 0``, so the KL is
    ``sum_j p_j (e^-delta_j - 1 + delta_j)``, a sum of non-negative terms.  ``delta_j`` is
    ``Delta_j - D`` with ``Delta = z_p - z_q`` (``z = (eta, 0)``) and
    ``D = A_p - A_q = log sum_j q_j e^Delta_j = log1p(sum_j q_j expm1(Delta_j))``."""
    eta_p = np.asarray(eta_p, dtype=np.float64)
    eta_q = np.asarray(eta_q, dtype=np.float64)
    lp, lq = log_softmax(eta_p), log_softmax(eta_q)
    zeros = np.zeros(eta_p.shape[:-1] + (1,))
    delta_z = np.concatenate([eta_p - eta_q, zeros], axis=-1)
    with np.errstate(all="ignore"):
        s = np.sum(np.exp(lq) * np.expm1(delta_z), axis=-1, keepdims=True)
        # the first form where |D| < log 2 (nearby laws); an s that overflowed (or is
        # NaN: 0 * inf, logits more than 709 apart) takes the direct one
        near = (s > -0.5) & (s < 1.0)
        dA = np.where(near, np.log1p(np.clip(s, -0.5, 1.0)), 0.0)
        delta_direct = lp - lq
        delta = np.where(near, delta_z - dA, delta_direct)
        pn = n * np.exp(lp)
        terms = pn * expm1mx(-delta)
        # p (e^-delta - 1 + delta) = q - p + p delta: for -delta > 1 (nothing cancels there)
        # without e^-delta, which overflows where p underflows (0 * inf)
        far = -delta > 1.0
        if np.any(far):
            terms = np.where(far, (n * np.exp(lq) - pn) + pn * delta, terms)
    return np.sum(terms, axis=-1)


def multinomial_log_pmf(x, n, logp):
    """``log n! - sum log x_j! + sum x_j log p_j`` (counts ``x`` summing to ``n``) as
    ``-sum_j bd0(x_j, n p_j) + g(n) - sum_{x_j > 0} g(x_j)``, ``g(m) = log(2 pi m)/2 +
    stirlerr(m)`` (Stirling's formula for every factorial; the ``m log m - m`` parts
    combine into the ``bd0`` terms, which are >= 0)."""
    x = np.asarray(x, dtype=np.float64)
    n = float(n)
    lnp = np.log(n) + logp
    xs = np.where(x > 0, x, 1.0)
    with np.errstate(all="ignore"):
        g = np.where(x > 0, 0.5 * (_LOG_2PI + np.log(xs)) + stirling_remainder(xs), 0.0)
        hi, lo = two_prod(n, np.exp(logp))  # n p_j exactly: x_j - n p_j keeps its digits
        dev = bd0(x, hi, lnp, (x - hi) - lo)
    gn = 0.5 * (_LOG_2PI + np.log(float(n))) + stirling_remainder(float(n))
    # g(n) - sum g(x_j) first: exactly 0 when all n draws fall in one category
    return (gn - np.sum(g, axis=-1)) - np.sum(dev, axis=-1)


def multinomial_entropy(n, eta):
    """Entropy of the multinomial law of ``n`` draws, ``-E[log pmf]`` in the form of
    :func:`multinomial_log_pmf`: ``sum_j E[bd0(x_j, n p_j) + g(x_j)] - g(n)`` over the
    binomial marginals ``x_j ~ Binomial(n, p_j)``, every term ``>= 0`` except the largest
    category's, which is taken together with ``- g(n)`` (:func:`_top_marginal_term`).
    Each marginal's expectation is summed over ``40 sd + 40`` counts for ``n p_j < 1e6``
    and taken from its series in ``1 / (n p_j)`` above (:func:`_marginal_series`).
    ``K = 2`` is the binomial law of the first count (:func:`binomial_entropy`)."""
    eta = np.asarray(eta, dtype=np.float64)
    K = eta.shape[-1] + 1
    if K == 2:
        return binomial_entropy(float(n), eta[..., 0])
    n = float(n)
    logp = log_softmax(eta).reshape(-1, K)
    L = np.broadcast_to(logp[:, None, :], logp.shape + (K,)).copy()
    L[:, np.arange(K), np.arange(K)] = -np.inf
    # log(1 - p_j): log1p(-p_j) for p_j <= 1/2 (the other probabilities' log-sum-exp
    # would carry an absolute rounding error, multiplied by n in the weights), the
    # log-sum-exp of the other probabilities above
    with np.errstate(all="ignore"):
        logq = np.where(logp <= -np.log(2.0), np.log1p(-np.exp(logp)),
                        special.logsumexp(L, axis=-1))
    top = np.argmax(logp, axis=-1)
    is_top = np.arange(K) == top[:, None]
    lp, lq, it = logp.reshape(-1), logq.reshape(-1), is_top.reshape(-1)
    terms = np.empty(lp.shape)
    mean = n * np.exp(lp)
    series = mean >= _MEAN_SERIES
    s_other, s_top = series & ~it, series & it
    terms[s_other] = _marginal_series(n, lp[s_other], lq[s_other])
    terms[s_top] = _marginal_series(n, lp[s_top], lq[s_top], top=True)
    o = ~series & ~it
    terms[o] = _marginal_summed(n, lp[o], lq[o])
    t = ~series & it
    terms[t] = _top_marginal_term(n, lp[t], lq[t])
    return np.sum(terms.reshape(logp.shape), axis=-1).reshape(eta.shape[:-1])


#: marginal means above which a multinomial marginal's expectation is its series
_MEAN_SERIES = 1e6


def _g(k):
    """``g(k) = log(2 pi k) / 2 + stirlerr(k)`` (``log k!`` less ``k log k - k``), 0 at 0."""
    ks = np.where(k > 0, k, 1.0)
    with np.errstate(all="ignore"):
        return np.where(k > 0, 0.5 * (_LOG_2PI + np.log(ks)) + stirling_remainder(ks), 0.0)


def _marginal_summed(n, lp, lq):
    """``E[bd0(x, n p) + g(x)]`` for ``x ~ Binomial(n, p)``, summed (terms >= 0)."""
    p, q = np.exp(lp), np.exp(lq)
    lo, hi = _window(n * p, np.sqrt(n * p * q), n)
    lnp = np.log(n) + lp

    def weighted(k, rows):
        w = np.exp(binomial_log_pmf(k, n, lp[rows, None], lq[rows, None]))
        return w * (bd0(k, n * p[rows, None], lnp[rows, None]) + _g(k))

    return _summed_expectation(lo, hi, weighted)


def _top_marginal_term(n, lp, lq):
    """``E[bd0(x, n p) + g(x)] - g(n)`` for the largest category, summed over
    ``y = n - x ~ Binomial(n, q)``: ``bd0(n - y, n p) + (g(n - y) - g(n))`` with
    ``g(n - y) - g(n) = log1p(-y / n) / 2 + stirlerr(n - y) - stirlerr(n)`` (each term is
    ``O(y / n)``, so a ``q`` of 1e-300 keeps its relative accuracy)."""
    p, q = np.exp(lp), np.exp(lq)
    lo, hi = _window(n * q, np.sqrt(n * p * q), n)
    lnp = np.log(n) + lp
    gn = _g(np.float64(n))
    sn = stirling_remainder(n)

    def weighted(y, rows):
        w = np.exp(binomial_log_pmf(y, n, lq[rows, None], lp[rows, None]))
        x = n - y
        hi_, lo_ = two_prod(n, q[rows, None])
        dev = -((y - hi_) - lo_)  # x - n p = -(y - n q)
        xs = np.where(x > 0, x, 1.0)
        with np.errstate(all="ignore"):
            dg = np.where(x > 0, 0.5 * np.log1p(-y / n) + (stirling_remainder(xs) - sn), -gn)
        return w * (bd0(x, n * p[rows, None], lnp[rows, None], dev) + dg)

    return _summed_expectation(lo, hi, weighted)


def _marginal_series(n, lp, lq, top=False):
    """``E[bd0(x, mu) + g(x)]`` for ``x ~ Binomial(n, p)``, ``mu = n p >= 1e6``: from the
    central moments (cumulants ``n p q``, ``n p q (q - p)``, ``n p q (1 - 6 p q)``, ...)
    and the Taylor series of ``bd0(x, mu) = mu phi((x - mu) / mu)`` and of ``g``:
    ``log(2 pi mu) / 2 + q / 2 + a1 / mu + a2 / mu^2 + O(mu^-3)`` with
    ``a1 = 1/12 - q (q - p) / 6 + q^2 / 4 - q / 4`` and
    ``a2 = q (1 - 6 p q) / 12 - q^2 (q - p) / 2 + q^3 / 2 + q (q - p) / 6 - 3 q^2 / 8 + q / 12``
    (``q = 1``: the Poisson series ``-1/(12 mu) - 1/(24 mu^2)``).  With ``top``, less
    ``g(n)``: ``log(p) / 2 + q / 2 + (a1 - 1/12) / mu + q / (12 n p) + a2 / mu^2``, every
    part proportional to ``q``."""
    p, q = np.exp(lp), np.exp(lq)
    mu = n * p
    a1q = -q * (q - p) / 6.0 + q * q / 4.0 - q / 4.0
    a2 = (q * (1.0 - 6.0 * p * q) / 12.0 - q * q * (q - p) / 2.0 + q ** 3 / 2.0
          + q * (q - p) / 6.0 - 3.0 * q * q / 8.0 + q / 12.0)
    if top:
        return 0.5 * lp + 0.5 * q + a1q / mu + q / (12.0 * mu) + a2 / (mu * mu)
    return (0.5 * (_LOG_2PI + np.log(n) + lp) + 0.5 * q + (a1q + 1.0 / 12.0) / mu
            + a2 / (mu * mu))


def _summed_expectation(lo, hi, weighted):
    """``sum_{k = lo}^{hi} weighted(k, rows)`` per row (1-D ``lo``, ``hi``)."""
    out = np.zeros(lo.shape)
    if lo.size == 0:
        return out
    width = int(np.max(hi - lo, initial=0)) + 1
    j = np.arange(width, dtype=np.float64)
    step = max(1, _CHUNK // width)
    for start in range(0, lo.size, step):
        rows = slice(start, start + step)
        k = lo[rows, None] + j
        inside = k <= hi[rows, None]
        val = weighted(np.minimum(k, hi[rows, None]), rows)
        out[rows] = np.sum(np.where(inside, val, 0.0), axis=-1)
    return out


#: Gauss-Legendre nodes for the entropy integrals
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


def negative_binomial_entropy(r, eta):
    """Entropy of the negative binomial law for ``r > 1000`` (where
    ``r H_geo - E[log C(x + r - 1, x)]`` cancels), ``-E[log pmf]`` with the log masses of
    :func:`negative_binomial_log_pmf`: summed over ``40 sd + 40`` counts for
    ``sd <= 1000``; above, the integral of the same function of a real ``x`` (the
    Poisson summation formula: the sum differs by ``O(exp(-2 pi^2 sd^2))``), by
    Gauss-Legendre on 50 panels of ``2 sd`` from ``max(mean - 40 sd, mean / 100)``
    (the log mass there is below ``-400`` for ``r > 1000``)."""
    eta = np.asarray(eta, dtype=np.float64)
    e = eta.reshape(-1)
    log_p, log_q = np.log(-np.expm1(e)), e
    odds = np.exp(e) / -np.expm1(e)
    mean, sd = r * odds, np.sqrt(r * np.exp(e)) / -np.expm1(e)
    out = np.empty(e.shape)
    small = sd <= 1000.0
    lp, lq = log_p[small], log_q[small]
    lo, hi = _window(mean[small], sd[small])
    out[small] = _summed_entropy(
        lo, hi, lambda k, rows: negative_binomial_log_pmf(k, r, lp[rows, None], lq[rows, None]))
    big = ~small
    m, s = mean[big], sd[big]
    a = np.maximum(m - 40.0 * s, m / 100.0)
    width = 2.0 * s
    u = (np.arange(50)[:, None] + (_GL_X + 1.0) / 2.0).ravel()
    w = np.tile(_GL_W / 2.0, 50)
    x = a[:, None] + width[:, None] * u
    lf = negative_binomial_log_pmf(x, r, log_p[big, None], log_q[big, None])
    out[big] = width * np.sum(w * np.where(lf > -np.inf, -np.exp(lf) * lf, 0.0), axis=-1)
    return out.reshape(eta.shape)


def negative_binomial_log_pmf(x, r, log_p, log_q):
    """``log C(x + r - 1, x) + r log p + x log q`` for counts ``x >= 0``, real ``r > 0``:
    ``log(r / (x + r))`` plus the binomial saddle point form of ``r`` successes in
    ``x + r`` trials (:func:`binomial_log_pmf`); ``r log p`` at ``x = 0``."""
    x = np.asarray(x, dtype=np.float64)
    xs = np.where(x > 0, x, 1.0)
    with np.errstate(all="ignore"):
        val = np.log(r / (xs + r)) + binomial_log_pmf(r, xs + r, log_p, log_q, xs,
                                                      -np.expm1(log_q), np.exp(log_q))
    return np.where(x > 0, val, r * np.asarray(log_p, dtype=np.float64))
