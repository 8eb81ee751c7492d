"""Columns shared by several candidates are reduced once.

Many candidates' columns are affine functions of one another (``x`` for the Exponential,
the Gamma and the Normal's ``x - c``; ``log x`` for the Gamma, the LogNormal, and every
Weibull ``log h = log k + (k - 1) log x``; constant ``log h``).  Each column is tested
against the columns kept so far on probe points (the head and points spread over its
range): a column equal to ``a + b s`` for a kept column ``s`` (to 1e-12 relative), or to
a constant, is not reduced but reconstructed from ``s``'s moments, exactly: the map from
the kept columns to all columns is affine, ``v = M0 + M1 b``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Basis"]

_RTOL = 1e-12


class Basis:
    """The kept columns (``keep``: indices into all columns) and the affine map back."""

    def __init__(self, D: int, keep: list, M0: np.ndarray, M1: np.ndarray):
        self.D = D
        self.keep = np.asarray(keep, dtype=np.intp)
        self.M0 = M0  # (D,)
        self.M1 = M1  # (D, len(keep))

    @classmethod
    def identity(cls, D: int) -> "Basis":
        return cls(D, list(range(D)), np.zeros(D), np.eye(D))

    @classmethod
    def from_probe(cls, P: np.ndarray) -> "Basis":
        """From the columns ``P`` (probe points x all columns)."""
        n, D = P.shape
        keep: list = []
        M0 = np.zeros(D)
        rows: list = []  # for each column: (kept position, coefficient) or None
        finite = np.all(np.isfinite(P), axis=0)
        Z, scale = [], []  # kept columns centred and their norms
        for j in range(D):
            c = P[:, j]
            if finite[j]:
                cm = c.mean()
                dev = c - cm
                size = max(np.abs(c).max(), 1e-300)
                if np.abs(dev).max() <= _RTOL * size:  # a constant
                    M0[j] = cm
                    rows.append(None)
                    continue
                hit = None
                for pos, (z, zz) in enumerate(zip(Z, scale)):
                    b = (z @ dev) / zz
                    if np.abs(dev - b * z).max() <= _RTOL * size:
                        hit = (pos, b, cm - b * P[:, keep[pos]].mean())
                        break
                if hit is not None:
                    M0[j] = hit[2]
                    rows.append((hit[0], hit[1]))
                    continue
            keep.append(j)
            col = P[:, j] if finite[j] else np.zeros(n)
            z = col - col.mean()
            Z.append(z)
            scale.append(max(z @ z, 1e-300))
            rows.append((len(keep) - 1, 1.0))
        M1 = np.zeros((D, len(keep)))
        for j, r in enumerate(rows):
            if r is not None:
                M1[j, r[0]] = r[1]
        return cls(D, keep, M0, M1)

    def expand(self, mom):
        """Per-fold moments of all the columns from those of the kept ones."""
        from .folds import FoldMoments

        out = FoldMoments(mom.k, self.M0 + self.M1 @ mom.centre)
        out.count, out.weight = mom.count.copy(), mom.weight.copy()
        out.s1 = mom.s1 @ self.M1.T
        out.s2 = np.einsum("ia,jab,kb->jik", self.M1, mom.s2, self.M1, optimize=True)
        out.bad = None if mom.bad is None else (np.abs(self.M1) > 0) @ mom.bad > 0
        return out
