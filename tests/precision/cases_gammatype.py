"""Gamma-type families against mpmath: Gamma, InverseGamma, ChiSquare, Exponential,
Weibull, Rayleigh, Pareto, Beta, Dirichlet (entropy, logpdf, KL).

Every oracle value is the textbook formula evaluated by mpmath from the natural
parameters the object holds (``d.natural``, exact floats), with enough digits for the
cancellation of that formula (:func:`_dps`).

Domains, and what float64 can represent:

- Gamma holds ``eta = (-b, a - 1)`` and Beta/Dirichlet ``eta = alpha - 1``, so a shape
  is only represented to absolute ``~1.1e-16`` (``ulp(1)/2``) near ``a = 1``, and the
  smallest shape is ``2**-53`` (``a = 1 + eta`` with ``eta > -1``): shape grids run from
  ``2**-53`` to ``1e300``.  A shape like ``1e-10`` is therefore held as
  ``1.0000000827e-10``; the oracle takes ``a = eta + 1`` exactly (in mpmath, from
  ``d.natural``), so the checks measure the functions, not that representation.
  InverseGamma (``eta_2 = -a - 1``) starts at ``2**-52``.  ChiSquare holds ``df / 2``
  itself, so its grid runs from ``df = 2e-300``; subnormal ``df / 2`` (below
  ``2.2e-308``) are left out (``psi(a) ~ -1/a`` overflows there).
- Rates and scales run over ``1e-300 .. 1e300``; the one-parameter families are built
  from their natural parameter ``-eta`` over ``1e-300 .. 1e300`` (Rayleigh's ``sigma``
  and Weibull's ``lam`` are whatever that gives); Weibull for ``k`` from ``1e-3`` to
  ``1e3``; Pareto for ``x_m`` from ``1e-300`` to ``1e300``.
- logpdf points: the mode or mean, +-1 and +-10 standard deviations, 1e-8 off the mean,
  factors ``1e-10 .. 1e10`` of it, and the support's ends as floats: ``5e-324``,
  ``1e-300``, ``1e300``, ``x = 0`` (Exponential), ``x_m`` and its next floats (Pareto),
  ``1 - 2**-53`` (Beta); Dirichlet points lie in the open simplex (components < 1).
- KL pairs: equal pairs (exactly 0), nearby pairs (one ulp of a natural parameter,
  relative steps 1e-8 and 1e-3, equal-mean shape changes), and far pairs (factors up to
  ``1e20``), in both directions; the issue's reproducers are rows of their own.
- Values whose true size exceeds the float range (``|value| > 1.8e308``: logpdf far in a
  tail, KL between far-apart laws) are left out by :func:`_check`: float64 has no
  finite answer for them (expfam returns ``-inf`` / ``inf``).

Every row meets the floor (1e-12 relative or 1e-15 absolute).  Where a value is within
~1e-14 of 0 only because terms of size ~30 cancel in the function itself (e.g. Beta's
logpdf with a tiny and a moderate shape near ``x = 1``), the absolute floor is what
holds.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np

from expfam import Beta, ChiSquare, Dirichlet, Exponential, Gamma, InverseGamma, Pareto, Rayleigh, Weibull

from ._harness import Check, loggrid, mpf

EULER = mp.euler


def _dps(*values) -> int:
    """Digits for the oracle: 80 plus 1.2 times the largest decimal exponent of the
    values passed (the shapes, for the gamma-type formulas: they cancel terms like
    ``lgamma(1e300)`` down to values as small as ``1e-33`` times them for nearby pairs;
    rates and points only add terms of size ``a log b``, within the 80 digits)."""
    e = 0.0
    for v in values:
        v = abs(float(v))
        if v > 0 and math.isfinite(v):
            e = max(e, abs(math.log10(v)))
    return int(80 + 1.2 * e)


#: true values beyond this are not float64 numbers: such points are left out (an
#: overflow of the true value, e.g. logpdf far in a tail or KL between far-apart laws)
_FLOAT_MAX = mp.mpf(np.finfo(float).max)


def _check(family, quantity, where, got, want_fn, *scale):
    with mp.workdps(_dps(*scale)):
        want = want_fn()
        want = +want
    if abs(want) > _FLOAT_MAX:
        return None
    return Check(family, quantity, where, float(got), want)


def _fmt(*vals):
    return ", ".join(f"{v:.17g}" if isinstance(v, float) else str(v) for v in vals)


# ------------------------------------------------------------------ Gamma-shaped laws
SHAPES = np.unique(np.concatenate([
    [2.0**-53, 2.0**-52, 1e-15, 1e-10, 1e-5, 1e-3, 0.1, 0.5, 1.0, 1.0 + 2.0**-52, 1.5, 2.0,
     5.0, 9.999, 10.0, 10.001, 19.99, 20.0, 20.01, 50.0, 1e3, 1e5, 1e8, 1e12, 1e16, 1e20],
    loggrid(1e30, 1e300, 0.04)]))
RATES = np.logspace(-300, 300, 13)
FEW_RATES = np.array([1e-300, 1e-100, 1.0, 3.5, 1e100, 1e300])


def _gamma_H(a, b):
    return a - mp.log(b) + mp.loggamma(a) + (1 - a) * mp.digamma(a)


def _gamma_logpdf(a, b, x):
    return a * mp.log(b) - mp.loggamma(a) + (a - 1) * mp.log(x) - b * x


def _gamma_kl(ap, bp, aq, bq):
    return ((ap - aq) * mp.digamma(ap) - mp.loggamma(ap) + mp.loggamma(aq)
            + aq * (mp.log(bp) - mp.log(bq)) + ap * (bq - bp) / bp)


def _gamma_x_points(mean, sd):
    with np.errstate(all="ignore"):  # points beyond the float range are dropped
        pts = [mean, mean + sd, mean - sd, mean + 10 * sd, mean - 10 * sd, mean * 1e-10,
               mean * 1e10, mean * (1 + 1e-8), 5e-324, 1e-300, 1.0, 1e300]
    return sorted({float(x) for x in pts if 0 < x < np.inf})


def _nearby_shapes(eta1):
    """Natural shape parameters near ``eta1``: one ulp, 1e-8 relative to the shape."""
    a = eta1 + 1
    return [np.nextafter(eta1, np.inf), eta1 + 1e-8 * a, eta1 + 1e-3 * a]


def gamma_checks():
    fam = "gamma"
    for a in SHAPES:
        for b in FEW_RATES:
            d = Gamma(a, b)
            ae, be = mpf(d.natural[1]) + 1, -mpf(d.natural[0])
            yield _check(fam, "entropy", _fmt(a, b), d.entropy(), lambda: _gamma_H(ae, be), a)
    # the reproducer
    d = Gamma(1e12, 1.0)
    yield _check(fam, "entropy", "1e12, 1 (issue)", d.entropy(),
                 lambda: _gamma_H(mpf(d.natural[1]) + 1, -mpf(d.natural[0])), 1e12)
    for b in RATES[::12]:
        for a in SHAPES[::3]:
            d = Gamma(a, b)
            ae, be = mpf(d.natural[1]) + 1, -mpf(d.natural[0])
            yield _check(fam, "entropy", _fmt(a, b), d.entropy(), lambda: _gamma_H(ae, be), a)
    for a in SHAPES:
        for b in (1e-300, 1.0, 1e300):
            d = Gamma(a, b)
            ae, be = mpf(d.natural[1]) + 1, -mpf(d.natural[0])
            with np.errstate(all="ignore"):
                pts = _gamma_x_points(a / b, np.sqrt(a) / b)
            got = d.logpdf(np.array(pts))
            for x, g in zip(pts, got):
                yield _check(fam, "logpdf", _fmt(a, b, x), g,
                             lambda: _gamma_logpdf(ae, be, mpf(x)), a)
    yield from _gamma_kl_checks(fam, Gamma, lambda d: (mpf(d.natural[1]) + 1, -mpf(d.natural[0])),
                                lambda eta1, b: np.array([-b, eta1]), lambda a: a - 1, SHAPES, 3)


def _gamma_kl_checks(fam, cls, params, natural, eta_of, shapes, step):
    """KL pairs for the two-parameter gamma laws (``params(d) -> (a, b)`` exactly)."""
    def pair(p_nat, q_nat, label):
        dp, dq = cls.from_natural(p_nat), cls.from_natural(q_nat)
        (ap, bp), (aq, bq) = params(dp), params(dq)
        return _check(fam, "kl", label, dp.kl(dq), lambda: _gamma_kl(ap, bp, aq, bq),
                      float(ap), float(aq))

    yield pair(natural(eta_of(1e8), 1e8), natural(eta_of(1e8 + 1), 1e8), "1e8,1e8 || 1e8+1,1e8 (issue)")
    for a in shapes[::step]:
        e = eta_of(a)
        for b in (1e-300, 1.0, 1e300):
            p = natural(e, b)
            yield pair(p, p, _fmt(a, b) + " equal")
            for e2 in _nearby_shapes(e) if cls is Gamma else _nearby_shapes_inv(e):
                yield pair(p, natural(e2, b), _fmt(a, b) + f" shape {e2!r}")
                a2 = float(-(e2 + 1) if cls is InverseGamma else e2 + 1)
                with np.errstate(all="ignore"):
                    b_eq = b * (a2 / a)  # q with p's mean
                if 0 < b_eq < np.inf:
                    yield pair(p, natural(e2, b_eq), _fmt(a, b) + f" equal-mean shape {e2!r}")
            with np.errstate(all="ignore"):  # rates beyond the float range are dropped
                rates = (np.nextafter(b, np.inf), b * (1 + 1e-8), b * 3.0, b * 1e-5)
                shapes2 = (a * 2.0, a * 1e-5, 0.7, 25.0)
            for b2 in rates:
                if 0 < b2 < 1.7e308:
                    yield pair(p, natural(e, b2), _fmt(a, b) + f" rate {b2!r}")
            for a2 in shapes2:
                if 2.0**-52 <= a2 <= 1e300:
                    yield pair(p, natural(eta_of(a2), b), _fmt(a, b) + f" shape to {a2!r}")
                    yield pair(natural(eta_of(a2), b), p, f"{a2!r}, {b!r} || " + _fmt(a, b))


def _nearby_shapes_inv(eta2):
    a = -eta2 - 1
    return [np.nextafter(eta2, -np.inf), eta2 - 1e-8 * a, eta2 - 1e-3 * a]


def _invgamma_H(a, b):
    return a + mp.log(b) + mp.loggamma(a) - (1 + a) * mp.digamma(a)


def inverse_gamma_checks():
    fam = "inverse_gamma"
    shapes = SHAPES[SHAPES >= 2.0**-52]
    for a in shapes:
        for b in FEW_RATES:
            d = InverseGamma(a, b)
            ae, be = -mpf(d.natural[1]) - 1, -mpf(d.natural[0])
            yield _check(fam, "entropy", _fmt(a, b), d.entropy(), lambda: _invgamma_H(ae, be), a)
    for a in shapes[::2]:
        for b in (1e-300, 1.0, 1e300):
            d = InverseGamma(a, b)
            ae, be = -mpf(d.natural[1]) - 1, -mpf(d.natural[0])
            with np.errstate(all="ignore"):
                pts = _gamma_x_points(b / a, b / a / np.sqrt(a))
            got = d.logpdf(np.array(pts))
            for x, g in zip(pts, got):
                xe = mpf(x)
                yield _check(fam, "logpdf", _fmt(a, b, x), g,
                             lambda: _gamma_logpdf(ae, be, 1 / xe) - 2 * mp.log(xe), a)
    yield from _gamma_kl_checks(fam, InverseGamma,
                                lambda d: (-mpf(d.natural[1]) - 1, -mpf(d.natural[0])),
                                lambda eta2, b: np.array([-b, eta2]), lambda a: -a - 1, shapes, 4)


def chi_square_checks():
    fam = "chi_square"
    dfs = np.unique(np.concatenate([2 * np.logspace(-300, 300, 31), [1.0, 2.0, 3.0, 19.99, 20.0, 40.0, 1e6]]))
    half = mp.mpf(1) / 2
    for df in dfs:
        d = ChiSquare(df)
        a = mpf(d.natural[0])
        yield _check(fam, "entropy", _fmt(df), d.entropy(), lambda: _gamma_H(a, half), df)
        pts = _gamma_x_points(df, np.sqrt(2 * df))
        for x, g in zip(pts, d.logpdf(np.array(pts))):
            yield _check(fam, "logpdf", _fmt(df), g, lambda: _gamma_logpdf(a, half, mpf(x)), df)
        with np.errstate(all="ignore"):  # parameters beyond the float range are dropped
            dfs2 = (df, np.nextafter(df, np.inf), df * (1 + 1e-8), df * 1.001, df * 10, df * 1e-10)
        for df2 in dfs2:
            if not 2.3e-308 < df2 < 1.7e308:  # normal floats (digamma(a) ~ -1/a overflows below)
                continue
            dq = ChiSquare(df2)
            aq = mpf(dq.natural[0])
            yield _check(fam, "kl", _fmt(df, df2), d.kl(dq), lambda: _gamma_kl(a, half, aq, half), df, df2)
            yield _check(fam, "kl", _fmt(df2, df), dq.kl(d), lambda: _gamma_kl(aq, half, a, half), df, df2)


# ------------------------------------------------------------------ Beta and Dirichlet
CONC = np.array([2.0**-53, 1e-10, 1e-3, 0.5, 1.0, 2.0, 9.5, 10.5, 1e3, 1e5, 1e9, 1e15, 1e100, 1e300])


def _lnB(al):
    return mp.fsum(mp.loggamma(x) for x in al) - mp.loggamma(mp.fsum(al))


def _dir_H(al):
    s = mp.fsum(al)
    return (_lnB(al) + (s - len(al)) * mp.digamma(s)
            - mp.fsum((x - 1) * mp.digamma(x) for x in al))


def _dir_logpdf(al, xs):
    tot = mp.fsum(xs)
    return mp.fsum((a - 1) * mp.log(x / tot) for a, x in zip(al, xs)) - _lnB(al)


def _dir_kl(ap, aq):
    sp = mp.fsum(ap)
    dig = mp.digamma(sp)
    return (_lnB(aq) - _lnB(ap)
            + mp.fsum((p - q) * (mp.digamma(p) - dig) for p, q in zip(ap, aq)))


def _alpha(d):
    return [mpf(e) + 1 for e in np.ravel(d.natural)]


def beta_checks():
    fam = "beta"
    d = Beta(1e9, 1e9)
    yield _check(fam, "entropy", "1e9, 1e9 (issue)", d.entropy(), lambda: _dir_H(_alpha(d)), 1e9)
    for a in CONC:
        for b in CONC:
            d = Beta(a, b)
            al = _alpha(d)
            yield _check(fam, "entropy", _fmt(a, b), d.entropy(), lambda: _dir_H(al), a, b)
            if b not in CONC[::2] and a != b:
                continue
            m = a / (a + b)
            sd = np.sqrt(m * (1 - m) / (a + b + 1))
            pts = {m, m + sd, m - sd, m + 10 * sd, m - 10 * sd, 0.5, 5e-324, 1e-300, 1e-10,
                   1 - 1e-10, 1 - 2.0**-53, m * (1 + 1e-8)}
            pts = sorted(x for x in pts if 0 < x < 1)
            for x, g in zip(pts, d.logpdf(np.array(pts))):
                xe = mpf(x)
                yield _check(fam, "logpdf", _fmt(a, b, x), g,
                             lambda: _dir_logpdf(al, [xe, 1 - xe]), a, b, x)
    for a in CONC[::2]:
        for b in CONC[1::2]:
            p = Beta(a, b)
            ep = p.natural
            qs = [ep, [np.nextafter(ep[0], np.inf), ep[1]], [ep[0] + 1e-8 * a, ep[1]],
                  [ep[0] + 1e-3 * a, ep[1] + 1e-3 * b], [2 * a - 1, 0.5 * b - 1], [1e5 * a - 1, b - 1],
                  [a - 1, 1e-5 * b - 1], [0.0, 0.0]]
            for eq in qs:
                eq = np.asarray(eq, dtype=float)
                if not (np.all(eq > -1) and np.all(eq < 1e300)):
                    continue
                q = Beta.from_natural(eq)
                for x, y, s in ((p, q, ""), (q, p, " (reversed)")):
                    ax, ay = _alpha(x), _alpha(y)
                    yield _check(fam, "kl", _fmt(a, b) + f" vs {eq.tolist()}{s}", x.kl(y),
                                 lambda: _dir_kl(ax, ay), *np.ravel([x.natural + 1, y.natural + 1]))


DIR_ALPHAS = [(1.0, 2.0, 3.0), (1e-3, 1.0, 1e5), (1e9, 1e9, 1e9), (2.0**-53, 1.0, 1e300),
              (0.5, 0.5, 0.5), (1e15, 1.0, 1e-10), (1e100, 1e100, 1.0), (3.0, 5.0, 7.0, 1e8, 0.2),
              (1e-10, 1e-10, 1e-10, 1e-10), (10.0, 20.0, 30.0), (1.0, 1.0)]


def dirichlet_checks():
    fam = "dirichlet"
    rng = np.random.default_rng(5)
    for alpha in DIR_ALPHAS:
        d = Dirichlet(np.array(alpha))
        al = _alpha(d)
        K = len(alpha)
        yield _check(fam, "entropy", _fmt(*alpha), d.entropy(), lambda: _dir_H(al), *alpha)
        mean = np.array(alpha) / np.sum(alpha)
        pts = [mean, np.full(K, 1.0 / K), rng.dirichlet(np.ones(K)),
               np.r_[1e-300, np.full(K - 1, (1 - 2.0**-53) / (K - 1))],
               np.r_[1 - 2.0**-52, np.full(K - 1, 2.0**-52 / (K - 1))]]
        for x in pts:
            if not np.all((x > 0) & (x < 1)):  # the open simplex (a mean of 1.0 is not in it)
                continue
            xe = [mpf(v) for v in x]
            yield _check(fam, "logpdf", _fmt(*alpha) + f" at {x.tolist()}", d.logpdf(x),
                         lambda: _dir_logpdf(al, xe), *alpha, *x)
        e = d.natural
        qs = [e, e + 1e-8 * (e + 1), e + np.r_[1e-3 * (e[0] + 1), np.zeros(K - 1)],
              np.r_[np.nextafter(e[0], np.inf), e[1:]], 2 * (e + 1) - 1, np.zeros(K)]
        for eq in qs:
            if not (np.all(eq > -1) and np.all(eq < 1e300)):
                continue
            q = Dirichlet.from_natural(eq, n_categories=K)
            for x, y, s in ((d, q, ""), (q, d, " (reversed)")):
                ax, ay = _alpha(x), _alpha(y)
                yield _check(fam, "kl", _fmt(*alpha) + f" vs {eq.tolist()}{s}", x.kl(y),
                             lambda: _dir_kl(ax, ay), *np.ravel([x.natural + 1, y.natural + 1]))


# ------------------------------------------------------------------ one-parameter laws
#: natural parameters -eta from 1e-300 to 1e300 (Exponential's rate, Rayleigh's
#: 1/(2 sigma^2), Weibull's lam^-k, Pareto's alpha)
NEG_ETA = np.unique(np.concatenate([np.logspace(-300, 300, 31), [0.37, 1.0, 2.718281828459045, 7.5]]))


def _kl_neg_log(ep, eq):
    r = eq / ep
    return r - 1 - mp.log(r)


def _scale_pairs(e):
    """Natural parameters near and far from ``-e``."""
    with np.errstate(all="ignore"):  # parameters beyond the float range are dropped
        out = [e, np.nextafter(e, np.inf), e * (1 + 1e-8), e * 1.001, e * 1.06, e * 3.0,
               e * 1e-20, e * 1e20]
    return [v for v in out if 1e-307 < v < 1e307]


def _scale_kl(fam, cls, e, fixed):
    dp = cls.from_natural([-e], **fixed)
    for e2 in _scale_pairs(e):
        dq = cls.from_natural([-e2], **fixed)
        ep, eq = mpf(dp.natural[0]), mpf(dq.natural[0])
        yield _check(fam, "kl", _fmt(e, e2), dp.kl(dq), lambda: _kl_neg_log(ep, eq), e, e2)
        yield _check(fam, "kl", _fmt(e2, e), dq.kl(dp), lambda: _kl_neg_log(eq, ep), e, e2)


def _tail_points(scale):
    with np.errstate(all="ignore"):  # points beyond the float range are dropped
        pts = [scale * f for f in (1e-10, 0.5, 1.0, 2.0, 10.0, 700.0, 1e10)]
    pts += [5e-324, 1e-300, 1.0, 1e300]
    return sorted({float(x) for x in pts if 0 < x < np.inf})


def exponential_checks():
    fam = "exponential"
    for lam in NEG_ETA:
        d = Exponential.from_natural([-lam])
        le = -mpf(d.natural[0])
        yield _check(fam, "entropy", _fmt(lam), d.entropy(), lambda: 1 - mp.log(le), lam)
        pts = [0.0] + _tail_points(1 / lam)
        for x, g in zip(pts, d.logpdf(np.array(pts))):
            yield _check(fam, "logpdf", _fmt(lam, x), g, lambda: mp.log(le) - le * mpf(x), lam, x)
        yield from _scale_kl(fam, Exponential, lam, {})


def rayleigh_checks():
    fam = "rayleigh"
    for e in NEG_ETA:
        d = Rayleigh.from_natural([-e])
        s2 = -1 / (2 * mpf(d.natural[0]))
        yield _check(fam, "entropy", _fmt(e), d.entropy(),
                     lambda: 1 + mp.log(mp.sqrt(s2 / 2)) + EULER / 2, e)
        pts = _tail_points(np.sqrt(0.5 / e))
        for x, g in zip(pts, d.logpdf(np.array(pts))):
            xe = mpf(x)
            yield _check(fam, "logpdf", _fmt(e, x), g, lambda: mp.log(xe / s2) - xe**2 / (2 * s2), e, x)
        yield from _scale_kl(fam, Rayleigh, e, {})


def weibull_checks():
    fam = "weibull"
    for k in (1e-3, 0.5, 1.0, 1.5, 10.0, 1e3):
        for e in NEG_ETA[::2]:
            d = Weibull.from_natural([-e], k=k)
            ke, lam_k = mpf(k), -mpf(d.natural[0])
            log_lam = -mp.log(lam_k) / ke
            yield _check(fam, "entropy", _fmt(k, e), d.entropy(),
                         lambda: EULER * (1 - 1 / ke) + log_lam - mp.log(ke) + 1, k, e, 1 / k)
            with np.errstate(all="ignore"):
                lam = float(np.exp(-np.log(e) / k))
            pts = _tail_points(lam) if 0 < lam < np.inf else _tail_points(1.0)
            for x, g in zip(pts, d.logpdf(np.array(pts))):
                xe = mpf(x)
                yield _check(fam, "logpdf", _fmt(k, e, x), g,
                             lambda: (mp.log(ke) - log_lam + (ke - 1) * (mp.log(xe) - log_lam)
                                      - mp.exp(ke * (mp.log(xe) - log_lam))), k, e, x, 1 / k)
            yield from _scale_kl(fam, Weibull, e, {"k": k})


def pareto_checks():
    fam = "pareto"
    for xm in (1e-300, 1e-5, 1.0, 3.7, 1e300):
        for a in NEG_ETA:
            d = Pareto.from_natural([-a], x_m=xm)
            ae, xme = -mpf(d.natural[0]), mpf(xm)
            yield _check(fam, "entropy", _fmt(xm, a), d.entropy(),
                         lambda: mp.log(xme / ae) + 1 / ae + 1, xm, a)
            with np.errstate(all="ignore"):
                pts = [xm, xm * (1 + 2.0**-52), xm * (1 + 1e-8), xm * 1.5, xm * 2.0,
                       xm * np.exp(min(1.0 / a, 700.0)), xm * 1e10, 1e300]
            pts = sorted({float(x) for x in pts if xm <= x < np.inf})
            for x, g in zip(pts, d.logpdf(np.array(pts))):
                xe = mpf(x)
                yield _check(fam, "logpdf", _fmt(xm, a, x), g,
                             lambda: mp.log(ae) + ae * mp.log(xme) - (ae + 1) * mp.log(xe), xm, a, x)
            if xm in (1e-300, 1.0):
                yield from _scale_kl(fam, Pareto, a, {"x_m": xm})


def _present(group):
    """The rows of ``group`` that exist (a generator yields None where a grid point has
    no float64 member)."""
    def rows():
        return (row for row in group() if row is not None)
    return rows


#: the row generators (one test each) and the families whose three quantities each covers
GROUPS = {
    "gamma": (_present(gamma_checks), ("gamma",)),
    "inverse_gamma": (_present(inverse_gamma_checks), ("inverse_gamma",)),
    "chi_square": (_present(chi_square_checks), ("chi_square",)),
    "beta": (_present(beta_checks), ("beta",)),
    "dirichlet": (_present(dirichlet_checks), ("dirichlet",)),
    "exponential": (_present(exponential_checks), ("exponential",)),
    "rayleigh": (_present(rayleigh_checks), ("rayleigh",)),
    "weibull": (_present(weibull_checks), ("weibull",)),
    "pareto": (_present(pareto_checks), ("pareto",)),
}


def checks():
    """Every row of the gamma-type families."""
    for generate, _ in GROUPS.values():
        yield from generate()
