"""Domains as objects: supports of observations and domains of parameters.

A domain knows whether values lie in it (:meth:`Domain.contains`), how to say itself in an
error message (``str``), and how to draw values inside it and just outside it
(:meth:`Domain.draw`, :meth:`Domain.draw_outside`), for the property tests.  Families
declare their support and the domains of their familiar parameters with these objects;
validation, error messages, the compiled kernels' support checks (:meth:`Interval.bounds`)
and the property tests are all generated from them.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Domain", "Interval", "Integers", "Simplex", "RealVectors", "CountVectors", "FiniteSet",
           "REAL", "POSITIVE", "NONNEGATIVE", "UNIT_INTERVAL", "CIRCLE", "NATURALS"]


class Domain:
    """A set of values (scalars, or vectors of a fixed length)."""

    #: number of trailing axes of one value (0 for scalars)
    event_ndim: int = 0

    def contains(self, x) -> np.ndarray:
        """Boolean mask of shape ``x.shape[:x.ndim - event_ndim]``: the value lies in the
        domain (``x`` is finite; NaN and inf are reported before support is checked)."""
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, size) -> np.ndarray:
        """Values inside the domain, boundary points included when they belong to it."""
        raise NotImplementedError

    def draw_outside(self, rng: np.random.Generator, size) -> np.ndarray | None:
        """Finite values just outside the domain, or ``None`` when there are none (the
        whole real line)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


def _end(v):
    a = np.asarray(v, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def _fmt(v) -> str:
    if not isinstance(v, float):
        return np.array2string(np.asarray(v), precision=6, threshold=6)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == math.pi:
        return "pi"
    if v == -math.pi:
        return "-pi"
    return f"{v:g}"


class Interval(Domain):
    """An interval of the real line, each end open or closed (infinite ends are open).

    Parameters
    ----------
    lo, hi : float
        Ends, ``lo < hi`` (``-inf`` / ``inf`` allowed).
    closed_lo, closed_hi : bool
        Whether the end belongs to the interval.
    """

    def __init__(self, lo, hi, closed_lo: bool = False, closed_hi: bool = False):
        # an end may be an array (one per batch element, e.g. Pareto's x_m)
        self.lo, self.hi = _end(lo), _end(hi)
        if not np.all(np.asarray(self.lo) < np.asarray(self.hi)):
            raise ValueError(f"an interval needs lo < hi; got {lo!r}, {hi!r}")
        self.closed_lo = bool(closed_lo) and bool(np.all(np.isfinite(self.lo)))
        self.closed_hi = bool(closed_hi) and bool(np.all(np.isfinite(self.hi)))

    @property
    def scalar(self) -> bool:
        """Whether both ends are numbers (not arrays)."""
        return isinstance(self.lo, float) and isinstance(self.hi, float)

    def contains(self, x):
        x = np.asarray(x)
        above = (x >= self.lo) if self.closed_lo else (x > self.lo)
        below = (x <= self.hi) if self.closed_hi else (x < self.hi)
        return above & below

    def bounds(self) -> tuple[float, float, float]:
        """``(lo, hi, integer)`` for the compiled check :func:`expfam._special.in_interval`
        (scalar ends only): the *open* interval ``(lo, hi)`` with the same floats as this
        one (a closed end moved out by one ulp), and whether only integers belong."""
        lo = float(np.nextafter(self.lo, -np.inf)) if self.closed_lo else float(self.lo)
        hi = float(np.nextafter(self.hi, np.inf)) if self.closed_hi else float(self.hi)
        return lo, hi, 0.0

    def __str__(self) -> str:
        return (("[" if self.closed_lo else "(") + f"{_fmt(self.lo)}, {_fmt(self.hi)}"
                + ("]" if self.closed_hi else ")"))

    def draw(self, rng, size):
        lo, hi = self.lo, self.hi
        if math.isinf(lo) and math.isinf(hi):
            x = rng.standard_normal(size) * 10.0 ** rng.uniform(-3, 3, size)
        elif math.isinf(hi):
            x = lo + np.abs(lo if lo else 1.0) * 10.0 ** rng.uniform(-6, 3, size)
        elif math.isinf(lo):
            x = hi - np.abs(hi if hi else 1.0) * 10.0 ** rng.uniform(-6, 3, size)
        else:
            x = lo + (hi - lo) * rng.uniform(1e-6, 1 - 1e-6, size)
        ends = [e for e, c in ((lo, self.closed_lo), (hi, self.closed_hi)) if c]
        if ends and np.size(x):
            flat = np.array(x, dtype=np.float64).reshape(-1)
            pick = rng.random(flat.size) < 0.1
            flat[pick] = rng.choice(ends, pick.sum())
            x = flat.reshape(np.shape(x))
        return np.asarray(x, dtype=np.float64)

    def draw_outside(self, rng, size):
        candidates = []
        if math.isfinite(self.lo):
            candidates += [self.lo if not self.closed_lo else np.nextafter(self.lo, -np.inf),
                           self.lo - 1.0 - abs(self.lo)]
        if math.isfinite(self.hi):
            candidates += [self.hi if not self.closed_hi else np.nextafter(self.hi, np.inf),
                           self.hi + 1.0 + abs(self.hi)]
        if not candidates:
            return None
        return rng.choice(np.array(candidates), size)


class Integers(Interval):
    """The integers in ``[lo, hi]`` (``hi`` may be ``inf``)."""

    def __init__(self, lo: float = 0, hi: float = math.inf):
        super().__init__(lo, hi, closed_lo=True, closed_hi=True)

    def contains(self, x):
        x = np.asarray(x)
        return super().contains(x) & (x == np.floor(x))

    def bounds(self) -> tuple[float, float, float]:
        return super().bounds()[:2] + (1.0,)

    def __str__(self) -> str:
        lo = int(self.lo)
        if math.isinf(self.hi):
            return f"{{{lo}, {lo + 1}, {lo + 2}, ...}}"
        hi = int(self.hi)
        if hi - lo <= 2:
            return "{" + ", ".join(str(v) for v in range(lo, hi + 1)) + "}"
        return f"{{{lo}, {lo + 1}, ..., {hi}}}"

    def draw(self, rng, size):
        top = self.lo + 50 if math.isinf(self.hi) else self.hi
        return rng.integers(int(self.lo), int(top), size, endpoint=True).astype(np.float64)

    def draw_outside(self, rng, size):
        candidates = [self.lo - 1, self.lo + 0.5]
        if math.isfinite(self.hi):
            candidates.append(self.hi + 1)
        return rng.choice(np.array(candidates, dtype=np.float64), size)


class Simplex(Domain):
    """The open probability simplex in ``R^K``: entries in (0, 1) summing to 1 within
    ``tol``."""

    event_ndim = 1

    def __init__(self, K: int, tol: float = 1e-9):
        self.K, self.tol = int(K), float(tol)

    def contains(self, x):
        x = np.asarray(x)
        inside = np.all((x > 0) & (x < 1), axis=-1)
        return inside & (np.abs(np.sum(x, axis=-1) - 1) <= self.tol)

    def __str__(self) -> str:
        return (f"the open simplex of dimension {self.K} (entries in (0, 1), rows summing "
                f"to 1 within {self.tol:g})")

    def draw(self, rng, size):
        return rng.dirichlet(np.ones(self.K), size)

    def draw_outside(self, rng, size):
        x = self.draw(rng, size)
        return x * 1.1


class RealVectors(Domain):
    """``R^d``: real vectors of length ``d``."""

    event_ndim = 1

    def __init__(self, d: int):
        self.d = int(d)

    def contains(self, x):
        x = np.asarray(x)
        return np.ones(x.shape[:-1], dtype=bool)

    def __str__(self) -> str:
        return f"R^{self.d} (real vectors of length {self.d})"

    def draw(self, rng, size):
        size = (size,) if np.ndim(size) == 0 else tuple(size)
        return rng.standard_normal(size + (self.d,))

    def draw_outside(self, rng, size):
        return None


class CountVectors(Domain):
    """Vectors of ``K`` non-negative integers summing to ``n`` (multinomial counts)."""

    event_ndim = 1

    def __init__(self, K: int, n: int):
        self.K, self.n = int(K), int(n)

    def contains(self, x):
        x = np.asarray(x)
        ok = np.all((x >= 0) & (x == np.floor(x)), axis=-1)
        return ok & (np.sum(x, axis=-1) == self.n)

    def __str__(self) -> str:
        return (f"vectors of {self.K} non-negative integer counts summing to n = {self.n}")

    def draw(self, rng, size):
        return rng.multinomial(self.n, np.ones(self.K) / self.K, size).astype(np.float64)

    def draw_outside(self, rng, size):
        x = self.draw(rng, size)
        x[..., 0] += 1
        return x


class FiniteSet(Domain):
    """A finite set of states, scalars or arrays of one shape (``states``: ``(S, *event)``)."""

    def __init__(self, states):
        self.states = np.asarray(states, dtype=np.float64)
        if self.states.ndim == 0 or self.states.shape[0] == 0:
            raise ValueError("a finite set needs at least one state, along the first axis")
        self.event_ndim = self.states.ndim - 1
        flat = self.states.reshape(self.states.shape[0], -1)
        self._keys = {tuple(row) for row in flat.tolist()}

    def contains(self, x):
        x = np.asarray(x, dtype=np.float64)
        event = self.states.shape[1:]
        if x.shape[x.ndim - self.event_ndim:] != event:
            return np.zeros(x.shape[:x.ndim - self.event_ndim], dtype=bool)
        obs = x.shape[:x.ndim - self.event_ndim]
        rows = x.reshape(-1, int(np.prod(event, dtype=np.int64))).tolist()
        return np.array([tuple(r) in self._keys for r in rows], dtype=bool).reshape(obs)

    def __str__(self) -> str:
        S = self.states.shape[0]
        if self.event_ndim == 0 and S <= 6:
            return "{" + ", ".join(f"{v:g}" for v in self.states) + "}"
        return f"a finite set of {S} states of shape {self.states.shape[1:]}"

    def draw(self, rng, size):
        size = (size,) if np.ndim(size) == 0 else tuple(size)
        return self.states[rng.integers(0, self.states.shape[0], size)]

    def draw_outside(self, rng, size):
        size = (size,) if np.ndim(size) == 0 else tuple(size)
        top = np.max(np.abs(self.states)) + 1.0
        return np.full(size + self.states.shape[1:], top)


#: the real line, positive reals, non-negative reals, (0, 1), and angles [-pi, pi)
REAL = Interval(-math.inf, math.inf)
POSITIVE = Interval(0.0, math.inf)
NONNEGATIVE = Interval(0.0, math.inf, closed_lo=True)
UNIT_INTERVAL = Interval(0.0, 1.0)
CIRCLE = Interval(-math.pi, math.pi, closed_lo=True)
#: the counts {0, 1, 2, ...}
NATURALS = Integers(0)
