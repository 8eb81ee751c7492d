"""Conversion of user input to arrays, and checks that name the offending entry."""

from __future__ import annotations

import numpy as np

from .errors import EmptyDataError, NonFiniteError, ShapeError, SupportError, WeightError


def as_float_array(data, *, name: str = "data", column=None) -> np.ndarray:
    """Convert lists, NumPy arrays, pandas Series or a DataFrame column to float64.

    Parameters
    ----------
    data : array_like, pandas.Series or pandas.DataFrame
        The observations.
    name : str
        Name used in error messages.
    column : str, optional
        Column to take when ``data`` is a DataFrame.
    """
    if column is not None:
        try:
            data = data[column]
        except (KeyError, TypeError, IndexError) as exc:
            raise ShapeError(f"{name}: no column {column!r} in the data") from exc
    if hasattr(data, "to_numpy"):
        data = data.to_numpy()
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SupportError(f"{name}: values must be numeric ({exc})") from exc
    return arr


def show(value) -> str:
    """``repr`` of a value with NumPy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def format_index(flat_index: int, shape: tuple) -> str:
    """Human-readable index of the ``flat_index``-th element of an array of ``shape``."""
    if len(shape) <= 1:
        return str(int(flat_index))
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape)))


def check_finite(arr: np.ndarray, name: str = "data") -> None:
    """Raise :class:`NonFiniteError` naming the first NaN or inf entry."""
    if arr.size and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr))
        i = bad[0]
        raise NonFiniteError(
            f"{name}: {bad.size} non-finite value(s); first at index "
            f"{format_index(i, arr.shape)}: {show(arr.ravel()[i])}"
        )


def raise_support(bad_mask: np.ndarray, values: np.ndarray, support: str, name: str = "data"):
    """Raise :class:`SupportError` for the first ``True`` entry of ``bad_mask``.

    ``bad_mask`` has the shape of the observations (the leading axes of ``values``); for
    vector observations the whole row is shown.
    """
    bad = np.flatnonzero(bad_mask)
    i = bad[0]
    idx = np.unravel_index(i, bad_mask.shape)
    shown = values[idx]
    if np.ndim(shown) == 0:
        shown = float(shown)
    else:
        shown = np.array2string(np.asarray(shown), precision=6, threshold=8)
    raise SupportError(
        f"{name}: {bad.size} value(s) outside the support {support}; first at index "
        f"{format_index(i, bad_mask.shape)}: {shown}"
    )


def check_nonempty(arr: np.ndarray, name: str = "data") -> None:
    if arr.ndim == 0:
        raise ShapeError(f"{name}: expected an array of observations, got a scalar")
    if arr.shape[0] == 0:
        raise EmptyDataError(f"{name}: no observations (empty data)")


def check_weights(weights, obs_shape: tuple, name: str = "weights") -> np.ndarray:
    """Validate observation weights against the observations' shape ``(n, *batch)``."""
    w = as_float_array(weights, name=name)
    if w.ndim == 0:
        raise ShapeError(f"{name}: expected one weight per observation, got a scalar")
    try:
        w = np.broadcast_to(w.reshape(w.shape + (1,) * (len(obs_shape) - w.ndim)), obs_shape)
    except ValueError as exc:
        raise ShapeError(
            f"{name}: shape {w.shape} does not match the observations' shape {obs_shape}"
        ) from exc
    if w.shape[0] != obs_shape[0]:
        raise ShapeError(f"{name}: {w.shape[0]} weights for {obs_shape[0]} observations")
    if not np.isfinite(w).all():
        bad = np.flatnonzero(~np.isfinite(w))
        raise WeightError(
            f"{name}: non-finite weight at index {format_index(bad[0], w.shape)}: "
            f"{show(w.ravel()[bad[0]])}"
        )
    if (w < 0).any():
        bad = np.flatnonzero(w < 0)
        raise WeightError(
            f"{name}: negative weight at index {format_index(bad[0], w.shape)}: "
            f"{show(w.ravel()[bad[0]])}; weights must be >= 0"
        )
    if not (w.sum(axis=0) > 0).all():
        raise WeightError(f"{name}: all weights are zero (for at least one batch element)")
    return w
