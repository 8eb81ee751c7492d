"""Samples of vectors of discrete variables: validation, data moments, boundary checks.

Data enter a fit only through the weighted means of the sufficient statistics
(DESIGN.md): for an Ising model ``E_data[s_i]`` and ``E_data[s_i s_j]`` (one matrix
product ``X' diag(w) X``).  Bad input raises a typed error naming the row and column; a
data set whose mean statistics lie on the boundary of the mean domain (a variable that
never changes, a joint state of a pair never observed) has no maximum-likelihood
estimate, and :func:`check_ising_boundary` says which variables are the cause.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_finite, check_nonempty, check_weights
from ..errors import BoundaryError, ShapeError, SupportError

__all__ = ["check_levels", "sample_matrix", "ising_data_moments", "check_ising_boundary"]


def check_levels(x: np.ndarray, values: np.ndarray, name: str = "data") -> None:
    """Raise :class:`SupportError` naming the first entry of ``x`` not in ``values``."""
    bad = ~np.isin(x, values)
    if bad.any():
        idx = np.argwhere(bad)[0]
        where = ", ".join(str(int(i)) for i in idx)
        shown = ", ".join(f"{v:g}" for v in values)
        raise SupportError(f"{name}: {int(bad.sum())} value(s) outside {{{shown}}}; first at "
                           f"index ({where}) (variable {int(idx[-1])}): {x[tuple(idx)]!r}")


def sample_matrix(data, n: int | None, values, weights=None, name: str = "samples"):
    """``(X, w)``: the samples as a float64 ``(N, n)`` matrix and the weights (``None`` or
    ``(N,)``), validated: shape, finite, every entry one of ``values``."""
    X = as_float_array(data, name=name)
    check_nonempty(X, name=name)
    if X.ndim != 2 or (n is not None and X.shape[1] != n):
        want = "(N, n)" if n is None else f"(N, {n})"
        raise ShapeError(f"{name}: expected a matrix of samples of shape {want}; got {X.shape}")
    check_finite(X, name=name)
    check_levels(X, np.asarray(values, dtype=np.float64), name)
    w = None
    if weights is not None:
        w = check_weights(weights, (X.shape[0],), name="weights")
    return X, w


def ising_data_moments(X: np.ndarray, w, I: np.ndarray, J: np.ndarray):
    """``(mu, W)``: weighted means of ``u = (x, x_i x_j for the pairs)`` and the weight sum."""
    if w is None:
        W = float(X.shape[0])
        m = X.sum(axis=0) / W
        M = (X.T @ X) / W
    else:
        W = float(np.sum(w))
        m = (w @ X) / W
        M = (X.T @ (X * w[:, None])) / W
    return np.concatenate([m, M[I, J]]), W


def _fmt_list(items, limit=5):
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def check_ising_boundary(X, w, I, J, values, remedy: str) -> None:
    """Raise :class:`BoundaryError` when the data's mean statistics lie on the boundary of
    the mean domain, naming the cause: a variable that takes one value only (a constant
    column), or a pair of the graph one of whose four joint states is never observed
    (for instance perfectly correlated variables).  (These are the faces of the marginal
    polytope that data meet most often; an exact fit also reports the rarer
    higher-order faces through its diverging parameters.)"""
    lo, hi = values
    B = (X == hi).astype(np.float64)
    wv = np.ones(X.shape[0]) if w is None else w
    ones = wv @ B
    total = float(wv.sum())
    zeros = total - ones
    const = np.flatnonzero((ones <= 0) | (zeros <= 0))
    if const.size:
        items = [f"variable {i} (always {hi if zeros[i] <= 0 else lo:g})" for i in const]
        raise BoundaryError(
            f"the maximum-likelihood estimate does not exist (it lies at infinity): "
            f"{_fmt_list(items)} never change(s) in the data (a constant column); {remedy}")
    if I.size == 0:
        return
    N11 = (B.T * wv) @ B
    n11 = N11[I, J]
    n10 = ones[I] - n11
    n01 = ones[J] - n11
    n00 = total - n11 - n10 - n01
    missing = np.flatnonzero((n11 <= 0) | (n10 <= 0) | (n01 <= 0) | (n00 <= 0))
    if missing.size:
        items = []
        for p in missing:
            cells = [(a, b) for (a, b), c in (((hi, hi), n11[p]), ((hi, lo), n10[p]),
                                              ((lo, hi), n01[p]), ((lo, lo), n00[p])) if c <= 0]
            st = ", ".join(f"({a:g}, {b:g})" for a, b in cells)
            items.append(f"pair ({I[p]}, {J[p]}) never shows {st}")
        raise BoundaryError(
            f"the maximum-likelihood estimate does not exist (it lies at infinity): "
            f"{_fmt_list(items)} (perfectly (anti-)correlated or a joint state never "
            f"observed); {remedy}")
