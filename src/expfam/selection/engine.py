"""One pass over a stream of validated chunks: the per-fold moments of every candidate.

The first ``HEAD`` observations (buffered) set what depends on the data: the fixed
parameters a family infers, the pivots, the grids of profiled parameters and the centre
of the moments; a candidate whose support excludes a value, or that cannot be set up,
is skipped with the reason.  After that every chunk is reduced once into
:class:`~expfam.selection.folds.FoldMoments`.
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import DataError, ParameterError
from .basis import Basis
from .candidates import Candidate, support_reason
from .folds import FoldMoments, assign_folds

__all__ = ["Engine", "HEAD"]

#: observations buffered before the set-up (pilot estimates, pivots, centre)
HEAD = 4096
#: integer data whose range is at most this many values are reduced by histograms
_TABLE = 1 << 16


class Engine:
    """The selection statistics of one data set (one group)."""

    def __init__(self, candidates: list[Candidate], skipped: dict, k: int,
                 rng: np.random.Generator):
        self.candidates = [copy.deepcopy(c) for c in candidates]
        self.skipped = dict(skipped)
        self.k = k
        self.rng = rng
        self.offset = 0  # observations seen
        self.lo, self.hi = np.inf, -np.inf
        self.moments: FoldMoments | None = None
        self._buffer: list = []
        self._buffered = 0
        self.active: list[Candidate] = []
        self.needed: list[Candidate] = []
        self.basis: Basis | None = None

    def add(self, x: np.ndarray, w: np.ndarray | None) -> None:
        """Add a chunk of finite observations (``w``: validated weights or ``None``)."""
        if x.shape[0] == 0:
            return
        if self.moments is None:
            self._buffer.append((x, w))
            self._buffered += x.shape[0]
            if self._buffered >= HEAD:
                self._start()
            return
        self._consume(x, w)

    def finish(self) -> "Engine":
        if self.moments is None and self._buffer:
            self._start()
        return self

    # ------------------------------------------------------------------
    def _start(self) -> None:
        xs = np.concatenate([b[0] for b in self._buffer])
        ws = None
        if any(b[1] is not None for b in self._buffer):
            ws = np.concatenate([np.ones(b[0].shape[0]) if b[1] is None else b[1]
                                 for b in self._buffer])[:HEAD]
        self.prepare(xs[:HEAD], xs, ws)
        buffer, self._buffer = self._buffer, []
        for x, w in buffer:
            self._consume(x, w)

    def prepare(self, head: np.ndarray, seen: np.ndarray | None = None,
                head_weights: np.ndarray | None = None) -> None:
        """Set up the candidates from the first observations ``head`` (with their
        weights; checking the support on ``seen``, the observations at hand, default
        ``head``)."""
        xs = head if seen is None else seen
        for cand in self.candidates:
            try:
                cand.resolve_fixed(head)
            except (ParameterError, DataError) as exc:
                self.skipped[cand.label] = str(exc)
                continue
            reason = support_reason(cand, xs)
            if reason is not None:
                self.skipped[cand.label] = reason
                continue
            try:
                with np.errstate(all="ignore"):
                    cand.setup(head, head_weights)
            except (ParameterError, DataError) as exc:
                self.skipped[cand.label] = str(exc)
                continue
            self.active.append(cand)
        # pivot families first: their columns about the pivot are kept, and the others'
        # (x, x^2...) reconstructed from them without cancellation
        self.active.sort(key=lambda c: not c.family.pivot)
        offset = 0
        for cand in self.active:
            cand.offset = offset
            offset += cand.width
        self.basis = self._basis(head)
        keep = set(self.basis.keep.tolist())
        self.needed = [c for c in self.active
                       if keep & set(range(c.offset, c.offset + c.width))]
        V = self._columns(head)
        # the centre: in each column, the head's value nearest to the head's mean (a
        # value of the data: all-equal data then sum to exact multiples, and boundary
        # data stay on the boundary)
        with np.errstate(all="ignore"):
            mean = np.mean(V, axis=0)
            dist = np.abs(V - mean)
            dist = np.where(np.isfinite(dist), dist, np.inf)
            centre = V[np.argmin(dist, axis=0), np.arange(V.shape[1])] if V.shape[0] else mean
        centre = np.where(np.isfinite(centre), centre, 0.0)
        self.moments = FoldMoments(self.k, centre)

    def _basis(self, head: np.ndarray) -> Basis:
        """The columns to reduce (see :mod:`.basis`): probed on the head and on points
        spread over its range (scalar data), so that only identities of functions, not
        coincidences of a few values, are used."""
        D = sum(c.width for c in self.active)
        if head.ndim != 1 or D == 0:
            return Basis.identity(D)
        lo, hi = head.min(), head.max()
        spread = lo + (hi - lo) * np.linspace(0.01, 0.99, 97) if hi > lo else np.array([])
        probe = np.unique(np.concatenate([head[:512], spread]))
        P = np.zeros((probe.size, D))
        with np.errstate(all="ignore"):
            for cand in self.active:
                P[:, cand.offset:cand.offset + cand.width] = cand.columns(probe)
        if probe.size < 2 * D:  # too few points to tell identities from coincidences
            return Basis.identity(D)
        return Basis.from_probe(P)

    def full_moments(self) -> FoldMoments | None:
        """The per-fold moments of every candidate's columns."""
        if self.moments is None:
            return None
        return self.basis.expand(self.moments)

    def part(self, rng: np.random.Generator) -> "Engine":
        """A copy of this prepared engine with empty moments and its own folds' ``rng``
        (for one partition of a distributed data set; merge with :meth:`absorb`)."""
        out = copy.copy(self)
        out.rng = rng
        out.skipped = dict(self.skipped)
        out.moments = FoldMoments(self.k, self.moments.centre)
        out.offset = 0
        out.lo, out.hi = np.inf, -np.inf
        return out

    def absorb(self, other: "Engine") -> "Engine":
        """Add the moments (and the skipped candidates) of a part."""
        self.moments = self.moments.merge(other.moments)
        for label, why in other.skipped.items():
            self.skipped.setdefault(label, why)
        self.offset += other.offset
        self.lo, self.hi = min(self.lo, other.lo), max(self.hi, other.hi)
        return self

    def consume(self, x: np.ndarray, w: np.ndarray | None) -> None:
        """Add a chunk to a prepared engine."""
        self._consume(x, w)

    def _columns(self, x: np.ndarray) -> np.ndarray:
        """The kept columns (see :meth:`_basis`) of the observations ``x``."""
        keep = self.basis.keep
        V = np.empty((x.shape[0], keep.size))
        with np.errstate(all="ignore"):
            for cand in self.needed:
                block = cand.columns(x)
                mine = np.flatnonzero((keep >= cand.offset) & (keep < cand.offset + cand.width))
                V[:, mine] = block[:, keep[mine] - cand.offset]
        return V

    def _consume(self, x: np.ndarray, w: np.ndarray | None) -> None:
        if x.ndim == 1:  # the range of the data (all-equal data are a boundary case)
            self.lo, self.hi = min(self.lo, x.min()), max(self.hi, x.max())
        for cand in self.active:  # a later chunk may leave a support
            if cand.label not in self.skipped:
                reason = support_reason(cand, x)
                if reason is not None:
                    where = f" (in the observations from {self.offset} on)" if self.offset else ""
                    self.skipped[cand.label] = reason + where
        folds = assign_folds(x.shape[0], self.k, self.offset, self.rng, w)
        table = _integer_table(x)
        if table is not None:
            lo, size = table
            values = lo + np.arange(size, dtype=np.float64)
            index = (x - lo).astype(np.intp)
            self.moments.add_table(self._columns(values), index, folds)
        else:
            self.moments.add_rows(self._columns(x), folds)
        self.offset += x.shape[0]


def _integer_table(x: np.ndarray):
    """``(lo, size)`` when the scalar observations are integers in a range of at most
    ``_TABLE`` values, fewer than the observations (then a table of the distinct values
    serves every column); else ``None``."""
    if x.ndim != 1:
        return None
    lo, hi = x.min(), x.max()
    size = hi - lo + 1
    if size > _TABLE or size > x.shape[0] or not np.all(x == np.floor(x)):
        return None
    return float(lo), int(size)
