"""Conversion of user input to arrays, and checks that name the offending entry."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

import numpy as np

from .errors import EmptyDataError, NonFiniteError, ParameterError, ShapeError, SupportError, WeightError


def as_float_array(data, *, name: str = "data", column=None, invalid=SupportError,
                   nonfinite=NonFiniteError) -> np.ndarray:
    """Convert lists, NumPy arrays, pandas objects or a column of them to float64.

    Nothing is coerced silently: only real numbers (bool, int, float, and objects that are
    real numbers) are accepted.  Complex values (even with zero imaginary parts), text,
    datetimes and other objects raise ``invalid``; missing values (masked entries of a
    masked array, ``None``, ``pd.NA``, ``NaT``) and integers too large for float64 raise
    ``nonfinite``, naming the first offending index.  A float64 array is returned as it is
    (no copy, no pass over its values).

    Parameters
    ----------
    data : array_like, pandas.Series or pandas.DataFrame
        The observations.
    name : str
        Name used in error messages.
    column : str or int, optional
        The column to take (see :func:`take_column`).
    invalid, nonfinite : exception classes
        What to raise for values that are not real numbers / that are missing or do not
        fit float64 (weights: :class:`WeightError`; parameters: :class:`ParameterError`).
    """
    if column is not None:
        data = take_column(data, column, name=name)
    if isinstance(data, np.ma.MaskedArray):
        data = _unmasked(data, name, nonfinite)
    elif hasattr(data, "to_numpy"):
        _check_pandas_missing(data, name, nonfinite)
        data = data.to_numpy()
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise ShapeError(f"{name}: cannot be read as an array of numbers ({exc})") from exc
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype == np.float64:
        return arr
    if kind in "biuf":
        with np.errstate(over="ignore"):  # long double beyond float64: named below
            out = arr.astype(np.float64)
        if kind == "f" and arr.dtype.itemsize > 8:
            with np.errstate(invalid="ignore"):
                over = np.isinf(out) & np.isfinite(arr)
            if over.any():
                i = np.flatnonzero(over)[0]
                raise nonfinite(f"{name}: the value at index {format_index(i, arr.shape)} "
                                f"({np.format_float_scientific(arr.ravel()[i], trim='-')}) is too "
                                f"large for float64")
        return out
    if kind == "c":
        raise invalid(f"{name}: complex values (dtype {arr.dtype}); expected real numbers"
                      f"{_first_imaginary(arr)}. expfam never drops an imaginary part: pass "
                      f"x.real explicitly if that is what you mean")
    if kind == "O":
        return _from_objects(arr, name, invalid, nonfinite)
    what = {"U": "text", "S": "bytes", "M": "datetimes", "m": "time differences",
            "V": "structured records"}.get(kind, "values")
    first = ""
    if arr.size:
        first = f" (first: {show(arr.ravel()[0])} at index {format_index(0, arr.shape)})"
    raise invalid(f"{name}: values must be numeric (real numbers); got {what} (dtype "
                  f"{arr.dtype}){first}. "
                  f"Convert explicitly (e.g. np.asarray(x, dtype=float)) if that is meant")


def take_column(data, column, name: str = "data"):
    """The column ``column`` of ``data``.

    - a DataFrame (or a mapping, or a structured array): the column with that name
      (label);
    - a 2-D array (or a list of rows): the column with that integer index, ``data[:, column]``
      (never a row);
    - anything else (a Series, a 1-D or 3-D array...): :class:`ShapeError`.
    """
    if hasattr(data, "columns"):  # a DataFrame
        try:
            return data[column]
        except (KeyError, TypeError, IndexError) as exc:
            raise ShapeError(f"{name}: no column {column!r} in the data; the columns are "
                             f"{list(data.columns)}") from exc
    if hasattr(data, "to_numpy"):  # a Series or an Index: no columns
        raise ShapeError(f"{name}: column={column!r} selects a column of a DataFrame or of a "
                         f"2-D array; the data are a {type(data).__name__}")
    if isinstance(data, Mapping):
        try:
            return data[column]
        except (KeyError, TypeError) as exc:
            raise ShapeError(f"{name}: no column {column!r} in the data; the columns are "
                             f"{list(data)}") from exc
    try:
        arr = data if isinstance(data, np.ndarray) else np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.dtype.names is not None:  # a structured array: fields are its columns
        if isinstance(column, str) and column in arr.dtype.names:
            return arr[column]
        raise ShapeError(f"{name}: no field {column!r} in the structured array; its fields "
                         f"are {list(arr.dtype.names)}")
    if isinstance(column, (bool, np.bool_)) or not isinstance(column, (int, np.integer)):
        raise ShapeError(f"{name}: column= on an array is the index of a column (an "
                         f"integer); got {column!r}. Names select columns of a DataFrame")
    if arr.ndim != 2:
        raise ShapeError(f"{name}: column={int(column)} selects a column of a 2-D array "
                         f"(n, columns); got an array of shape {arr.shape}")
    if not -arr.shape[1] <= column < arr.shape[1]:
        raise ShapeError(f"{name}: column={int(column)} is out of range for an array with "
                         f"{arr.shape[1]} column(s)")
    return arr[:, column]


def check_int(value, name: str, minimum: int) -> int:
    """An integer parameter (a count, a size): a Python or NumPy integer ``>= minimum``.

    Floats are refused even when integral (``2.0``), and so are booleans: ``n=2.7`` must
    not run with ``n=2``.
    """
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))
            or value < minimum):
        kind = " (a float)" if isinstance(value, (float, np.floating)) else ""
        raise ParameterError(f"{name} must be an integer >= {minimum}; got {value!r}{kind}")
    return int(value)


def as_rng(rng, name: str = "rng") -> np.random.Generator:
    """``np.random.default_rng(rng)``, with :class:`ParameterError` for what it refuses
    (a float seed, a string...)."""
    if isinstance(rng, (bool, np.bool_, float, np.floating, complex, str, bytes)):
        raise ParameterError(f"{name} must be a numpy.random.Generator or an integer seed "
                             f"(>= 0); got {rng!r}")
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be a numpy.random.Generator or an integer seed "
                             f"(>= 0); got {rng!r} ({exc})") from None


def _unmasked(m, name, error):
    """The data of a masked array without masked entries; ``error`` names the first."""
    mask = np.ma.getmaskarray(m)
    if mask.any():
        bad = np.flatnonzero(mask)
        raise error(
            f"{name}: {bad.size} masked value(s); first at index "
            f"{format_index(bad[0], mask.shape)}. Masked entries are missing values, which "
            f"expfam neither uses nor drops silently: remove them first (e.g. "
            f"x.compressed() for 1-D data)")
    return np.ma.getdata(m)


def _check_pandas_missing(data, name, error):
    """Missing values (``pd.NA``) of pandas extension dtypes (nullable numbers...)."""
    dtypes = [data.dtype] if hasattr(data, "dtype") else list(getattr(data, "dtypes", ()))
    if all(isinstance(d, np.dtype) for d in dtypes):
        return  # NumPy dtypes: NaN stays NaN, None shows in the object scan
    missing = np.asarray(data.isna())
    if missing.any():
        bad = np.flatnonzero(missing)
        raise error(f"{name}: {bad.size} missing value(s) (NA); first at index "
                    f"{format_index(bad[0], missing.shape)}")


def _first_imaginary(arr) -> str:
    nz = np.flatnonzero(arr.imag != 0) if arr.size else ()
    if len(nz):
        value = arr.ravel()[nz[0]].item()
        return f" (first non-real at index {format_index(nz[0], arr.shape)}: {value!r})"
    return ""


def _is_missing(v) -> bool:
    return v is None or type(v).__name__ in ("NAType", "NaTType") or (
        isinstance(v, (np.datetime64, np.timedelta64)) and np.isnat(v))


_REAL = (bool, int, float, np.bool_, np.integer, np.floating, Fraction, Decimal)


def _from_objects(arr, name, invalid, nonfinite) -> np.ndarray:
    """An object array as float64, every element a real number (see as_float_array)."""
    flat = arr.ravel()
    types = set(map(type, flat))
    if all(issubclass(t, _REAL) for t in types):
        try:
            return np.asarray(arr, dtype=np.float64)
        except OverflowError:
            pass  # an int too large for float64: located below
    for i, v in enumerate(flat):
        where = f"index {format_index(i, arr.shape)}"
        if _is_missing(v):
            raise nonfinite(f"{name}: missing value ({v!r}) at {where}")
        if isinstance(v, (complex, np.complexfloating)):
            raise invalid(f"{name}: complex value {show(v)} at {where}; expected real numbers. "
                          f"expfam never drops an imaginary part: pass x.real explicitly if "
                          f"that is what you mean")
        if not isinstance(v, _REAL):
            raise invalid(f"{name}: values must be numeric (real numbers); got {show(v)} "
                          f"({type(v).__name__}) at {where}")
        try:
            float(v)
        except OverflowError:
            digits = str(abs(int(v)))
            raise nonfinite(f"{name}: the integer at {where} ({digits[:12]}... with "
                            f"{len(digits)} digits) is too large for float64") from None
    return np.asarray(arr, dtype=np.float64)  # pragma: no cover - every element converts


def show(value) -> str:
    """``repr`` of a value with NumPy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def show_group(label) -> str:
    """``group <label>`` for messages; the missing group (label ``None``) says what it is."""
    if label is None:
        return "group None (the rows whose label is missing)"
    return f"group {show(label)}"


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


def check_weights(weights, obs_shape: tuple, name: str = "weights", *,
                  allow_zero: bool = False) -> np.ndarray:
    """Validate observation weights against the observations' shape ``(n, *batch)``.

    Exactly one weight per observation: shape ``(n,)`` (shared by the batch elements) or
    ``(n, *batch)``; nothing else is broadcast (a single weight for ``n > 1``
    observations is an error).  ``allow_zero``: a batch element whose weights are all
    zero is accepted (a part of a larger data set, e.g. a Dask block).
    """
    w = as_float_array(weights, name=name, invalid=WeightError, nonfinite=WeightError)
    if w.ndim == 0:
        raise ShapeError(f"{name}: expected one weight per observation, got a scalar")
    obs_shape = tuple(obs_shape)
    n = obs_shape[0]
    if w.shape != obs_shape:
        if w.shape != (n,):
            expected = f"({n},)" + (f" or {obs_shape}" if len(obs_shape) > 1 else "")
            raise ShapeError(
                f"{name}: shape {w.shape} does not match the observations' shape "
                f"{obs_shape}: expected one weight per observation, shape {expected}"
            )
        w = np.broadcast_to(w.reshape((n,) + (1,) * (len(obs_shape) - 1)), obs_shape)
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
    if not allow_zero and not (w.sum(axis=0) > 0).all():
        raise WeightError(f"{name}: all weights are zero (for at least one batch element)")
    return w
