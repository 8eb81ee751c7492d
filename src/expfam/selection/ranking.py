"""From the per-fold moments to the ranking: fits, held-out cross-entropies, paired
standard errors, AIC and BIC.

Fold ``j`` is scored by the fit on the training set ``total - fold j`` (the sums are
additive, so the training set's statistics are a subtraction).  Under that fit the
held-out log density is linear in the columns: ``l(x) = c_j + b_j . v(x)`` with
``b_j = (1, eta_j)`` on ``[log h, u]`` and ``c_j = -A(eta_j)``.  So the held-out
log-likelihood is ``sum_j (c_j W_j + b_j . S1_j)`` and its spread about the mean ``L``
is ``sum_j [b_j' S2_j b_j + 2 (a_j - L) b_j . S1_j + W_j (a_j - L)^2]`` with
``a_j = c_j + b_j . m`` (moments about the centre ``m``); the paired difference of two
families is the same with ``b = (b_f, -b_g)`` over both column blocks.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ExpfamError
from ..fitting import fit_stats
from ..stats import SufficientStats
from .candidates import Candidate
from .engine import Engine
from .result import CandidateFit, SelectionResult

__all__ = ["rank"]

_FAILURES = (ExpfamError, ArithmeticError, ValueError, np.linalg.LinAlgError)


class _Failed(Exception):
    pass


def _fit(cand: Candidate, fixed, count, weight, sums, notes):
    """Batched fit (batch: the k training sets and all the data) from raw column sums
    ``[log h, u...]``."""
    cls = cand.family
    shift = None
    if cand.shift is not None:
        shift = np.broadcast_to(cand.shift, count.shape + np.shape(cand.shift))
    stats = SufficientStats(cls, fixed, count, weight, sums[..., 1:], sums[..., 0], shift=shift)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit_stats(stats)
    for w in caught:
        msg = f"{w.category.__name__}: {w.message}"
        if msg not in notes:
            notes.append(msg)
    eta_c = result._centred[0]
    if eta_c is None:
        eta_c = result.model.natural
    with np.errstate(all="ignore"):
        A = cls.log_partition(eta_c, fixed)
    return result, eta_c, A


def _lagrange(t_grid, t, m: int = 6):
    """Indices and weights of the ``m``-point Lagrange interpolation at ``t`` on the
    uniform grid ``t_grid`` (error of order ``h^m``: 1e-10 relative for the columns
    ``x^k`` at the grid's spacing)."""
    h = t_grid[1] - t_grid[0]
    i0 = int(np.clip(np.floor((t - t_grid[0]) / h) - (m // 2 - 1), 0, t_grid.size - m))
    nodes = t_grid[i0:i0 + m]
    L = np.ones(m)
    for a in range(m):
        for b in range(m):
            if a != b:
                L[a] *= (t - nodes[b]) / (nodes[a] - nodes[b])
    return np.arange(i0, i0 + m), L


def _check_constant(cand, value):
    """All observations equal ``value``: the sums of the folds are multiples of one
    observation's statistics, but subtractions round, and a boundary mean could look
    interior; the MLE exists iff it exists for the one value (exact statistics)."""
    fixed = cand.fixed_at(None if cand.grid is None else cand.grid[cand.grid.size // 2])
    stats = SufficientStats.from_data(cand.family, np.array([value]), **fixed)
    fit_stats(stats)  # raises BoundaryError where the MLE does not exist


def _profile_maximum(t_grid, y, g):
    """The maximum of the profile log-likelihood ``y`` on the grid ``t_grid`` near the
    grid's best point ``g``: the quartic through the five points ``g - 2 .. g + 2``
    (error of order ``h^5``; a parabola's is ``h^2`` times the skewness), and its
    curvature there."""
    h = t_grid[1] - t_grid[0]
    s = np.arange(-2, 3, dtype=np.float64)  # in steps from t_g
    c = np.polyfit(s, y[g - 2:g + 3] - y[g], 4)
    d1, d2 = np.polyder(c), np.polyder(c, 2)
    roots = np.roots(d1)
    roots = roots[(np.abs(roots.imag) < 1e-12) & (np.abs(roots.real) <= 1.0)].real
    if roots.size == 0:
        return t_grid[g], np.polyval(d2, 0.0) / h**2
    best = roots[np.argmax(np.polyval(c, roots))]
    return t_grid[g] + best * h, np.polyval(d2, best) / h**2


def _candidate_functionals(cand: Candidate, count, weight, sums, notes):
    """For each row of the batch (k training sets, then all the data): the held-out
    functional ``(c, b)`` over the candidate's columns, and the fit on all the data with
    the profiled parameter (if any) and its standard error."""
    w1 = 1 + cand.n_stats
    rows = count.shape[0]
    if cand.profile is None:
        result, eta, A = _fit(cand, cand.fixed, count[:-1], weight[:-1], sums[:-1], notes)
        full, eta_f, A_f = _fit(cand, cand.fixed, count[-1], weight[-1], sums[-1], notes)
        b = np.concatenate([np.ones((rows, 1)),
                            np.concatenate([eta.reshape(rows - 1, -1), eta_f.reshape(1, -1)])],
                           axis=1)
        converged = bool(np.all(result.converged) and np.all(full.converged))
        return np.append(-A, -A_f), b, full, None, None, converged
    G = cand.grid.size
    t_grid = np.log(cand.grid)
    loglik = np.empty((G, rows))
    for g in range(G):
        r, _, _ = _fit(cand, cand.fixed_at(cand.grid[g]), count, weight,
                       sums[:, g * w1:(g + 1) * w1], notes)
        loglik[g] = r.loglik
    best = np.argmax(np.where(np.isfinite(loglik), loglik, -np.inf), axis=0)
    if np.any((best < 2) | (best > G - 3)):
        raise _Failed(f"the profile likelihood of {cand.profile} is largest at the edge of "
                      f"its grid [{cand.grid[0]:.4g}, {cand.grid[-1]:.4g}] (set from the first "
                      f"observations): the data do not look stationary, or pass "
                      f"({cand.family.name!r}, {{{cand.profile!r}: value}})")
    const = np.empty(rows)
    b = np.zeros((rows, cand.width))
    converged = True
    full = theta_full = se_theta = None
    for r in range(rows):
        t_star, curv = _profile_maximum(t_grid, loglik[:, r], best[r])
        idx, L = _lagrange(t_grid, t_star)
        theta = float(np.exp(t_star))
        s = sum(L[a] * sums[r, i * w1:(i + 1) * w1] for a, i in enumerate(idx))
        fr, eta, A = _fit(cand, cand.fixed_at(theta), count[r], weight[r], s, notes)
        converged &= bool(np.all(fr.converged))
        const[r] = -A
        coef = np.concatenate([[1.0], np.ravel(eta)])
        for a, i in enumerate(idx):
            b[r, i * w1:(i + 1) * w1] = L[a] * coef
        if r == rows - 1:
            full, theta_full = fr, theta
            se_theta = theta / np.sqrt(-curv) if curv < 0 else np.nan
    return const, b, full, theta_full, se_theta, converged


def _heldout(mom, cols, const, b):
    """Held-out mean log density and the variance sum ``sum w (l - L)^2`` for the
    functionals ``(const_j, b_j)`` over the columns ``cols``."""
    m = mom.centre[cols]
    s1 = mom.s1[:, cols]
    a = const + b @ m
    total = np.sum(mom.weight * a + np.sum(b * s1, axis=1))
    W = mom.weight.sum()
    L = total / W
    s2 = mom.s2[:, cols][:, :, cols]
    quad = np.einsum("ji,jik,jk->j", b, s2, b)
    var_sum = np.sum(quad + 2 * (a - L) * np.sum(b * s1, axis=1) + mom.weight * (a - L) ** 2)
    return L, max(var_sum, 0.0), W


def rank(engine: Engine, folds: int) -> SelectionResult:
    """Fit every candidate on every training set and on all the data, and rank them."""
    mom = engine.full_moments()
    failed, skipped = {}, dict(engine.skipped)
    if mom is None:
        return SelectionResult([], skipped, failed, 0, 0.0, folds)
    raw = mom.raw_sums()
    count = np.concatenate([mom.count.sum() - mom.count, [mom.count.sum()]])
    weight = np.concatenate([mom.weight.sum() - mom.weight, [mom.weight.sum()]])
    W = float(mom.weight.sum())
    rows, blocks = [], {}
    for cand in engine.active:
        if cand.label in skipped:
            continue
        cols = np.arange(cand.offset, cand.offset + cand.width)
        sums = np.concatenate([raw.sum(axis=0)[None, :] - raw, raw.sum(axis=0)[None, :]])[:, cols]
        notes: list = []
        try:
            if np.any(mom.bad[cols]):
                raise _Failed("its statistics overflow float64 (or leave the domain of a "
                              "logarithm) for some observations")
            if engine.lo == engine.hi:
                _check_constant(cand, engine.lo)
            if np.any(count[:-1] == 0):
                raise _Failed(f"{folds} folds for {int(count[-1])} observations: a training set "
                              f"is empty")
            with np.errstate(all="ignore"):
                const, b, full, theta, se_theta, converged = _candidate_functionals(
                    cand, count, weight, sums, notes)
                L, var_sum, _ = _heldout(mom, cols, const[:-1], b[:-1])
            if not np.isfinite(L):
                raise _Failed("the held-out log-likelihood is not finite")
        except _Failed as exc:
            failed[cand.label] = str(exc)
            continue
        except _FAILURES as exc:
            failed[cand.label] = f"{type(exc).__name__}: {exc}"
            continue
        fixed = dict(full.model.fixed)
        params, se = dict(full.params), dict(full.se)
        if cand.profile is not None:
            params = {cand.profile: theta, **params}
            se = {cand.profile: se_theta, **se}
        k = cand.n_params
        loglik = float(full.loglik)
        row = CandidateFit(
            family=cand.label, params=params, se=se, fixed=fixed, n_params=k, loglik=loglik,
            aic=2 * k - 2 * loglik, bic=k * np.log(W) - 2 * loglik,
            cross_entropy=-L, cross_entropy_se=float(np.sqrt(var_sum / W) / np.sqrt(W)),
            converged=converged, discrete=bool(cand.family.discrete), notes=notes,
            fit=full)
        rows.append(row)
        blocks[cand.label] = (cols, const[:-1], b[:-1])
    rows.sort(key=lambda r: r.cross_entropy)
    if rows:
        cols_b, const_b, b_b = blocks[rows[0].family]
        for row in rows[1:]:
            cols, const, b = blocks[row.family]
            with np.errstate(all="ignore"):
                d, var_sum, _ = _heldout(mom, np.concatenate([cols, cols_b]), const - const_b,
                                         np.concatenate([b, -b_b], axis=1))
            row.delta = -d
            row.delta_se = float(np.sqrt(var_sum / W) / np.sqrt(W))
    return SelectionResult(rows, skipped, failed, engine.offset, W, folds)
