"""Per-fold moments of the candidates' columns: the additive statistics of a selection.

For the columns ``v = [log h_f(x), u_f(x)]`` of every candidate ``f`` (one row per
observation), each fold ``j`` keeps

- ``count_j``, ``W_j = sum w``: the number and the weight of its observations,
- ``S1_j = sum w (v - m)``: first moments about a fixed centre ``m`` (the means of the
  head), from which the fits come (the sums of ``u`` and ``log h`` of the training set
  ``total - fold``),
- ``S2_j = sum w (v - m)(v - m)'``: second moments, from which the variance of the
  held-out log densities ``l = c + b . v`` (of one family, or the difference of two) is
  ``b' S2 b`` and so on -- the standard errors of the cross-entropies and of their paired
  differences.

All of them add up across chunks, files, Dask partitions: the folds are reductions of
the accumulator, and the data are read once.
"""

from __future__ import annotations

import numpy as np

from ._gram import fold_gram

__all__ = ["FoldMoments", "assign_folds"]


class FoldMoments:
    """Additive per-fold moments of ``D`` columns over ``k`` folds (see the module).

    ``bad`` flags the columns in which a non-finite value occurred (an overflow of
    ``x^k``, a logarithm outside a support): such entries are left out of the sums, and
    every candidate that uses the column is reported as failed.
    """

    def __init__(self, k: int, centre: np.ndarray):
        D = centre.size
        self.k = k
        self.centre = np.asarray(centre, dtype=np.float64)
        self.count = np.zeros(k, dtype=np.int64)
        self.weight = np.zeros(k)
        self.s1 = np.zeros((k, D))
        self.s2 = np.zeros((k, D, D))
        self.bad = np.zeros(D, dtype=bool)

    def _centred(self, V):
        Vc = V - self.centre
        finite = np.isfinite(Vc)
        if not finite.all():
            self.bad |= ~finite.all(axis=0)
            Vc = np.where(finite, Vc, 0.0)
        return Vc

    def add_rows(self, V: np.ndarray, folds) -> None:
        """Add observations: ``V`` (n, D) their columns; ``folds`` from
        :func:`assign_folds`."""
        if isinstance(folds, Assignment):
            s1, s2 = fold_gram(V, self.centre, folds.ids, folds.weights, self.k, self.bad)
            self.count += np.bincount(folds.ids, minlength=self.k)
            self.weight += (np.bincount(folds.ids, minlength=self.k).astype(float)
                            if folds.weights is None
                            else np.bincount(folds.ids, weights=folds.weights, minlength=self.k))
            self.s1 += s1
            self.s2 += s2
            return
        Vc = self._centred(V)
        for j, (rows, wj) in enumerate(folds):
            if rows.size == 0:
                continue
            Vj = Vc[rows]
            self.count[j] += rows.size
            self.weight[j] += wj.sum()
            self.s1[j] += wj @ Vj
            self.s2[j] += (Vj * wj[:, None]).T @ Vj

    def add_table(self, T: np.ndarray, index: np.ndarray, folds) -> None:
        """Add observations that take few distinct values: ``T`` (m, D) the columns of the
        distinct values, ``index`` (n,) each observation's row of ``T``.  The moments are
        those of ``add_rows(T[index], folds)``, computed from per-fold histograms."""
        Tc = self._centred(T)
        m = T.shape[0]
        if isinstance(folds, Assignment):
            folds = folds.per_fold(self.k)
        for j, (rows, wj) in enumerate(folds):
            if rows.size == 0:
                continue
            hist = np.bincount(index[rows], weights=wj, minlength=m)
            used = np.flatnonzero(hist > 0)
            h, Tj = hist[used], Tc[used]
            self.count[j] += rows.size
            self.weight[j] += h.sum()
            self.s1[j] += h @ Tj
            self.s2[j] += (Tj * h[:, None]).T @ Tj

    def merge(self, other: "FoldMoments") -> "FoldMoments":
        """The moments of both (the same folds, columns and centre)."""
        if other.k != self.k or not np.array_equal(other.centre, self.centre):
            raise ValueError("fold moments of different folds or columns cannot be merged")
        out = FoldMoments(self.k, self.centre)
        out.count = self.count + other.count
        out.weight = self.weight + other.weight
        out.s1 = self.s1 + other.s1
        out.s2 = self.s2 + other.s2
        out.bad = self.bad | other.bad
        return out

    def raw_sums(self) -> np.ndarray:
        """``sum w v`` per fold, shape (k, D)."""
        return self.s1 + self.weight[:, None] * self.centre


class Assignment:
    """Each observation in one fold: ``ids`` (n,), with its weight (``None``: 1)."""

    def __init__(self, ids: np.ndarray, weights: np.ndarray | None):
        self.ids, self.weights = ids, weights

    def per_fold(self, k: int) -> list:
        out = []
        for j in range(k):
            rows = np.flatnonzero(self.ids == j)
            out.append((rows, None if self.weights is None else self.weights[rows]))
        return out


def assign_folds(n: int, k: int, start: int, rng: np.random.Generator,
                 weights: np.ndarray | None):
    """The folds of ``n`` observations: an :class:`Assignment`, or for each of the ``k``
    folds ``(rows, weights)`` of the observations in it.

    Without weights, or with weights that are not all integers, each observation goes
    to one fold: observation ``perm[i]`` (a random permutation) to fold
    ``(start + i) % k``, so that folds stay balanced chunk after chunk.  Integer weights
    are frequencies (a row is that many observations): they are split over the folds
    at random (multinomially), exactly as the expanded data would be.
    """
    if weights is not None and np.all(weights == np.floor(weights)) and np.any(weights > 1):
        split = rng.multinomial(weights.astype(np.int64), np.full(k, 1.0 / k)).astype(np.float64)
        out = []
        for j in range(k):
            rows = np.flatnonzero(split[:, j] > 0)
            out.append((rows, split[rows, j]))
        return out
    ids = np.empty(n, dtype=np.int64)
    ids[rng.permutation(n)] = (start + np.arange(n)) % k
    return Assignment(ids, weights)
