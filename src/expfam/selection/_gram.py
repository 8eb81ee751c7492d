"""Compiled per-fold sums of columns and of their products (one pass over the rows, no
copies; BLAS on tall and thin blocks is slower and scales badly on a busy machine)."""

from __future__ import annotations

import numpy as np

_KERNEL = None


def _compile():
    global _KERNEL
    if _KERNEL is None:
        from ._gram_jit import fold_gram_kernel

        _KERNEL = fold_gram_kernel
    return _KERNEL


def fold_gram(V: np.ndarray, centre: np.ndarray, folds: np.ndarray, w: np.ndarray | None,
              k: int, bad: np.ndarray):
    """``(S1, S2)``: per fold ``j``, ``sum w (v - centre)`` and ``sum w (v - c)(v - c)'`` over
    the rows of ``V`` with ``folds == j``; non-finite entries set ``bad`` and count as 0."""
    D = V.shape[1]
    s1 = np.zeros((k, D))
    s2 = np.zeros((k, D, D))
    weighted = w is not None
    _compile()(np.ascontiguousarray(V, dtype=np.float64), np.asarray(centre, dtype=np.float64),
               np.asarray(folds, dtype=np.int64), w if weighted else np.zeros(1), weighted,
               s1, s2, bad)
    upper = np.triu(np.ones((D, D), dtype=bool), 1)
    s2 = s2 + np.where(upper, s2, 0.0).transpose(0, 2, 1)
    return s1, s2
