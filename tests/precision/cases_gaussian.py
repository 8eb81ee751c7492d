"""mpmath rows for the Gaussian-type families: Normal, LogNormal, MultivariateNormal,
Laplace, InverseGaussian and VonMises (entropy, logpdf and KL; item 5).

Every oracle is computed at 60 digits (more where a large argument needs it) from the
natural parameters the expfam object holds, by the textbook definition:

- Normal / LogNormal: ``v = -1 / (2 eta_2)``, ``m = eta_1 v``; the normal density of
  ``y = x`` (``y = log x``, with the Jacobian ``-log x``), entropy
  ``log(2 pi e v) / 2`` (plus ``m``), KL ``log(s_q/s_p) + (v_p + (m_p - m_q)^2) / (2 v_q) - 1/2``.
- Laplace: ``b = -1 / eta``; density ``exp(-|x - loc| / b) / (2 b)``.
- InverseGaussian: ``lam = -2 eta_2``, ``m = sqrt(eta_2 / eta_1)``; the density; the
  entropy as ``-E log p = (1 - log(lam / 2 pi)) / 2 + 3/2 E[log x]`` with
  ``E[log x] = log m + d/dnu log K_nu(lam / m)`` at ``nu = -1/2`` (numerical
  differentiation of ``mp.besselk``) for ``lam / m <= 1e4``, and above, where the
  derivative needs more digits than ``mp.diff`` gives, the closed form
  ``-e^(2 phi) E1(2 phi)`` of that derivative (DLMF 10.38.7, ``mp.e1``); KL as
  ``E_p[log p - log q]`` from the moments ``E x = m``, ``E 1/x = 1/m + 1/lam``.
- VonMises: ``kappa = |eta|``; ``mp.besseli`` with ``log10(kappa) + 70`` digits, so that
  ``log I0(kappa) - kappa`` and ``1 - I1/I0`` keep 60 digits up to ``kappa = 1e300``.
- MultivariateNormal: ``mp.matrix`` inverse, determinant and quadratic forms.

Grids reach the ends of each parameter's float64 domain where the natural parameters
are representable: Normal ``sigma`` 1e-150..1e150 (``eta_2 = -1 / (2 sigma^2)``
under/overflows beyond), ``x - m`` up to 1e150 ``sigma``; Laplace ``b`` 1e-300..1e300;
InverseGaussian ``m`` and ``lam / m`` 1e-100..1e100 (``eta_1 = -lam / (2 m^2)``);
VonMises ``kappa`` 1e-300..1e300 (and 0); MultivariateNormal ``d`` in 1, 2, 3, 5 with
covariance condition numbers up to 1e8 and coordinate scales 1e-100..1e100.

Limits of float64 itself (documented, tested at the closest achievable statement):

- VonMises logpdf: the mean direction ``mu = atan2(eta_2, eta_1)`` is irrational for
  every ``eta`` with ``eta_2 != 0``; rounding it to float64 moves ``x - mu`` by up to
  ``eps |mu|``, an absolute error of about ``kappa |x - mu| eps |mu|`` in the log density.
  With ``mu = 0`` (``eta_2 = 0``) the logpdf is tested for every ``kappa`` up to 1e300; with
  ``mu != 0`` up to ``kappa = 1e6``, where this rounding is below the floor.
- LogNormal logpdf: ``log x`` rounded to float64 carries an absolute error up to
  ``eps |log x|``, which ``(log x - m)^2 / (2 v)`` turns into ``eps |log x| |z| / sigma``
  (``z = (log x - m) / sigma``); the rows keep ``eps |log x| max(1, |z|) < 1e-13 sigma``,
  which drops small ``sigma`` away from ``mu = 0`` (the filter is in ``_normal_like``).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

import expfam
from tests.precision._harness import Check, loggrid, mpf

# ----------------------------------------------------------------------------------
# Oracles (mpmath, from natural parameters)
# ----------------------------------------------------------------------------------


def _digits(n):
    """Evaluate the oracle with ``n`` digits: means ``m`` of 1e100 against scales of
    1e-150 (and ``log x`` against ``sigma``) need far more than 60 to keep 60 in
    ``x - m``; the result is rounded back to the 60 of the harness."""
    def wrap(f):
        def g(*args):
            with mp.workdps(n):
                value = f(*args)
            return +value
        return g
    return wrap


def _normal_mv(eta):
    e1, e2 = mpf(eta[0]), mpf(eta[1])
    v = -1 / (2 * e2)
    return e1 * v, v


@_digits(420)
def _normal_logpdf(eta, y):
    m, v = _normal_mv(eta)
    return -mp.log(2 * mp.pi * v) / 2 - (y - m) ** 2 / (2 * v)


@_digits(420)
def _lognormal_logpdf(eta, x):
    y = mp.log(mpf(x))
    m, v = _normal_mv(eta)
    return -mp.log(2 * mp.pi * v) / 2 - (y - m) ** 2 / (2 * v) - y


@_digits(420)
def _normal_kl(eta_p, eta_q):
    mp_, vp = _normal_mv(eta_p)
    mq, vq = _normal_mv(eta_q)
    return mp.log(vq / vp) / 2 + (vp + (mp_ - mq) ** 2) / (2 * vq) - mp.mpf(1) / 2


def _ig_params(eta):
    e1, e2 = mpf(eta[0]), mpf(eta[1])
    return mp.sqrt(e2 / e1), -2 * e2


def _ig_elogx(m, lam):
    phi = lam / m
    if phi <= 1e4:
        with mp.workdps(max(80, mp.mp.dps)):
            d = mp.diff(lambda nu: mp.log(mp.besselk(nu, phi)), mp.mpf(-0.5))
    else:
        d = -mp.exp(2 * phi) * mp.e1(2 * phi)
    return mp.log(m) + d


@_digits(80)
def _ig_entropy(eta):
    m, lam = _ig_params(eta)
    return (1 - mp.log(lam / (2 * mp.pi))) / 2 + mp.mpf(3) / 2 * _ig_elogx(m, lam)


@_digits(420)
def _ig_logpdf(eta, x):
    m, lam = _ig_params(eta)
    x = mpf(x)
    return mp.log(lam / (2 * mp.pi * x**3)) / 2 - lam * (x - m) ** 2 / (2 * m * m * x)


@_digits(420)
def _ig_kl(eta_p, eta_q):
    mp_, lp = _ig_params(eta_p)
    mq, lq = _ig_params(eta_q)
    cross = mp_ / mq**2 - 2 / mq + 1 / mp_ + 1 / lp  # E_p[(x - m_q)^2 / (m_q^2 x)]
    return mp.log(lp / lq) / 2 - mp.mpf(1) / 2 + lq * cross / 2


def _vm_kappa(eta):
    return mp.sqrt(mpf(eta[0]) ** 2 + mpf(eta[1]) ** 2)


_VM_CACHE: dict = {}


def _vm_small(k):
    """``(log I0(k), A1(k))`` for ``k < 1`` to 80 significant digits, from the power series
    (DLMF 10.25.2): ``log1p(sum_(m>=1) (k^2/4)^m / m!^2)`` keeps its digits for tiny ``k``."""
    if ("small", k) in _VM_CACHE:
        return _VM_CACHE["small", k]
    if k == 0:
        return mp.mpf(0), mp.mpf(0)
    with mp.workdps(80):
        u = (k / 2) ** 2
        s0, s1, term, m = mp.mpf(0), mp.mpf(1), mp.mpf(1), 0  # term = u^m / m!^2
        while True:
            m += 1
            term = term * u / (m * m)
            s0 += term
            s1 += term / (m + 1)
            if term <= mp.mpf(10) ** -85 * s0:
                break
        out = +mp.log1p(s0), +((k / 2) * s1 / (1 + s0))
    _VM_CACHE["small", k] = out
    return out


def _vm_logi0_a1(k):
    """``(log I0(k) - k, 1 - I1(k) / I0(k))`` at 60 significant digits: ``mp.besseli`` with
    ``log10(k) + 70`` digits for ``k <= 1e3``; above, the large-argument expansion
    ``I_nu(k) ~ e^k / sqrt(2 pi k) sum_j b_j(nu) k^-j`` (DLMF 10.40.1), summed to 1e-75 with
    ``1 - I1 / I0`` as ``sum_j (b_j(0) - b_j(1)) k^-j / sum_j b_j(0) k^-j`` (the two agree
    with ``mp.besseli`` to 60 digits on 1e3..1e6)."""
    if k in _VM_CACHE:
        return _VM_CACHE[k]
    if k == 0:
        out = mp.mpf(0), mp.mpf(1)
    elif k < 1:
        log_i0, a1 = _vm_small(k)
        out = +(log_i0 - k), +(1 - a1)
    elif k <= 1000:
        with mp.workdps(75):
            i0, i1 = mp.besseli(0, k), mp.besseli(1, k)
            out = +(mp.log(i0) - k), +(1 - i1 / i0)
    else:
        with mp.workdps(80):
            b0 = b1 = mp.mpf(1)
            s0, diff, zj, j = mp.mpf(1), mp.mpf(0), mp.mpf(1), 0
            while True:
                j += 1
                b0 = b0 * (2 * j - 1) ** 2 / (8 * j)
                b1 = b1 * ((2 * j - 1) ** 2 - 4) / (8 * j)
                zj = zj / k
                s0 += b0 * zj
                diff += (b0 - b1) * zj
                if abs(b0 * zj) < mp.mpf(10) ** -78:
                    break
            out = +(mp.log(s0) - mp.log(2 * mp.pi * k) / 2), +(diff / s0)
    _VM_CACHE[k] = out
    return out


def _vm_entropy(eta):
    k = _vm_kappa(eta)
    logi0_k, g = _vm_logi0_a1(k)
    # log(2 pi I0) - k A1 = log 2 pi + (log I0 - k) + k (1 - A1)
    return mp.log(2 * mp.pi) + logi0_k + k * g


def _vm_logpdf(eta, x):
    k = _vm_kappa(eta)
    logi0_k, _ = _vm_logi0_a1(k)
    with mp.workdps(80 + max(0, int(mp.log10(k))) if k > 0 else 80):
        k = _vm_kappa(eta)
        x = mpf(x)
        ku = mpf(eta[0]) * mp.cos(x) + mpf(eta[1]) * mp.sin(x)
        return +(ku - k - logi0_k - mp.log(2 * mp.pi))


def _vm_kl(eta_p, eta_q):
    if np.array_equal(eta_p, eta_q):
        return mp.mpf(0)  # equal laws (the formula below leaves rounding at 1e-100)
    size = max(abs(float(v)) for v in (*eta_p, *eta_q))
    # terms of size kappa (or of kappa^2 for tiny kappa) cancel: digits for both ends
    with mp.workdps(100 + (abs(int(np.log10(size))) if size > 0 else 0)):
        kp, kq = _vm_kappa(eta_p), _vm_kappa(eta_q)
        lp, gp = _vm_logi0_a1(kp)
        lq, _ = _vm_logi0_a1(kq)
        if kp == 0:
            return +(lq + kq)
        if max(kp, kq) < 1:  # log I0 ~ k^2 / 4: the two logs, not log I0 - k, cancel
            (li0p, a1p), (li0q, _) = _vm_small(kp), _vm_small(kq)
            proj = (mpf(eta_p[0]) * mpf(eta_q[0]) + mpf(eta_p[1]) * mpf(eta_q[1])) / kp
            return +((li0q - li0p) + a1p * (kp - proj))
        # E_p[log p - log q] = log I0(kq) - log I0(kp) + A1(kp) (kp - kq cos D), with
        # kq cos D = eta_p . eta_q / kp; written with l = log I0 - k so that nothing of
        # size kappa is left to cancel
        proj = (mpf(eta_p[0]) * mpf(eta_q[0]) + mpf(eta_p[1]) * mpf(eta_q[1])) / kp
        return +((lq - lp) + (kq - proj) + gp * (proj - kp))


def _mvn_split(eta, d):  # (oracles below at 250 digits: scales 1e-50..1e50, cond 1e8)
    e = [mpf(v) for v in eta]
    h = mp.matrix(e[:d])
    L = mp.matrix(d, d)
    n = d
    for i in range(d):
        for j in range(i, d):
            if i == j:
                L[i, i] = -2 * e[n]
            else:
                L[i, j] = L[j, i] = -e[n]
            n += 1
    return h, L


_MVN_CACHE: dict = {}


def _mvn_mean(eta, d):
    """``(m, Lam, Lam^-1, det Lam)``, cached per natural parameter vector."""
    key = (np.asarray(eta, dtype=np.float64).tobytes(), mp.mp.dps)
    if key not in _MVN_CACHE:
        h, L = _mvn_split(eta, d)
        S = L ** -1
        _MVN_CACHE[key] = S * h, L, S, mp.det(L)
    return _MVN_CACHE[key]


@_digits(250)
def _mvn_entropy(eta, d):
    det = _mvn_mean(eta, d)[3]
    return (d * (1 + mp.log(2 * mp.pi)) - mp.log(det)) / 2


@_digits(250)
def _mvn_logpdf(eta, d, x):
    m, L, _, det = _mvn_mean(eta, d)
    r = mp.matrix([mpf(v) for v in x]) - m
    q = (r.T * L * r)[0]
    return (-d * mp.log(2 * mp.pi) + mp.log(det) - q) / 2


@_digits(250)
def _mvn_kl(eta_p, eta_q, d):
    if np.array_equal(eta_p, eta_q):
        return mp.mpf(0)  # equal laws (the formula below leaves 1e-250 of rounding)
    mp_, Lp, Sp, det_p = _mvn_mean(eta_p, d)
    mq, Lq, _, det_q = _mvn_mean(eta_q, d)
    tr = sum((Lq * Sp)[i, i] for i in range(d))
    r = mq - mp_
    maha = (r.T * Lq * r)[0]
    return (tr + maha - d + mp.log(det_p) - mp.log(det_q)) / 2


# ----------------------------------------------------------------------------------
# Rows
# ----------------------------------------------------------------------------------
#: relative gaps of the nearby KL pairs, and the far ones
_NEAR = (1e-15, 1e-12, 1e-9, 1e-6, 1e-3)
_FAR = (0.5, 3.0, 1e3)


def _f(x):
    return float(np.asarray(x).reshape(-1)[0])


def _normal_like(cls, name, log_scale: bool):
    """Normal (``log_scale`` False) and LogNormal rows."""
    sigmas = loggrid(1e-150, 1e150, 0.07)
    locs = (0.0, 1.5, -3e7, 2e100) if not log_scale else (0.0, -2.5, 40.0, -600.0)
    zs = (0.0, 1e-8, -1.0, 3.7, -40.0, 1e3, 1e10, 1e150)
    for s in sigmas:
        for loc in locs:
            kw = {"loc": loc, "scale": s} if not log_scale else {"mu": loc, "sigma": s}
            try:
                d = cls(**kw)
            except expfam.errors.FloatRangeError:
                continue  # eta_1 = loc / s^2 is not a float64: no such member
            eta = d.natural
            where = f"{kw}"
            with mp.workdps(420):
                m, v = _normal_mv(eta)
                want = +(mp.log(2 * mp.pi * mp.e * v) / 2 + (m if log_scale else 0))
            yield Check(name, "entropy", where, _f(d.entropy()), want)
            for z in zs:
                y = loc + z * s
                if log_scale:
                    # log x must stay well inside float64's exponent range; the rounding of
                    # log x (eps |log x|, see the docstring) limits |y - m| / s and |m| / s
                    if not -700 < y < 700 or 2.3e-16 * abs(y) * max(1.0, abs(z)) > 1e-13 * s:
                        continue
                    x = float(np.exp(y))
                    want = _lognormal_logpdf(eta, x)
                else:
                    x = y
                    if not np.isfinite(x):
                        continue
                    want = _normal_logpdf(eta, mpf(x))
                yield Check(name, "logpdf", f"{where}, x={x!r}", _f(d.logpdf(x)), want)
            if log_scale:  # the support's ends
                for x in (5e-324, 2.2250738585072014e-308, 1.7976931348623157e308):
                    want = _lognormal_logpdf(eta, x)
                    if abs(want) < 1e308:
                        yield Check(name, "logpdf", f"{where}, x={x!r}", _f(d.logpdf(x)), want)
            # KL: equal, nearby and far pairs, in scale and in location
            for g in (0.0,) + _NEAR + tuple(-r for r in _NEAR[1:]) + _FAR:
                kq = dict(kw)
                kq["scale" if not log_scale else "sigma"] = s * (1 + g)
                q = cls(**kq)
                yield Check(name, "kl", f"{kw} vs {kq}", _f(d.kl(q)), _normal_kl(eta, q.natural))
            for s_far in (1e-150, 1e150):  # the ends of the scale range: r of 1e+-600
                kq = dict(kw)
                kq["scale" if not log_scale else "sigma"] = s_far
                try:
                    q = cls(**kq)
                except expfam.errors.FloatRangeError:
                    continue
                yield Check(name, "kl", f"{kw} vs {kq}", _f(d.kl(q)), _normal_kl(eta, q.natural))
            for g in _NEAR + (1.0, 1e3):
                kq = dict(kw)
                key = "loc" if not log_scale else "mu"
                kq[key] = loc + g * s
                try:
                    q = cls(**kq)
                except expfam.errors.FloatRangeError:
                    continue
                yield Check(name, "kl", f"{kw} vs {kq}", _f(d.kl(q)), _normal_kl(eta, q.natural))
                yield Check(name, "kl", f"{kq} vs {kw}", _f(q.kl(d)), _normal_kl(q.natural, eta))


def _laplace():
    for b in np.geomspace(1e-300, 1e300, 61):
        for loc in (0.0, 2.5, -1e10):
            d = expfam.Laplace(loc=loc, scale=b)
            eta = d.natural
            bb = -1 / mpf(eta[0])
            where = f"loc={loc}, b={b:.3g}"
            yield Check("laplace", "entropy", where, _f(d.entropy()), 1 + mp.log(2 * bb))
            for z in (0.0, 1e-6, -1.0, 30.0, -1e5, 1e300):
                with np.errstate(over="ignore"):
                    x = loc + z * b
                if not np.isfinite(x):
                    continue
                want = -mp.log(2 * bb) - abs(mpf(x) - mpf(loc)) / bb
                yield Check("laplace", "logpdf", f"{where}, x={x!r}", _f(d.logpdf(x)), want)
            for g in (0.0,) + _NEAR + tuple(-r for r in _NEAR) + _FAR:
                q = expfam.Laplace(loc=loc, scale=b * (1 + g))
                bq = -1 / mpf(q.natural[0])
                want = mp.log(bq / bb) + bb / bq - 1
                yield Check("laplace", "kl", f"{where} vs b*(1+{g})", _f(d.kl(q)), want)


def _inverse_gaussian():
    for m in loggrid(1e-100, 1e100, 0.05):
        for phi in loggrid(1e-100, 1e100, 0.1):
            d = expfam.InverseGaussian(mean=m, shape=phi * m)
            eta = d.natural
            where = f"m={m:.3g}, lam/m={phi:.3g}"
            yield Check("inverse_gaussian", "entropy", where, _f(d.entropy()), _ig_entropy(eta))
            sd = m * np.sqrt(1 / phi)  # sqrt(m^3 / lam) / m * m
            for z in (0.0, 1e-7, -0.5, 1.0, 30.0):
                x = m + z * min(sd, 0.5 * m)
                yield Check("inverse_gaussian", "logpdf", f"{where}, x={x!r}",
                            _f(d.logpdf(x)), _ig_logpdf(eta, x))
            for x in (m * 1e-3, m * 1e3, 1e-300, 1e300):
                yield Check("inverse_gaussian", "logpdf", f"{where}, x={x!r}",
                            _f(d.logpdf(x)), _ig_logpdf(eta, x))
    for m in loggrid(1e-100, 1e100, 0.05):
        for phi in (1e-100, 1e-3, 1.0, 1e3, 1e100):
            d = expfam.InverseGaussian(mean=m, shape=phi * m)
            for gm, gl in [(0, 0)] + [(g, 0) for g in _NEAR] + [(0, g) for g in _NEAR] + [
                    (-1e-9, 1e-9), (1e-4, -3e-4)] + [(g, g) for g in _FAR]:
                q = expfam.InverseGaussian(mean=m * (1 + gm), shape=phi * m * (1 + gl))
                yield Check("inverse_gaussian", "kl",
                            f"m={m:.3g}, lam/m={phi:.3g} vs m*(1+{gm}), lam*(1+{gl})",
                            _f(d.kl(q)), _ig_kl(d.natural, q.natural))
            for mq, phiq in ((1e-100, 1e-100), (1e-100, 1e100), (1e100, 1e-100), (1e100, 1e100)):
                q = expfam.InverseGaussian(mean=mq, shape=phiq * mq)  # the corners
                yield Check("inverse_gaussian", "kl",
                            f"m={m:.3g}, lam/m={phi:.3g} vs m={mq:g}, lam/m={phiq:g}",
                            _f(d.kl(q)), _ig_kl(d.natural, q.natural))


def _von_mises():
    # the whole domain, and densely where the methods change (kappa 1.5, 20, 25)
    kappas = np.concatenate([[0.0], np.geomspace(1e-300, 1e300, 61), np.geomspace(0.05, 300, 20)])
    for kappa in kappas:
        for loc in (0.0, 1.0, -2.5):
            d = expfam.VonMises(loc=loc, kappa=kappa)
            eta = d.natural
            where = f"loc={loc}, kappa={kappa:.3g}"
            yield Check("von_mises", "entropy", where, _f(d.entropy()), _vm_entropy(eta))
            if loc == 0.0 or kappa <= 1e6:  # see the docstring for mu != 0
                sd = 1 / np.sqrt(kappa) if kappa > 0 else 1.0
                for z in (0.0, 1e-3, 1.0, -3.0, 30.0, 1e4):
                    x = loc + z * sd
                    if -np.pi <= x < np.pi:
                        yield Check("von_mises", "logpdf", f"{where}, x={x!r}",
                                    _f(d.logpdf(x)), _vm_logpdf(eta, x))
                for x in (-np.pi, np.nextafter(np.pi, 0), 2.0):
                    yield Check("von_mises", "logpdf", f"{where}, x={x!r}",
                                _f(d.logpdf(x)), _vm_logpdf(eta, x))
    for kappa in np.concatenate([[0.0], np.geomspace(1e-300, 1e300, 31), np.geomspace(0.05, 300, 30)]):
        for loc in (0.0, 1.0):
            d = expfam.VonMises(loc=loc, kappa=kappa)
            pairs = [(0.0, 0.0)] + [(g, 0.0) for g in _NEAR + _FAR] + [
                (-1e-9, 0.0), (0.0, 1e-9), (0.0, 1e-3), (1e-6, 1e-6), (0.0, 3.0)]
            gk, dmu = np.array(pairs).T
            kq = kappa * (1 + gk)
            if kappa > 0:  # and the ends of the domain: kappa_q = 0, 1e-300, 1e300
                kq = np.concatenate([kq, [0.0, 1e-300, 1e300]])
                with np.errstate(over="ignore"):  # (the labels only)
                    gk = np.concatenate([gk, [-1.0, 1e-300 / kappa - 1, 1e300 / kappa - 1]])
                dmu = np.concatenate([dmu, [0.0, 0.5, -0.5]])
            q = expfam.VonMises(loc=loc + dmu, kappa=kq)  # one batch
            got = d.kl(q)
            for i in range(len(kq)):
                yield Check("von_mises", "kl",
                            f"loc={loc}, kappa={kappa:.3g} vs kappa*(1+{gk[i]}), loc+{dmu[i]}",
                            float(got[i]), _vm_kl(d.natural, q.natural[i]))


def _spd(d, cond, rng, scales):
    """A covariance ``D Q diag(l) Q' D`` with eigenvalue spread ``cond``."""
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = np.geomspace(1.0, 1.0 / cond, d) if d > 1 else np.ones(1)
    S = (Q * lam) @ Q.T
    S = 0.5 * (S + S.T)
    return S * scales[:, None] * scales[None, :]


def _multivariate_normal():
    rng = np.random.default_rng(5)
    for d in (1, 2, 3, 5):
        for cond in (1.0, 1e4, 1e8):
            for sc in (1.0, 1e-100, "mixed"):
                scales = (np.geomspace(1e-50, 1e50, d) if sc == "mixed"
                          else np.full(d, sc))
                S = _spd(d, cond, rng, scales)
                for mshift in (0.0, 1e4):
                    m = mshift * scales * rng.standard_normal(d)
                    p = expfam.MultivariateNormal(m, S)
                    eta = p.natural
                    where = f"d={d}, cond={cond:g}, scale={sc}, |m|/sd~{mshift:g}"
                    if mshift == 0.0:
                        yield Check("multivariate_normal", "entropy", where, _f(p.entropy()),
                                    _mvn_entropy(eta, d))
                    C = np.linalg.cholesky(S)
                    for z in (0.0, 1e-6, 30.0):
                        x = m + C @ (z * rng.standard_normal(d))
                        yield Check("multivariate_normal", "logpdf", f"{where}, |z|~{z}",
                                    _f(p.logpdf(x)), _mvn_logpdf(eta, d, x))
                    # KL: equal, nearby and far precisions / means
                    E = rng.standard_normal((d, d))
                    E = 0.5 * (E + E.T)
                    E = E / np.linalg.norm(E, 2)
                    for g in (0.0, 1e-12, 1e-6, 0.3):
                        sd = np.sqrt(np.diag(S))
                        Sq = S + g * (sd[:, None] * E * sd[None, :]) / cond
                        Sq = 0.5 * (Sq + Sq.T)
                        mq = m + g * C @ rng.standard_normal(d)
                        q = expfam.MultivariateNormal(mq, Sq)
                        yield Check("multivariate_normal", "kl", f"{where} vs near {g:g}",
                                    _f(p.kl(q)), _mvn_kl(eta, q.natural, d))
                    if mshift == 0.0:
                        q = expfam.MultivariateNormal(m + C @ rng.standard_normal(d), 2.5 * S)
                        yield Check("multivariate_normal", "kl", f"{where} vs far",
                                    _f(p.kl(q)), _mvn_kl(eta, q.natural, d))


#: the largest float64; a true value beyond it is -inf (or inf) in float64
_HUGE = mp.mpf(np.finfo(float).max)
#: the smallest normal float64; a nonzero true value below it has no float64 relative
#: accuracy (and the harness divides by float(want))
_TINY = mp.mpf(np.finfo(float).tiny)


def _in_range(group):
    """The rows of ``group`` whose true value is a normal float64 (or 0): rows whose true
    value lies beyond the float64 range, such as a Normal logpdf of -1e400 that float64
    can only give as -inf, or a KL of 1e-320 below its normal range, are left out (the
    grid stops there)."""
    def rows():
        return (c for c in group() if abs(c.want) <= _HUGE and (c.want == 0 or abs(c.want) >= _TINY))
    return rows


#: the row generators (one test each) and the families whose three quantities each covers
GROUPS = {
    "normal": (_in_range(lambda: _normal_like(expfam.Normal, "normal", log_scale=False)), ("normal",)),
    "lognormal": (_in_range(lambda: _normal_like(expfam.LogNormal, "lognormal", log_scale=True)),
                  ("lognormal",)),
    "laplace": (_in_range(_laplace), ("laplace",)),
    "inverse_gaussian": (_in_range(_inverse_gaussian), ("inverse_gaussian",)),
    "von_mises": (_in_range(_von_mises), ("von_mises",)),
    "multivariate_normal": (_in_range(_multivariate_normal), ("multivariate_normal",)),
}


def checks():
    """Every row of the Gaussian-type families."""
    for generate, _ in GROUPS.values():
        yield from generate()
