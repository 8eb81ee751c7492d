"""The choice of columns: observations, group labels and weights, checked against the file."""

from __future__ import annotations

from ..errors import FileFormatError, ShapeError, SupportError
from .readers import _pa


def _select(family, source, column, by, weights):
    """Validate the column choice against the file; returns ``(columns, by, weights)``."""
    names = source.names
    if column is None:
        rest = [c for c in names if c not in (by, weights)]
        columns = rest if family.event_ndim else rest[:1]
    elif isinstance(column, str):
        columns = [column]
    else:
        columns = list(column)
    for name in columns + [c for c in (by, weights) if c is not None]:
        if not isinstance(name, str):
            raise ShapeError(f"column names must be strings; got {name!r}")
        if name not in names:
            raise FileFormatError(f"{source.path}: no column {name!r}; the columns are "
                                  f"{names}{_delimiter_hint(source)}")
        if names.count(name) > 1:
            raise FileFormatError(f"{source.path}: {names.count(name)} columns are named "
                                  f"{name!r}; cannot tell which to read (rename them)")
    if not columns:
        raise ShapeError(f"{source.path}: no column left for the observations; columns: {names}")
    if family.event_ndim and len(columns) < 2:
        raise ShapeError(
            f"{family.__name__} observations are vectors: pass column=[...] naming one "
            f"column per component; got {columns}")
    overlap = {by, weights} & set(columns)
    if overlap - {None} or (by is not None and by == weights):
        raise ShapeError("the observation, by and weights columns must be different")
    if source.types is not None:  # CSV: read as text, so any column may hold numbers
        pa = _pa()
        for name in columns + [c for c in (weights,) if c is not None]:
            t = source.types[name]
            if pa.types.is_dictionary(t):
                t = t.value_type
            if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                    or pa.types.is_decimal(t) or pa.types.is_null(t) or pa.types.is_string(t)
                    or pa.types.is_large_string(t)):
                raise SupportError(f"{source.path}: column {name!r} has type {t}; expected numbers")
    if by is not None and family.event_ndim == 0 and len(columns) > 1:
        raise ShapeError("by= groups need one observation column (or one per component of "
                         "a vector family)")
    return columns, by, weights


def _delimiter_hint(source) -> str:
    if source.types is None and any(d in n for n in source.names for d in ";\t|"):
        return " (CSV files are read comma-separated; is the delimiter another character?)"
    return ""
