"""The compiled KL / entropy kernels (:mod:`expfam._divergence_jit`) against mpmath.

Oracles: the textbook closed forms evaluated in 50-digit arithmetic from the exact
float64 parameters (natural parameters converted in mpmath), written here independently
of the library.  Cases: ordinary parameters (the kernels' fast path) and extreme ones
(nearly equal laws with KL ~ 1e-14, shapes 1e-8 and 1e8, means far from the origin,
variances 1e-300 apart), where a kernel must either be accurate or decline the element to
the cancellation-free NumPy form.  Floor: relative 1e-12, or 1e-15 absolute (as in
``tests/precision``).  The kernels run through the public functions with the size
threshold lowered to 1 (and once directly, to see that the fast path is taken).
"""

from __future__ import annotations

import subprocess
import sys

import mpmath as mp
import numpy as np
import pytest

import expfam
from expfam import divergence

mp.mp.dps = 50
REL, ABS = 1e-12, 1e-15


@pytest.fixture
def kernels(monkeypatch):
    """Every batch takes the compiled kernels."""
    monkeypatch.setattr(divergence, "KERNEL_MIN_SIZE", 1)
    monkeypatch.delenv("EXPFAM_DISABLE_KERNELS", raising=False)


def _m(x):
    return mp.mpf(float(x))


def _close(got, want):
    got = np.asarray(got, dtype=np.float64).ravel()
    assert got.size == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        err = abs(_m(g) - w)
        assert np.isfinite(g) and (err <= ABS or err <= REL * abs(w)), (i, g, mp.nstr(w, 20))


# -- independent mpmath closed forms, from the natural parameters ----------------------
def normal_kl(ep, eq):
    # 420 digits: means of 0.5 against variances of 1e-300 leave (m_p - m_q)^2 / v_q to
    # the oracle's own rounding at the 50-60 digits other modules set globally
    with mp.workdps(420):
        vp, vq = -1 / (2 * _m(ep[1])), -1 / (2 * _m(eq[1]))
        mp_, mq = -_m(ep[0]) / (2 * _m(ep[1])), -_m(eq[0]) / (2 * _m(eq[1]))
        return +((mp.log(vq / vp) + (vp + (mp_ - mq) ** 2) / vq - 1) / 2)


def scale_kl(ep, eq):  # Exponential(rate = -eta)
    lp, lq = -_m(ep[0]), -_m(eq[0])
    return mp.log(lp / lq) + lq / lp - 1


def poisson_kl(ep, eq):
    lp, lq = mp.exp(_m(ep[0])), mp.exp(_m(eq[0]))
    return lp * mp.log(lp / lq) + lq - lp


def binomial_kl(ep, eq, n):
    p, q = 1 / (1 + mp.exp(-_m(ep[0]))), 1 / (1 + mp.exp(-_m(eq[0])))
    return n * (p * mp.log(p / q) + (1 - p) * mp.log((1 - p) / (1 - q)))


def gamma_kl(ep, eq):
    ap, bp, aq, bq = _m(ep[1]) + 1, -_m(ep[0]), _m(eq[1]) + 1, -_m(eq[0])
    return ((ap - aq) * mp.digamma(ap) - mp.loggamma(ap) + mp.loggamma(aq)
            + aq * mp.log(bp / bq) + ap * (bq - bp) / bp)


def gamma_entropy(e):
    a, b = _m(e[1]) + 1, -_m(e[0])
    return a - mp.log(b) + mp.loggamma(a) + (1 - a) * mp.digamma(a)


def _log_beta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def beta_kl(ep, eq):
    ap, bp, aq, bq = (_m(v) + 1 for v in (ep[0], ep[1], eq[0], eq[1]))
    s = mp.digamma(ap + bp)
    return (_log_beta(aq, bq) - _log_beta(ap, bp) + (ap - aq) * (mp.digamma(ap) - s)
            + (bp - bq) * (mp.digamma(bp) - s))


def beta_entropy(e):
    a, b = _m(e[0]) + 1, _m(e[1]) + 1
    return (_log_beta(a, b) - (a - 1) * mp.digamma(a) - (b - 1) * mp.digamma(b)
            + (a + b - 2) * mp.digamma(a + b))


def _check_kl(p, q, oracle):
    got = expfam.kl(p, q)
    ep = np.broadcast_to(p.natural, np.broadcast_shapes(p.natural.shape, q.natural.shape))
    eq = np.broadcast_to(q.natural, ep.shape)
    _close(got, [oracle(a, b) for a, b in zip(ep.reshape(-1, ep.shape[-1]),
                                               eq.reshape(-1, ep.shape[-1]))])


# -- the cases -------------------------------------------------------------------------
def test_normal_and_lognormal(kernels):
    loc = np.array([0.0, 1.0, -3.0, 1e8, 1e8, 0.5, 2.0, 1e-5])
    scale = np.array([1.0, 0.3, 2.0, 1.0, 1e-3, 1e-140, 1e140, 7.0])
    loc2 = loc * np.array([1, 1 + 1e-9, 1, 1 + 1e-15, 1, 1, 1, -1]) + np.array([1, 0, 0, 0, 0, 0, 0, 0])
    scale2 = scale * np.array([2.0, 1 + 1e-8, 1.0, 1.0, 1 + 1e-12, 1e-10, 3.0, 1.0])
    for cls in (expfam.Normal, expfam.LogNormal):
        p, q = cls(loc, scale), cls(loc2, scale2)
        _check_kl(p, q, normal_kl)
        _check_kl(q, p, normal_kl)


def test_exponential_scale_families(kernels):
    rate = np.array([1.0, 3.0, 1e-300, 1e300, 0.5, 2.0])
    rate2 = rate * np.array([1 + 1e-10, 1e-3, 1e250, 1e-250, 1.0 + 1e-15, 40.0])
    _check_kl(expfam.Exponential(rate), expfam.Exponential(rate2), scale_kl)
    _check_kl(expfam.Exponential(rate2), expfam.Exponential(rate), scale_kl)


def test_poisson(kernels):
    lam = np.array([1.0, 1e-200, 1e200, 4.0, 0.3, 50.0])
    lam2 = lam * np.array([1 + 1e-9, 3.0, 0.5, 1e-5, 1e4, 1 + 1e-15])
    _check_kl(expfam.Poisson(lam), expfam.Poisson(lam2), poisson_kl)
    _check_kl(expfam.Poisson(lam2), expfam.Poisson(lam), poisson_kl)


@pytest.mark.parametrize("n", [1, 37])
def test_bernoulli_binomial(kernels, n):
    logit = np.array([0.0, 2.0, -30.0, 30.0, -700.0, 5.0, -0.1])
    logit2 = logit + np.array([1e-9, -0.5, 1e-6, 3.0, 1.0, -40.0, 0.2])
    make = (lambda x: expfam.Bernoulli.from_natural(x[:, None])) if n == 1 else \
        (lambda x: expfam.Binomial.from_natural(x[:, None], n=n))
    _check_kl(make(logit), make(logit2), lambda a, b: binomial_kl(a, b, n))
    _check_kl(make(logit2), make(logit), lambda a, b: binomial_kl(a, b, n))


def test_gamma(kernels):
    shape = np.array([2.0, 0.5, 1e-8, 1e8, 1e8, 3.0, 1.4616321449683622, 10.0, 1e-3])
    rate = np.array([1.0, 4.0, 1.0, 1e8, 1.0, 1e-100, 1.0, 1e5, 2.0])
    shape2 = shape * np.array([1.5, 1 + 1e-9, 2.0, 1 + 1e-10, 1.0, 0.3, 1.0, 1 + 1e-7, 1e3])
    rate2 = rate * np.array([0.7, 1.0, 1.0, 1.0, 1 + 1e-12, 1e3, 1 + 1e-13, 1.0, 1.0])
    p, q = expfam.Gamma(shape, rate), expfam.Gamma(shape2, rate2)
    _check_kl(p, q, gamma_kl)
    _check_kl(q, p, gamma_kl)
    for d in (p, q):
        _close(expfam.entropy(d), [gamma_entropy(e) for e in d.natural])


def test_beta(kernels):
    a = np.array([2.0, 0.5, 1e-8, 1e8, 3.0, 1e6, 0.7, 40.0])
    b = np.array([3.0, 0.5, 2.0, 1e8, 1e-6, 1.0, 0.7, 1e-3])
    a2 = a * np.array([1.5, 1 + 1e-9, 3.0, 1 + 1e-9, 1.0, 1.0, 2.0, 1.0 + 1e-12])
    b2 = b * np.array([0.5, 1.0, 1.0, 1.0, 1 + 1e-10, 1 + 1e-8, 1.0, 1.0])
    p, q = expfam.Beta(a, b), expfam.Beta(a2, b2)
    _check_kl(p, q, beta_kl)
    _check_kl(q, p, beta_kl)
    for d in (p, q):
        _close(expfam.entropy(d), [beta_entropy(e) for e in d.natural])
    # cross-entropy = entropy + KL through the same kernels: against -E_p[log q] in mpmath
    ce = expfam.cross_entropy(p, q)
    _close(ce, [beta_entropy(e) + beta_kl(e, f) for e, f in zip(p.natural, q.natural)])


def test_fast_path_taken_for_ordinary_parameters():
    """Ordinary parameters are computed by the kernel itself (not declined to NumPy), and
    its values agree with the NumPy closed forms."""
    from expfam import _divergence_jit

    rng = np.random.default_rng(3)
    n = 2000
    p = expfam.Gamma(rng.uniform(0.5, 5, n), rng.uniform(0.5, 2, n))
    q = expfam.Gamma(rng.uniform(0.5, 5, n), rng.uniform(0.5, 2, n))
    out, bad = _divergence_jit.run("gamma_kl", p.natural, q.natural, np.zeros(1))
    assert bad.mean() < 0.1
    ref = expfam.Gamma.kl_natural(p.natural, q.natural, {})
    np.testing.assert_allclose(out[~bad], ref[~bad], rtol=1e-12)
    g = expfam.Normal(rng.normal(size=n), rng.uniform(0.5, 2, n))
    h = expfam.Normal(rng.normal(size=n), rng.uniform(0.5, 2, n))
    out, bad = _divergence_jit.run("gaussian_kl", g.natural, h.natural, np.zeros(1))
    assert not bad.any()
    np.testing.assert_allclose(out, expfam.Normal.kl_natural(g.natural, h.natural, {}), rtol=1e-13)


def test_kernel_not_inherited_by_a_subclass_with_its_own_closed_form():
    class Shifted(expfam.Normal):  # no name: not registered
        @classmethod
        def kl_natural(cls, eta_p, eta_q, fixed):
            return np.zeros(eta_p.shape[:-1])

    big = divergence.KERNEL_MIN_SIZE
    assert divergence.kernel_for(Shifted, "kl", big) is None
    assert divergence.kernel_for(expfam.Normal, "kl", big) == "gaussian_kl"
    assert divergence.kernel_for(expfam.Normal, "kl", big - 1) is None


def test_small_batches_do_not_import_numba():
    code = ("import sys, numpy as np, expfam\n"
            "p, q = expfam.Gamma(np.full(100, 2.0), 1.0), expfam.Gamma(3.0, 2.0)\n"
            "v = expfam.kl(p, q); e = expfam.entropy(p)\n"
            "print('numba' in sys.modules, float(v[0]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported, value = out.stdout.split()
    assert imported == "False"
    assert abs(float(value) - float(gamma_kl([-1.0, 1.0], [-2.0, 2.0]))) < 1e-15


def test_beta_second_form_nearby_pairs():
    """Nearby Beta laws (relative changes 1e-2 .. 1e-11, shapes 1e-3 .. 1e4), where the
    textbook form cancels: the kernel's sum of lgamma Bregman divergences (or a declined
    element) against mpmath."""
    from expfam import _divergence_jit

    rng = np.random.default_rng(11)
    n = 40
    a = 10.0 ** rng.uniform(-3, 4, (n, 2))
    step = 10.0 ** rng.uniform(-11, -2, (n, 2)) * rng.choice([-1.0, 1.0], (n, 2))
    p, q = expfam.Beta(a[:, 0], a[:, 1]), expfam.Beta(a[:, 0] * (1 + step[:, 0]),
                                                      a[:, 1] * (1 + step[:, 1]))
    out, bad = _divergence_jit.run("dirichlet_kl", p.natural, q.natural, np.zeros(1))
    assert bad.mean() < 0.5  # the second form takes most of them
    keep = ~bad
    _close(out[keep], [beta_kl(e, f) for e, f in zip(p.natural[keep], q.natural[keep])])


def test_simple_entropies(kernels):
    """Normal, LogNormal, Exponential and Bernoulli entropies against their closed forms."""
    loc = np.array([0.0, 1e8, -3.0, 0.5, 1e-300, 700.0])
    scale = np.array([1.0, 1e-3, 1e100, 1e-100, 2.0, 1.6487212707001282])

    def gauss(e):
        var = -1 / (2 * _m(e[1]))
        return mp.log(2 * mp.pi * mp.e * var) / 2

    d = expfam.Normal(loc, scale)
    _close(expfam.entropy(d), [gauss(e) for e in d.natural])
    d = expfam.LogNormal(loc, scale)
    _close(expfam.entropy(d), [gauss(e) + _m(e[0]) * (-1 / (2 * _m(e[1]))) for e in d.natural])
    d = expfam.Exponential(np.array([1e-300, 1.0, 2.718281828459045, 1e300, 0.1]))
    _close(expfam.entropy(d), [1 - mp.log(-_m(e[0])) for e in d.natural])
    d = expfam.Bernoulli.from_natural(np.array([[0.0], [1e-9], [-5.0], [40.0], [-700.0], [3.0]]))

    def bern(e):
        p = 1 / (1 + mp.exp(-_m(e[0])))
        return -p * mp.log(p) - (1 - p) * mp.log(1 - p)

    _close(expfam.entropy(d), [bern(e) for e in d.natural])


def test_failure_counts_and_laplace(kernels):
    """Geometric / NegativeBinomial KL and the Laplace entropy against their closed forms."""
    p = np.array([0.5, 1e-8, 1 - 1e-9, 0.3, 0.9, 0.01])
    p2 = np.array([0.5 + 1e-10, 0.2, 1 - 1e-6, 0.9, 0.3, 0.01 * (1 + 1e-9)])

    def geo_kl(ea, eb, r):  # eta = log(1 - p): failures before the r-th success
        qa, qb = mp.exp(_m(ea[0])), mp.exp(_m(eb[0]))  # failure probabilities
        mean = r * qa / (1 - qa)
        return r * mp.log((1 - qa) / (1 - qb)) + mean * mp.log(qa / qb)

    for cls, r, kw in ((expfam.Geometric, 1, {}), (expfam.NegativeBinomial, 3.5, {"r": 3.5})):
        a, b = cls(p=p, **kw), cls(p=p2, **kw)
        _check_kl(a, b, lambda x, y: geo_kl(x, y, r))
        _check_kl(b, a, lambda x, y: geo_kl(x, y, r))
    d = expfam.Laplace(0.0, np.array([1e-300, 1.0, 0.5, 1e300, 1.3591409142295225]))
    _close(expfam.entropy(d), [1 + mp.log(2 / -_m(e[0])) for e in d.natural])


def test_categorical(kernels):
    """Categorical KL and entropy against ``sum p log(p / q)`` and ``-sum p log p``."""
    probs = np.array([[0.2, 0.3, 0.5, 1e-300], [1 - 3e-12, 1e-12, 1e-12, 1e-12],
                      [0.25, 0.25, 0.25, 0.25], [1e-5, 0.5, 0.5 - 2e-5, 1e-5]])
    probs2 = np.array([[0.2, 0.3 + 1e-9, 0.5 - 1e-9, 1e-300], [0.25, 0.25, 0.25, 0.25],
                       [1 - 3e-12, 1e-12, 1e-12, 1e-12], [1e-5, 0.5 - 2e-5, 0.5, 1e-5]])

    def full(e):
        z = [_m(v) for v in e] + [mp.mpf(0)]
        lse = mp.log(mp.fsum(mp.exp(v) for v in z))
        return [mp.exp(v - lse) for v in z]

    def cat_kl(ea, eb):
        return mp.fsum(x * mp.log(x / y) for x, y in zip(full(ea), full(eb)))

    a, b = expfam.Categorical(probs), expfam.Categorical(probs2)
    _check_kl(a, b, cat_kl)
    _check_kl(b, a, cat_kl)
    m, m2 = expfam.Multinomial(7, probs), expfam.Multinomial(7, probs2)  # 7 draws: 7 times
    _check_kl(m, m2, lambda x, y: 7 * cat_kl(x, y))
    for d in (a, b):
        _close(expfam.entropy(d), [-mp.fsum(x * mp.log(x) for x in full(e)) for e in d.natural])


@pytest.mark.parametrize("n", [2, 10, 200])
def test_binomial_entropy(kernels, n):
    """The Binomial entropy summed over the support, against mpmath."""
    eta = np.array([[0.0], [3.0], [-12.0], [25.0], [-1e-9], [0.7]])
    d = expfam.Binomial.from_natural(eta, n=n)

    def ent(e):
        p = 1 / (1 + mp.exp(-_m(e[0])))
        terms = (mp.binomial(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1))
        return -mp.fsum(f * mp.log(f) for f in terms if f > 0)

    _close(expfam.entropy(d), [ent(e) for e in eta])


def test_geometric_and_pareto_entropy(kernels):
    p = np.array([0.5, 1e-8, 1 - 1e-9, 0.3, 0.999])
    d = expfam.Geometric(p)

    def geo(e):
        q = mp.exp(_m(e[0]))
        pr = 1 - q
        return (-q * mp.log(q) - pr * mp.log(pr)) / pr

    _close(expfam.entropy(d), [geo(e) for e in d.natural])
    for xm in (1.0, 1e-200, 3e150):
        d = expfam.Pareto(np.array([1e-5, 0.5, 3.0, 1e250, 2.0]), xm)
        _close(expfam.entropy(d), [mp.log(_m(xm) / -_m(e[0])) + 1 / -_m(e[0]) + 1 for e in d.natural])


def test_dirichlet(kernels):
    """Dirichlet KL and entropy (K = 3, 4) against mpmath, ordinary and nearby laws."""
    alpha = np.array([[1.0, 2.0, 3.0, 0.5], [1e-6, 1.0, 1e4, 2.0], [5.0, 5.0, 5.0, 5.0]])
    alpha2 = alpha * np.array([[2.0, 1.0, 0.5, 1.0], [1.0, 1 + 1e-9, 1.0, 1.0],
                               [1 + 1e-7, 1 - 1e-7, 1.0, 1.0]])

    def al(e):
        return [_m(v) + 1 for v in e]

    def lbeta(x):
        return mp.fsum(mp.loggamma(v) for v in x) - mp.loggamma(mp.fsum(x))

    def dkl(ep, eq):
        x, y = al(ep), al(eq)
        s = mp.digamma(mp.fsum(x))
        return lbeta(y) - lbeta(x) + mp.fsum((u - v) * (mp.digamma(u) - s) for u, v in zip(x, y))

    def dent(e):
        x = al(e)
        s0 = mp.fsum(x)
        return lbeta(x) + (s0 - len(x)) * mp.digamma(s0) - mp.fsum((v - 1) * mp.digamma(v) for v in x)

    for k in (3, 4):
        p, q = expfam.Dirichlet(alpha[:, :k]), expfam.Dirichlet(alpha2[:, :k])
        _check_kl(p, q, dkl)
        _check_kl(q, p, dkl)
        for d in (p, q):
            _close(expfam.entropy(d), [dent(e) for e in d.natural])


def test_categorical_extreme_logits(kernels):
    """Categorical KL and entropy from natural parameters (K = 2, 5, 20) with logits up to
    +-800 (probabilities below 1e-300 and within 1e-300 of 1), ties of the largest, and
    nearby laws (logits moved by 1e-13 .. 1e-3), against 50-digit softmax sums."""
    rng = np.random.default_rng(7)

    def full(e):
        z = [_m(v) for v in e] + [mp.mpf(0)]
        lse = mp.log(mp.fsum(mp.exp(v) for v in z))
        return [v - lse for v in z]  # log-probabilities

    def cat_kl(ea, eb):
        return mp.fsum(mp.exp(x) * (x - y) for x, y in zip(full(ea), full(eb)))

    for k in (1, 4, 19):
        eta = np.concatenate([rng.normal(0, 3, (4, k)), rng.uniform(-800, 800, (4, k)),
                              np.full((1, k), 700.0), np.full((1, k), -745.0),
                              np.zeros((1, k))])
        step = 10.0 ** rng.uniform(-13, -3, eta.shape) * rng.choice([-1.0, 1.0], eta.shape)
        for other in (eta + step, eta[::-1] + 0.0):
            a = expfam.Categorical.from_natural(eta, n_categories=k + 1)
            b = expfam.Categorical.from_natural(other, n_categories=k + 1)
            _check_kl(a, b, cat_kl)
            _check_kl(b, a, cat_kl)
        _close(expfam.entropy(a), [-mp.fsum(mp.exp(x) * x for x in full(e)) for e in eta])


def _mvn_oracle(eta, d):
    """``(m, C, log det Lam)`` in mpmath from the packed natural parameters, ``Lam = C C'``
    (a plain Cholesky factorisation: mpmath's LU inverse calls scales of 1e-100
    singular)."""
    e = [_m(v) for v in eta]
    lam = [[None] * d for _ in range(d)]
    n = d
    for i in range(d):
        for j in range(i, d):
            lam[i][j] = lam[j][i] = -2 * e[n] if i == j else -e[n]
            n += 1
    c = [[mp.mpf(0)] * d for _ in range(d)]
    for j in range(d):
        c[j][j] = mp.sqrt(lam[j][j] - mp.fsum(c[j][k] ** 2 for k in range(j)))
        for i in range(j + 1, d):
            c[i][j] = (lam[i][j] - mp.fsum(c[i][k] * c[j][k] for k in range(j))) / c[j][j]
    m = _chol_solve(c, e[:d])
    return m, c, 2 * mp.fsum(mp.log(c[i][i]) for i in range(d))


def _chol_solve(c, b):
    """``(C C')^-1 b``."""
    d = len(b)
    y = []
    for i in range(d):
        y.append((b[i] - mp.fsum(c[i][k] * y[k] for k in range(i))) / c[i][i])
    x = [None] * d
    for i in reversed(range(d)):
        x[i] = (y[i] - mp.fsum(c[k][i] * x[k] for k in range(i + 1, d))) / c[i][i]
    return x


def mvn_kl(ep, eq, d):
    with mp.workdps(90):  # nearby laws (KL ~ 1e-24) at condition numbers up to 1e6
        mp_, cp, ld_p = _mvn_oracle(ep, d)
        mq, cq, ld_q = _mvn_oracle(eq, d)
        lam_q = [[mp.fsum(cq[i][k] * cq[j][k] for k in range(d)) for j in range(d)]
                 for i in range(d)]
        # tr(Lam_q Lam_p^-1) column by column; Mahalanobis |C_q' (m_q - m_p)|^2
        tr = mp.fsum(_chol_solve(cp, [lam_q[i][j] for i in range(d)])[j] for j in range(d))
        r = [u - v for u, v in zip(mq, mp_)]
        maha = mp.fsum(mp.fsum(cq[k][i] * r[k] for k in range(i, d)) ** 2 for i in range(d))
        return +((tr - d + ld_p - ld_q + maha) / 2)


def mvn_entropy(e, d):
    with mp.workdps(90):
        return +((d * (1 + mp.log(2 * mp.pi)) - _mvn_oracle(e, d)[2]) / 2)


def _mvn_batch(rng, d, n, cond, scale, loc):
    """``n`` laws: covariances ``D Q diag(s) Q' D`` with eigenvalue spread ``cond`` and
    coordinate scales ``D`` of magnitude ``10^scale`` (within a factor 100 of each
    other), means ``loc + D N(0, 1)``."""
    q = np.linalg.qr(rng.normal(size=(n, d, d)))[0]
    s = np.logspace(0, -np.log10(cond), d) * rng.uniform(0.5, 2, (n, d))
    D = 10.0 ** (scale + rng.uniform(-1, 1, (n, d)))
    cov = D[:, :, None] * (q * s[:, None, :]) @ np.swapaxes(q, 1, 2) * D[:, None, :]
    cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    return loc + D * rng.normal(size=(n, d)), cov


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_multivariate_normal(kernels, d):
    """MultivariateNormal KL and entropy against 90-digit closed forms (``tr(Lam_q Sigma_p)
    - d + log det ratio + Mahalanobis``): condition numbers 1 .. 1e6 (at 1e8 the NumPy form
    of the declined elements loses ~2e-12 for d = 5), coordinate scales
    1e-50 and 1e50, means at 1e8, nearby laws (relative changes 1e-12 .. 1e-2) and far."""
    rng = np.random.default_rng(d)
    for cond, scale, loc in ((1.0, 0, 0.0), (1e3, 50, 0.0), (1e3, -50, 0.0), (1e6, 0, 0.0),
                             (10.0, 0, 1e8)):
        m, S = _mvn_batch(rng, d, 3, cond, scale, loc)
        p = expfam.MultivariateNormal(m, S)
        _close(expfam.entropy(p), [mvn_entropy(e, d) for e in p.natural])
        # far pairs only where the NumPy form (the declined elements') keeps 1e-12: its
        # eigenvalues near -1 lose ~1e-11 relative at condition numbers >= 1e3
        for g in (1e-12, 1e-6, 1e-2) + ((None,) if cond <= 10 else ()):
            if g is None:
                m2, S2 = _mvn_batch(rng, d, 3, cond, scale, loc)
            else:
                A = np.eye(d) + g * rng.normal(size=(3, d, d))
                S2 = A @ S @ np.swapaxes(A, 1, 2)
                m2 = m + g * np.sqrt(np.diagonal(S, axis1=1, axis2=2)) * rng.normal(size=(3, d))
            q = expfam.MultivariateNormal(m2, S2)
            _check_kl(p, q, lambda x, y: mvn_kl(x, y, d))


def test_multivariate_normal_fast_path_and_scipy():
    """Ordinary parameters (d = 3) stay on the kernels' fast path, and agree with SciPy's
    entropy and the NumPy closed form of the KL (``numpy.linalg``)."""
    from scipy import stats

    from expfam import _divergence_jit

    rng = np.random.default_rng(5)
    n, d = 200, 3

    def make():
        A = rng.normal(size=(n, d, d))
        return rng.normal(size=(n, d)), A @ np.swapaxes(A, 1, 2) + np.eye(d)

    (m1, S1), (m2, S2) = make(), make()
    p, q = expfam.MultivariateNormal(m1, S1), expfam.MultivariateNormal(m2, S2)
    par = np.array([float(d)])
    h, bad_h = _divergence_jit.run("mvn_entropy", p.natural, None, par)
    k, bad_k = _divergence_jit.run("mvn_kl", p.natural, q.natural, par)
    assert bad_h.mean() < 0.02 and bad_k.mean() < 0.05
    want_h = [stats.multivariate_normal(m1[i], S1[i]).entropy() for i in range(n)]
    np.testing.assert_allclose(h[~bad_h], np.array(want_h)[~bad_h], rtol=1e-12)
    L2 = np.linalg.inv(S2)
    r = m2 - m1
    want_k = 0.5 * (np.trace(L2 @ S1, axis1=1, axis2=2) - d + np.einsum("ni,nij,nj->n", r, L2, r)
                    + np.linalg.slogdet(S2)[1] - np.linalg.slogdet(S1)[1])
    np.testing.assert_allclose(k[~bad_k], want_k[~bad_k], rtol=1e-10)


def test_multivariate_normal_not_positive_definite():
    """A covariance that is not positive definite still raises ParameterError in a batch
    that takes the kernels, and the kernels decline a precision matrix that is not
    positive definite rather than return a value."""
    from expfam import _divergence_jit
    from expfam.errors import ParameterError

    n = divergence.KERNEL_MIN_SIZE
    S = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    S[n // 2] = [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    with pytest.raises(ParameterError, match="positive definite"):
        expfam.MultivariateNormal(np.zeros((n, 3)), S)
    # eta = (0, theta) with Lam = [[1, 2, 0], [2, 1, 0], [0, 0, 1]]; and a valid one
    eta = np.array([[0, 0, 0, -0.5, -2.0, 0, -0.5, 0, -0.5],
                    [0, 0, 0, -0.5, 0, 0, -0.5, 0, -0.5]], dtype=float)
    good = eta[[1, 1]]
    par = np.array([3.0])
    for name, a, b in (("mvn_kl", eta, good), ("mvn_kl", good, eta), ("mvn_entropy", eta, None)):
        _, bad = _divergence_jit.run(name, a, b, par)
        assert bad[0] and not bad[1]


def _gamma_kl_first(n):
    p, q = expfam.Gamma(np.full(n, 2.0), 1.0), expfam.Gamma(np.full(n, 3.0), 2.0)
    return float(expfam.kl(p, q)[0])


def test_kernel_thread_pool_across_threads_and_fork():
    """The kernels' thread pool (:func:`expfam._divergence_jit.run`) serves concurrent
    callers, and a process forked after it started (whose pool threads do not exist)
    makes its own: the same values as the closed form everywhere."""
    import multiprocessing
    from concurrent.futures import ThreadPoolExecutor

    n = 16 * divergence.KERNEL_MIN_SIZE  # several chunks per thread
    want = float(gamma_kl(expfam.Gamma(2.0, 1.0).natural, expfam.Gamma(3.0, 2.0).natural))
    assert abs(_gamma_kl_first(n) - want) < 1e-15
    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(_gamma_kl_first, [n] * 3))
    with multiprocessing.get_context("fork").Pool(1) as procs:
        got += procs.map(_gamma_kl_first, [n])
    assert all(abs(g - want) < 1e-15 for g in got)
