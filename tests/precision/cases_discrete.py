"""Discrete families against mpmath: Poisson, Binomial, Bernoulli, Geometric,
NegativeBinomial, Categorical, Multinomial.

The oracle works from the natural parameters each object holds (``d.natural``):

* entropy: ``-sum p log p`` summed term by term over ``40 sd + 40`` about the mean
  (the rest of the support holds less than ``e^-40`` of the mass); for standard
  deviations above 50 the sum is replaced by the integral of the same function of a
  real ``x`` (the Poisson summation formula: the difference is of order
  ``exp(-2 pi^2 var)``, far below 1e-60), computed by ``mp.quad`` with the integrand
  evaluated at enough digits for ``x log lam - lam - log x!`` at rates up to 1e300;
  closed forms for Bernoulli, Geometric and Categorical;
* logpdf: the textbook log mass from ``mp.loggamma``, at enough digits;
* kl: the textbook closed forms (``lam_q - lam_p + lam_p log(lam_p / lam_q)``, the
  Bernoulli/categorical sums, the geometric sum) at 60 digits.

Ranges and what is not reached:

* Poisson rates 1e-300 .. 1e300 (the whole float range of ``lam``).
* Binomial ``n`` up to 1e15, ``p`` from 1e-300 to ``1 - 1e-16``; Multinomial ``n`` up to
  1e12, ``K <= 4``, probabilities down to 1e-300.
* Poisson logpdf where half an ulp of the rate moves the log mass by more than 1e-13
  relative (``|x - lam| eps / 2 > 1e-13 |log p|``: rates above ~1e8 at counts many
  standard deviations away, and rates above ~1e32 at the mode): the log mass's
  derivative in ``lam`` is ``x / lam - 1``, and its condition number in ``eta`` is
  ``|x - lam| |eta| / |log p|`` (one ulp of ``eta`` moves it more than half an ulp of
  ``lam`` does).  expfam evaluates it at the float64 rate ``fl(exp(eta))``; these rows
  (marked "at fl(rate)") compare against the exact log mass at that float64 rate, and
  the error against the exact ``eta`` is that of half an ulp of ``lam`` (4e-8 relative
  at rate 1e20, x = rate + 10 sd).
* Binomial logpdf likewise where ``|x - n p| eps > 1e-13 |log p(x)|`` (``n >= 1e9``,
  counts 10 sd from the mean): compared at the float64 probability expfam holds (the
  smaller of ``p``, ``1 - p``, ``expit(-|eta|)`` rounded once: rows marked "at fl(p)").
* Multinomial: ``n`` up to 1e12, ``K <= 4``; the oracle is ``n H(p) - log n! +
  sum_j E[log x_j!]`` over the binomial marginals (the cancellation of ``n log n``
  terms is absorbed by the 60 digits).
* NegativeBinomial: ``r`` from 1e-3 to 1e9, ``p`` from 1e-300 to ``1 - 1e-16`` (the
  entropy at large spreads against :func:`_nb_entropy_large`, an Euler-Maclaurin sum;
  ``p = 1e-300`` at ``r = 30`` only, its oracle taking seconds per point).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
from scipy import special

import expfam
from tests.precision._harness import FULL, Check, loggrid, mpf, thin

mp.mp.dps = 60


# ----------------------------------------------------------------------------------
# oracle helpers
# ----------------------------------------------------------------------------------
def _digits(*xs) -> int:
    """Working digits that leave 60 after cancelling terms of size ``max |x| log|x|``."""
    big = max(abs(mp.mpf(x)) for x in xs)
    return 60 + (int(mp.log10(big * (1 + abs(mp.log(big))))) if big > 1 else 0)


def _bump_quad(g):
    """``int g(s) ds`` over ``[-40, 40]`` (in five-unit pieces) of a smooth bump ``g``: the
    mass function of a count ``sd * s`` from its mean.  Gauss-Legendre reaches the working
    precision with fewer nodes than mpmath's default tanh-sinh, whose clustering at the
    ends serves end-point singularities that a bump does not have."""
    return mp.quad(g, list(range(-40, 41, 5)), method="gauss-legendre")


def _lattice_entropy(logf, mean, sd, lo=0, hi=None):
    """``-sum p log p`` over the integers (summed for ``sd <= 50``, else the integral)."""
    half = 40 * sd + 40
    if sd <= 50:
        a = max(lo, int(mp.floor(mean - half)))
        b = int(mp.ceil(mean + half)) if hi is None else min(hi, int(mp.ceil(mean + half)))
        total = mp.mpf(0)
        for k in range(a, b + 1):
            lf = logf(mp.mpf(k))
            total -= mp.exp(lf) * lf
        return total
    dps = _digits(mean)

    def g(s):
        with mp.workdps(dps):
            lf = logf(mean + sd * s)
            v = -mp.exp(lf) * lf * sd
        return +v

    with mp.workdps(30):
        return _bump_quad(g)


def _grid(lo, hi, per_decade):
    """:func:`loggrid` across the whole float range (``hi / lo`` may overflow)."""
    n = max(2, int(round(per_decade * (np.log10(hi) - np.log10(lo)))) + 1)
    return np.geomspace(lo, hi, n)


def _expit(eta):
    return 1 / (1 + mp.exp(-eta))


# ----------------------------------------------------------------------------------
# Poisson
# ----------------------------------------------------------------------------------
def _poisson_logf(lam):
    return lambda x: x * mp.log(lam) - lam - mp.loggamma(x + 1)


def _poisson():
    rates = np.concatenate([loggrid(1e-300, 1e4, per_decade=0.5), thin(_grid(1e4, 1e300, 0.1)),
                            [0.5, 3.0, 99.5, 1e5, 1.5e5, 1e10, 1e15, 1e17]])
    d = expfam.Poisson(rates)
    eta = d.natural[..., 0]
    H = d.entropy()
    for i, r in enumerate(rates):
        lam = mp.exp(mpf(eta[i]))
        with mp.workdps(_digits(lam)):
            want = _lattice_entropy(_poisson_logf(lam), lam, mp.sqrt(lam))
        yield Check("Poisson", "entropy", f"rate={r:.3g}", float(H[i]), +want)
    # logpmf at the mode, the tails and the ends
    for r in np.concatenate([_grid(1e-300, 1e300, 0.1), [1e17]]):
        di = expfam.Poisson(r)
        lam = mp.exp(mpf(di.natural[0]))
        sd = np.sqrt(r)
        xs = sorted({0.0, 1.0, 2.0, np.floor(r), np.floor(r + 10 * sd) + 1.0,
                     np.floor(max(r - 10 * sd, 0.0)), np.floor(10 * r) + 10.0, 1e300})
        got = di.logpdf(np.array(xs))
        lam_fl = float(np.exp(di.natural[0]))
        for x, g in zip(xs, got):
            # ill-conditioned (see the docstring): compare at the float64 rate exp(eta)
            with mp.workdps(_digits(lam, x)):
                want = _poisson_logf(lam)(mpf(x))
                # half an ulp of lam moves the log mass by |x - lam| eps / 2
                ill = bool(abs(x - lam_fl) * np.finfo(float).eps / 2 > 1e-13 * abs(want))
                if ill:
                    want = _poisson_logf(mpf(lam_fl))(mpf(x))
            yield Check("Poisson", "logpdf", f"rate={r:.3g} x={x:.6g}" + " (at fl(rate))" * ill,
                        float(g), +want)
    # KL: nearby, equal and far pairs
    for r in _grid(1e-300, 1e300, 0.1):
        for r2 in (r, r * (1 + 1e-9), r + 1.0, np.nextafter(r, np.inf) * (1 + 4e-16), r * 1e3,
                   r * 1e-3):
            if not 0 < r2 < 1e308:
                continue
            p, q = expfam.Poisson(r), expfam.Poisson(r2)
            lp, lq = mp.exp(mpf(p.natural[0])), mp.exp(mpf(q.natural[0]))
            want = lq - lp + lp * (mpf(p.natural[0]) - mpf(q.natural[0]))
            yield Check("Poisson", "kl", f"rate={r:.3g} vs {r2:.17g}", float(expfam.kl(p, q)),
                        want)


# ----------------------------------------------------------------------------------
# Binomial and Bernoulli
# ----------------------------------------------------------------------------------
_PROBS = np.unique(np.concatenate([loggrid(1e-300, 0.5, 0.1), [0.3, 0.5],
                                   1 - loggrid(1e-16, 0.5, 0.5)]))


def _binomial_logf(n, eta):
    p, q = _expit(eta), _expit(-eta)
    lgn = mp.loggamma(n + 1)
    return lambda k: lgn - mp.loggamma(k + 1) - mp.loggamma(n - k + 1) + k * mp.log(p) + (
        n - k) * mp.log(q)


def _bernoulli_kl(a, b, n=1):
    """``n KL`` of two Bernoulli laws; a true value below 1e-320 (not representable in
    float64) is returned as 0, so that only the absolute floor applies to it."""
    p, q, pc, qc = _expit(a), _expit(b), _expit(-a), _expit(-b)
    kl = n * (p * mp.log(p / q) + pc * mp.log(pc / qc))
    return kl if abs(kl) > 1e-320 else mp.mpf(0)


def _binomial():
    for n in (1, 2, 10, 1000, 10**6, 10**9, 10**12, 10**15):
        probs = _PROBS if n <= 10 else thin(_PROBS)  # the oracle sums up to 4,000 terms
        d = expfam.Binomial(n=n, p=probs)
        H = d.entropy()
        for i, pr in enumerate(probs):
            yield from _binomial_rows(n, d[i], float(H[i]), i, pr)
    d = expfam.Bernoulli(_PROBS)
    H = d.entropy()
    lp = d.logpdf(np.ones(1))
    l0 = d.logpdf(np.zeros(1))
    for i, pr in enumerate(_PROBS):
        with mp.workdps(_pdigits(pr)):
            rows = list(_bernoulli_rows(d[i], float(H[i]), float(lp[i]), float(l0[i]), pr))
        yield from rows


def _pdigits(pr):
    """Digits for a probability ``pr``: 60 beyond those of ``min(pr, 1 - pr)``, so that
    ``1 - p`` and the logarithms of both keep 60 digits."""
    return 60 + int(max(0.0, -np.log10(min(pr, 1.0 - pr))))


def _binomial_rows(n, d, H, i, pr):
    """Entropy, logpdf (every third probability) and KL (every second) of one binomial."""
    with mp.workdps(_pdigits(pr)):
        rows = list(_binomial_rows_at(n, d, H, i, pr))
    return rows


def _binomial_rows_at(n, d, H, i, pr):
    """The rows of :func:`_binomial_rows` (at the working precision)."""
    eta_i = d.natural[0]
    e = mpf(eta_i)
    p = _expit(e)
    mean, sd = n * p, mp.sqrt(n * p * (1 - p))
    want = _lattice_entropy(_binomial_logf(n, e), mean, sd, 0, n)
    yield Check("Binomial", "entropy", f"n={n} p={pr:.3g}", H, want)
    if i % 3 == 0:
        xs = sorted({0.0, 1.0, float(n), float(n - 1), float(np.floor(n * pr)),
                     float(min(n, np.floor(n * pr + 10 * float(sd)) + 1))})
        got = d.logpdf(np.array(xs))
        f = _binomial_logf(n, e)
        # the float64 p = exp(log p) expfam holds (see the docstring)
        small = float(special.expit(-abs(eta_i)))  # fl(min(p, q))
        p_fl = small if eta_i <= 0 else 1 - mpf(small)
        for x, g in zip(xs, got):
            want = f(mpf(x))
            ill = bool(abs(x - n * float(p_fl)) * np.finfo(float).eps
                       > 1e-13 * abs(want))
            if ill:
                pm = mp.mpf(p_fl)
                want = _binomial_logf(n, mp.log(pm / (1 - pm)))(mpf(x))
            yield Check("Binomial", "logpdf", f"n={n} p={pr:.3g} x={x:.17g}"
                        + " (at fl(p))" * ill, float(g), want)
    if i % 2 == 0:
        for e2 in (eta_i, eta_i + 1e-9, eta_i * (1 + 1e-12) + 1e-14, eta_i + 3.0,
                   -eta_i - 1.0):
            q = expfam.Binomial.from_natural(np.array([e2]), n=n)
            yield Check("Binomial", "kl", f"n={n} p={pr:.3g} eta_q={e2:.17g}",
                        float(expfam.kl(d, q)), _bernoulli_kl(e, mpf(e2), n))


def _bernoulli_rows(d, H, lp, l0, pr):
    """Entropy, logpdf at 0 and 1, and KL of one Bernoulli law."""
    eta_i = d.natural[0]
    e = mpf(eta_i)
    p, pc = _expit(e), _expit(-e)
    yield Check("Bernoulli", "entropy", f"p={pr:.17g}", H, -p * mp.log(p) - pc * mp.log(pc))
    yield Check("Bernoulli", "logpdf", f"p={pr:.17g} x=1", lp, mp.log(p))
    yield Check("Bernoulli", "logpdf", f"p={pr:.17g} x=0", l0, mp.log(pc))
    for e2 in (eta_i, eta_i + 1e-9, np.nextafter(eta_i, np.inf), eta_i + 2.0, eta_i - 40.0,
               -eta_i):
        q = expfam.Bernoulli.from_natural(np.array([e2]))
        yield Check("Bernoulli", "kl", f"p={pr:.3g} eta_q={e2:.17g}", float(expfam.kl(d, q)),
                    _bernoulli_kl(e, mpf(e2)))


# ----------------------------------------------------------------------------------
# Geometric and NegativeBinomial (failures before the r-th success)
# ----------------------------------------------------------------------------------
def _nb_logf(r, eta):
    p = -mp.expm1(eta)
    return lambda k: (mp.loggamma(k + r) - mp.loggamma(k + 1) - mp.loggamma(r) + r * mp.log(p)
                      + k * eta)


def _geometric_kl(a, b, r=1):
    qa = mp.exp(a)
    pa, pb = -mp.expm1(a), -mp.expm1(b)
    return r * (mp.log(pa / pb) + qa / pa * (a - b))


def _nb_entropy_large(r, eta, M=200):
    """``-sum p log p`` of a negative binomial law with a large spread: the first ``M``
    terms summed, the rest by the Euler-Maclaurin formula at ``M`` (integral, half the
    end term and five Bernoulli-number corrections; the summand varies on scales
    ``>= M`` there)."""
    f = _nb_logf(r, eta)
    p = -mp.expm1(eta)
    mean, sd = r * mp.exp(eta) / p, mp.sqrt(r * mp.exp(eta)) / p
    extra = _digits(mean + r) - 60  # digits lost as log Gamma(x + r) - log Gamma(x + 1)

    def h(x):
        with mp.workdps(mp.mp.dps + extra):  # (mp.diff raises the precision: keep it)
            lf = f(x)
            v = -mp.exp(lf) * lf
        return +v

    head = mp.fsum(h(mp.mpf(k)) for k in range(M))
    cuts = [mean * c for c in (0.01, 0.5, 1, 2)] + [mean + k * sd for k in (5, 10, 20, 40)]
    end = mean + 60 * sd + 800 / -eta
    decades = [M * mp.mpf(10) ** k for k in range(1, int(mp.log10(end / M)) + 1)]
    pts = sorted({mp.mpf(M)} | {c for c in cuts + decades if M < c < end} | {end})
    with mp.workdps(40):
        tail = mp.quad(h, pts) + h(mp.mpf(M)) / 2
        for j in range(1, 6):
            tail -= mp.bernoulli(2 * j) / mp.factorial(2 * j) * mp.diff(h, mp.mpf(M), 2 * j - 1)
    return head + tail


#: the (r, p) of the integrated large-spread entropy rows that the suite checks (each
#: takes seconds; the ends of r and p): all twelve when FULL
_NB_LARGE_SUITE = {(1e-3, 0.1), (1e-3, 1e-12), (30.0, 1e-300), (2e3, 1e-12), (1e9, 0.1), (1e9, 1e-100)}


def _failures():
    probs = np.unique(np.concatenate([loggrid(1e-300, 0.5, 0.1), 1 - loggrid(1e-16, 0.5, 0.5)]))
    d = expfam.Geometric(probs)
    eta = d.natural[..., 0]
    H = d.entropy()
    for i, pr in enumerate(probs):
        e = mpf(eta[i])
        q, p = mp.exp(e), -mp.expm1(e)
        yield Check("Geometric", "entropy", f"p={pr:.3g}", float(H[i]),
                    (-p * mp.log(p) - q * e) / p)
        mean = float(q / p)
        xs = sorted({0.0, 1.0, np.floor(mean), np.floor(50 * mean) + 1.0, 1e300})
        got = d[i].logpdf(np.array(xs))
        for x, g in zip(xs, got):
            yield Check("Geometric", "logpdf", f"p={pr:.3g} x={x:.6g}", float(g),
                        mp.log(p) + mpf(x) * e)
        for e2 in (eta[i], eta[i] * (1 + 1e-9), np.nextafter(eta[i], -np.inf),
                   eta[i] * 10, eta[i] * 0.1, -1e-300, -700.0):
            q2 = expfam.Geometric.from_natural(np.array([e2]))
            yield Check("Geometric", "kl", f"p={pr:.3g} eta_q={e2:.17g}",
                        float(expfam.kl(d[i], q2)), _geometric_kl(e, mpf(e2)))
    # the ends of r and p (the large-r oracle integrates: a few seconds a row)
    for r in (1e-3, 30.0, 2e3, 1e9):
        for pr in (0.1, 1e-12, 1e-100) + ((1e-300,) if r == 30.0 else ()):
            if not FULL and (r, pr) not in _NB_LARGE_SUITE:
                continue
            d = expfam.NegativeBinomial(r=r, p=pr)
            yield Check("NegativeBinomial", "entropy", f"r={r} p={pr:.3g}", float(d.entropy()),
                        _nb_entropy_large(mpf(r), mpf(d.natural[0])))
    nb_probs = np.unique(np.concatenate([loggrid(1e-12, 0.5, 0.5), 1 - loggrid(1e-16, 0.5, 0.5)]))
    for r in (1e-3, 0.5, 1.0, 2.5, 30.0):
        d = expfam.NegativeBinomial(r=r, p=nb_probs)
        eta = d.natural[..., 0]
        H = d.entropy()
        for i, pr in enumerate(nb_probs):
            e = mpf(eta[i])
            q, p = mp.exp(e), -mp.expm1(e)
            mean, sd = r * q / p, mp.sqrt(r * q) / p
            f = _nb_logf(mpf(r), e)
            b = int(mp.ceil(mean + 40 * sd + 40 + 200 / -mp.log(q)))  # the e^-x tail
            if sd <= 50 and (FULL or b <= 20_000):
                want = -mp.fsum(mp.exp(f(mp.mpf(k))) * f(mp.mpf(k)) for k in range(b + 1))
                yield Check("NegativeBinomial", "entropy", f"r={r} p={pr:.3g}",
                            float(H[i]), want)
            xs = sorted({0.0, 1.0, float(np.floor(float(mean))),
                         float(np.floor(float(mean + 20 * sd)) + 1), 1e15})
            got = d[i].logpdf(np.array(xs))
            for x, g in zip(xs, got):
                with mp.workdps(_digits(x, mean, r)):
                    want = f(mpf(x))
                yield Check("NegativeBinomial", "logpdf", f"r={r} p={pr:.3g} x={x:.6g}",
                            float(g), +want)
            for e2 in (eta[i], eta[i] * (1 + 1e-9), eta[i] * 10, eta[i] * 0.1):
                q2 = expfam.NegativeBinomial.from_natural(np.array([e2]), r=r)
                yield Check("NegativeBinomial", "kl", f"r={r} p={pr:.3g} eta_q={e2:.17g}",
                            float(expfam.kl(d[i], q2)), _geometric_kl(e, mpf(e2), r))


# ----------------------------------------------------------------------------------
# Categorical and Multinomial
# ----------------------------------------------------------------------------------
_CAT_PROBS = [
    (0.5, 0.5), (1e-300, 1 - 1e-300), (1 - 1e-16, 1e-16), (0.2, 0.3, 0.5),
    (1e-300, 1e-200, 1.0), (1e-10, 0.5, 0.5 - 1e-10), (0.25, 0.25, 0.25, 0.25),
    (1e-5, 1e-100, 0.3, 0.7 - 1e-5), (0.999999, 5e-7, 5e-7), (1e-13, 0.5, 0.5 - 1e-13),
    (1e-9, 1e-300, 1 - 1e-9),
]


def _mp_probs(eta):
    z = [mpf(v) for v in eta] + [mp.mpf(0)]
    s = mp.fsum(mp.exp(v) for v in z)
    return [mp.exp(v) / s for v in z]


def _softmax():
    for probs in _CAT_PROBS:
        # probabilities within 1e-300 of 1: 1 - p needs 300 more digits
        with mp.workdps(400 if max(probs) > 1 - 1e-10 else 60):
            rows = list(_softmax_rows(probs))
        yield from rows


def _softmax_rows(probs):
    """The rows of one probability vector (Categorical, then Multinomial for several n)."""
    d = expfam.Categorical(probs)
    p = _mp_probs(d.natural)
    K = len(probs)
    yield Check("Categorical", "entropy", f"probs={probs}", float(d.entropy()),
                -mp.fsum(v * mp.log(v) for v in p))
    got = d.logpdf(np.arange(K, dtype=float))
    for j in range(K):
        yield Check("Categorical", "logpdf", f"probs={probs} x={j}", float(got[j]),
                    mp.log(p[j]))
    for shift in (0.0, 1e-9, 1e-3, 5.0, -30.0):
        e2 = d.natural + shift * np.linspace(1.0, -0.5, K - 1)
        q = expfam.Categorical.from_natural(e2, n_categories=K)
        qq = _mp_probs(e2)
        yield Check("Categorical", "kl", f"probs={probs} shift={shift}",
                    float(expfam.kl(d, q)), mp.fsum(a * mp.log(a / b) for a, b in zip(p, qq)))
    for n in (1, 7, 1000, 10**6, 10**9, 10**12):
        m = expfam.Multinomial(n=n, probs=probs)
        p = _mp_probs(m.natural)
        # H = n H(p) - log n! + sum_j E[log x_j!] (binomial marginals)
        lgn = mp.loggamma(n + 1)
        total = -n * mp.fsum(v * mp.log(v) for v in p) - lgn
        for j, pj in enumerate(p):
            qj = mp.fsum(v for i, v in enumerate(p) if i != j)  # 1 - p_j
            mean, sd = n * pj, mp.sqrt(n * pj * qj)
            lq = mp.log(qj)

            def logf(k, pj=pj, lq=lq):
                return (lgn - mp.loggamma(k + 1) - mp.loggamma(n - k + 1) + k * mp.log(pj)
                        + (n - k) * lq)

            def term(k, logf=logf):
                return mp.exp(logf(k)) * mp.loggamma(k + 1)

            half = 40 * sd + 40
            if sd <= 50:
                a = max(0, int(mp.floor(mean - half)))
                b = min(n, int(mp.ceil(mean + half)))
                total += mp.fsum(term(mp.mpf(k)) for k in range(a, b + 1))
            else:
                with mp.workdps(50):  # E[log x!] ~ n log n: 50 digits for 1e-15
                    total += _bump_quad(lambda s, mean=mean, sd=sd, term=term:
                                        sd * term(mean + sd * s))
        yield Check("Multinomial", "entropy", f"n={n} probs={probs}", float(m.entropy()),
                    total)
        x = np.floor(n * np.array(probs))
        x[-1] = n - np.sum(x[:-1])
        xs = [x, np.eye(K)[0] * n, np.eye(K)[-1] * n]
        for xv in xs:
            want = mp.loggamma(n + 1) + mp.fsum(
                -mp.loggamma(mpf(c) + 1) + mpf(c) * mp.log(v) for c, v in zip(xv, p))
            yield Check("Multinomial", "logpdf", f"n={n} probs={probs} x={xv.tolist()}",
                        float(m.logpdf(xv)), want)
        e2 = m.natural + 1e-6 * np.linspace(1.0, -0.5, K - 1)
        q = expfam.Multinomial.from_natural(e2, n=n, n_categories=K)
        qq = _mp_probs(e2)
        yield Check("Multinomial", "kl", f"n={n} probs={probs} shift=1e-6",
                    float(expfam.kl(m, q)), n * mp.fsum(a * mp.log(a / b)
                                                        for a, b in zip(p, qq)))


#: the row generators (one test each) and the families whose three quantities each covers
GROUPS = {
    "poisson": (_poisson, ("poisson",)),
    "binomial_bernoulli": (_binomial, ("binomial", "bernoulli")),
    "geometric_negative_binomial": (_failures, ("geometric", "negative_binomial")),
    "categorical_multinomial": (_softmax, ("categorical", "multinomial")),
}


def checks():
    """Every row of the discrete families."""
    for generate, _ in GROUPS.values():
        yield from generate()
