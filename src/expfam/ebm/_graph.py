"""Interaction graphs and supports of vectors of discrete variables.

A graph is ``None`` (dense: every pair ``i < j``, in the order of ``numpy.triu_indices``)
or a tuple of pairs ``(i, j)`` with ``i < j``, sorted and unique.  Helpers give the pairs
as arrays, the CSR neighbour lists the samplers use, a greedy colouring (colour classes
can be updated in any order: a checkerboard for lattices) and the edges of a periodic
2-D lattice.
"""

from __future__ import annotations

import functools

import numpy as np

from ..domains import Domain
from ..errors import ParameterError

__all__ = ["normalise_edges", "pairs_of", "csr_of", "colouring", "lattice_edges", "DiscreteVectors"]


def normalise_edges(edges, n: int):
    """``None`` (dense) or a sorted tuple of unique pairs ``(i, j)``, ``0 <= i < j < n``.

    Raises :class:`ParameterError` naming the first bad pair (out of range, a self-loop,
    a duplicate).
    """
    if edges is None:
        return None
    arr = np.asarray(edges)
    if arr.size == 0:
        return ()
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise ParameterError(f"edges must be integer pairs of shape (m, 2); got shape {arr.shape} "
                             f"and dtype {arr.dtype}")
    seen = set()
    for k, (a, b) in enumerate(arr.tolist()):
        i, j = min(a, b), max(a, b)
        if i < 0 or j >= n:
            raise ParameterError(f"edges[{k}] = ({a}, {b}) names a variable outside 0..{n - 1}")
        if i == j:
            raise ParameterError(f"edges[{k}] = ({a}, {b}) is a self-loop")
        if (i, j) in seen:
            raise ParameterError(f"edges[{k}] = ({a}, {b}) is a duplicate pair")
        seen.add((i, j))
    return tuple(sorted(seen))


def pairs_of(n: int, edges) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays ``(I, J)`` of the pairs, ``I < J``: every pair (dense) or the edges."""
    if edges is None:
        return _dense_pairs(n)
    if len(edges) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    arr = np.asarray(edges, dtype=np.int64)
    return arr[:, 0].copy(), arr[:, 1].copy()


@functools.lru_cache(maxsize=64)
def _dense_pairs(n: int):
    i, j = np.triu_indices(n, 1)
    i, j = i.astype(np.int64), j.astype(np.int64)
    i.flags.writeable = False  # shared between calls
    j.flags.writeable = False
    return i, j


def csr_of(n: int, I: np.ndarray, J: np.ndarray, w: np.ndarray):
    """Symmetric CSR neighbour lists ``(indptr, indices, values)`` of the weighted pairs."""
    rows = np.concatenate([I, J])
    cols = np.concatenate([J, I])
    vals = np.concatenate([w, w]).astype(np.float64)
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return np.cumsum(indptr), cols.astype(np.int64), vals


def colouring(n: int, I: np.ndarray, J: np.ndarray) -> np.ndarray:
    """A greedy colouring (``colour[i]``): no two neighbours share a colour.  For a
    bipartite lattice visited in row-major order it is the checkerboard."""
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(I.tolist(), J.tolist()):
        nbrs[a].append(b)
        nbrs[b].append(a)
    colour = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        used = {colour[j] for j in nbrs[i] if colour[j] >= 0}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    return colour


def lattice_edges(L: int, periodic: bool = True, cols: int | None = None) -> tuple:
    """Edges of the ``L x L`` square lattice (``L x cols`` when ``cols`` is given), sites
    numbered row-major (``i = row * cols + col``), with periodic boundaries by default
    (``L, cols >= 3``)."""
    M = L if cols is None else cols
    edges = set()
    for r in range(L):
        for c in range(M):
            i = r * M + c
            for rr, cc in ((r, c + 1), (r + 1, c)):
                if not periodic and (rr >= L or cc >= M):
                    continue
                j = (rr % L) * M + (cc % M)
                if i != j:
                    edges.add((min(i, j), max(i, j)))
    return tuple(sorted(edges))


class DiscreteVectors(Domain):
    """Vectors of ``n`` discrete variables: variable ``i`` takes the values ``levels[i]``."""

    event_ndim = 1

    def __init__(self, levels):
        self.levels = [np.asarray(v, dtype=np.float64) for v in levels]
        self.n = len(self.levels)

    def contains(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1:] != (self.n,):
            return np.zeros(x.shape[:-1], dtype=bool)
        ok = np.ones(x.shape[:-1], dtype=bool)
        for i, v in enumerate(self.levels):
            ok &= np.isin(x[..., i], v)
        return ok

    def __str__(self) -> str:
        first = self.levels[0] if self.levels else np.zeros(0)
        if all(np.array_equal(v, first) for v in self.levels):
            vals = ", ".join(f"{v:g}" for v in first)
            return f"vectors of {self.n} variables in {{{vals}}}"
        return f"vectors of {self.n} discrete variables (levels per variable)"

    def draw(self, rng, size):
        size = (size,) if np.ndim(size) == 0 else tuple(size)
        cols = [v[rng.integers(0, v.size, size)] for v in self.levels]
        return np.stack(cols, axis=-1)

    def draw_outside(self, rng, size):
        size = (size,) if np.ndim(size) == 0 else tuple(size)
        top = max(float(np.max(np.abs(v))) for v in self.levels) + 1.0
        return np.full(size + (self.n,), top)
