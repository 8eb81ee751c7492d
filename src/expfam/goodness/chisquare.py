"""Pearson's chi-square for discrete families, with pooled cells.

Cells are the integers of the support; neighbouring cells are pooled from each tail
inwards until every pooled cell expects at least ``min_expected`` observations under
the fitted law, and the two open tails (``x <= lo``, ``x >= hi``) carry the rest of the
mass, so that the expected counts sum to ``n``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pooled_cells", "chi_square"]


def pooled_cells(dist, x: np.ndarray, min_expected: float = 5.0):
    """Cell edges for the fitted SciPy law ``dist`` and integer data ``x``: a list of
    ``(lo, hi)`` integer ranges (inclusive; the first starts at -inf, the last ends at
    +inf in probability) with expected count ``>= min_expected`` each (at least two
    cells)."""
    n = x.shape[0]
    lo, hi = int(np.floor(dist.ppf(1e-12))), int(np.ceil(dist.isf(1e-12)))
    lo, hi = min(lo, int(x.min())), max(hi, int(x.max()))
    values = np.arange(lo, hi + 1)
    p = dist.pmf(values)
    p[0] = dist.cdf(lo)
    p[-1] = dist.sf(hi - 1) if hi > lo else 1.0
    e = n * p
    edges, start, acc = [], lo, 0.0
    for v, ev in zip(values, e):
        acc += ev
        if acc >= min_expected:
            edges.append([start, v])
            start, acc = v + 1, 0.0
    if not edges:
        return [(lo, hi)]
    if acc > 0 or start <= hi:
        edges[-1][1] = hi  # the remainder joins the last cell
    return [tuple(c) for c in edges]


def chi_square(X: np.ndarray, cells, dist) -> np.ndarray:
    """Pearson's statistic of every column of ``X`` (n, B) against the fitted laws
    ``dist`` (batch shape (B,)) on the pooled ``cells``."""
    n = X.shape[0]
    stat = np.zeros(X.shape[1:])
    last = len(cells) - 1
    for j, (a, b) in enumerate(cells):
        if j == 0:
            observed = np.sum(X <= b, axis=0)
            prob = dist.cdf(b)
        elif j == last:
            observed = np.sum(X >= a, axis=0)
            prob = dist.sf(a - 1)
        else:
            observed = np.sum((X >= a) & (X <= b), axis=0)
            prob = dist.cdf(b) - dist.cdf(a - 1)
        expected = n * prob
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = stat + np.where(expected > 0, (observed - expected) ** 2 / expected,
                                   np.where(observed > 0, np.inf, 0.0))
    return stat
