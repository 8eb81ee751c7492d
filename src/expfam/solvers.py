"""Mean -> natural maps: the safeguarded Newton iteration on the convex dual.

The MLE solves ``grad A(eta) = mu``.  It is the minimiser of the convex function
``f(eta) = A(eta) - eta . mu`` whose gradient is the (negative) moment residual of the
seed's eq. 5 and whose Hessian is the Fisher information.  Newton's method on ``f`` with
backtracking (stay in the natural domain, decrease ``f`` or the residual) converges
globally and quadratically near the solution.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validation import format_index, show_group
from .errors import BoundaryError, ConvergenceWarning, FloatRangeError, ShapeError

__all__ = ["SolveResult", "closed_form", "newton", "newton_1d", "iterate", "relative_residual",
           "check_interior", "solve_mean_to_natural", "RTOL"]

#: default relative tolerance on the moment residual ``|grad A(eta) - mu| / |mu|``
RTOL = 1e-12


@dataclass(frozen=True)
class SolveResult:
    """Outcome of a mean -> natural map.

    Attributes
    ----------
    natural : ndarray, shape (..., k)
        Natural parameters.
    converged : ndarray of bool, shape (...)
        Whether each batch element reached the tolerance (always True for closed forms).
    n_iter : int
        Iterations used (0 for closed forms).
    mean : ndarray or None
        ``grad A(natural)`` when the solver computed it anyway (saves the caller a
        recomputation), else None.
    """

    natural: np.ndarray
    converged: np.ndarray
    n_iter: int = 0
    mean: np.ndarray | None = None


def closed_form(natural) -> SolveResult:
    """Wrap a closed-form mean -> natural map as a converged :class:`SolveResult`."""
    natural = np.asarray(natural, dtype=np.float64)
    return SolveResult(natural, np.ones(natural.shape[:-1], dtype=bool), 0)


def iterate(start, step, inputs, *, max_iter: int = 100):
    """Run an elementwise iteration to its fixed point, vectorised over NumPy arrays.

    The mathematics of the iteration is written once, array-agnostic (see
    :mod:`expfam._special`); this driver runs it on whole arrays, and the compiled driver
    (:func:`expfam._kernels.iterate_compiled`) runs the same functions one element at a time.

    Parameters
    ----------
    start : callable
        ``start(*inputs) -> state``: a tuple of arrays.
    step : callable
        ``step(state, *inputs) -> (state, done)``; ``done`` is a boolean array.
    inputs : tuple of ndarray
        Arrays of one shape (the elements).
    max_iter : int

    Returns
    -------
    state, done, n_iter
        The final state (tuple of arrays), which elements settled, and the iterations run.
    """
    inputs = tuple(np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*inputs))
    shape = inputs[0].shape
    flat = tuple(a.reshape(-1) for a in inputs)
    with np.errstate(all="ignore"):
        state = [np.array(np.broadcast_to(s, (flat[0].size,)), dtype=np.float64)
                 for s in start(*flat)]
        done = np.zeros(flat[0].size, dtype=bool)
        active = np.arange(flat[0].size)
        it = 0
        for it in range(1, max_iter + 1):  # noqa: B007 (the count is read after the loop)
            sel = slice(None) if active.size == done.size else active  # no gather while all run
            new, d = step(tuple(s[sel] for s in state), *(a[sel] for a in flat))
            for s, v in zip(state, new):
                s[sel] = v
            d = np.broadcast_to(d, np.shape(new[0]))
            done[sel] = d
            active = active[~d]
            if active.size == 0:
                break
    return tuple(s.reshape(shape) for s in state), done.reshape(shape), it


def relative_residual(cls, eta, mu, fixed, *, mean=None) -> np.ndarray:
    """``|grad A(eta) - mu| / max(|mu|, 1e-300)`` per batch element (``mean``: ``grad A(eta)``
    when already known)."""
    r = (cls.mean_from_natural(eta, fixed) if mean is None else mean) - mu
    # scale by max |mu_j| first so that the norms cannot overflow (|mu| up to 1e308)
    scale = np.maximum(np.max(np.abs(mu), axis=-1, keepdims=True), 1e-300)
    return np.linalg.norm(r / scale, axis=-1) / np.maximum(np.linalg.norm(mu / scale, axis=-1), 1e-300)


def newton(cls, mu, fixed, eta0, *, rtol: float = RTOL, max_iter: int = 100) -> SolveResult:
    """Vectorised safeguarded Newton iteration for ``grad A(eta) = mu``.

    Parameters
    ----------
    cls : ExponentialFamily subclass
    mu : ndarray, shape (..., k)
        Target mean parameters, interior of the mean domain.
    fixed : dict
        Fixed parameters of the family.
    eta0 : ndarray, shape (..., k)
        Starting point inside the natural domain.
    rtol : float
        Relative residual at which a batch element counts as converged.
    max_iter : int
        Maximum number of Newton steps.

    Returns
    -------
    SolveResult
        ``converged`` is False for the elements that did not reach ``rtol``.
    """
    mu = np.asarray(mu, dtype=np.float64)
    batch = mu.shape[:-1]
    k = mu.shape[-1]
    m = mu.reshape(-1, k)
    eta = np.array(np.broadcast_to(eta0, mu.shape), dtype=np.float64).reshape(-1, k)
    converged = np.zeros(m.shape[0], dtype=bool)
    scale = np.maximum(np.linalg.norm(m, axis=-1), 1e-300)
    it = 0
    with np.errstate(all="ignore"):
        g = cls.mean_from_natural(eta, fixed) - m
        gnorm = np.linalg.norm(g, axis=-1)
        for it in range(1, max_iter + 1):
            converged = gnorm <= rtol * scale
            active = np.flatnonzero(~converged)
            if active.size == 0:
                it -= 1
                break
            ea, ga, ma = eta[active], g[active], m[active]
            H = cls.fisher_from_natural(ea, fixed)
            step = _solve(H, ga)
            f0 = cls.log_partition(ea, fixed) - np.sum(ea * ma, axis=-1)
            slope = -np.sum(ga * step, axis=-1)  # directional derivative along -step
            t = np.ones(active.size)
            accepted = np.zeros(active.size, dtype=bool)
            new_e, new_g = ea.copy(), ga.copy()
            for _ in range(60):
                todo = np.flatnonzero(~accepted)
                if todo.size == 0:
                    break
                cand = ea[todo] - t[todo, None] * step[todo]
                ok = np.asarray(cls.natural_in_domain(cand, fixed)) & np.isfinite(cand).all(-1)
                f1 = np.full(todo.size, np.inf)
                g1 = np.full((todo.size, k), np.inf)
                if ok.any():
                    f1[ok] = cls.log_partition(cand[ok], fixed) - np.sum(cand[ok] * ma[todo][ok], axis=-1)
                    g1[ok] = cls.mean_from_natural(cand[ok], fixed) - ma[todo][ok]
                armijo = f1 <= f0[todo] + 1e-4 * t[todo] * slope[todo]
                smaller = np.linalg.norm(g1, axis=-1) < np.linalg.norm(ga[todo], axis=-1)
                good = ok & np.isfinite(f1) & np.isfinite(g1).all(-1) & (armijo | smaller)
                acc = todo[good]
                new_e[acc], new_g[acc] = cand[good], g1[good]
                accepted[acc] = True
                t[todo[~good]] *= 0.5
            eta[active], g[active] = new_e, new_g
            gnorm[active] = np.linalg.norm(new_g, axis=-1)
            if not accepted.any():
                break  # stalled: no element can make progress
        converged = gnorm <= rtol * scale
    return SolveResult(eta.reshape(mu.shape), converged.reshape(batch), it)


def _solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``H step = g`` per batch element; fall back to least squares if singular."""
    try:
        return np.linalg.solve(H, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.stack([np.linalg.lstsq(h, v, rcond=None)[0] for h, v in zip(H, g)])


def newton_1d(f, fprime, x0, lo, hi, *, increasing: bool, args=(), rtol=1e-15, max_iter=200):
    """Vectorised safeguarded Newton iteration for monotone scalar equations ``f(x) = 0``.

    Parameters
    ----------
    f, fprime : callable
        ``f(x, *args)`` and its derivative, elementwise; called on the elements that have
        not converged yet (``args`` are subset to match).
    x0, lo, hi : array_like
        Starting point and bracket ``lo < root < hi`` (``hi`` may be ``inf``).
    increasing : bool
        Whether ``f`` increases with ``x``.
    args : tuple of array_like
        Arrays broadcast to the shape of ``x0``, passed on to ``f`` and ``fprime``.
    rtol : float or array_like
        Relative step (or bracket width) at which an element has converged.
    max_iter : int

    Returns
    -------
    x, converged, n_iter

    Notes
    -----
    A Newton step that leaves the bracket is replaced by bisection (geometric when
    ``lo > 0`` and the bracket spans a factor > 4; doubling while ``hi`` is infinite).  An
    element also stops at the rounding floor of ``f``: a tiny step that did not decrease
    ``|f|`` (the better of the last two iterates is kept).
    """
    x0 = np.asarray(x0, dtype=np.float64)
    shape = x0.shape
    flat = lambda a: np.broadcast_to(np.asarray(a, dtype=np.float64), shape).ravel().copy()  # noqa: E731
    x, lo, hi, tol = flat(x0), flat(lo), flat(hi), flat(rtol)
    args = [np.broadcast_to(np.asarray(a), shape).ravel() for a in args]
    done = np.zeros(x.size, dtype=bool)
    f_prev = np.full(x.size, np.inf)
    x_prev = x.copy()
    active = np.arange(x.size)
    it = 0
    with np.errstate(all="ignore"):
        for it in range(1, max_iter + 1):  # noqa: B007 (the count is read after the loop)
            sel = slice(None) if active.size == x.size else active  # no gather while all run
            xa, la, ha, ta = x[sel], lo[sel], hi[sel], tol[sel]
            aa = [a[sel] for a in args]
            fx = f(xa, *aa)
            # at the rounding floor of f: a tiny step that did not decrease |f|
            stalled = (np.abs(fx) >= f_prev[sel]) & (np.abs(xa - x_prev[sel]) <= 1e-9 * np.abs(xa))
            below = (fx < 0) if increasing else (fx > 0)  # root lies above x
            la = np.where(below, xa, la)
            ha = np.where(below, ha, xa)
            xn = xa - fx / fprime(xa, *aa)
            geometric = (la > 0) & (ha > 4 * la)
            mid = np.where(
                np.isfinite(ha),
                np.where(geometric, np.sqrt(la * ha), 0.5 * (la + ha)),
                np.maximum(2.0 * np.abs(xa), 1.0),
            )
            xn = np.where(~np.isfinite(xn) | (xn < la) | (xn > ha), mid, xn)
            xn = np.where(fx == 0, xa, xn)  # an exact root
            xn = np.where(stalled, x_prev[sel], xn)  # keep the better of the last two
            # quadratic convergence: after a Newton step of relative size <= sqrt(rtol),
            # the error of the new iterate is O(rtol)
            d = (stalled | (fx == 0) | (np.abs(xn - xa) <= np.sqrt(ta) * np.abs(xa))
                 | (ha - la <= ta * np.abs(xa)))
            lo[sel], hi[sel], f_prev[sel], x_prev[sel] = la, ha, np.abs(fx), xa
            x[sel] = xn
            done[sel] = d
            active = active[~d]
            if active.size == 0:
                break
    return x.reshape(shape), done.reshape(shape), it


def check_interior(cls, mu, fixed, *, groups=None, where: str = "the data",
                   consequence: str = "", from_data: bool = False) -> None:
    """Raise :class:`~expfam.errors.BoundaryError`, naming the batch element or group,
    where ``mu`` is not in the interior of the mean domain (the MLE does not exist).

    ``where`` names a single distribution's data; ``consequence`` is appended to the
    explanation (e.g. what that means for a learner).  With ``from_data`` (``mu`` is a
    mean of data statistics) a boundary that the family attributes to float64 range
    (``cls.range_problem``: an overflow or underflow of the sums) raises
    :class:`~expfam.errors.FloatRangeError` instead.
    """
    k = cls.natural_dim(fixed)
    if mu.ndim == 0 or mu.shape[-1] != k:
        raise ShapeError(f"{cls.__name__} has {k} mean parameter(s); got shape {mu.shape}")
    interior = np.asarray(cls.mean_in_interior(mu, fixed))
    if interior.all():
        return
    bad = np.flatnonzero(~interior)
    i = bad[0]
    rng_bad = (np.asarray(cls.range_problem(mu, fixed)).reshape(-1) if from_data
               else np.zeros(interior.size, dtype=bool))
    place = (
        show_group(groups[i]) if groups is not None
        else f"batch index {format_index(i, interior.shape)}" if interior.ndim
        else where
    )
    if rng_bad[i]:
        raise FloatRangeError(
            f"the mean of the sufficient statistics of {cls.__name__} for {place}, "
            f"{mu.reshape(-1, k)[i]}, left the range of float64: the sums overflowed, or "
            f"(squared) deviations underflowed to zero; the data are too large or too "
            f"small in magnitude for float64 statistics: rescale them")
    raise BoundaryError(
        f"the maximum-likelihood estimate of {cls.__name__} does not exist for {place}"
        f"{f' ({bad.size} batch elements in all)' if bad.size > 1 else ''}: the mean of "
        f"the sufficient statistics {mu.reshape(-1, k)[i]} lies on the boundary of the "
        f"mean domain ({cls.boundary_hint}){consequence}. Pass pseudo_count=... to "
        f"regularise with a conjugate prior."
    )


def solve_mean_to_natural(cls, mu, fixed, *, groups=None, from_data: bool = False) -> SolveResult:
    """Check that ``mu`` is interior, then map it to natural parameters.

    Raises
    ------
    BoundaryError
        The MLE does not exist for some batch element; the message names it.
    FloatRangeError
        With ``from_data``: the data's statistics overflowed or underflowed float64.
    """
    check_interior(cls, mu, fixed, groups=groups, from_data=from_data)
    sol = cls.natural_from_mean(mu, fixed)
    if not np.all(sol.converged):
        n_bad = int(np.size(sol.converged) - np.count_nonzero(sol.converged))
        warnings.warn(
            f"{cls.__name__}: the mean -> natural solver did not reach its tolerance for "
            f"{n_bad} batch element(s) after {sol.n_iter} iterations",
            ConvergenceWarning,
            stacklevel=3,
        )
    return sol
