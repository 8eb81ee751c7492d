"""Cancellation-free pieces for entropies, log densities and divergences (NumPy/SciPy).

Closed forms of an entropy or a KL divergence are often differences of large, nearly
equal terms (``lgamma(k) + (1 - k) psi(k) + k``, ``x log lam - lam - log x!``).  The
functions here return such differences directly, from asymptotic series or
``log1p``-style rearrangements, so that the result keeps float64's *relative* accuracy.
They are evaluated in NumPy (not compiled); nothing here imports a family.

Sections: shared primitives; discrete families; gamma-type families; Gaussian-type
families.  Each function states its accuracy against mpmath (``tests/precision``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._special import (
    EULER_GAMMA,
    HALF_LOG_2PI,
    LOG_2PI,
    _digamma_tail,
    log1p_minus_x,
    log_minus_digamma,
)

__all__ = ["stirling_remainder", "bd0", "log1pmx"]  # shared primitives


# ----------------------------------------------------------------------------------
# Shared primitives
# ----------------------------------------------------------------------------------
def log1pmx(t):
    """``log(1 + t) - t`` for ``t > -1``, accurate for small ``|t|``."""
    return log1p_minus_x(np.asarray(t, dtype=np.float64))


#: coefficients B_2k / (2k (2k - 1)) of the Stirling series (DLMF 5.11.1)
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)
_SERIES_FROM = 10.0


def stirling_remainder(x):
    """``lgamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2]`` for ``x > 0``.

    The Stirling series (DLMF 5.11.1, 8 terms) for ``x >= 10``, where its truncation
    error is below 1e-17 relative; below, the direct difference, whose rounding is
    below 3e-15 in absolute terms (the remainder is about ``1 / (12 x)`` there and
    grows like ``-log x`` as ``x -> 0``).
    """
    x = np.asarray(x, dtype=np.float64)
    large = x >= _SERIES_FROM
    xl = np.where(large, x, _SERIES_FROM)
    r = 1.0 / (xl * xl)
    acc = np.zeros_like(xl)
    for c in reversed(_STIRLING):
        acc = acc * r + c
    series = acc / xl
    xs = np.where(large, 1.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = special.gammaln(xs) - ((xs - 0.5) * np.log(xs) - xs + HALF_LOG_2PI)
    return np.where(large, series, direct)


def bd0(x, m, log_m=None, diff=None):
    """Loader's deviance term ``x log(x / m) + m - x >= 0`` for ``x >= 0``, ``m > 0``,
    without cancellation when ``x`` is close to ``m``:
    ``m [(1 + t) log1p(t) - t] = m [(1 + t)(log1p(t) - t) + t^2]`` with ``t = (x - m)/m``.

    ``log_m`` (optional) is ``log m`` when ``m`` itself may be subnormal or rounded
    (e.g. ``n p`` for a tiny ``p``).  Where ``x / m`` overflows, underflows or ``m`` is
    subnormal, ``log(x / m)`` is taken as ``log x - log m`` (no cancellation there: the
    two logarithms differ by more than 700).  ``diff`` (optional) is ``x - m`` computed
    more accurately than ``x - fl(m)`` (e.g. from an exact product).
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    with np.errstate(all="ignore"):
        lm = np.log(m) if log_m is None else np.asarray(log_m, dtype=np.float64)
        t = ((x - m) if diff is None else np.asarray(diff, dtype=np.float64)) / m
        near = m * ((1.0 + t) * log1pmx(np.where(t > -1.0, t, 0.0)) + t * t)
        ratio = x / m
        normal = (ratio > 1e-300) & (ratio < 1e300) & (m > 1e-300)
        log_ratio = np.where(normal, np.log(np.where(normal, ratio, 1.0)), np.log(x) - lm)
        far = np.where(x > 0, x * log_ratio, 0.0) + m - x
    return np.where(np.abs(t) < 0.5, near, far)


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


def stirlerr_pos(x):
    """``log x! - log(sqrt(2 pi x) (x/e)^x)`` (Loader's ``stirlerr``) for ``x > 0``."""
    return stirling_remainder(x)


def poisson_log_pmf(x, lam, log_lam):
    """``x log lam - lam - log x!`` for counts ``x >= 0`` without cancellation (Loader 2000):
    ``-log(2 pi x) / 2 - stirlerr(x) - bd0(x, lam)`` for ``x >= 1``, ``-lam`` at 0."""
    x = np.asarray(x, dtype=np.float64)
    xs = np.where(x > 0, x, 1.0)
    with np.errstate(all="ignore"):
        pos = -0.5 * (_LOG_2PI + np.log(xs)) - stirlerr_pos(xs) - bd0(xs, lam, log_lam)
    return np.where(x > 0, pos, -np.asarray(lam, dtype=np.float64))


def _summed_entropy(lo, hi, log_pmf):
    """``-sum_{k = lo}^{hi} p(k) log p(k)`` per row (1-D ``lo``, ``hi``).

    ``log_pmf(k, rows)`` returns the log masses at the counts ``k`` (shape
    ``(len(rows), m)``) of the rows ``rows`` (a slice).  Every term is ``>= 0``, so the
    sum keeps the relative accuracy of the terms.
    """
    out = np.zeros(lo.shape)
    if lo.size == 0:
        return out
    width = int(np.max(hi - lo, initial=0)) + 1
    j = np.arange(width, dtype=np.float64)
    step = max(1, _CHUNK // width)
    for start in range(0, lo.size, step):  # chunks of the batch, not elements
        rows = slice(start, start + step)
        k = lo[rows, None] + j
        inside = k <= hi[rows, None]
        lp = log_pmf(np.minimum(k, hi[rows, None]), rows)
        with np.errstate(all="ignore"):
            term = np.where(inside & (lp > -np.inf), -np.exp(lp) * lp, 0.0)
        out[rows] = np.sum(term, axis=-1)
    return out


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
        hi, lo = _two_product(ni, np.where(p_small, p, q))
        dev = (np.where(p_small, xi, yi) - hi) - lo
        dx, dy = np.where(p_small, dev, -dev), np.where(p_small, -dev, dev)
        val = (stirlerr_pos(ni) - stirlerr_pos(xi) - stirlerr_pos(yi)
               - bd0(xi, ni * p, lnp, dx) - bd0(yi, ni * q, lnq, dy)
               - 0.5 * (_LOG_2PI + _log_harmonic(xi, yi, ni)))
        ends = np.where(x == 0, n * log_q, n * log_p)
    return np.where(inner, val, ends)


def _two_product(a, b):
    """``a b = hi + lo`` exactly (Dekker's product with Veltkamp's splitting), for
    ``|a| < 1e290`` or ``|b| < 1e-20`` (a huge ``a`` is scaled by ``2^-600`` and ``b`` by
    ``2^600``, which leaves the product unchanged)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    k = np.where(np.abs(a) > 1e290, 600, 0)
    a, b = np.ldexp(a, -k), np.ldexp(b, k)
    hi = a * b
    split = 134217729.0  # 2^27 + 1
    ca, cb = split * a, split * b
    a1, b1 = ca - (ca - a), cb - (cb - b)
    a2, b2 = a - a1, b - b1
    lo = ((a1 * b1 - hi) + a1 * b2 + a2 * b1) + a2 * b2
    return hi, lo


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
    """Log-probabilities of the ``K`` categories from ``eta_j = log(p_j / p_K)``:
    ``(z - m) - log1p(s)`` with ``z = (eta, 0)``, ``m = max z``, ``s`` the sum of the other
    ``e^(z - m)``: exact ``0 - log1p(s)`` for the largest category (its probability
    may be ``1 - 1e-300``), no overflow."""
    eta = np.asarray(eta, dtype=np.float64)
    z = np.concatenate([eta, np.zeros(eta.shape[:-1] + (1,))], axis=-1)
    top = np.argmax(z, axis=-1)[..., None]
    m = np.take_along_axis(z, top, axis=-1)
    e = np.exp(z - m)
    np.put_along_axis(e, top, 0.0, axis=-1)
    return (z - m) - np.log1p(np.sum(e, axis=-1, keepdims=True))


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
        dA = np.where(s > -0.5, np.log1p(np.maximum(s, -0.5)), 0.0)
        delta_direct = lp - lq
        delta = np.where(s > -0.5, delta_z - dA, delta_direct)
        terms = (n * np.exp(lp)) * expm1mx(-delta)
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
        g = np.where(x > 0, 0.5 * (_LOG_2PI + np.log(xs)) + stirlerr_pos(xs), 0.0)
        hi, lo = _two_product(n, np.exp(logp))  # n p_j exactly: x_j - n p_j keeps its digits
        dev = bd0(x, hi, lnp, (x - hi) - lo)
    gn = 0.5 * (_LOG_2PI + np.log(float(n))) + stirlerr_pos(float(n))
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
        return np.where(k > 0, 0.5 * (_LOG_2PI + np.log(ks)) + stirlerr_pos(ks), 0.0)


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
    sn = stirlerr_pos(n)

    def weighted(y, rows):
        w = np.exp(binomial_log_pmf(y, n, lq[rows, None], lp[rows, None]))
        x = n - y
        hi_, lo_ = _two_product(n, q[rows, None])
        dev = -((y - hi_) - lo_)  # x - n p = -(y - n q)
        xs = np.where(x > 0, x, 1.0)
        with np.errstate(all="ignore"):
            dg = np.where(x > 0, 0.5 * np.log1p(-y / n) + (stirlerr_pos(xs) - sn), -gn)
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
_SPLIT = 134217729.0  # 2^27 + 1, Veltkamp's splitter


def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a b)`` and ``p + e = a b`` exactly (Dekker; valid for
    ``|a|, |b| < 1e290`` and products that neither overflow nor underflow)."""
    p = a * b

    def split(x):
        c = _SPLIT * x
        hi = c - (c - x)
        return hi, x - hi

    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def one_plus(eta):
    """``1 + eta`` as a pair ``(hi, lo)`` (shape parameters from their natural ones)."""
    return two_sum(np.asarray(eta, dtype=np.float64), 1.0)


def _normal(x):
    """Finite, nonzero and not subnormal."""
    return np.isfinite(x) & (np.abs(x) >= np.finfo(float).tiny)


def log_ratio(x, y):
    """``log(x / y)`` for ``x, y > 0``: the log of the quotient (one rounding, no
    cancellation near 1) where it is a normal float, else ``log x - log y``."""
    with np.errstate(all="ignore"):
        r = x / y
        return np.where(_normal(r), np.log(np.where(_normal(r), r, 1.0)), np.log(x) - np.log(y))


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


#: (-1)^k zeta(k) / k, k = 2..60, for lgamma(1 + a) = -euler_gamma a + sum_k ... a^k
_LGAMMA1P = [(-1) ** k * float(special.zeta(k)) / k for k in range(2, 61)]


def lgamma1p(a):
    """``lgamma(1 + a)`` for ``0 <= a <= 1/2`` from its Taylor series at 1 (DLMF 5.7.3),
    to full relative precision for small ``a`` (where ``gammaln(1 + a)`` loses it)."""
    a = np.asarray(a, dtype=np.float64)
    acc = np.zeros_like(a)
    for c in reversed(_LGAMMA1P):
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


def _veltkamp(a):
    """``(hi, lo)`` with ``hi + lo = a`` exactly and 26-bit ``hi`` (for ``|a| < 1``)."""
    c = 134217729.0 * a  # 2^27 + 1
    hi = c - (c - a)
    return hi, a - hi


def two_prod_wide(a, b):
    """``(p, e)``: ``p = fl(a b)`` and ``p + e = a b`` exactly (Dekker's product) over the
    whole float64 range.

    The factors are split on their ``frexp`` mantissas, so that the split does not
    overflow for ``|a|, |b|`` near the top of the float64 range (Dekker's plain split needs
    ``|a|, |b| < 1e290``); ``e`` is exact unless it falls below the normal range (then it
    is rounded, at ``2^-1074`` absolute).
    """
    ma, ea = np.frexp(np.asarray(a, dtype=np.float64))
    mb, eb = np.frexp(np.asarray(b, dtype=np.float64))
    p = ma * mb
    ah, al = _veltkamp(ma)
    bh, bl = _veltkamp(mb)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    k = ea + eb
    return np.ldexp(p, k), np.ldexp(e, k)


def _two_sum(a, b):
    """``(s, e)``: ``s = fl(a + b)`` and ``s + e = a + b`` exactly (Knuth's sum; the
    same as the gamma-type section's ``two_sum``, kept here so the sections stay apart)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def quotient_dd(a, b):
    """``(q, r)`` with ``q = fl(a / b)`` and ``q + r = a / b`` to about ``eps^2``
    relative: ``r = (a - q b) / b`` with the residual ``a - q b`` exact (two_prod_wide)."""
    q = a / b
    p, e = two_prod_wide(q, b)
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
    the subnormal range (where :func:`two_prod_wide` would lose digits)."""
    ok = True
    for x in xs:
        ax = np.abs(x)
        ok = ok & np.isfinite(ax) & ((ax == 0) | (ax >= 2.0**-900))
    return ok


def det2(a, b, c, d):
    """``a d - b c`` with a relative error of a few ``eps`` (two_prod_wide for both products,
    so that nearly equal products cancel exactly)."""
    p1, e1 = two_prod_wide(a, d)
    p2, e2 = two_prod_wide(b, c)
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
        p1, q1 = two_prod_wide(a, x)  # -eta1 x
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
def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


def dd_add(a, b):
    """``a + b`` for double-floats."""
    s, e = _two_sum(a[0], b[0])
    return _fast_two_sum(s, e + (a[1] + b[1]))


def dd_neg(a):
    return -a[0], -a[1]


def dd_mul(a, b):
    """``a b`` for double-floats."""
    p, e = two_prod_wide(a[0], b[0])
    return _fast_two_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def dd_div(a, b):
    """``a / b`` for double-floats (one correction step)."""
    q = a[0] / b[0]
    r = dd_add(a, dd_neg(dd_mul((q, np.zeros_like(q)), b)))
    return _fast_two_sum(q, r[0] / b[0])


def dd_sqrt(a):
    """``sqrt(a)`` for a double-float ``a > 0`` (one Newton correction)."""
    s = np.sqrt(a[0])
    r = dd_add(a, dd_neg(dd_mul((s, np.zeros_like(s)), (s, np.zeros_like(s)))))
    return _fast_two_sum(s, r[0] / (2 * s))


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
    hi, lo = _two_sum(Lam_q, -Lam_p)
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
