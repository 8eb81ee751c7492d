"""The file format of :class:`~expfam.stats.SufficientStats`: a ``.npz`` of arrays and a JSON
header, without pickle, and its validation on load.

A file is trusted for nothing: every field is checked (presence, dtype, shape relative to
the batch shape and the family's natural dimension, values, and the relations between the
fields that merges rely on), and any problem raises :class:`~expfam.errors.FileFormatError`
naming the file and the field.

The invariants checked are those every :class:`SufficientStats` satisfies:

- ``count`` (observations with a positive weight) is an integer ``>= 0``; ``weight_sum``
  is finite and ``>= 0``, and positive exactly where ``count`` is (a weight sum of zero
  with ``count > 0``, or the reverse, cannot come from data);
- where ``count`` is 0 every sum is 0; sums are never NaN (``+-inf`` is kept: an
  overflow stays infinite);
- each compensation ``<sum>_lo`` is finite, zero where its sum is not, and at most one
  unit in the last place of its sum;
- group labels are unique and sorted (merges look labels up by binary search); the
  missing group of ``missing_labels="group"`` (label ``None``, last) is stored as the
  header key ``"missing_group": true``, the field ``groups`` holding the other labels;
- the location pivots of a pivot family (``shift``) are finite where ``count > 0``
  (NaN marks an element without data); other families have none.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from typing import NamedTuple

import numpy as np

from ._labels import public_labels, split_labels
from ._validation import format_index, show
from .errors import ExpfamError, FileFormatError, ShapeError, UnknownFamilyError
from .families import resolve_family

FORMAT = "expfam.SufficientStats/1"
#: keys of the JSON header (stored as the 0-d text array ``meta``)
META_KEYS = ("format", "family", "fixed")
#: optional keys of the header
META_OPTIONAL = ("missing_group",)


class Field(NamedTuple):
    kind: str  # "int", "float" or "label"
    shape: tuple  # in symbols: "batch" (the batch shape), "k" (the natural dimension),
    #              "pivot" (the shape of one location pivot: () or (d,))
    optional: bool = False  # saved when the attribute is not None; a constructor keyword


#: the arrays of a file (besides ``meta``), as attributes of SufficientStats.  Each float
#: sum in ``SufficientStats._SUMS`` also has its compensation ``<name>_lo``, same shape.
#: Adding a field is one line here (and the constructor keyword of an optional one).
FIELDS = {
    "count": Field("int", ("batch",)),
    "weight_sum": Field("float", ("batch",)),
    "sum_u": Field("float", ("batch", "k")),
    "sum_log_h": Field("float", ("batch",)),
    "groups": Field("label", ("batch",), optional=True),
    "shift": Field("float", ("batch", "pivot"), optional=True),
}

_KINDS = {"int": "iu", "float": "f", "label": "biufUS"}
# what reading a member of a damaged or hostile archive can raise
_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile,
                zlib.error, NotImplementedError, MemoryError)


def _lo_fields(sums) -> dict:
    return {f"{name}_lo": FIELDS[name] for name in sums}


# ----------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------


def write(stats, path) -> None:
    """Write ``stats`` (a consistent snapshot) to ``path``."""
    meta = {"format": FORMAT, "family": stats.family.name,
            "fixed": {k: np.asarray(v).tolist() for k, v in stats.fixed.items()}}
    arrays = {}
    for name, field in FIELDS.items():
        value = getattr(stats, name, None)
        if value is None and field.optional:
            continue
        if name == "groups":
            value, missing_group = split_labels(value)
            if missing_group:
                meta["missing_group"] = True
        if field.kind == "label" and value.dtype.kind not in _KINDS["label"]:
            raise ShapeError(f"group labels of dtype {value.dtype} cannot be saved "
                             "without pickle; use numbers or strings")
        arrays[name] = value
    for name in _lo_fields(stats._SUMS):
        arrays[name] = stats._lo[name[:-3]]
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


# ----------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------


def read(cls, path):
    """A :class:`SufficientStats` (``cls``) from a file written by :func:`write`."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise FileNotFoundError(f"{name}: no such file")
    if os.path.isdir(name):
        raise FileFormatError(f"{name}: is a directory, not an expfam statistics file")
    _check_magic(name)
    try:
        archive = np.load(name, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise FileFormatError(f"{name}: not a readable .npz archive ({_reason(exc)})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):  # pragma: no cover - magic checked
        raise FileFormatError(f"{name}: not an .npz archive")
    with archive:
        family, fixed, missing_group = _read_meta(name, archive)
        arrays = _read_arrays(name, archive, family, fixed, cls._SUMS, missing_group)
    _check_values(name, arrays, cls._SUMS)
    if missing_group:
        arrays["groups"] = public_labels(arrays["groups"], True)
    required = [arrays[f] for f, field in FIELDS.items() if not field.optional]
    optional = {f: arrays[f] for f, field in FIELDS.items() if field.optional and f in arrays}
    out = cls(family, fixed, *required, **optional)
    for f in cls._SUMS:
        out._lo[f] = arrays[f"{f}_lo"]
    return out


def _check_magic(name):
    try:
        with open(name, "rb") as fh:
            head = fh.read(6)
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read ({_reason(exc)})") from exc
    if not head:
        raise FileFormatError(f"{name}: empty file, not an expfam statistics file")
    if head == b"\x93NUMPY":
        raise FileFormatError(f"{name}: a .npy array, not an expfam statistics file (.npz)")
    if head[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise FileFormatError(f"{name}: not an .npz archive (no zip signature), so not an "
                              "expfam statistics file")


def _reason(exc) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _member(name, archive, key):
    try:
        return archive[key]
    except _READ_ERRORS as exc:
        if isinstance(exc, ValueError) and "allow_pickle" in str(exc):
            raise FileFormatError(f"{name}: field {key!r} holds Python objects (pickle), "
                                  "which are never loaded") from exc
        raise FileFormatError(f"{name}: field {key!r} cannot be read ({_reason(exc)})") from exc


def _read_meta(name, archive):
    if "meta" not in archive.files:
        raise FileFormatError(f"{name}: field 'meta' (the JSON header) is missing; not an "
                              "expfam statistics file")
    raw = _member(name, archive, "meta")
    if raw.shape != () or raw.dtype.kind != "U":
        raise FileFormatError(f"{name}: field 'meta': expected a text scalar (the JSON "
                              f"header); got dtype {raw.dtype}, shape {raw.shape}")
    try:
        meta = json.loads(str(raw))
    except ValueError as exc:
        raise FileFormatError(f"{name}: field 'meta': not JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise FileFormatError(f"{name}: field 'meta': expected a JSON object; got "
                              f"{type(meta).__name__}")
    missing = [k for k in META_KEYS if k not in meta]
    extra = sorted(set(meta) - set(META_KEYS) - set(META_OPTIONAL))
    if missing or extra:
        raise FileFormatError(f"{name}: field 'meta': " + (
            f"missing key(s) {missing}" if missing else f"unknown key(s) {extra}"))
    if meta["format"] != FORMAT:
        raise FileFormatError(f"{name}: field 'meta.format': unknown format tag "
                              f"{meta['format']!r}; expected {FORMAT!r}")
    try:
        family = resolve_family(meta["family"]) if isinstance(meta["family"], str) else None
    except UnknownFamilyError as exc:
        raise FileFormatError(f"{name}: field 'meta.family': {exc}") from exc
    if family is None:
        raise FileFormatError(f"{name}: field 'meta.family': expected a family name; got "
                              f"{meta['family']!r}")
    missing_group = meta.get("missing_group", False)
    if not isinstance(missing_group, bool):
        raise FileFormatError(f"{name}: field 'meta.missing_group': expected true or false; "
                              f"got {missing_group!r}")
    return family, _read_fixed(name, family, meta["fixed"]), missing_group


def _read_fixed(name, family, raw):
    where = f"{name}: field 'meta.fixed'"
    if not isinstance(raw, dict):
        raise FileFormatError(f"{where}: expected a JSON object; got {type(raw).__name__}")
    fixed = {}
    for key, value in raw.items():
        try:
            arr = np.asarray(value)
        except ValueError:  # ragged lists
            arr = np.asarray(None)
        if arr.dtype.kind not in "iuf" or not np.isfinite(arr).all():
            raise FileFormatError(f"{where}: {key!r} must be a finite number (or array of "
                                  f"them); got {value!r}")
        fixed[key] = value if arr.ndim == 0 else arr
    try:
        return family.check_fixed(fixed)
    except (ExpfamError, ValueError, TypeError) as exc:
        raise FileFormatError(f"{where}: {exc}") from exc


def _read_arrays(name, archive, family, fixed, sums, missing_group=False):
    expected = {**FIELDS, **_lo_fields(sums)}
    files = set(archive.files) - {"meta"}
    missing = [f for f, field in expected.items() if not field.optional and f not in files]
    if missing:
        raise FileFormatError(f"{name}: field {missing[0]!r} is missing")
    extra = sorted(files - set(expected))
    if extra:
        raise FileFormatError(f"{name}: unexpected field(s) {extra}")
    arrays = {f: _typed(name, f, _member(name, archive, f), field.kind)
              for f, field in expected.items() if f in files}
    try:
        k = int(family.natural_dim(fixed))
    except (ExpfamError, ValueError, TypeError, KeyError) as exc:
        raise FileFormatError(f"{name}: field 'meta.fixed': {exc}") from exc
    batch = arrays["count"].shape
    pivot = () if family.event_ndim == 0 else (int(fixed.get("dim", 0)),)
    dims = {"batch": batch, "k": (k,), "pivot": pivot}
    if family.pivot and "shift" not in arrays:
        raise FileFormatError(f"{name}: field 'shift' is missing ({family.__name__} keeps "
                              "its sums about location pivots)")
    if not family.pivot and "shift" in arrays:
        raise FileFormatError(f"{name}: field 'shift': {family.__name__} has no location pivot")
    if missing_group and "groups" not in arrays:
        raise FileFormatError(f"{name}: field 'meta.missing_group': set, but there are no "
                              "group labels (field 'groups')")
    if missing_group and len(batch) == 1 and batch[0] < 1:
        raise FileFormatError(f"{name}: field 'meta.missing_group': set, but the batch is "
                              "empty")
    for f, arr in arrays.items():
        shape = sum((dims[s] for s in expected[f].shape), ())
        if f == "groups" and missing_group and len(batch) == 1:
            shape = (batch[0] - 1,)  # the missing group (last) has no stored label
        if arr.shape != shape:
            how = {"batch": f"the batch shape {batch} (that of 'count')",
                   "k": f"{family.__name__}'s natural dimension {k}",
                   "pivot": f"the shape of one pivot {pivot}"}
            raise FileFormatError(f"{name}: field {f!r}: shape {arr.shape}; expected {shape}: "
                                  + " + ".join(how[s] for s in expected[f].shape))
    if "groups" in arrays and len(batch) != 1:
        raise FileFormatError(f"{name}: field 'groups': group labels need a batch of one "
                              f"axis; the batch shape is {batch}")
    return arrays


def _typed(name, f, arr, kind):
    """The array in the dtype the class holds, or an error naming the dtype found."""
    if arr.dtype.kind not in _KINDS[kind] or (kind == "float" and arr.dtype.itemsize != 8):
        expected = {"int": "integers", "float": "float64", "label": "numbers or strings"}[kind]
        raise FileFormatError(f"{name}: field {f!r}: dtype {arr.dtype}; expected {expected}")
    if kind == "int" and arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise FileFormatError(f"{name}: field {f!r}: value {show(arr.max())} does not fit int64")
    if kind == "int":
        return arr.astype(np.int64, copy=False)
    if kind == "float":
        return arr.astype(np.float64, copy=False)
    return arr


def _check_values(name, a, sums):
    count, weight = a["count"], a["weight_sum"]
    shape = count.shape

    def fail(f, mask, what):
        i = int(np.flatnonzero(mask)[0])
        where = f" at batch index {format_index(i, shape)}" if shape else ""
        value = np.asarray(a[f]).reshape(mask.size, -1)[i]
        shown = show(value[0]) if value.size == 1 else np.array2string(value, threshold=8)
        raise FileFormatError(f"{name}: field {f!r}: {what}{where} (value {shown})")

    if (count < 0).any():
        fail("count", count < 0, "negative count")
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(weight) & (weight >= 0))
    if bad.any():
        fail("weight_sum", bad, "not a finite number >= 0")
    if ((count > 0) & (weight == 0)).any():
        fail("weight_sum", (count > 0) & (weight == 0), "zero where count > 0")
    if ((count == 0) & (weight > 0)).any():
        fail("weight_sum", (count == 0) & (weight > 0), "positive where count is 0")
    empty = count == 0
    for f in sums:
        hi, lo = a[f], a[f"{f}_lo"]
        per_row = hi.reshape(count.size, -1 if count.size else max(hi.size, 1))
        if np.isnan(hi).any():
            fail(f, np.isnan(per_row).any(axis=1), "NaN")
        if (per_row[empty.ravel()] != 0).any():
            fail(f, empty.ravel() & (per_row != 0).any(axis=1), "nonzero where count is 0")
        lo_rows, finite = lo.reshape(per_row.shape), np.isfinite(per_row)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(lo_rows) | (~finite & (lo_rows != 0)) | (
                finite & (np.abs(lo_rows) > np.spacing(np.abs(np.where(finite, per_row, 0)))))
        if bad.any():
            fail(f"{f}_lo", bad.any(axis=1),
                 f"compensation not finite, or larger than one ulp of {f!r}")
    if "groups" in a:
        _check_labels(name, a["groups"])
    if "shift" in a:
        rows = a["shift"].reshape(count.size, -1)
        bad = (count.ravel() > 0) & ~np.isfinite(rows).all(axis=1)
        if bad.any():
            fail("shift", bad, "not finite where count > 0")


def _check_labels(name, g):
    if g.dtype.kind == "f" and np.isnan(g).any():
        raise FileFormatError(f"{name}: field 'groups': NaN label")
    if g.size > 1:
        bad = ~(g[1:] > g[:-1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            what = "duplicate label" if g[i] == g[i + 1] else "labels not sorted:"
            detail = show(g[i]) if g[i] == g[i + 1] else f"{show(g[i])} before {show(g[i + 1])}"
            raise FileFormatError(f"{name}: field 'groups': {what} {detail} (at index {i + 1}); "
                                  "labels must be unique and sorted")
