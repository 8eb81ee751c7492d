"""User-defined exponential families: ``define_family(u, support, log_h=None, name=...)``.

A user writes down ``p(x | eta) = h(x) exp(eta . u(x) - A(eta))`` by its statistics ``u``,
its log base measure ``log h`` and its support, and gets a family class registered like
the built-in ones (``expfam.fit``, densities, sampling, entropy, KL, standard errors, the
accumulator, files, Dask and the stochastic learner).  ``A`` and its derivatives come
from the support:

- a finite set of states (any shape of state): enumeration
  (:class:`~expfam.families.FiniteSupportFamily`);
- the integers ``{lo, lo + 1, ...}``: a series summed in log space to a stated truncation
  bound (:mod:`._series`);
- an interval of the real line (infinite ends allowed): adaptive Gauss-Kronrod quadrature
  with an error estimate (:mod:`._quadrature`).

The familiar parameters are the natural parameters themselves, one per statistic
(named ``eta1 .. etak`` unless ``param_names`` says otherwise).  The mean -> natural map is
the generic safeguarded Newton iteration (:func:`expfam.solvers.newton`) from the family's
start: ``start=`` if given, else ``eta = 0`` when the base measure is normalisable, else
the first of ``-e_j, -0.01 e_j, -100 e_j, +e_j, ...`` (``j`` from the last statistic to the
first) at which ``A`` is finite.  The definition is checked when it is made: the shapes
and finiteness of ``u`` and ``log h`` on the support (naming the state), a finite ``A`` at
the start, and the affine independence of the statistics (the weighted, centred
statistics at the start have full rank: otherwise the parameters are not identifiable).
"""

from __future__ import annotations

import math
import re
import weakref
from typing import Callable

import numpy as np

from ..domains import FiniteSet, Integers, Interval
from ..errors import DefinitionError, ParameterError
from ..solvers import RTOL, SolveResult, newton
from ._base import _BY_KEY, ExponentialFamily, _normalise
from ._finite import FiniteSupportFamily
from ._quadrature import IntervalMap, integrate, sample
from ._series import sum_series
from ._tabulated import TabulatedFamily

__all__ = ["define_family", "UserFamily"]

#: the module named by user-defined classes (not importable: they pickle by value)
USER_MODULE = "expfam.user_defined"
#: smallest singular value, relative to the largest, of the standardised statistics
RANK_RTOL = 1e-7
#: states of the integers used to decide whether a mean lies inside the mean domain
HULL_STATES = 4096


class _Statistics:
    """The user's ``u`` and ``log h`` with their outputs checked (shape, finiteness)."""

    def __init__(self, u: Callable, log_h: Callable | None, event_shape: tuple, family: str):
        if not callable(u):
            raise DefinitionError(f"{family}: u must be a callable; got {u!r}")
        if log_h is not None and not callable(log_h):
            raise DefinitionError(f"{family}: log_h must be a callable or None; got {log_h!r}")
        self.u, self.log_h_fn = u, log_h
        self.event_shape = tuple(event_shape)
        self.family = family
        self.k: int | None = None  # set by the first evaluation
        self.names: tuple[str, ...] = ()

    def _where(self, x, i) -> str:
        v = x[i]
        shown = f"{float(v)!r}" if np.ndim(v) == 0 else np.array2string(np.asarray(v), precision=6)
        return f"the state x = {shown}"

    def __call__(self, x, strict: bool = True):
        """``(U, log_h)`` of the states ``x`` (shape ``(n, *event)``): ``(n, k)``, ``(n,)``."""
        x = np.asarray(x, dtype=np.float64)
        n = x.shape[0]
        with np.errstate(all="ignore"):
            raw = self.u(x)
            if isinstance(raw, (tuple, list)):
                raw = np.stack(np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in raw]),
                               axis=-1) if len(raw) else np.zeros((n, 0))
            U = np.asarray(raw, dtype=np.float64)
            lh = (np.zeros(n) if self.log_h_fn is None
                  else np.asarray(self.log_h_fn(x), dtype=np.float64))
        if self.k is None:
            if U.shape == (n,):
                self.k = 1
            elif U.ndim == 2 and U.shape[0] == n and U.shape[1] >= 1:
                self.k = U.shape[1]
            else:
                raise DefinitionError(
                    f"{self.family}: u must return an array of shape (n, k) (or (n,) for one "
                    f"statistic, or a tuple of k arrays of shape (n,)) for n states; given "
                    f"states of shape {x.shape} it returned shape {U.shape}")
        if U.shape == (n,) and self.k == 1:
            U = U[:, None]
        if U.shape != (n, self.k):
            raise DefinitionError(
                f"{self.family}: u returned shape {U.shape} for states of shape {x.shape}; "
                f"expected ({n}, {self.k})")
        if lh.shape != (n,):
            if lh.ndim == 0:
                lh = np.full(n, float(lh))
            else:
                raise DefinitionError(
                    f"{self.family}: log_h returned shape {lh.shape} for states of shape "
                    f"{x.shape}; expected ({n},)")
        if strict:
            self._check_finite(U, lh, x)
        return U, lh

    def _check_finite(self, U, lh, x):
        bad = ~np.all(np.isfinite(U), axis=-1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            j = int(np.flatnonzero(~np.isfinite(U[i]))[0])
            name = repr(self.names[j]) if self.names else f"number {j}"
            raise DefinitionError(
                f"{self.family}: u returned {float(U[i, j])!r} at {self._where(x, i)} "
                f"(statistic {name}; {int(bad.sum())} state(s) in all); u must be finite on "
                f"the support")
        bad = ~np.isfinite(lh)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DefinitionError(
                f"{self.family}: log_h returned {float(lh[i])!r} at {self._where(x, i)} "
                f"({int(bad.sum())} state(s) in all); log h must be finite on the support")

    def observations(self, x):
        """``(U, log_h)`` of observations of any leading shape (``(..., *event)``)."""
        x = np.asarray(x, dtype=np.float64)
        ev = len(self.event_shape)
        obs = x.shape[:x.ndim - ev]
        n = int(np.prod(obs, dtype=np.int64))
        if n == 0:
            return np.zeros(obs + (self.k,)), np.zeros(obs)
        U, lh = self(x.reshape((n,) + self.event_shape))
        return U.reshape(obs + (self.k,)), lh.reshape(obs)


class UserFamily(ExponentialFamily):
    """Base of the families made by :func:`define_family`: parameters are the natural
    parameters, one per statistic; ``u`` and ``log h`` are the user's functions."""

    _stats: _Statistics
    _start: np.ndarray
    boundary_hint = ("the mean of the statistics is on the edge of their convex hull over "
                     "the support, e.g. all values equal")

    def __init__(self, *args, **params):
        cls = type(self)
        if len(args) > len(cls.param_names):
            raise ParameterError(f"{cls.__name__} takes {len(cls.param_names)} parameters "
                                 f"{cls.param_names}; got {len(args)} positional")
        for name, value in zip(cls.param_names, args):
            if name in params:
                raise ParameterError(f"{cls.__name__}: parameter {name!r} given twice")
            params[name] = value
        self._init_natural(cls.natural_from_params({}, **params), {})

    def _init_natural(self, natural, fixed):
        try:
            super()._init_natural(natural, fixed)
        except ParameterError as exc:
            if "outside the domain" not in str(exc):
                raise
            raise ParameterError(
                f"{exc}: the {self._how} defining A diverges there (A is infinite)") from None

    _how = "sum"

    @classmethod
    def natural_dim(cls, fixed):
        return cls._stats.k

    @classmethod
    def natural_from_params(cls, fixed, **params):
        missing = [n for n in cls.param_names if n not in params]
        extra = [n for n in params if n not in cls.param_names]
        if missing or extra:
            raise ParameterError(f"{cls.__name__} has the parameters {list(cls.param_names)} "
                                 f"(its natural parameters); missing {missing}, unknown {extra}")
        p = cls.check_params(**params)
        return np.stack([p[n] for n in cls.param_names], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {n: eta[..., j] for j, n in enumerate(cls.param_names)}

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        return cls._stats.observations(x)[0]

    @classmethod
    def log_base_measure(cls, x, fixed):
        return cls._stats.observations(x)[1]

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log h(x) + eta . u(x) - A(eta)``; the user's functions see only states of the
        support (values outside it, which the caller masks, are replaced by a state)."""
        x = np.asarray(x, dtype=np.float64)
        inside = np.asarray(cls.in_support(x, fixed))
        if not inside.all():
            mask = inside.reshape(inside.shape + (1,) * cls.event_ndim)
            x = np.where(mask, x, cls._anchor)
        return super().log_density(x, eta, fixed)

    @classmethod
    def initial_natural(cls, mu, fixed):
        """The family's start (see :func:`define_family`), where ``A`` is finite."""
        return np.broadcast_to(cls._start, np.shape(mu)).copy()

    @classmethod
    def start_natural(cls, mu_data, fixed):
        """A learner's start: the moment-based start of :meth:`natural_from_mean` (from
        the family's start, 1-D Newton sweeps toward the data's mean statistics)."""
        mu_data = np.asarray(mu_data, dtype=np.float64)
        if not np.all(np.isfinite(mu_data)):
            return cls.initial_natural(mu_data, fixed)
        return _coordinate_start(cls, mu_data, fixed, cls.initial_natural(mu_data, fixed))

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        """Solve ``grad A(eta) = mu`` by the generic safeguarded Newton iteration
        (:func:`expfam.solvers.newton`) from a moment-based start.

        The start: from the family's start (``eta = 0`` where the base measure is
        normalisable), two sweeps of safeguarded 1-D Newton steps, one natural parameter
        at a time, each matching its own statistic's mean (a Conway-Maxwell-Poisson fit
        first moves its Poisson start to the data's mean count).  From a poor start,
        Newton's steps can lead to the edge of the natural domain and stall there (e.g.
        Conway-Maxwell-Poisson at ``nu -> 0``, whose domain includes that edge).  Where
        Newton does not converge, a continuation follows: the targets
        ``mu_1 + t (mu - mu_1)`` (``mu_1`` the mean at the start) for ``t`` rising to 1,
        each solved from the last solution, the step of ``t`` halved where a stage does
        not converge.
        """
        mu = np.asarray(mu, dtype=np.float64)
        eta = _coordinate_start(cls, mu, fixed, cls.initial_natural(mu, fixed))
        sol = newton(cls, mu, fixed, eta, rtol=RTOL)
        if np.all(sol.converged):
            return sol
        mu0 = cls.mean_from_natural(eta, fixed)
        t, step, n_iter = 0.0, 0.5, sol.n_iter
        while True:
            t_next = min(1.0, t + step)
            final = t_next == 1.0
            stage = newton(cls, mu0 + t_next * (mu - mu0), fixed, eta,
                           rtol=RTOL if final else 1e-8, max_iter=40)
            n_iter += stage.n_iter
            if np.all(stage.converged):
                if final:
                    return SolveResult(stage.natural, stage.converged, n_iter)
                eta, t, step = stage.natural, t_next, min(2 * step, 1.0 - t_next)
            elif step > 1 / 64:
                step /= 2
            else:  # give up: the first attempt's iterate, reported as not converged
                return SolveResult(sol.natural, sol.converged, n_iter)

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The mean parameters at the start (the prior mean of ``pseudo_count``)."""
        return cls.mean_from_natural(cls._start, fixed)

    def log_partition_error(self) -> np.ndarray:
        """A bound on the error of :meth:`log_partition_value` (0 for a finite support)."""
        return type(self).log_partition_bound(self._eta, self._fixed)

    @classmethod
    def log_partition_bound(cls, eta, fixed):
        return np.zeros(np.shape(eta)[:-1])


def _coordinate_start(cls, mu, fixed, eta, sweeps: int = 2, steps: int = 10, rtol: float = 1e-3):
    """Safeguarded 1-D Newton steps on ``f(eta) = A(eta) - eta . mu``, one natural
    parameter at a time (step halved until it stays in the domain and decreases ``f``),
    until each statistic's mean is within ``rtol`` of its target (a start, not a solve)."""
    eta = np.array(eta, dtype=np.float64)
    batch, k = mu.shape[:-1], mu.shape[-1]
    m, e = mu.reshape(-1, k), eta.reshape(-1, k)
    with np.errstate(all="ignore"):
        for _ in range(sweeps):
            for j in range(k):
                for _ in range(steps):
                    g = cls.mean_from_natural(e, fixed)[:, j] - m[:, j]
                    h = cls.fisher_from_natural(e, fixed)[:, j, j]
                    if np.all(np.abs(g) <= rtol * np.maximum(np.abs(m[:, j]), 1.0)):
                        break
                    f0 = cls.log_partition(e, fixed) - np.sum(e * m, axis=-1)
                    step = np.where(h > 0, -g / h, -np.sign(g))
                    t = np.ones(e.shape[0])
                    todo = np.ones(e.shape[0], dtype=bool)
                    for _ in range(50):
                        cand = e.copy()
                        cand[:, j] += t * step
                        ok = np.asarray(cls.natural_in_domain(cand, fixed))
                        f1 = np.where(ok, cls.log_partition(np.where(ok[:, None], cand, e), fixed)
                                      - np.sum(cand * m, axis=-1), np.inf)
                        good = todo & ok & (f1 <= f0)
                        e[good] = cand[good]
                        todo &= ~good
                        if not todo.any():
                            break
                        t = np.where(todo, t / 2, t)
    return e.reshape(batch + (k,))


class UserFiniteFamily(UserFamily, FiniteSupportFamily):
    """A user-defined family on a finite set of states: ``A`` by enumeration."""

    discrete = True
    _states: np.ndarray
    _support: FiniteSet

    @classmethod
    def states(cls, fixed):
        return cls._states

    @classmethod
    def support_of(cls, fixed):
        return cls._support


class _HullFamily(UserFamily):
    """The interior of the mean domain, decided on a finite set of states or nodes: mean
    parameters strictly inside their hull are interior; on its boundary (e.g. all data
    equal) they are not; outside it the answer is not known (True: the Newton iteration
    then reports whether it converged)."""

    @classmethod
    def _hull_points(cls) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        U = cls._hull_points()
        flat = np.asarray(mu, dtype=np.float64).reshape(-1, U.shape[1])
        out = np.array([_hull_position(U, m) != "boundary" for m in flat], dtype=bool)
        return out.reshape(np.shape(mu)[:-1]) & np.all(np.isfinite(mu), axis=-1)


def _hull_position(U, mu) -> str:
    """``"interior"``, ``"boundary"`` or ``"outside"``: where ``mu`` lies relative to the
    convex hull of the rows of ``U`` (a linear program: the largest ``t`` with
    ``mu = sum p_s u_s``, ``sum p_s = 1``, ``p_s >= t``)."""
    from scipy.optimize import linprog

    if not np.all(np.isfinite(mu)):
        return "boundary"
    S, k = U.shape
    scale = np.maximum(np.max(np.abs(U), axis=0), 1.0)
    Us, ms = U / scale, mu / scale
    c = np.zeros(S + 1)
    c[-1] = -1.0
    A_eq = np.zeros((k + 1, S + 1))
    A_eq[:k, :S] = Us.T
    A_eq[k, :S] = 1.0
    A_ub = np.hstack([-np.eye(S), np.ones((S, 1))])
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(S), A_eq=A_eq, b_eq=np.concatenate([ms, [1.0]]),
                  bounds=[(0, None)] * S + [(None, 1.0)], method="highs")
    if res.status != 0:
        return "outside"
    return "interior" if -res.fun > 1e-12 else "boundary"


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class UserSeriesFamily(TabulatedFamily, _HullFamily):
    """A user-defined family on ``{lo, lo + 1, ...}``: ``A`` by a series summed in log
    space to the truncation bound ``series_rtol`` (:mod:`expfam.families._series`)."""

    discrete = True
    _how = "series"
    _lo: int
    _rtol: float

    @classmethod
    def _table(cls, L: int):
        """The first ``L`` states, their statistics and log base measure (cached)."""
        have = _TABLES.get(cls)
        if have is None or have[0].size < L:
            start = 0 if have is None else have[0].size
            size = max(L, 2 * start)
            x = cls._lo + np.arange(start, size, dtype=np.float64)
            U, lh = cls._stats(x)
            have = (x, U, lh) if have is None else tuple(
                np.concatenate([a, b]) for a, b in zip(have, (x, U, lh)))
            _TABLES[cls] = have
        return tuple(a[:L] for a in have)

    @classmethod
    def _rule(cls, eta):
        return sum_series(cls._table, eta, rtol=cls._rtol)

    @classmethod
    def _draw_rule(cls, rule, eta, n, rng):
        """Inverse CDF on the probability mass function (the neglected tail's mass is at
        most the truncation bound)."""
        p = np.exp(rule.log_h + rule.U @ eta - rule.log_partition)
        cdf = np.cumsum(p)
        idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
        return rule.x[np.minimum(idx, p.size - 1)]

    @classmethod
    def _hull_points(cls):
        return cls._table(HULL_STATES)[1]

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        """Inside the hull of the first 64, 128, ..., ``HULL_STATES`` states: interior; on
        the boundary of the largest: not interior; outside it: not known (True)."""
        flat = np.asarray(mu, dtype=np.float64).reshape(-1, cls._stats.k)
        out = np.ones(flat.shape[0], dtype=bool)
        for i, m in enumerate(flat):
            L = 64
            while True:
                pos = _hull_position(cls._table(L)[1], m)
                if pos == "interior" or L >= HULL_STATES:
                    out[i] = pos != "boundary"
                    break
                L *= 2
        return out.reshape(np.shape(mu)[:-1]) & np.all(np.isfinite(mu), axis=-1)


class UserIntervalFamily(TabulatedFamily, _HullFamily):
    """A user-defined family on an interval: ``A`` by adaptive Gauss-Kronrod quadrature
    (:mod:`expfam.families._quadrature`) with an error estimate."""

    discrete = False
    _how = "integral"
    _map: IntervalMap
    _rtol: float

    @classmethod
    def _rule(cls, eta):
        return integrate(cls._stats, cls._map, eta, rtol=cls._rtol)

    @classmethod
    def _draw_rule(cls, rule, eta, n, rng):
        return sample(rule, cls._map, eta, n, rng)

    @classmethod
    def _hull_points(cls):
        """Statistics on a grid of the interval (finite ends only: else none decides)."""
        if cls._map.kind != "finite":
            return None
        lo, hi = cls._map.lo, cls._map.hi
        return cls._stats(lo + (hi - lo) * (np.arange(1025) + 0.5) / 1025)[0]

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        if cls._map.kind != "finite":
            return np.all(np.isfinite(mu), axis=-1)
        return super().mean_in_interior(mu, fixed)


# ----------------------------------------------------------------------------------
# define_family
# ----------------------------------------------------------------------------------
def _class_name(name: str) -> str:
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    out = "".join(p[:1].upper() + p[1:] for p in parts) or "UserFamily"
    return out if out[0].isalpha() else "Family" + out


def _support_kind(support):
    """``("finite", states)``, ``("series", lo)`` or ``("interval", (lo, hi))``."""
    if isinstance(support, Integers):
        if math.isinf(support.hi):
            return "series", support.lo
        return "finite", np.arange(support.lo, support.hi + 1.0)
    if isinstance(support, Interval):
        if not support.scalar:
            raise DefinitionError("an interval support needs scalar ends")
        return "interval", (support.lo, support.hi)
    if isinstance(support, FiniteSet):
        return "finite", support.states
    if isinstance(support, (str, bytes, dict)) or support is None:
        raise DefinitionError(
            f"support must be an array of states, expfam.domains.FiniteSet, Integers or "
            f"Interval; got {support!r}")
    try:
        states = np.asarray(support, dtype=np.float64)
    except (TypeError, ValueError):
        raise DefinitionError(f"support: cannot read {support!r} as an array of states") from None
    if states.ndim == 0 or states.shape[0] == 0:
        raise DefinitionError("support: a finite support needs at least one state along the first axis")
    if not np.all(np.isfinite(states)):
        i = int(np.flatnonzero(~np.all(np.isfinite(states.reshape(states.shape[0], -1)), -1))[0])
        raise DefinitionError(f"support: state {i} is not finite: {states[i]}")
    flat = states.reshape(states.shape[0], -1)
    if np.unique(flat, axis=0).shape[0] != flat.shape[0]:
        raise DefinitionError("support: the states must be distinct")
    return "finite", states


def _check_identifiable(cls, eta):
    """The statistics are affinely independent on the support iff their covariance at any
    ``eta`` (where every state has positive weight) is non-singular: the singular values of
    the weighted, centred, standardised statistics; a null vector names the dependency."""
    I = np.asarray(cls.fisher_from_natural(eta, {}))
    sd = np.sqrt(np.clip(np.diag(I), 0, None))
    mu = np.abs(np.asarray(cls.mean_from_natural(eta, {})))
    names = cls.param_names
    constant = ~(sd > RANK_RTOL * 1e-3 * mu) | (sd == 0)  # sd at rounding level of the mean
    if np.any(constant) or not np.all(np.isfinite(sd)):
        j = int(np.flatnonzero(constant | ~np.isfinite(sd))[0])
        raise DefinitionError(
            f"{cls.__name__}: the statistic of {names[j]!r} is constant on the support, so "
            f"its parameter is not identifiable (the statistics must be affinely independent)")
    corr = I / np.outer(sd, sd)
    w, V = np.linalg.eigh(corr)
    if w[0] <= (RANK_RTOL ** 2) * w[-1]:
        v = V[:, 0] / sd
        v = v / np.max(np.abs(v))
        combo = " + ".join(f"{c:.4g} u[{names[j]}]" for j, c in enumerate(v) if abs(c) > 1e-8)
        raise DefinitionError(
            f"{cls.__name__}: the statistics are not affinely independent on the support "
            f"({combo} is constant), so the parameters are not identifiable; drop or "
            f"combine statistics")


def _find_start(cls, start, k):
    """The start of the Newton iteration: ``start``, else 0, else the first of
    ``-e_j, -0.01 e_j, -100 e_j, e_j, 0.01 e_j, 100 e_j`` (last statistic first)."""
    if start is not None:
        eta = np.asarray(start, dtype=np.float64)
        if eta.shape != (k,) or not np.all(np.isfinite(eta)):
            raise DefinitionError(f"{cls.__name__}: start must be {k} finite numbers; got {start!r}")
        if not cls.natural_in_domain(eta, {}):
            raise DefinitionError(
                f"{cls.__name__}: A is infinite at start={eta.tolist()} (the {cls._how} "
                f"diverges): choose natural parameters where h(x) exp(eta . u(x)) is "
                f"summable/integrable")
        return eta
    candidates = [np.zeros(k)]
    for j in reversed(range(k)):
        for c in (-1.0, -0.01, -100.0, 1.0, 0.01, 100.0):
            e = np.zeros(k)
            e[j] = c
            candidates.append(e)
    for eta in candidates:
        if cls.natural_in_domain(eta, {}):
            return eta
    raise DefinitionError(
        f"{cls.__name__}: A is infinite at every start tried (eta = 0 and +-c e_j): the "
        f"{cls._how} of h(x) exp(eta . u(x)) diverges there; pass start=... with natural "
        f"parameters where it converges")


def define_family(u: Callable, support, log_h: Callable | None = None, *, name: str,
                  param_names=None, start=None, rtol: float | None = None) -> type:
    """Define an exponential family ``p(x | eta) = h(x) exp(eta . u(x) - A(eta))`` by its
    sufficient statistics, base measure and support.

    Parameters
    ----------
    u : callable
        ``u(x) -> (n, k)`` array (or ``(n,)`` for one statistic, or a tuple of ``k``
        arrays of shape ``(n,)``) for ``n`` states ``x`` of shape ``(n, *state_shape)``.
        Vectorised; finite on the support.
    support : array_like, FiniteSet, Integers or Interval
        A finite set of states (an array ``(S, *state_shape)``, any shape of state, or
        :class:`~expfam.domains.FiniteSet`; also ``Integers(lo, hi)`` with finite ``hi``):
        ``A`` by enumeration.  ``Integers(lo)``: the integers from ``lo``, ``A`` by a series
        with a truncation bound.  ``Interval(lo, hi)`` (infinite ends allowed): ``A`` by
        adaptive quadrature with an error estimate.
    log_h : callable, optional
        ``log_h(x) -> (n,)``, the log base measure (default 0: ``h = 1``).
    name : str
        Registry name (``expfam.fit("name", x)``); defining a name again replaces the
        earlier user-defined family of that name; a built-in name is refused.
    param_names : sequence of str, optional
        Names of the natural parameters (default ``eta1 .. etak``).
    start : array_like, optional
        Natural parameters where ``A`` is finite, the start of the Newton iteration and of
        the stochastic learner (default: see the module docstring).
    rtol : float, optional
        Series: bound on the truncation error of ``A`` (default 1e-16).  Interval: target
        of the summed Gauss-Kronrod error estimates (default 1e-11).

    Returns
    -------
    type
        A subclass of :class:`~expfam.ExponentialFamily` (and of
        :class:`~expfam.FiniteSupportFamily` for a finite support), registered under
        ``name``.  Instances: ``Family(eta1=..., ...)``, ``Family.from_natural(eta)``,
        ``Family.from_mean(mu)``; ``log_partition_error()`` bounds the error of ``A``.

    Raises
    ------
    DefinitionError
        Statistics not affinely independent on the support (non-identifiable), ``u`` or
        ``log_h`` not finite at a state (named) or of the wrong shape, ``A`` infinite at
        the start, a bad support or a name that a built-in family holds.
    """
    if not isinstance(name, str) or not name.strip():
        raise DefinitionError(f"name must be a non-empty string; got {name!r}")
    cname = _class_name(name)
    for key in (_normalise(name), _normalise(cname)):
        other = _BY_KEY.get(key)
        if other is not None and other.__module__ != USER_MODULE:
            raise DefinitionError(f"the name {name!r} is taken by {other.__name__} ({other.__module__})")
    kind, info = _support_kind(support)
    if kind == "finite":
        event = info.shape[1:]
    else:
        event = ()
        if isinstance(support, Integers) or kind == "series":
            if info != math.floor(info):
                raise DefinitionError(f"Integers support: lo must be an integer; got {info}")
    stats = _Statistics(u, log_h, event, cname)
    # probe u on a few states of the support: k and the shapes
    if kind == "finite":
        probe = info
    elif kind == "series":
        probe = info + np.arange(64.0)
    else:
        imap = IntervalMap(*info)
        probe = imap.x(imap.grid(0))
    stats(probe)
    k = int(stats.k or 0)
    if param_names is None:
        param_names = tuple(f"eta{j + 1}" for j in range(k))
    param_names = tuple(str(p) for p in param_names)
    if len(param_names) != k or len(set(param_names)) != k:
        raise DefinitionError(f"{cname}: param_names must be {k} distinct names (one per "
                              f"statistic); got {param_names}")
    stats.names = param_names
    ns = {"name": name, "__module__": USER_MODULE, "__qualname__": cname,
          "__doc__": f"User-defined exponential family {name!r} ({kind} support).",
          "param_names": param_names, "_stats": stats, "_start": np.zeros(k),
          "_anchor": np.asarray(probe[0], dtype=np.float64)}
    base: type[UserFamily]
    if kind == "finite":
        base = UserFiniteFamily
        ns["_states"] = info
        ns["_support"] = FiniteSet(info)
        ns["event_ndim"] = len(event)
    elif kind == "series":
        base = UserSeriesFamily
        ns["support"] = Integers(info)
        ns["_lo"] = int(info)
        ns["_rtol"] = 1e-16 if rtol is None else float(rtol)
    else:
        base = UserIntervalFamily
        ns["support"] = support
        ns["_map"] = IntervalMap(*info)
        ns["_rtol"] = 1e-11 if rtol is None else float(rtol)
    cls: type[UserFamily] = type(cname, (base,), ns)
    cls._start = _find_start(cls, start, k)
    _check_identifiable(cls, cls._start)
    return cls
