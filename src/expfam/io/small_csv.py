"""Small CSV files read with the standard library: no pyarrow, no read-ahead thread.

A plain (uncompressed) CSV file of at most :data:`SMALL_CSV_BYTES` is read whole with the
:mod:`csv` module, and its columns are handed to the accumulator in the form the Arrow
reader gives them (:class:`expfam.io.chunks._Values`): the same null markers, the same
number syntax, so the same rows are valid and an invalid cell raises the same error
naming the same column and row.  ``import pyarrow`` (with pandas behind it) costs more
than the whole fit of such a file.

Only well-formed files take this path.  Anything unusual in the file's structure (not
UTF-8, a byte that is not text, a record with the wrong number of fields, an empty line,
a quoted field over several lines, a malformed quote) makes :meth:`_SmallCsv.open`
return ``None``: the Arrow reader then reads the file and explains any failure exactly
as before.  Group labels (``by=``) always take the Arrow reader (their types are
inferred by Arrow).
"""

from __future__ import annotations

import csv
import io
import os
import re

import numpy as np

from .chunks import _NUMBER_RE
from .readers import _CODECS, _CSV_NULLS, _looks_like

#: files up to this size (bytes; one block of the Arrow reader) are read without pyarrow
SMALL_CSV_BYTES = 1 << 16

_NUMBER = re.compile(_NUMBER_RE)
_NULLS = frozenset(_CSV_NULLS)


class _Text(str):
    """A cell's text, with the ``as_py()`` of an Arrow scalar (used in error messages)."""

    def as_py(self) -> str:
        return str(self)


class _Cells:
    """The raw cells of a column, indexable like an Arrow array (``raw[i].as_py()``)."""

    __slots__ = ("cells",)

    def __init__(self, cells):
        self.cells = cells

    def __getitem__(self, i):
        return _Text(self.cells[i])

    def __len__(self) -> int:
        return len(self.cells)


class _TextValues:
    """One column of text as float64, with the rows that are null / not numbers (the
    interface of :class:`expfam.io.chunks._Values`)."""

    __slots__ = ("name", "raw", "values", "null", "non_numeric")

    def __init__(self, name: str, cells: list):
        n = len(cells)
        values = np.full(n, np.nan)  # nulls and non-numbers stay NaN, flagged below
        null = np.zeros(n, dtype=bool)
        non_numeric = np.zeros(n, dtype=bool)
        for i, cell in enumerate(cells):
            if cell in _NULLS:  # Arrow matches the null markers untrimmed
                null[i] = True
                continue
            text = cell.strip()
            if _NUMBER.match(text):
                values[i] = float(text)  # correctly rounded, as Arrow's parser
            else:
                non_numeric[i] = True
        self.name = name
        self.raw = _Cells(cells)
        self.values = values
        self.null = null if null.any() else None
        self.non_numeric = non_numeric if non_numeric.any() else None

    def bad_mask(self):
        """Rows that are null or not numbers, or ``None`` when there are none."""
        if self.null is None:
            return self.non_numeric
        return self.null if self.non_numeric is None else self.null | self.non_numeric


class _TextChunk:
    """Rows of the file as float64 observations and weights (no group labels)."""

    __slots__ = ("n", "cols", "x", "w", "lab")

    def __init__(self, cols: list, w):
        self.cols, self.w, self.lab = cols, w, None
        self.n = len(cols[0].values)
        self.x = (cols[0].values if len(cols) == 1
                  else np.column_stack([c.values for c in cols]))


class _SmallCsv:
    """A small, well-formed CSV file held in memory as its records (see the module)."""

    unit = "B"

    def __init__(self, path: str, names: list, records: list, size: int):
        self.path, self.names, self.records = path, names, records
        self.types = None  # read as text, like the Arrow CSV source
        self.total = size

    @classmethod
    def open(cls, path: str, limit: int | None = None):
        """The file's records, or ``None`` when the file is not a small (at most ``limit``
        bytes, default :data:`SMALL_CSV_BYTES`), plain, well-formed CSV file (the Arrow
        reader takes it then)."""
        limit = SMALL_CSV_BYTES if limit is None else int(limit)
        suffix = os.path.splitext(path.lower())[1]
        if suffix in _CODECS:
            return None
        try:
            size = os.path.getsize(path)
            if size > limit:
                return None
            with open(path, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError:
            return None
        if len(data) > limit or not data.strip() or _looks_like(data[:4096])[1] != "csv":
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
        try:
            names = next(reader, None)
            if not names:
                return None
            records = []
            for record in reader:
                # one line per record (the row numbers in messages count lines), no empty
                # lines (Arrow's handling of them depends on the column count)
                if len(record) != len(names) or reader.line_num != len(records) + 2:
                    return None
                records.append(record)
        except csv.Error:
            return None
        return cls(path, names, records, size)

    def chunks(self, columns: list, weights, chunksize: int):
        """The records as :class:`_TextChunk` of at most ``chunksize`` rows."""
        index = {name: j for j, name in enumerate(self.names)}
        for start in range(0, len(self.records), chunksize):
            rows = self.records[start:start + chunksize]
            cols = [_TextValues(c, [r[index[c]] for r in rows]) for c in columns]
            w = _TextValues(weights, [r[index[weights]] for r in rows]) if weights else None
            yield _TextChunk(cols, w)

    def close(self) -> None:
        self.records = []
