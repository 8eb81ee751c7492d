"""Record batches as float64 arrays: observations, weights and group labels, chunk by chunk.

Each column of a chunk is converted once (text parsed; null and non-numeric rows flagged,
not yet judged), and the chunks are read ahead in a background thread.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

from .readers import _pa

#: what Arrow's string -> float64 cast accepts (after trimming blanks)
_NUMBER_RE = (r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
              r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])$")


# ----------------------------------------------------------------------------------
# Chunks -> float64 arrays (validated and merged in accumulate.py)
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
            # str (bytes) labels as one NumPy text dtype, as in memory
            names = names[order]
            self.names = np.array(names.tolist(), dtype=bytes if pa.types.is_binary(t) else str)
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

    def labels(self, keep=None):
        """The labels for ``by=`` (rows ``keep``), missing ones masked."""
        values = self.values if keep is None else self.values[keep]
        if self.bad is None:
            return values
        return np.ma.MaskedArray(values, mask=self.bad if keep is None else self.bad[keep])


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
