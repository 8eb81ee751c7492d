"""Data that EM reads in passes: a file streamed in chunks, or a Dask collection.

EM needs the data only through additive sums (DESIGN.md): per iteration, the
log-likelihood and, per component, the statistics weighted by the responsibilities
(:func:`~expfam.mixture.em.resp_stats`).  A *source* computes these sums in one pass over
its chunks (file: chunk by chunk, memory bounded by ``chunksize``; Dask: one task per
block, merged in a tree on the cluster) and merges them.  Its first pass validates every
value, counts the rows and draws a uniform *reservoir sample* of at most ``sample_size``
rows (each row gets an independent uniform key; the rows with the smallest keys are kept,
which is a uniform sample without replacement; memory ``O(sample_size)``): the sample is
where the starts are computed.

Values are validated in every pass (null, non-numeric, NaN/inf, outside a component's
support, bad weight), with a typed error naming the file, column and row (Dask: the block
or partition and the row inside it).
"""

from __future__ import annotations

import os
from contextlib import closing

import numpy as np

from ..errors import EmptyDataError, NonFiniteError, ShapeError, SupportError, WeightError
from .em import estep, estep_stats
from .se import information_terms

__all__ = ["FileSource", "DaskSource", "is_dask", "PassSums"]

#: rows of the reservoir sample the starts are computed on
SAMPLE_SIZE = 20_000


class PassSums:
    """The sums of one E-step pass: weighted log-likelihood, per-group responsibility
    statistics, row count and weight sum.  ``merge`` adds two (chunk order does not matter
    beyond rounding)."""

    __slots__ = ("loglik", "stats", "n", "weight_sum")

    def __init__(self, loglik, stats, n, weight_sum):
        self.loglik, self.stats, self.n, self.weight_sum = loglik, stats, n, weight_sum

    def merge(self, other: "PassSums | None") -> "PassSums":
        if other is None:
            return self
        return PassSums(self.loglik + other.loglik,
                        [a.merge(b) for a, b in zip(self.stats, other.stats)],
                        self.n + other.n, self.weight_sum + other.weight_sum)


def estep_sums(mix, specs, x, wt) -> PassSums | None:
    """E-step on one chunk: responsibilities (log-sum-exp) and the sums of :class:`PassSums`."""
    if x.shape[0] == 0:
        return None
    ll, stats, _ = estep_stats(mix, specs, x, wt, need_resp=False)
    return PassSums(ll, stats, x.shape[0], float(wt.sum()))


def info_sums(mix, specs, x, wt):
    """Louis' observed-information terms of one chunk (see :mod:`expfam.mixture.se`)."""
    if x.shape[0] == 0:
        return None
    R, _ = estep(mix, specs, x, wt)
    return information_terms(mix, x, wt, R)


def _add_info(a, b):
    if a is None or b is None:
        return b if a is None else a
    return tuple(p + q for p, q in zip(a, b))


def validate_chunk(specs, x, wt, where) -> None:
    """Raise a typed error for the first bad value of a chunk; ``where(i)`` names row ``i``."""
    fin = np.isfinite(x) if x.ndim == 1 else np.isfinite(x).all(axis=1)
    if not fin.all():
        i = int(np.flatnonzero(~fin)[0])
        raise NonFiniteError(f"{where(i)}: non-finite value {x[i]!r}")
    for k, (cls, fixed) in enumerate(specs):
        inside = np.asarray(cls.in_support(x, fixed)).reshape(x.shape[0], -1).all(axis=1)
        if not inside.all():
            i = int(np.flatnonzero(~inside)[0])
            raise SupportError(f"{where(i)}: value {x[i]!r} outside the support {cls.support} "
                               f"of component {k} ({cls.__name__})")
    if wt is not None:
        with np.errstate(invalid="ignore"):
            bad = ~(np.isfinite(wt) & (wt >= 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise WeightError(f"{where(i)}: weight {wt[i]!r}; weights must be finite numbers >= 0")


class _Reservoir:
    """A uniform sample without replacement of at most ``size`` rows: the rows with the
    ``size`` smallest independent uniform keys."""

    def __init__(self, size):
        self.size = size
        self.keys = np.empty(0)
        self.x = None
        self.wt = np.empty(0)

    def add(self, keys, x, wt):
        if self.x is None:
            self.x = x[:0]
        keys = np.concatenate([self.keys, keys])
        xs = np.concatenate([self.x, x])
        ws = np.concatenate([self.wt, wt])
        if keys.size > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keep.sort()
            keys, xs, ws = keys[keep], xs[keep], ws[keep]
        self.keys, self.x, self.wt = keys, xs, ws
        return self


class FileSource:
    """A Parquet, CSV or Arrow IPC file read in chunks of ``chunksize`` rows (see
    :func:`expfam.io.stats_from_file` for the formats).  ``column``: the observation
    column (a list of columns for vector families); ``weights``: a weight column."""

    def __init__(self, family, path, column=None, weights=None, chunksize=262_144, format=None):
        from ..io.readers import _format, _head

        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"{self.path}: no such file")
        _head(self.path)
        self.fmt = _format(self.path, format)
        self.chunksize = int(chunksize)
        self.family = family
        src = self._open()
        try:
            from ..io.selection import _select

            self.columns, _, self.weights = _select(family, src, column, None, weights)
        finally:
            src.close()

    def _open(self):
        from ..io.readers import _Csv, _Ipc, _Parquet

        return {"parquet": _Parquet, "csv": _Csv, "ipc": _Ipc}[self.fmt](self.path, self.chunksize)

    def _where(self, col, offset):
        line = self.fmt == "csv"

        def where(i):
            g = offset + i
            return (f"{self.path}: column {col!r}, row {g}" + (f" (line {g + 2})" if line else ""))
        return where

    def chunks(self, specs):
        """Yield ``(x, wt)`` per chunk, validated (``specs``: the components' families)."""
        from ..errors import FileFormatError
        from ..io.chunks import _Chunk, _prefetch
        from ..io.readers import _unreadable

        src = self._open()
        offset = 0
        try:
            numeric = self.columns + ([self.weights] if self.weights else [])
            batches = (_Chunk(b, self.columns, self.weights, None)
                       for b in src.batches(numeric, numeric))
            with closing(_prefetch(batches)) as ahead:
                for ch in ahead:
                    col = self.columns[0] if len(self.columns) == 1 else self.columns
                    for c in ch.cols + ([ch.w] if ch.w is not None else []):
                        bad = c.bad_mask()
                        if bad is not None and bad.any():
                            i = int(np.flatnonzero(bad)[0])
                            what = "missing value (null)" if c.null is not None and c.null[i] \
                                else f"{c.raw[i].as_py()!r} is not a number"
                            err = NonFiniteError if "null" in what else SupportError
                            raise err(f"{self._where(c.name, offset)(i)}: {what}")
                    wt = np.ones(ch.n) if ch.w is None else ch.w.values
                    validate_chunk(specs, ch.x, None if ch.w is None else wt, self._where(col, offset))
                    yield ch.x, wt
                    offset += ch.n
        except Exception as exc:
            if not _unreadable(exc):
                raise
            raise FileFormatError(f"{self.path}: cannot read the file after its first {offset} "
                                  f"data rows ({exc})") from exc
        finally:
            src.close()

    def first_pass(self, specs, sample_size, rng):
        """Validate every row; ``(n, weight sum, sample x, sample weights)``."""
        res = _Reservoir(sample_size)
        n, W = 0, 0.0
        for x, wt in self.chunks(specs):
            res.add(rng.random(x.shape[0]), x, wt)
            n += x.shape[0]
            W += float(wt.sum())
        if n == 0:
            raise EmptyDataError(f"{self.path}: no data rows (empty file)")
        return n, W, res.x, res.wt

    def scan(self, specs) -> None:
        """Validate every value against ``specs`` (raises at the first bad one)."""
        for _ in self.chunks(specs):
            pass

    def estep(self, mix, specs) -> PassSums:
        total = None
        for x, wt in self.chunks(specs):
            s = estep_sums(mix, specs, x, wt)
            total = s if total is None else total.merge(s)
        return total

    def information(self, mix, specs):
        total = None
        for x, wt in self.chunks(specs):
            total = _add_info(total, info_sums(mix, specs, x, wt))
        return total


# ----------------------------------------------------------------------------------
# Dask
# ----------------------------------------------------------------------------------

def is_dask(data) -> bool:
    import sys

    return "dask" in sys.modules and sys.modules["dask"].is_dask_collection(data)


def _block(x, w, specs, where):
    """A block as validated float64 arrays ``(x, wt)``."""
    x = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float64)
    wt = np.ones(x.shape[0]) if w is None else np.asarray(
        w.to_numpy() if hasattr(w, "to_numpy") else w, dtype=np.float64).reshape(-1)
    if wt.shape[0] != x.shape[0]:
        raise ShapeError(f"{where}: {wt.shape[0]} weights for {x.shape[0]} observations")

    def name(i):
        return f"data, {where}, row {i}"
    validate_chunk(specs, x, None if w is None else wt, name)
    return x, wt


def _dask_first(x, w, specs, where, seed, sample_size):
    x, wt = _block(x, w, specs, where)
    keys = np.random.default_rng(seed).random(x.shape[0])
    return x.shape[0], float(wt.sum()), _Reservoir(sample_size).add(keys, x, wt)


def _dask_first_merge(*parts):
    n, W, res = 0, 0.0, None
    for p in parts:
        n += p[0]
        W += p[1]
        res = p[2] if res is None else res.add(p[2].keys, p[2].x, p[2].wt)
    return n, W, res


def _dask_estep(x, w, mix, specs, where):
    x, wt = _block(x, w, specs, where)
    return estep_sums(mix, specs, x, wt)


def _dask_merge(*parts):
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out


def _dask_info(x, w, mix, specs, where):
    x, wt = _block(x, w, specs, where)
    return info_sums(mix, specs, x, wt)


def _dask_info_merge(*parts):
    out = None
    for p in parts:
        out = _add_info(out, p)
    return out


class DaskSource:
    """A dask array ``(n,)`` / ``(n, d)`` (chunked along rows), or a dask DataFrame column
    (``column=``) / Series, with optional aligned dask weights.  Each pass is one graph of
    per-block tasks merged in a tree of fan-in ``split_every`` and computed once on the
    active scheduler (e.g. a ``dask.distributed.Client``).  The collection is persisted
    (``.persist()``) once, so the passes do not recompute it."""

    def __init__(self, data, column=None, weights=None, split_every=8):
        import dask.array as da

        from ..distributed import _is_dask_frame

        if isinstance(data, da.Array):
            if column is not None:
                if data.ndim != 2:
                    raise ShapeError(f"data: column= selects a column of a 2-D array; got shape {data.shape}")
                data = data[:, int(column)]
            if data.ndim > 1 and any(len(c) > 1 for c in data.chunks[1:]):
                data = data.rechunk({a: -1 for a in range(1, data.ndim)})
            xs = data.persist()
            self._keep = [xs]  # the persisted blocks live as long as this source
            self.blocks = list(xs.to_delayed().reshape(-1))
            self.where = [f"block {i}" for i in range(len(self.blocks))]
            if weights is not None:
                w = weights if isinstance(weights, da.Array) else da.from_array(np.asarray(weights))
                if w.shape[0] != data.shape[0]:
                    raise ShapeError(f"weights: {w.shape[0]} entries for {data.shape[0]} observations")
                w = w.rechunk((data.chunks[0],)).persist()
                self._keep.append(w)
                self.wblocks = list(w.to_delayed().reshape(-1))
            else:
                self.wblocks = [None] * len(self.blocks)
        elif _is_dask_frame(data):
            import dask.dataframe as dd

            if isinstance(data, dd.DataFrame):
                if column is None:
                    raise ShapeError("data: a dask DataFrame needs column= (the observations)")
                if isinstance(column, (list, tuple)):
                    missing = [c for c in column if c not in data.columns]
                else:
                    missing = [] if column in data.columns else [column]
                if missing:
                    raise ShapeError(f"data: no column {missing[0]!r} in the data")
                data = data[list(column) if isinstance(column, (list, tuple)) else column]
            frame = data.to_frame() if isinstance(data, dd.Series) else data
            if weights is not None:
                if not isinstance(weights, dd.Series):
                    raise ShapeError("weights: with a dask DataFrame, pass a dask Series aligned with it")
                frame = frame.assign(__expfam_w__=weights)
            frame = frame.persist()
            self._keep = [frame]
            parts = list(frame.to_delayed())
            ncol = len(frame.columns) - (weights is not None)
            import dask

            get_x = dask.delayed(_frame_x)
            get_w = dask.delayed(_frame_w)
            self.blocks = [get_x(p, ncol) for p in parts]
            self.wblocks = [get_w(p) for p in parts] if weights is not None else [None] * len(parts)
            self.where = [f"partition {i}" for i in range(len(parts))]
        else:
            raise ShapeError(f"data: expected a dask array, DataFrame or Series; got {type(data).__name__}")
        if not self.blocks:
            raise EmptyDataError("data: no observations (empty data)")
        self.split_every = split_every

    def _reduce(self, tasks, merge):
        import dask

        m = dask.delayed(merge, pure=False)
        while len(tasks) > 1:
            tasks = [m(*tasks[i:i + self.split_every]) for i in range(0, len(tasks), self.split_every)]
        return tasks[0].compute()

    def first_pass(self, specs, sample_size, rng):
        import dask

        seeds = np.random.SeedSequence(int(rng.integers(2**63))).spawn(len(self.blocks))
        t = dask.delayed(_dask_first, pure=False)
        tasks = [t(b, w, specs, wh, s, sample_size)
                 for b, w, wh, s in zip(self.blocks, self.wblocks, self.where, seeds)]
        n, W, res = self._reduce(tasks, _dask_first_merge)
        if n == 0:
            raise EmptyDataError("data: no observations (empty data)")
        return n, W, res.x, res.wt

    def scan(self, specs) -> None:
        """Validate every value against ``specs`` (raises at the first bad one)."""
        self.first_pass(specs, 1, np.random.default_rng(0))

    def estep(self, mix, specs) -> PassSums:
        import dask

        t = dask.delayed(_dask_estep, pure=False)
        return self._reduce([t(b, w, mix, specs, wh) for b, w, wh in
                             zip(self.blocks, self.wblocks, self.where)], _dask_merge)

    def information(self, mix, specs):
        import dask

        t = dask.delayed(_dask_info, pure=False)
        return self._reduce([t(b, w, mix, specs, wh) for b, w, wh in
                             zip(self.blocks, self.wblocks, self.where)], _dask_info_merge)


def _frame_x(part, ncol):
    vals = part.iloc[:, :ncol].to_numpy(dtype=np.float64)
    return vals[:, 0] if ncol == 1 else vals


def _frame_w(part):
    return part["__expfam_w__"].to_numpy(dtype=np.float64)
