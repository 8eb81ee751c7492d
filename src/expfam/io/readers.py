"""File formats: detection from the name, and chunked readers of Parquet, Arrow IPC and CSV.

Each reader (a *source*) knows the file's column names and types (``names``, ``types``;
``types`` is ``None`` for CSV, read as text), yields record batches of the needed columns
(``batches``), and reports its progress in its own ``unit`` (rows; bytes for CSV) out of
``total``.  pyarrow is imported lazily: it is an optional dependency.

A file that cannot be read raises :class:`~expfam.errors.FileFormatError` naming the file,
what the content looks like when that explains the failure (a Parquet file named ``.csv``,
plain text named ``.gz``...), and the row where one is known: the first bad line of a CSV
file, else how many rows were read before the failure.
"""

from __future__ import annotations

import csv
import os
import sys

from ..errors import EmptyDataError, FileFormatError

_SUFFIXES = {
    ".parquet": "parquet", ".pq": "parquet",
    ".csv": "csv", ".csv.gz": "csv", ".csv.bz2": "csv", ".csv.zst": "csv",
    ".arrow": "ipc", ".feather": "ipc", ".ipc": "ipc", ".arrows": "ipc",
}
_FORMAT_NAMES = {"parquet": "parquet", "pq": "parquet", "csv": "csv", "ipc": "ipc",
                 "arrow": "ipc", "feather": "ipc"}
_CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
_NAMES = {"parquet": "a Parquet file", "ipc": "an Arrow IPC file", "csv": "CSV text"}
#: CSV fields read as missing; "nan" and "inf" stay numbers (non-finite, as in memory)
_CSV_NULLS = ["", "NA", "N/A", "n/a", "NULL", "null", "None", "#N/A"]


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


def _unreadable(exc: BaseException) -> bool:
    """Whether ``exc`` says that a file cannot be read (rather than a bug or no memory)."""
    if isinstance(exc, MemoryError):
        return False
    if isinstance(exc, (OSError, EOFError, UnicodeError, csv.Error)):
        return True
    pa = sys.modules.get("pyarrow")  # not imported: no Arrow error (small CSV files)
    return pa is not None and isinstance(exc, pa.ArrowException)


# ----------------------------------------------------------------------------------
# What a file looks like, from its first bytes: explains why it cannot be read
# ----------------------------------------------------------------------------------

_MAGIC = [  # (prefix, description, format it can be read as, compression)
    (b"PAR1", "a Parquet file", "parquet", None),
    (b"ARROW1", "an Arrow IPC file", "ipc", None),
    (b"\xff\xff\xff\xff", "an Arrow IPC stream", "ipc", None),
    (b"\x1f\x8b", "gzip-compressed data", None, ".gz"),
    (b"BZh", "bz2-compressed data", None, ".bz2"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data", None, ".zst"),
    (b"PK\x03\x04", "a zip archive (.xlsx, .npz...)", None, None),
    (b"\x93NUMPY", "a NumPy .npy array", None, None),
]


def _head(path: str, size: int = 4096) -> bytes:
    """The first bytes of a file; FileFormatError for a directory or a file that cannot
    be opened (permission denied...)."""
    if os.path.isdir(path):
        raise FileFormatError(f"{path}: is a directory, not a file")
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open the file ({exc.strerror or exc})") from exc


def _looks_like(data: bytes):
    """``(description, format, compression)`` of content that starts with ``data``."""
    for prefix, what, fmt, codec in _MAGIC:
        if data.startswith(prefix):
            return what, fmt, codec
    if not data:
        return "empty", None, None
    if b"\x00" in data:
        return "binary data", None, None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 4:  # not only a character cut at the end of the sample
            return "text that is not UTF-8", "csv", None
    return "text", "csv", None


def _hint(path: str, fmt: str, data: bytes) -> str:
    """Why a file named ``path`` may not read as ``fmt``, from its first bytes, or ``""``."""
    what, actual, codec = _looks_like(data)
    suffix = os.path.splitext(path.lower())[1]
    named = suffix if fmt == "csv" and suffix in _CODECS else None
    if codec is not None or named is not None:
        if codec == named or what == "empty":
            return ""
        if codec is None:
            return f"; the content is {what}, not {_CODECS[named]}-compressed"
        return (f"; the content is {what}: name the file .csv{codec}" if fmt == "csv"
                else f"; the content is {what}, not {_NAMES[fmt]}")
    if actual == fmt or what == "empty":
        return ""
    if actual is not None:
        return f"; the content looks like {what}: rename the file or pass format={actual!r}"
    return f"; the content is {what}, not {_NAMES[fmt]}"


def _failure(path, label, exc, rows) -> FileFormatError:
    """The error for a file whose reading failed after ``rows`` rows."""
    where = f" after its first {rows} data rows" if rows else ""
    return FileFormatError(f"{path}: cannot read the {label} data{where} ({exc})")


class _Parquet:
    unit = "row"

    def __init__(self, path, chunksize):
        import pyarrow.parquet as pq

        self.path, self.chunksize = path, chunksize
        try:
            # buffered reads without pre-buffering: only a buffer of each column chunk is
            # held, not whole row groups; pages written with a CRC are checked against it
            self.file = pq.ParquetFile(path, pre_buffer=False, page_checksum_verification=True,
                                       buffer_size=int(min(max(8 * chunksize, 1 << 16), 1 << 23)))
            schema = self.file.schema_arrow
            self.total = self.file.metadata.num_rows
        except Exception as exc:
            if not _unreadable(exc):
                raise
            raise FileFormatError(f"{path}: not a readable Parquet file ({exc})"
                                  f"{_hint(path, 'parquet', _head(path))}") from exc
        self.names = list(schema.names)
        self.types = {f.name: f.type for f in schema}

    def batches(self, columns, numeric):
        rows = 0
        try:
            for batch in self.file.iter_batches(batch_size=self.chunksize, columns=columns):
                rows += batch.num_rows
                yield batch
        except Exception as exc:
            if not _unreadable(exc):
                raise
            raise _failure(self.path, "Parquet", exc, rows) from exc

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
        self.map = None
        try:
            self.map = pa.memory_map(path)
            try:
                self.reader = ipc.open_file(self.map)
                self.stream = False
                self.total = self.reader.count_rows()
            except Exception as exc:
                if not _unreadable(exc):
                    raise
                self.map.seek(0)
                self.reader = ipc.open_stream(self.map)
                self.stream, self.total = True, None
            schema = self.reader.schema
        except Exception as exc:
            if self.map is not None:
                self.map.close()
            if not _unreadable(exc):
                raise
            raise FileFormatError(f"{path}: not an Arrow IPC file or stream ({exc})"
                                  f"{_hint(path, 'ipc', _head(path))}") from exc
        self.names = list(schema.names)
        self.types = {f.name: f.type for f in schema}

    def batches(self, columns, numeric):
        import pyarrow.ipc as ipc

        # no IpcReadOptions(included_fields=...): with it Arrow copies each batch out of
        # the memory map; without it the unused columns are views that are never touched
        rows = 0
        try:
            if self.stream:
                self.map.seek(0)
                parts = iter(ipc.open_stream(self.map))
            else:
                parts = (self.reader.get_batch(i) for i in range(self.reader.num_record_batches))
            for batch in parts:  # memory-mapped: slices are views of the file
                batch = batch.select(columns)
                # Arrow trusts IPC data as they are: damaged offsets would crash the kernels
                batch.validate(full=True)
                for start in range(0, batch.num_rows, self.chunksize):
                    part = batch.slice(start, self.chunksize)
                    rows += part.num_rows
                    yield part
        except Exception as exc:
            if not _unreadable(exc):
                raise
            raise _failure(self.path, "Arrow IPC", exc, rows) from exc

    def position(self, rows):
        return rows

    def close(self):
        self.map.close()


class _Csv:
    unit = "B"

    def __init__(self, path, chunksize):
        pa = _pa()
        self.path = path
        suffix = os.path.splitext(path.lower())[1]
        self.codec = _CODECS.get(suffix)
        self.total = os.path.getsize(path)
        self.names = None
        try:
            with pa.input_stream(path, compression=self.codec) as fh:
                sample = fh.read(1 << 20)
        except Exception as exc:
            if not _unreadable(exc):
                raise
            raise self.failure(exc, 0) from exc
        if not sample.strip():
            raise EmptyDataError(f"{path}: empty file (no header row)")
        what, actual, _ = _looks_like(sample[:4096])
        if actual != "csv":
            raise FileFormatError(f"{path}: cannot read as CSV{_hint(path, 'csv', _head(path))}"
                                  if self.codec is None else
                                  f"{path}: the decompressed content is {what}, not CSV text")
        header = sample.splitlines()[0].decode("utf-8", errors="replace").lstrip("\ufeff")
        try:
            self.names = next(csv.reader([header]))
        except csv.Error as exc:
            raise FileFormatError(f"{path}: line 1: cannot parse the header ({exc})") from exc
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
        rows = 0
        try:
            # one column: an empty line is a missing value (as CSV writers write nulls),
            # not a line to skip (that would also shift the row numbers)
            parse = pcsv.ParseOptions(ignore_empty_lines=len(self.names) > 1)
            read = pcsv.ReadOptions(block_size=self.block_size)
            reader = pcsv.open_csv(stream, read_options=read, parse_options=parse,
                                   convert_options=convert)
            for batch in reader:
                rows += batch.num_rows
                yield batch
        except Exception as exc:
            if not _unreadable(exc):
                raise
            raise self.failure(exc, rows) from exc

    def failure(self, exc, rows) -> FileFormatError:
        """The error for a failed read, at the first bad line if a second pass finds it."""
        label = "CSV" if self.codec is None else f"{self.codec}-compressed CSV"
        why = _hint(self.path, "csv", _head(self.path))  # e.g. not compressed as named
        found = None if why else _first_bad_line(self.path, self.codec, self.names)
        if found is None:
            return FileFormatError(f"{_failure(self.path, label, exc, rows)}{why}")
        row, line, what = found
        at = f"line {line}" if row is None else f"row {row} (line {line})"
        return FileFormatError(f"{self.path}: {at}: {what} ({exc})")

    def position(self, rows):
        return self.raw.tell() if self.raw is not None and not self.raw.closed else self.total

    def close(self):
        if self.raw is not None:
            self.raw.close()


def _first_bad_line(path, codec, names):
    """``(row, line, problem)`` of the first line that stops a CSV file from being read:
    not UTF-8, the wrong number of fields, or where the (compressed) data break off;
    ``None`` when a second pass finds nothing wrong.  Runs only after a failure."""
    pa = _pa()
    state = {"line": 0}

    def lines(stream, size=1 << 13):
        tail = b""
        while True:
            block = stream.read(size)
            if not block:
                break
            *complete, tail = (tail + block).split(b"\n")
            for raw in complete:
                text = raw.decode("utf-8") + "\n"
                state["line"] += 1  # lines read whole
                yield text
        if tail:
            text = tail.decode("utf-8")
            state["line"] += 1
            yield text

    row, ncols = -1, None if names is None else len(names)
    try:
        with pa.input_stream(path, compression=codec) as stream:
            reader = csv.reader(lines(stream))
            start = 1
            for record in reader:
                if row >= 0 and record == [] and (ncols or 0) > 1:  # skipped, as Arrow does
                    start = reader.line_num + 1
                    continue
                if row >= 0 and ncols is not None and len(record) != max(ncols, 1) \
                        and not (record == [] and ncols == 1):
                    return (row, start, f"expected {ncols} field(s), got {len(record)}")
                row += 1
                start = reader.line_num + 1
    except UnicodeDecodeError:
        return (row if row >= 0 else None), state["line"] + 1, "not UTF-8 text"
    except csv.Error as exc:  # e.g. a quote that never closes: where its record starts
        what = ("a quoted field runs on (an unclosed quote?)" if "field limit" in str(exc)
                else f"malformed CSV ({exc})")
        return (row if row >= 0 else None), start, what
    except Exception as exc:  # the stream itself breaks off (truncated or corrupt)
        if not _unreadable(exc):
            raise
        data = f"the {codec + '-compressed ' if codec else ''}data"
        if row < 0:
            return None, 1, f"{data} are truncated or corrupt: not even the header can be read"
        return None, state["line"] + 1, (f"{data} are truncated or corrupt at or after this "
                                         f"line; the first {row} data rows are readable")
    return None
