"""Fits of files larger than memory: Parquet, CSV and Arrow IPC streamed in chunks.

Data enter a fit only through additive sufficient statistics (DESIGN.md), so a file is
read once, chunk by chunk (pyarrow, only the needed columns): every chunk becomes a
:class:`~expfam.stats.SufficientStats` and is merged into the running total.  Memory
grows with ``chunksize``, not with the file.

Invalid rows (null, non-numeric, NaN/inf, outside the support, bad weight, missing group
label) raise the same typed error as in memory, naming the file, the column, the row
(0-based data row; for CSV also the line, assuming one line per row) and the value.
With ``skip_invalid=True`` they are dropped and counted by reason instead; the counts
are attached as ``.skipped`` (a dict ``reason -> count`` of the reasons that occurred,
keys from :data:`SKIP_REASONS`) to the returned statistics and fit result.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from contextlib import closing

import numpy as np

from .errors import DataError, EmptyDataError, NonFiniteError, ParameterError, ShapeError
from .errors import SupportError, WeightError
from .families import resolve_family
from .fit import FitResult, fit_stats
from .stats import SufficientStats

__all__ = ["stats_from_file", "fit_file", "FileFormatError", "SKIP_REASONS"]

#: reasons for which ``skip_invalid=True`` drops a row, in order of precedence
SKIP_REASONS = ("null", "non_numeric", "non_finite", "outside_support", "invalid_weight",
                "invalid_label")
_NULL, _NON_NUMERIC, _NON_FINITE, _SUPPORT, _WEIGHT, _LABEL = range(1, 7)

_SUFFIXES = {
    ".parquet": "parquet", ".pq": "parquet",
    ".csv": "csv", ".csv.gz": "csv", ".csv.bz2": "csv", ".csv.zst": "csv",
    ".arrow": "ipc", ".feather": "ipc", ".ipc": "ipc", ".arrows": "ipc",
}
_FORMAT_NAMES = {"parquet": "parquet", "pq": "parquet", "csv": "csv", "ipc": "ipc",
                 "arrow": "ipc", "feather": "ipc"}
_CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
#: CSV fields read as missing; "nan" and "inf" stay numbers (non-finite, as in memory)
_CSV_NULLS = ["", "NA", "N/A", "n/a", "NULL", "null", "None", "#N/A"]
#: what Arrow's string -> float64 cast accepts (after trimming blanks)
_NUMBER_RE = (r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
              r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])$")


class FileFormatError(DataError):
    """The file's format is unknown, or the file cannot be read in that format."""


def stats_from_file(family, path, *, column=None, by=None, weights=None,
                    chunksize: int = 1_000_000, format: str | None = None,
                    skip_invalid: bool = False, progress: bool | None = None,
                    **fixed) -> SufficientStats:
    """Sufficient statistics of a column (or columns) of a file, read in chunks.

    Parameters
    ----------
    family : ExponentialFamily subclass or str
    path : str or os.PathLike
        A Parquet (``.parquet``, ``.pq``), CSV (``.csv``, ``.csv.gz``, ``.csv.bz2``,
        ``.csv.zst``; header row required) or Arrow IPC file or stream (``.arrow``,
        ``.feather``, ``.ipc``, ``.arrows``).
    column : str or list of str, optional
        The observations.  Vector families (Dirichlet, MultivariateNormal, Multinomial)
        take one column per component; several columns of a scalar family are a batch
        (one fit per column, rows dropped as a whole).  Default: the first column
        (scalar families) or every column (vector families) that is not ``by`` or
        ``weights``.
    by : str, optional
        Column of group labels: one fit per group (groups may be spread over chunks).
    weights : str, optional
        Column of non-negative observation weights.
    chunksize : int
        Rows per chunk (CSV: approximately, from the size of the first rows).
    format : {"parquet", "csv", "ipc"}, optional
        Default: inferred from the file's suffix.
    skip_invalid : bool
        Drop invalid rows instead of raising; the counts by reason are attached as
        ``.skipped`` to the result.
    progress : bool, optional
        Show a tqdm progress bar (rows; bytes for CSV).  Default: when stderr is a TTY.
    **fixed
        The family's fixed parameters.  Those the data determine are inferred from the
        first valid row (a Multinomial's ``n``: rows with another total are then outside
        the support); a Categorical needs ``n_categories``.

    Returns
    -------
    SufficientStats
        With an attribute ``skipped``: ``{reason: count}`` of the dropped rows.

    Raises
    ------
    NonFiniteError, SupportError, WeightError, ShapeError
        A bad value (naming file, column, row and value); a missing column.
    EmptyDataError
        The file has no (valid) rows.
    FileFormatError
        Unknown format, or a file that cannot be read in its format.
    """
    family = resolve_family(family)
    if isinstance(chunksize, bool) or not isinstance(chunksize, (int, np.integer)) or chunksize < 1:
        raise ParameterError(f"chunksize must be an integer >= 1; got {chunksize!r}")
    chunksize = int(chunksize)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    if family.name == "categorical" and "n_categories" not in fixed:
        raise ParameterError(
            "Categorical from a file needs n_categories=K: the number of categories cannot "
            "be inferred from the first chunk")
    fmt = _format(path, format)
    source = {"parquet": _Parquet, "csv": _Csv, "ipc": _Ipc}[fmt](path, chunksize)
    try:
        columns, by, weights = _select(family, source, column, by, weights)
        acc = _Accumulator(family, path, columns, by, weights, fixed, skip_invalid,
                           csv=fmt == "csv")
        show = sys.stderr.isatty() if progress is None else bool(progress)
        from tqdm.auto import tqdm

        numeric = columns + ([weights] if weights else [])
        batches = source.batches(numeric + ([by] if by else []), numeric)
        chunks = (_Chunk(b, columns, weights, by) for b in batches)
        with tqdm(total=source.total, unit=source.unit, unit_scale=True,
                  unit_divisor=1024 if source.unit == "B" else 1000,
                  desc=os.path.basename(path), disable=not show, leave=False) as bar, \
                closing(_prefetch(chunks)) as ahead:
            done = 0
            for chunk in ahead:
                acc.add(chunk)
                now = source.position(acc.offset)
                bar.update(now - done)
                done = now
    finally:
        source.close()
    return acc.result()


def fit_file(family, path, *, column=None, by=None, weights=None, chunksize: int = 1_000_000,
             format: str | None = None, skip_invalid: bool = False,
             progress: bool | None = None, pseudo_count=None, prior_mean=None,
             **fixed) -> FitResult:
    """Maximum-likelihood fit of a file read in chunks (see :func:`stats_from_file`).

    Equals ``fit_stats(stats_from_file(...), pseudo_count=..., prior_mean=...)``; the
    returned :class:`~expfam.fit.FitResult` has an extra attribute ``skipped``
    (``{reason: count}`` of the rows dropped by ``skip_invalid=True``; empty otherwise).
    """
    stats = stats_from_file(family, path, column=column, by=by, weights=weights,
                            chunksize=chunksize, format=format, skip_invalid=skip_invalid,
                            progress=progress, **fixed)
    result = fit_stats(stats, pseudo_count=pseudo_count, prior_mean=prior_mean)
    result.skipped = stats.skipped
    return result


# ----------------------------------------------------------------------------------
# Formats: each source knows its column names and types, and yields record batches
# ----------------------------------------------------------------------------------


def _pa():
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError("reading files needs pyarrow: pip install 'expfam[io]'") from exc
    return pyarrow


def _format(path: str, format: str | None) -> str:
    if format is not None:
        fmt = _FORMAT_NAMES.get(str(format).lower())
        if fmt is None:
            raise FileFormatError(f"unknown format {format!r}; known: parquet, csv, ipc")
        return fmt
    name = os.path.basename(path).lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIXES[suffix]
    raise FileFormatError(
        f"{path}: cannot tell the format from the name; known suffixes: "
        f"{', '.join(sorted(_SUFFIXES))} (or pass format='parquet' / 'csv' / 'ipc')")


def _arrow_errors():
    pa = _pa()
    return (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowKeyError)


class _Parquet:
    unit = "row"

    def __init__(self, path, chunksize):
        import pyarrow.parquet as pq

        self.path, self.chunksize = path, chunksize
        try:
            # buffered reads without pre-buffering: only a buffer of each column chunk is
            # held, not whole row groups
            self.file = pq.ParquetFile(path, pre_buffer=False,
                                       buffer_size=int(min(max(8 * chunksize, 1 << 16), 1 << 23)))
        except _arrow_errors() as exc:
            raise FileFormatError(f"{path}: not a readable Parquet file ({exc})") from exc
        schema = self.file.schema_arrow
        self.names = list(schema.names)
        self.types = {f.name: f.type for f in schema}
        self.total = self.file.metadata.num_rows

    def batches(self, columns, numeric):
        errors = _arrow_errors()
        try:
            yield from self.file.iter_batches(batch_size=self.chunksize, columns=columns)
        except errors as exc:
            raise FileFormatError(f"{self.path}: {exc}") from exc

    def position(self, rows):
        return rows

    def close(self):
        self.file.close()


class _Ipc:
    unit = "row"

    def __init__(self, path, chunksize):
        pa = _pa()
        import pyarrow.ipc as ipc

        self.path, self.chunksize = path, chunksize
        self.map = pa.memory_map(path)
        try:
            self.reader = ipc.open_file(self.map)
            self.stream = False
            self.total = self.reader.count_rows()
        except _arrow_errors():
            self.map.seek(0)
            try:
                self.reader = ipc.open_stream(self.map)
            except _arrow_errors() as exc:
                self.map.close()
                raise FileFormatError(f"{path}: not an Arrow IPC file or stream ({exc})") from exc
            self.stream, self.total = True, None
        schema = self.reader.schema
        self.names = list(schema.names)
        self.types = {f.name: f.type for f in schema}

    def batches(self, columns, numeric):
        import pyarrow.ipc as ipc

        # no IpcReadOptions(included_fields=...): with it Arrow copies each batch out of
        # the memory map; without it the unused columns are views that are never touched
        errors = _arrow_errors()
        try:
            if self.stream:
                self.map.seek(0)
                parts = iter(ipc.open_stream(self.map))
            else:
                parts = (self.reader.get_batch(i) for i in range(self.reader.num_record_batches))
            for batch in parts:  # memory-mapped: slices are views of the file
                batch = batch.select(columns)
                for start in range(0, batch.num_rows, self.chunksize):
                    yield batch.slice(start, self.chunksize)
        except errors as exc:
            raise FileFormatError(f"{self.path}: {exc}") from exc

    def position(self, rows):
        return rows

    def close(self):
        self.map.close()


class _Csv:
    unit = "B"

    def __init__(self, path, chunksize):
        import csv

        pa = _pa()
        self.path = path
        suffix = os.path.splitext(path.lower())[1]
        self.codec = _CODECS.get(suffix)
        self.total = os.path.getsize(path)
        with pa.input_stream(path, compression=self.codec) as fh:
            sample = fh.read(1 << 20)
        if not sample.strip():
            raise EmptyDataError(f"{path}: empty file (no header row)")
        header = sample.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
        self.names = next(csv.reader([header.rstrip("\r")]))
        self.types = None  # read as text, converted chunk by chunk
        # Arrow's streaming CSV reader reads ahead some 30 blocks: blocks of 1/16 chunk
        # keep that to about two chunks of text (and give batches of ~chunksize/16 rows)
        lines = max(sample.count(b"\n"), 1)
        self.block_size = int(min(max(chunksize * len(sample) / lines / 16, 1 << 16), 1 << 26))
        self.raw = None

    def batches(self, columns, numeric):
        pa = _pa()
        import pyarrow.csv as pcsv

        self.raw = pa.OSFile(self.path)
        stream = self.raw if self.codec is None else pa.CompressedInputStream(self.raw, self.codec)
        convert = pcsv.ConvertOptions(
            include_columns=columns, column_types={c: pa.string() for c in numeric},
            null_values=_CSV_NULLS, strings_can_be_null=True, quoted_strings_can_be_null=True)
        errors = _arrow_errors()
        try:
            # one column: an empty line is a missing value (as CSV writers write nulls),
            # not a line to skip (that would also shift the row numbers)
            parse = pcsv.ParseOptions(ignore_empty_lines=len(self.names) > 1)
            read = pcsv.ReadOptions(block_size=self.block_size)
            reader = pcsv.open_csv(stream, read_options=read, parse_options=parse,
                                   convert_options=convert)
            yield from reader
        except errors as exc:
            raise FileFormatError(f"{self.path}: {exc}") from exc

    def position(self, rows):
        return self.raw.tell() if self.raw is not None and not self.raw.closed else self.total

    def close(self):
        if self.raw is not None:
            self.raw.close()


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
            raise ShapeError(f"{source.path}: no column {name!r}; the columns are {names}")
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


# ----------------------------------------------------------------------------------
# Chunks -> validated float64 arrays -> SufficientStats, merged
# ----------------------------------------------------------------------------------


class _Values:
    """One column of a chunk as float64, with the rows that are null / not numbers."""

    __slots__ = ("name", "raw", "values", "null", "non_numeric")

    def __init__(self, name, arr):
        pa = _pa()
        import pyarrow.compute as pc

        self.name = name
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        self.raw = arr
        self.null = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
        self.non_numeric = None
        t = arr.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            try:
                arr = pc.cast(arr, pa.float64())
            except pa.ArrowInvalid:
                arr = self._parse(arr)
        elif t != pa.float64():
            arr = pc.cast(arr, pa.float64(), safe=False)
        self.values = arr.to_numpy(zero_copy_only=False)  # nulls -> NaN

    def _parse(self, arr):
        """Text with some non-numbers: cast what parses, flag the rest."""
        pa = _pa()
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(arr)
        ok = pc.fill_null(pc.match_substring_regex(trimmed, _NUMBER_RE), False)
        good = ok.to_numpy(zero_copy_only=False)
        null = self.null if self.null is not None else np.zeros(len(arr), dtype=bool)
        self.non_numeric = ~good & ~null
        try:
            return pc.cast(pc.if_else(ok, trimmed, pa.scalar(None, pa.string())), pa.float64())
        except pa.ArrowInvalid:  # pragma: no cover - the pattern mirrors Arrow's parser
            out = np.full(len(arr), np.nan)
            for i, s in enumerate(trimmed.to_pylist()):
                try:
                    out[i] = float(s)
                except (TypeError, ValueError):
                    if s is not None:
                        self.non_numeric[i] = True
            return pa.array(out)

    def bad_mask(self):
        """Rows that are null or not numbers, or ``None`` when there are none."""
        if self.null is None:
            return self.non_numeric
        return self.null if self.non_numeric is None else self.null | self.non_numeric


class _Labels:
    """Group labels of a chunk: values for ``by=`` (integer codes into sorted ``names``
    for text), and the rows whose label is missing."""

    def __init__(self, arr):
        pa = _pa()
        import pyarrow.compute as pc

        self.bad = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
        self.names = None
        t = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
            enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
            names = enc.dictionary.to_numpy(zero_copy_only=False)
            if len(set(names.tolist())) != len(names):  # a dictionary with repeated values
                enc = pc.dictionary_encode(arr.dictionary_decode())
                names = enc.dictionary.to_numpy(zero_copy_only=False)
            order = np.argsort(names, kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes = pc.fill_null(enc.indices, 0).to_numpy(zero_copy_only=False)
            self.values = rank[codes] if len(rank) else np.zeros(len(arr), dtype=np.int64)
            self.names = names[order]
        else:
            if pa.types.is_dictionary(arr.type):
                arr = arr.dictionary_decode()
            if self.bad is not None:  # fill the gaps with a label of the chunk: keeps the dtype
                present = pc.drop_null(arr)
                arr = (pc.fill_null(arr, present[0]) if len(present)
                       else pa.nulls(len(arr), pa.int64()).fill_null(0))
            self.values = arr.to_numpy(zero_copy_only=False)
            if self.values.dtype.kind == "f":
                nan = np.isnan(self.values)
                if nan.any():
                    self.bad = nan if self.bad is None else self.bad | nan


class _Chunk:
    """A record batch as float64 observations, weights and group labels."""

    __slots__ = ("n", "cols", "x", "w", "lab")

    def __init__(self, batch, columns, weights, by):
        self.n = batch.num_rows
        self.cols = [_Values(c, batch.column(c)) for c in columns]
        self.x = (self.cols[0].values if len(self.cols) == 1
                  else np.column_stack([c.values for c in self.cols]))
        self.w = _Values(weights, batch.column(weights)) if weights else None
        self.lab = _Labels(batch.column(by)) if by else None


def _prefetch(items, depth: int = 1):
    """Iterate over ``items`` in a background thread, ``depth`` items ahead.

    Reading and decoding the next chunk (pyarrow, which releases the GIL) then overlaps
    the statistics of the current one; at most ``depth + 1`` items are alive at a time.
    Close the generator (``contextlib.closing``) to stop the thread before closing the
    file.
    """
    q = queue.Queue()
    slots = threading.Semaphore(depth + 1)  # released when the consumer is done with one
    stop = threading.Event()
    end = object()

    def produce():
        try:
            it = iter(items)
            while True:
                while not slots.acquire(timeout=0.05):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    item = next(it)
                except StopIteration:
                    q.put((True, end))
                    return
                q.put((True, item))
                del item
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put((False, exc))
        finally:  # release the reader here, while the file is open
            if hasattr(items, "close"):
                items.close()

    thread = threading.Thread(target=produce, name="expfam-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is end:
                return
            yield item
            del item
            slots.release()
    finally:
        stop.set()
        thread.join()


class _Accumulator:
    def __init__(self, family, path, columns, by, weights, fixed, skip_invalid, csv):
        self.family, self.path = family, path
        self.columns, self.by, self.weights = columns, by, weights
        self.user_fixed = dict(fixed)
        self.fixed = None  # resolved on the first chunk
        self.skip = bool(skip_invalid)
        self.csv = csv
        self.offset = 0
        self.total = None
        self.counts = np.zeros(len(SKIP_REASONS) + 1, dtype=np.int64)

    # -- one chunk --------------------------------------------------------------
    def add(self, chunk):
        n, cols, x, w, lab = chunk.n, chunk.cols, chunk.x, chunk.w, chunk.lab
        if n == 0:
            return
        clean = all(c.bad_mask() is None for c in cols) and (w is None or w.bad_mask() is None) \
            and (lab is None or lab.bad is None)
        if self.fixed is None:
            self._resolve_fixed(x, cols)
        st = None
        if clean and self.fixed is not None:
            try:
                st = SufficientStats.from_data(self.family, x, None if w is None else w.values,
                                               by=None if lab is None else lab.values,
                                               **self.fixed)
            except DataError:
                st = None  # locate the bad rows below
        if st is None:
            st = self._careful(x, cols, w, lab, n)
        if st is not None:
            if lab is not None and lab.names is not None:  # codes -> the labels (sorted alike)
                st.groups = lab.names[np.asarray(st.groups, dtype=np.int64)]
            self.total = st if self.total is None else self.total.merge(st)
        self.offset += n

    def _resolve_fixed(self, x, cols):
        """Fixed parameters from the first valid row (shapes; a Multinomial's ``n``)."""
        pre = _any_rows(x, [c.bad_mask() for c in cols])
        candidates = np.flatnonzero(~pre)
        for tries, i in enumerate(candidates):
            try:
                fixed = self.family.infer_fixed(x[i:i + 1], dict(self.user_fixed))
                self.fixed = self.family.check_fixed(fixed)
                return
            except (NonFiniteError, SupportError) as exc:
                if not self.skip:
                    raise type(exc)(f"{self.path}: {self._row(self.offset + i)}: {exc}") from exc
                if tries >= 100:
                    raise ParameterError(
                        f"{self.path}: cannot infer {list(self.family.fixed_params)} from the "
                        f"first rows; pass them explicitly") from exc

    def _careful(self, x, cols, w, lab, n):
        """Validate every row; raise for the first bad one, or drop the bad ones."""
        reason = np.zeros(n, dtype=np.int8)
        if lab is not None and lab.bad is not None:
            reason[lab.bad] = _LABEL
        if w is not None:
            with np.errstate(invalid="ignore"):
                wbad = ~(np.isfinite(w.values) & (w.values >= 0))
            reason[wbad] = _WEIGHT
        finite = np.isfinite(x) if x.ndim == 1 else np.isfinite(x).all(axis=1)
        if self.fixed is not None:
            rows = None if finite.all() else np.flatnonzero(finite)
            inside = self.family.in_support(x if rows is None else x[rows], self.fixed)
            m = len(x) if rows is None else len(rows)
            inside = np.asarray(inside).reshape(m, -1).all(axis=1)
            if not inside.all():
                reason[(np.arange(n) if rows is None else rows)[~inside]] = _SUPPORT
        else:  # no row gave the fixed parameters: every finite row is outside the support
            reason[finite] = _SUPPORT
        reason[~finite] = _NON_FINITE
        for c in cols:
            if c.non_numeric is not None:
                reason[c.non_numeric] = _NON_NUMERIC
        for c in cols:
            if c.null is not None:
                reason[c.null] = _NULL
        keep = reason == 0
        if not keep.all():
            if not self.skip:
                self._raise(int(np.flatnonzero(~keep)[0]), int(reason[~keep][0]), x, cols, w)
            self.counts += np.bincount(reason, minlength=len(self.counts))
            self.counts[0] = 0
        if w is not None:
            keep &= w.values > 0  # weight-0 rows add nothing (and may empty a group)
        if not keep.any():
            return None
        all_rows = keep.all()
        try:
            return SufficientStats.from_data(
                self.family, x if all_rows else x[keep],
                None if w is None else (w.values if all_rows else w.values[keep]),
                by=None if lab is None else (lab.values if all_rows else lab.values[keep]),
                **self.fixed)
        except DataError as exc:
            raise type(exc)(f"{self.path}, rows {self.offset} to {self.offset + n - 1}: "
                            f"{exc}") from exc

    # -- messages ---------------------------------------------------------------
    def _row(self, g: int) -> str:
        return f"row {g} (line {g + 2})" if self.csv else f"row {g}"

    def _raise(self, i, why, x, cols, w):
        where = self._row(self.offset + i)
        hint = "; skip_invalid=True drops invalid rows"
        if why in (_NULL, _NON_NUMERIC, _NON_FINITE):
            for c in cols:
                if why == _NULL and c.null is not None and c.null[i]:
                    raise NonFiniteError(f"{self.path}: column {c.name!r}, {where}: missing "
                                         f"value (null){hint}")
                if why == _NON_NUMERIC and c.non_numeric is not None and c.non_numeric[i]:
                    raise SupportError(f"{self.path}: column {c.name!r}, {where}: "
                                       f"{c.raw[i].as_py()!r} is not a number{hint}")
                if why == _NON_FINITE and not np.isfinite(c.values[i]):
                    raise NonFiniteError(f"{self.path}: column {c.name!r}, {where}: non-finite "
                                         f"value {float(c.values[i])!r}{hint}")
        if why == _SUPPORT:
            support = self.family.support
            if self.family.event_ndim == 0:
                inside = np.atleast_1d(self.family.in_support(x[i], self.fixed)) \
                    if self.fixed is not None else np.zeros(len(cols), dtype=bool)
                j = int(np.flatnonzero(~inside)[0])
                raise SupportError(f"{self.path}: column {cols[j].name!r}, {where}: value "
                                   f"{float(cols[j].values[i])!r} outside the support "
                                   f"{support}{hint}")
            row = np.array2string(x[i], precision=6, threshold=8)
            raise SupportError(f"{self.path}: columns {[c.name for c in cols]}, {where}: "
                               f"{row} outside the support {support}{hint}")
        if why == _WEIGHT:
            value = "missing (null)" if w.null is not None and w.null[i] else (
                repr(w.raw[i].as_py()) if w.non_numeric is not None and w.non_numeric[i]
                else repr(float(w.values[i])))
            raise WeightError(f"{self.path}: weights column {w.name!r}, {where}: weight {value}; "
                              f"weights must be finite numbers >= 0{hint}")
        raise ShapeError(f"{self.path}: by column {self.by!r}, {where}: missing group label{hint}")

    # -- the end ----------------------------------------------------------------
    def result(self) -> SufficientStats:
        skipped = {SKIP_REASONS[k - 1]: int(self.counts[k])
                   for k in range(1, len(self.counts)) if self.counts[k]}
        if self.total is None:
            if self.offset == 0:
                raise EmptyDataError(f"{self.path}: no data rows (empty file)")
            detail = ", ".join(f"{v} {k}" for k, v in skipped.items())
            raise EmptyDataError(f"{self.path}: no valid rows among {self.offset}"
                                 + (f" (skipped: {detail})" if detail else ""))
        self.total.skipped = skipped
        return self.total


def _any_rows(x, masks):
    """Rows that are null / non-numeric in some column, or not finite."""
    bad = ~(np.isfinite(x) if x.ndim == 1 else np.isfinite(x).all(axis=1))
    for m in masks:
        if m is not None:
            bad |= m
    return bad
