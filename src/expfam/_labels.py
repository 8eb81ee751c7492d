"""Group labels (``by=``): validation, integer codes, and the union of two label sets.

Rules (the same in memory, for chunks, files and Dask partitions):

- Labels keep their type: integers stay integers, strings strings, datetimes datetimes,
  floats floats.  An object array (a pandas ``object`` or ``category`` column) is
  converted to the one type its labels share.
- Labels of different types in one call (``1`` and ``"1"``, ``1`` and ``2.5`` in an object
  array) raise :class:`~expfam.errors.LabelError` naming a row of each type; so does
  merging accumulators whose labels are of different types (``1`` and ``"1"``, ``1`` and
  ``1.0``, ``True`` and ``1``): different labels are never merged into one group.
  Complex labels and integers beyond 64 bits are refused.
- Missing labels (``None``, ``NaN``, ``NaT``, ``pd.NA``, masked entries) raise
  :class:`~expfam.errors.LabelError` naming the first row; with
  ``missing_labels="group"`` those rows form a group of their own, the *missing group*,
  whose label is ``None``.  ``None`` can never be a real label (it is always missing), so
  it cannot collide with one.  The missing group comes last; the group labels are then an
  object array ``[*sorted labels, None]``.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from ._validation import show
from .errors import LabelError, ParameterError

MISSING_LABELS = ("error", "group")

_KIND_OF_DTYPE = {"b": "bool", "i": "int", "u": "int", "f": "float", "U": "str", "S": "bytes",
                  "M": "datetime", "m": "timedelta"}
_HINT = ("pass missing_labels='group' to fit those rows as a group of their own (label "
         "None), or drop them first")


def check_missing_labels(value) -> str:
    """Validate the ``missing_labels`` option."""
    if not isinstance(value, str) or value not in MISSING_LABELS:
        raise ParameterError(f"missing_labels must be 'error' or 'group'; got {value!r}")
    return value


# ----------------------------------------------------------------------------------
# One call's labels
# ----------------------------------------------------------------------------------


def _type_kind(t) -> str:
    """The label kind of a Python / NumPy scalar type."""
    if issubclass(t, (bool, np.bool_)):
        return "bool"
    if issubclass(t, (int, np.integer)):
        return "int"
    if issubclass(t, (float, np.floating)):
        return "float"
    if issubclass(t, (str, np.str_)):
        return "str"
    if issubclass(t, (bytes, np.bytes_)):
        return "bytes"
    if issubclass(t, (_dt.datetime, np.datetime64)):
        return "datetime"
    if issubclass(t, _dt.date):
        return "date"
    if issubclass(t, (_dt.timedelta, np.timedelta64)):
        return "timedelta"
    if issubclass(t, (complex, np.complexfloating)):
        return "complex"
    return t.__name__


def _is_missing(v) -> bool:
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(v, (float, np.floating)):
        return v != v
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(v))
    return False


def _raw_item(by, i):
    """The label of row ``i`` as the user gave it (for messages)."""
    try:
        if hasattr(by, "iloc"):
            return by.iloc[i]
        return by[i]
    except Exception:  # noqa: BLE001 - a courtesy only
        return None


def _first_rows_of_two_kinds(values, rows):
    kinds = [_type_kind(type(v)) for v in values]
    first = kinds[0]
    j = next(i for i, k in enumerate(kinds) if k != first)
    return (rows[0], values[0], first), (rows[j], values[j], kinds[j])


def _typed_objects(values, rows, name):
    """An object array of present labels as one typed array (see the module notes);
    ``rows`` are their row numbers in the call (for messages)."""
    if values.size == 0:
        return values
    types = set(map(type, values))
    kinds = {_type_kind(t) for t in types}
    if len(kinds) > 1:
        (r0, v0, k0), (r1, v1, k1) = _first_rows_of_two_kinds(values, rows)
        raise LabelError(
            f"{name}: group labels of mixed types: {show(v0)} ({k0}) at index {r0} and "
            f"{show(v1)} ({k1}) at index {r1}; convert the labels to one type (labels of "
            f"different types are never merged into one group)")
    kind = kinds.pop()
    if kind in ("list", "tuple", "ndarray", "dict", "set"):
        raise LabelError(f"{name}: expected one label per observation; got a {kind} at index "
                         f"{rows[0]}")
    if kind == "complex":
        raise LabelError(f"{name}: complex group label {show(values[0])} at index {rows[0]}; "
                         f"use real numbers or strings")
    if kind == "str":
        return values.astype(str)
    if kind == "bytes":
        return values.astype(bytes)
    if kind == "bool":
        return values.astype(bool)
    if kind == "float":
        return values.astype(np.float64)
    if kind == "int":
        return _int_labels(values, rows, name)
    if kind == "datetime" and types <= {np.datetime64}:
        return np.array(values.tolist())
    if kind == "timedelta" and types <= {np.timedelta64}:
        return np.array(values.tolist())
    return values  # other orderable objects (tz-aware timestamps, dates...) as they are


def _int_labels(values, rows, name):
    as_list = values.tolist()
    lo, hi = min(as_list), max(as_list)
    if lo >= np.iinfo(np.int64).min and hi <= np.iinfo(np.int64).max:
        return np.array(as_list, dtype=np.int64)
    if lo >= 0 and hi <= np.iinfo(np.uint64).max:
        return np.array(as_list, dtype=np.uint64)
    i = next(i for i, v in enumerate(as_list)
             if not np.iinfo(np.int64).min <= v <= np.iinfo(np.uint64).max)
    digits = str(abs(as_list[i]))
    raise LabelError(f"{name}: the integer group label at index {rows[i]} ({digits[:12]}... "
                     f"with {len(digits)} digits) does not fit 64 bits; use strings")


def _maybe_missing(t) -> bool:
    return (t is type(None) or t.__name__ in ("NAType", "NaTType")
            or issubclass(t, (float, np.floating, np.datetime64, np.timedelta64)))


def _add_missing(missing, miss):
    """``missing`` (rows of the call, or None) with ``miss`` (among its present rows)."""
    if missing is None:
        return miss
    out = missing.copy()
    out[np.flatnonzero(~missing)[miss]] = True
    return out


def label_values(by, n: int, name: str = "by"):
    """``(values, missing)``: the labels of the rows that have one, as one typed array,
    and a boolean mask of the rows whose label is missing (``None`` when none is)."""
    missing = None
    if isinstance(by, np.ma.MaskedArray):
        arr, mask = np.ma.getdata(by), np.ma.getmaskarray(by)
        if arr.ndim == 1 and arr.shape[0] == n and mask.any():
            missing, arr = mask, arr[~mask]
    elif hasattr(by, "isna") and hasattr(by, "to_numpy"):  # pandas: its own NA, its dtype
        isna = np.asarray(by.isna())
        if isna.ndim == 1 and isna.shape[0] == n and isna.any():
            missing, arr = isna, by[~isna].to_numpy()
        else:
            arr = by.to_numpy()
    elif isinstance(by, (list, tuple)):
        # NumPy would turn [1, "a"] into ["1", "a"], [True, 1] into [1, 1] and [1, 2**63]
        # into floats: keep the objects, typed below by what they are
        arr = np.empty(len(by), dtype=object)
        try:
            arr[:] = list(by)
        except ValueError:
            raise LabelError(f"{name}: expected one label per observation, shape ({n},); "
                             f"got nested sequences") from None
    else:
        arr = np.asarray(by)
    if missing is None and (arr.ndim != 1 or arr.shape[0] != n):
        shape = arr.shape
        raise LabelError(f"{name}: expected one label per observation, shape ({n},); got "
                         f"shape {shape}")
    kind = arr.dtype.kind
    if kind == "O":
        types = set(map(type, arr))
        if any(_maybe_missing(t) for t in types):
            miss = np.fromiter((_is_missing(v) for v in arr), dtype=bool, count=arr.size)
            if miss.any():
                missing, arr = _add_missing(missing, miss), arr[~miss]
        rows = np.flatnonzero(~missing) if missing is not None else np.arange(arr.size)
        arr = _typed_objects(arr, rows, name)
    elif kind in "fMm":
        miss = np.isnan(arr) if kind == "f" else np.isnat(arr)
        if miss.any():
            missing, arr = _add_missing(missing, miss), arr[~miss]
    elif kind == "c":
        raise LabelError(f"{name}: complex group labels (dtype {arr.dtype}); use real numbers "
                         f"or strings")
    elif kind == "V":
        raise LabelError(f"{name}: structured records as group labels; pass one field")
    return arr, missing


def group_codes(by, n: int, missing_labels: str = "error", name: str = "by"):
    """``(groups, inverse, has_missing)``: candidate labels of the present rows in sorted
    order, each row's code into them (code ``groups.size`` for the missing group), and
    whether there is a missing group.

    Integer labels that are already small non-negative codes are used as they are,
    ``groups = arange(max + 1)`` (no sort); the caller drops the codes without rows.
    """
    values, missing = label_values(by, n, name)
    if missing is not None and missing.any():
        if missing_labels != "group":
            i = int(np.flatnonzero(missing)[0])
            raw = _raw_item(by, i)
            shown = "masked" if raw is np.ma.masked else show(raw)
            raise LabelError(f"{name}: {int(missing.sum())} missing group label(s); first at "
                             f"index {i}: {shown}; {_HINT}")
        groups, codes = _codes(values, name)
        inverse = np.full(n, groups.size, dtype=np.intp)
        inverse[~missing] = codes
        return groups, inverse, True
    groups, inverse = _codes(values, name)
    return groups, inverse, False


def _codes(labels, name):
    if labels.dtype.kind in "iu" and labels.size:
        lo, hi = int(labels.min()), int(labels.max())
        if lo >= 0 and hi < max(2 * labels.size, 1 << 16):
            return np.arange(hi + 1, dtype=labels.dtype), labels.astype(np.intp, copy=False)
    try:
        groups, inverse = np.unique(labels, return_inverse=True)
    except TypeError as exc:  # objects that cannot be ordered (naive and aware times...)
        raise LabelError(f"{name}: the group labels cannot be ordered ({exc}); use numbers "
                         f"or strings") from exc
    return groups, inverse.reshape(-1)


# ----------------------------------------------------------------------------------
# Label sets with a missing group, and merges
# ----------------------------------------------------------------------------------


def public_labels(real: np.ndarray, has_missing: bool) -> np.ndarray:
    """The labels of the batch axis: ``real`` (sorted, unique), then ``None`` for the
    missing group (an object array then)."""
    if not has_missing:
        return real
    out = np.empty(real.size + 1, dtype=object)
    out[:-1] = list(real)  # NumPy scalars as they are (datetime64 keeps its unit)
    out[-1] = None
    return out


def split_labels(groups: np.ndarray):
    """``(real, has_missing)``: the inverse of :func:`public_labels`, ``real`` typed."""
    if groups.dtype == object and groups.size and groups[-1] is None:
        real = groups[:-1]
        if real.size:
            real = np.array(real.tolist())
            if real.dtype.kind == "O" or real.ndim != 1:
                real = np.asarray(groups[:-1])
        else:
            real = np.array([])
        return real, True
    return groups, False


def label_kind(real: np.ndarray):
    """The kind of a set of real labels (``None`` for an empty set: any kind merges)."""
    if real.size == 0:
        return None
    kind = _KIND_OF_DTYPE.get(real.dtype.kind)
    if kind is not None:
        return kind
    kinds = {_type_kind(type(v)) for v in real}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def merge_labels(a: np.ndarray, b: np.ndarray):
    """``(groups, index_a, index_b)``: the union of two accumulators' labels (public form)
    and where each one's batch elements go in it.

    Raises :class:`LabelError` when the labels are of different types (``1`` and ``"1"``,
    ``1`` and ``1.0``): they are never merged into one group.
    """
    ra, ma = split_labels(a)
    rb, mb = split_labels(b)
    ka, kb = label_kind(ra), label_kind(rb)
    if ka is not None and kb is not None and ka != kb:
        raise LabelError(
            f"cannot merge statistics whose group labels are of different types: {ka} "
            f"(dtype {ra.dtype}, e.g. {show(ra[0])}) and {kb} (dtype {rb.dtype}, e.g. "
            f"{show(rb[0])}); labels such as 1 and '1', or 1 and 1.0, are different groups: "
            f"convert the labels to one type")
    if ka is None:
        union = rb
    elif kb is None:
        union = ra
    else:
        if ka == "int" and ra.dtype != rb.dtype:
            ra, rb = _common_int(ra, rb)
        try:
            union = np.union1d(ra, rb)
        except TypeError as exc:
            raise LabelError(f"cannot merge the group labels: they cannot be ordered "
                             f"together ({exc})") from exc
    G = union.size
    idx = []
    for real, has in ((ra, ma), (rb, mb)):
        i = np.searchsorted(union, real) if real.size else np.zeros(0, dtype=np.intp)
        idx.append(np.append(i, G) if has else i)
    return public_labels(union, ma or mb), idx[0], idx[1]


def _common_int(a, b):
    """Signed and unsigned integer labels in one integer dtype (NumPy would use float64
    and lose digits beyond 2**53)."""
    both = [a, b]
    lo = min(int(x.min()) for x in both)
    hi = max(int(x.max()) for x in both)
    if lo >= np.iinfo(np.int64).min and hi <= np.iinfo(np.int64).max:
        return a.astype(np.int64), b.astype(np.int64)
    if lo >= 0:
        return a.astype(np.uint64), b.astype(np.uint64)
    raise LabelError(f"cannot merge integer group labels from {lo} to {hi}: they do not fit "
                     f"one 64-bit integer type")
