"""File formats: detection from the name, and chunked readers of Parquet, Arrow IPC and CSV.

Each reader (a *source*) knows the file's column names and types (``names``, ``types``;
``types`` is ``None`` for CSV, read as text), yields record batches of the needed columns
(``batches``), and reports its progress in its own ``unit`` (rows; bytes for CSV) out of
``total``.  pyarrow is imported lazily: it is an optional dependency.
"""

from __future__ import annotations

import os

from ..errors import EmptyDataError, FileFormatError

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
