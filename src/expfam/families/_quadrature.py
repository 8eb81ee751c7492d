"""Adaptive Gauss-Kronrod quadrature of ``h(x) exp(eta . u(x))`` on a 1-D interval.

The log partition of a user-defined family on an interval is
``A(eta) = log int_a^b h(x) exp(eta . u(x)) dx``.  It is computed in a variable ``t``
in which the integrand decays at both ends of a finite range:

- ``[a, b]`` finite: ``x = t``;
- ``[a, inf)``: ``x = a + e^t``; ``(-inf, b]``: ``x = b - e^{-t}``;
- ``(-inf, inf)``: ``x = sinh(t)``,

so that the integrand in ``t`` is ``exp(g(t))`` with
``g(t) = log h(x) + eta . u(x) + log dx/dt``.  A grid of ``GRID`` points in ``t`` locates
the modes of ``g`` (each local maximum within ``MODE_DROP`` nats of the highest, refined on a
zooming grid, its width from the curvature); they and points at 1, 2, 4, ... widths from
them become breakpoints of an adaptive 15-point Gauss-Kronrod rule (the 7-point Gauss rule
embedded in it gives the error estimate ``|K15 - G7|`` per segment, for the integrand and
its products with every statistic), segments are bisected until the estimates sum to
``rtol`` of their integrals.  Everything is computed on the log scale shifted by the
largest ``g`` (no overflow).

Tails beyond an infinite end's range (``|x| <= 1e8`` at first, extended to ``1e16``,
``1e32``, ``1e64`` when needed; ``x - a >= max(|a| 1e-15, 1e-300)`` at a finite end of a
half-line) are bounded by ``exp(g(T)) / lambda`` with ``lambda = -g'(T)`` the decay rate at
the range's end ``T``, which holds when ``g`` is concave beyond ``T`` (checked on the grid's
last points).  Where ``g`` does not decay (``A`` infinite: ``eta`` outside the natural
domain) or decays too slowly to reach ``tail_rtol`` within the largest range, no rule is
returned.

The result is a weighted node table: nodes ``x_i`` and log weights ``log w_i`` (Kronrod
weight times the Jacobian), so ``A = logsumexp(log w_i + log h(x_i) + eta . u(x_i))`` and
the moments are softmax-weighted sums; :func:`sample` inverts the CDF segment by segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre

__all__ = ["kronrod15", "IntervalMap", "QuadratureRule", "integrate", "sample"]

#: points of the grid that locates the modes
GRID = 4001
#: local maxima of the log integrand more than this many nats below the highest are ignored
MODE_DROP = 40.0
#: outer ranges |x| tried at an infinite end, in turn
OUTER = (1e8, 1e16, 1e32, 1e64)
#: most segments of the adaptive rule
MAX_SEGMENTS = 4000


def _kronrod15():
    """Nodes and weights of the 15-point Kronrod extension of the 7-point Gauss rule on
    [-1, 1], and the Gauss weights on the same nodes (0 at the Kronrod nodes).

    The 8 added nodes are the zeros of the Stieltjes polynomial ``E_8``, orthogonal to
    every polynomial of degree <= 7 against the weight ``P_7`` (Legendre basis; the
    inner products by a 40-point Gauss rule, exact here); the weights make the rule exact
    for ``P_0 .. P_14`` (it is then exact up to degree 23).
    """
    n = 7
    xg, wg = legendre.leggauss(n)
    xq, wq = legendre.leggauss(40)
    basis = [legendre.legval(xq, [0] * i + [1]) for i in range(n + 2)]
    gram = np.array([[np.sum(wq * basis[n] * basis[i] * basis[j]) for i in range(n + 1)]
                     for j in range(n + 1)])
    rhs = -np.array([np.sum(wq * basis[n] * basis[n + 1] * basis[j]) for j in range(n + 1)])
    coef = np.concatenate([np.linalg.solve(gram, rhs), [1.0]])
    x = np.sort(np.concatenate([xg, legendre.legroots(coef)]))
    V = np.array([legendre.legval(x, [0] * j + [1]) for j in range(2 * n + 1)])
    target = np.zeros(2 * n + 1)
    target[0] = 2.0
    wk = np.linalg.solve(V, target)
    wgk = np.zeros_like(x)
    for xi, wi in zip(xg, wg):
        wgk[np.argmin(np.abs(x - xi))] = wi
    return x, wk, wgk


_NODES, _WK, _WG = _kronrod15()


def kronrod15():
    """``(nodes, kronrod_weights, gauss_weights)`` of the G7-K15 pair on [-1, 1] (copies)."""
    return _NODES.copy(), _WK.copy(), _WG.copy()


class IntervalMap:
    """The change of variable ``x(t)`` of an interval (see the module docstring).

    Parameters
    ----------
    lo, hi : float
        The interval's ends (``-inf``/``inf`` allowed), ``lo < hi``.
    """

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = float(lo), float(hi)
        fin_lo, fin_hi = math.isfinite(self.lo), math.isfinite(self.hi)
        self.kind = {(True, True): "finite", (True, False): "right", (False, True): "left",
                     (False, False): "both"}[(fin_lo, fin_hi)]
        self.levels = 1 if self.kind == "finite" else len(OUTER)

    def _near(self, end: float) -> float:
        """Smallest distance to a finite end of a half-line that float64 resolves."""
        return math.log(max(abs(end) * 1e-15, 1e-300))

    def t_range(self, level: int) -> tuple[float, float]:
        """The range of ``t`` at extension ``level`` (0: ``|x| <= 1e8``)."""
        if self.kind == "finite":
            return self.lo, self.hi
        far = math.log(OUTER[level])
        if self.kind == "right":
            return self._near(self.lo), far
        if self.kind == "left":
            return -far, -self._near(self.hi)
        return -math.asinh(OUTER[level]), math.asinh(OUTER[level])

    def x(self, t):
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "finite":
            return t
        if self.kind == "right":
            return self.lo + np.exp(t)
        if self.kind == "left":
            return self.hi - np.exp(-t)
        return np.sinh(t)

    def log_jacobian(self, t):
        """``log dx/dt``."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "finite":
            return np.zeros_like(t)
        if self.kind == "right":
            return t
        if self.kind == "left":
            return -t
        # log cosh t without overflow
        a = np.abs(t)
        return a + np.log1p(np.exp(-2 * a)) - math.log(2.0)

    def grid(self, level: int) -> np.ndarray:
        """``GRID`` points of ``t`` strictly inside the range (no end is evaluated)."""
        t0, t1 = self.t_range(level)
        return t0 + (t1 - t0) * (np.arange(GRID) + 0.5) / GRID


@dataclass(frozen=True)
class QuadratureRule:
    """A converged quadrature of ``h exp(eta . u)``: a weighted node table.

    Attributes
    ----------
    x, U, log_h : ndarray
        Nodes ``(N,)``, their statistics ``(N, k)`` and log base measure ``(N,)``.
    log_w : ndarray, shape (N,)
        Log of Kronrod weight times Jacobian: ``A = logsumexp(log_w + log_h + U eta)``.
    log_partition : float
    error : float
        Estimated bound on the error of ``A`` (the summed ``|K15 - G7|`` estimates and
        the tail bounds, relative to the integral).
    converged : bool
        Whether the error estimate reached the requested tolerance.
    segments : ndarray, shape (M, 2)
        The segments ``[t_l, t_r]`` of the rule; node ``15 m + j`` lies in segment ``m``.
    """

    x: np.ndarray
    U: np.ndarray
    log_h: np.ndarray
    log_w: np.ndarray
    log_partition: float
    error: float
    converged: bool
    segments: np.ndarray


def _log_integrand(evaluate, imap, eta, t, strict=True):
    """``(g, x, U, log_h)`` at the points ``t`` (any shape); ``U`` is ``t.shape + (k,)``."""
    x = imap.x(t)
    U, log_h = evaluate(x.reshape(-1), strict=strict)
    with np.errstate(all="ignore"):
        g = log_h + U @ eta + imap.log_jacobian(t).reshape(-1)
    shape = np.shape(t)
    return g.reshape(shape), x, U.reshape(shape + (eta.shape[0],)), log_h.reshape(shape)


def _tail(g, t, end: int):
    """Log of a bound on the integral of ``exp(g)`` beyond the grid's end (``end``: -1 the
    right end, 0 the left), or ``inf`` when ``g`` does not decay there.  ``g`` is assumed
    concave beyond the end (checked on the last 50 points): the bound is
    ``exp(g(T)) / lambda`` with ``lambda`` the decay rate at the end ``T``."""
    sl = slice(-50, None) if end == -1 else slice(None, 50)
    gs, ts = g[sl], t[sl]
    if end == 0:
        gs, ts = gs[::-1], -ts[::-1]
    if not np.all(np.isfinite(gs)):
        return -math.inf if np.all(gs == -np.inf) else math.inf
    slope = np.diff(gs) / np.diff(ts)
    if not slope[-1] < 0:
        return math.inf
    slack = 64 * np.finfo(float).eps * (np.max(np.abs(gs)) + 1) / np.min(np.abs(np.diff(ts)))
    if np.any(np.diff(slope) > slack):  # the decay rate shrinks: not concave
        return math.inf
    return float(gs[-1] - math.log(-slope[-1]))


def _modes(g, t, evaluate, imap, eta, t_lo, t_hi, strict):
    """Refined modes of ``g`` and their widths in ``t``: the local maxima of the grid
    within ``MODE_DROP`` nats of the highest, each refined by zooming (three rounds of 33
    points on its bracket, all modes in one evaluation per round), its width
    ``1 / sqrt(-g'')`` from the curvature at the best point."""
    top = np.max(g)
    gg = np.where(np.isfinite(g), g, -np.inf)
    inner = (gg[1:-1] >= gg[:-2]) & (gg[1:-1] >= gg[2:]) & (gg[1:-1] > top - MODE_DROP)
    idx = list(np.flatnonzero(inner) + 1)
    for end, nb in ((0, 1), (len(g) - 1, len(g) - 2)):  # a maximum at a grid end
        if gg[end] > top - MODE_DROP and gg[end] >= gg[nb]:
            idx.append(end)
    idx = np.array(sorted(set(idx), key=lambda i: -gg[i])[:32], dtype=np.int64)
    if idx.size == 0:
        return []
    a = np.where(idx == 0, t_lo, t[np.maximum(idx - 1, 0)])
    b = np.where(idx == len(t) - 1, t_hi, t[np.minimum(idx + 1, len(t) - 1)])
    frac = (np.arange(33) + 0.5) / 33
    for _ in range(3):
        pts = a[:, None] + (b - a)[:, None] * frac
        vals = _log_integrand(evaluate, imap, eta, pts, strict)[0]
        vals = np.where(np.isfinite(vals), vals, -np.inf)
        j = np.argmax(vals, axis=1)
        h = (b - a) / 33
        best = pts[np.arange(idx.size), j]
        a, b = np.maximum(best - 2 * h, t_lo), np.minimum(best + 2 * h, t_hi)
    h = (b - a) / 4
    g3 = _log_integrand(evaluate, imap, eta, np.stack([best - h, best, best + h], -1), strict)[0]
    with np.errstate(all="ignore"):
        curv = (g3[:, 0] - 2 * g3[:, 1] + g3[:, 2]) / h ** 2
        width = np.where(np.isfinite(curv) & (curv < 0), 1.0 / np.sqrt(-curv), 4 * h)
    width = np.clip(width, 1e-9 * (t_hi - t_lo), t_hi - t_lo)
    return list(zip(best.tolist(), width.tolist()))


def _breakpoints(modes, t_lo, t_hi):
    """Initial segments: 16 equal ones, and every mode with points 1, 2, 4, ..., 128
    widths on either side."""
    pts = list(np.linspace(t_lo, t_hi, 17))
    for m, w in modes:
        pts.append(m)
        for j in range(8):
            pts += [m - w * 2.0 ** j, m + w * 2.0 ** j]
    pts = np.unique(np.clip(pts, t_lo, t_hi))
    return np.stack([pts[:-1], pts[1:]], axis=-1)[np.diff(pts) > 0]


def integrate(evaluate, imap: IntervalMap, eta, *, rtol: float = 1e-11,
              tail_rtol: float = 1e-16) -> QuadratureRule | None:
    """Adaptive quadrature of ``h(x) exp(eta . u(x))`` on ``imap``'s interval.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(x, strict) -> (U, log_h)`` for a 1-D array of points of the interval:
        shapes ``(n, k)`` and ``(n,)``; with ``strict`` non-finite values raise (naming
        the point), without (points beyond ``|x| = 1e8``) they are returned.
    imap : IntervalMap
    eta : ndarray, shape (k,)
    rtol : float
        Target of the summed error estimates, relative to each integral.
    tail_rtol : float
        Largest tail bound accepted beyond an infinite end's range, relative to the
        integral, before the range is extended.

    Returns
    -------
    QuadratureRule or None
        ``None`` when the integral diverges or its tails cannot be bounded (``A`` is
        infinite, or ``eta`` lies on the edge of the natural domain).
    """
    eta = np.asarray(eta, dtype=np.float64)
    for level in range(imap.levels):
        last = level == imap.levels - 1
        strict = level == 0
        t = imap.grid(level)
        g = _log_integrand(evaluate, imap, eta, t, strict)[0]
        g = np.where(np.isnan(g), np.inf, g)  # overflow beyond 1e8: no decay there
        if np.any(g == np.inf) or not np.any(np.isfinite(g)):
            return None
        top = float(np.max(g))
        tails = []
        if imap.kind in ("left", "both"):
            tails.append(_tail(g, t, 0))
        if imap.kind in ("right", "both"):
            tails.append(_tail(g, t, -1))
        # the tails beyond the range relative to the grid's (Riemann) integral
        log_grid = top + math.log(float(np.sum(np.exp(g - top))) * (t[1] - t[0]))
        log_tail_rel = max(tails, default=-math.inf) - log_grid
        if log_tail_rel > math.log(tail_rtol) and not last:
            continue  # the mass reaches beyond this range: extend it
        break
    if log_tail_rel > math.log(1e-8):
        return None  # no decay, or tails too heavy to integrate within the largest range
    t_lo, t_hi = imap.t_range(level)
    modes = _modes(g, t, evaluate, imap, eta, t_lo, t_hi, strict)
    return _adaptive(evaluate, imap, eta, _breakpoints(modes, t_lo, t_hi), top, rtol,
                     log_tail_rel, strict)


def _segment_nodes(seg):
    mid, half = 0.5 * (seg[:, 0] + seg[:, 1]), 0.5 * (seg[:, 1] - seg[:, 0])
    return mid[:, None] + half[:, None] * _NODES, half


def _adaptive(evaluate, imap, eta, segments, top, rtol, log_tail_rel, strict):
    """Bisect the segments with the largest ``|K15 - G7|`` until the estimates sum to
    ``rtol`` of each integral (the integrand, and the integrand times each statistic)."""
    k = eta.shape[0]
    # per segment: ends (M, 2), t, g, x, log_h (M, 15), U (M, 15, k), half-length (M,)
    have = None
    work = segments
    error, converged = math.inf, False
    for _ in range(60):
        t, half = _segment_nodes(work)
        g, x, U, log_h = _log_integrand(evaluate, imap, eta, t, strict)
        g = np.where(np.isnan(g), -np.inf, g)  # (lenient ranges only) no mass there
        new = [work, t, g, x, log_h, U, half]
        have = new if have is None else [np.concatenate([a, b]) for a, b in zip(have, new)]
        seg, _, G, _, _, Uall, H = have
        top = max(top, float(np.max(G)))
        e = np.exp(G - top)
        with np.errstate(all="ignore"):
            comps = np.concatenate([e[..., None], e[..., None] * Uall], axis=-1)
        comps = np.where(np.isfinite(comps), comps, 0.0)
        K = np.einsum("mjc,j->mc", comps, _WK) * H[:, None]
        Gs = np.einsum("mjc,j->mc", comps, _WG) * H[:, None]
        scale = np.maximum(np.sum(np.abs(K), axis=0), 1e-300)
        err = np.max(np.abs(K - Gs) / scale, axis=-1)
        error = float(np.sum(err))
        if error <= rtol or seg.shape[0] >= MAX_SEGMENTS:
            converged = error <= rtol
            break
        split = err > rtol / (2 * seg.shape[0])
        s = seg[split]
        have = [a[~split] for a in have]
        mid = 0.5 * (s[:, 0] + s[:, 1])
        work = np.concatenate([np.stack([s[:, 0], mid], -1), np.stack([mid, s[:, 1]], -1)])
    order = np.argsort(have[0][:, 0])
    seg, t, _, x, log_h, U, half = (a[order] for a in have)
    log_w = (np.log(_WK)[None, :] + np.log(half)[:, None] + imap.log_jacobian(t)).reshape(-1)
    x, U, log_h = x.reshape(-1), U.reshape(-1, k), log_h.reshape(-1)
    keep = np.isfinite(log_h) & np.all(np.isfinite(U), axis=-1)  # nodes of no mass (lenient)
    if not keep.all():
        z = np.where(keep, 0.0, -np.inf)
        log_h = np.where(keep, log_h, -np.inf)
        U = np.where(keep[:, None], U, 0.0)
        log_w = log_w + z
    z = log_w + log_h + U @ eta
    zmax = float(np.max(z))
    A = zmax + math.log(float(np.sum(np.exp(z - zmax))))
    total_error = error + (math.exp(log_tail_rel) if log_tail_rel > -700 else 0.0)
    return QuadratureRule(x, U, log_h, log_w, A, total_error, converged, seg)


#: Legendre coefficients of the degree-14 interpolant from its values at the 15 nodes, and
#: of its antiderivative from -1 (degree 15)
_TO_LEGENDRE = np.linalg.inv(legendre.legvander(_NODES, 14))
_ANTIDERIVATIVE = np.stack([legendre.legint(np.eye(15)[j], lbnd=-1) for j in range(15)], axis=-1)


def sample(rule: QuadratureRule, imap: IntervalMap, eta, size: int, rng) -> np.ndarray:
    """``size`` draws by inverting the CDF of the quadrature.

    A segment is chosen by its mass (its nodes' summed weights); inside it the density in
    ``t`` is the degree-14 polynomial through its values at the segment's 15 Kronrod nodes
    (which the rule integrates exactly, so the segment masses agree), and
    ``F(t) = target`` is solved for that polynomial's integral by a safeguarded Newton
    iteration (bisection when a step leaves the bracket).
    """
    eta = np.asarray(eta, dtype=np.float64)
    z = rule.log_w + rule.log_h + rule.U @ eta - rule.log_partition
    p = np.exp(z).reshape(-1, 15)
    mass = p.sum(axis=1)
    cdf = np.cumsum(mass)
    r = rng.random(size) * cdf[-1]
    m = np.minimum(np.searchsorted(cdf, r, side="right"), mass.size - 1)
    seg = rule.segments
    half = 0.5 * (seg[:, 1] - seg[:, 0])
    # density per unit s in [-1, 1] at the nodes: p / K15 weight; its Legendre coefficients
    coef = (p / _WK) @ _TO_LEGENDRE.T  # (M, 15)
    anti = coef @ _ANTIDERIVATIVE.T  # (M, 16): integral from -1 of the density in s
    target = np.clip(r - (cdf[m] - mass[m]), 0.0, mass[m])
    lo, hi = np.full(size, -1.0), np.full(size, 1.0)
    s = np.clip(2.0 * target / np.maximum(mass[m], 1e-300) - 1.0, -1.0, 1.0)
    active = np.arange(size)
    with np.errstate(all="ignore"):
        for _ in range(100):
            if active.size == 0:
                break
            sa, ma = s[active], m[active]
            F = np.einsum("nl,nl->n", legendre.legvander(sa, 15), anti[ma])
            dens = np.einsum("nl,nl->n", legendre.legvander(sa, 14), coef[ma])
            diff = F - target[active]
            below = diff < 0
            lo[active] = np.where(below, sa, lo[active])
            hi[active] = np.where(below, hi[active], sa)
            new = sa - diff / dens
            bad = ~np.isfinite(new) | (new <= lo[active]) | (new >= hi[active])
            new = np.where(bad, 0.5 * (lo[active] + hi[active]), new)
            ok = (np.abs(diff) <= 1e-14 * mass[ma]) | (hi[active] - lo[active] <= 1e-15)
            s[active] = np.where(ok, sa, new)
            active = active[~ok]
    mid = 0.5 * (seg[m, 0] + seg[m, 1])
    return imap.x(mid + half[m] * s)
