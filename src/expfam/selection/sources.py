"""Where the observations of a selection come from: groups in memory, files read in
chunks, Dask collections (one task per block, a merge of the per-fold moments)."""

from __future__ import annotations

import os
import types

import numpy as np

from .._labels import group_codes, public_labels
from .._validation import check_finite, check_weights
from ..errors import EmptyDataError, NonFiniteError, ParameterError, ShapeError, SupportError
from .candidates import resolve_candidates
from .engine import HEAD, Engine

__all__ = ["group_rows", "file_engines", "dask_engines", "check_cells"]


def check_cells(path: str, columns, offset: int, csv: bool) -> None:
    """Raise for the first missing or non-numeric cell of a chunk's columns (``_Values``),
    naming the file, the column and the row (and the line of a CSV file): a
    :class:`~expfam.errors.NonFiniteError` for a missing value, a
    :class:`~expfam.errors.SupportError` for text that is not a number."""
    for col in columns:
        bad = None if col is None else col.bad_mask()
        if bad is None or not bad.any():
            continue
        i = int(np.flatnonzero(bad)[0])
        row = offset + i
        where = f"row {row} (line {row + 2})" if csv else f"row {row}"
        raw = col.raw[i].as_py()
        if raw is None:
            raise NonFiniteError(f"{path}: column {col.name!r}, {where}: missing value (null)")
        raise SupportError(f"{path}: column {col.name!r}, {where}: {raw!r} is not a number")


def group_rows(by, n: int):
    """``[(label, rows)]``: the rows of each group (labels validated as in
    :func:`expfam.fit`; a missing label raises :class:`~expfam.errors.LabelError`)."""
    groups, inverse, _ = group_codes(by, n)
    order = np.argsort(inverse, kind="stable")
    present, starts = np.unique(inverse[order], return_index=True)
    ends = np.append(starts[1:], n)
    labels = public_labels(groups, False)
    return [(labels[g].item() if hasattr(labels[g], "item") else labels[g], order[s:e])
            for g, s, e in zip(present, starts, ends)]


def _new_engine(families, event_ndim, k, rng):
    candidates, skipped = resolve_candidates(families, event_ndim)
    if not candidates:
        raise ParameterError(f"no family to fit: {skipped}")
    return Engine(candidates, skipped, k, rng)


def file_engines(path, families, *, column, weights, by, k, rng, chunksize):
    """Read a Parquet, CSV or Arrow file once, in chunks; an engine (or one per group)."""
    from ..io.chunks import _Chunk
    from ..io.readers import _Csv, _format, _head, _Ipc, _Parquet
    from ..io.selection import _select

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    _head(path)
    fmt = _format(path, None)
    source = {"parquet": _Parquet, "csv": _Csv, "ipc": _Ipc}[fmt](path, chunksize)
    try:
        vector = isinstance(column, (list, tuple)) and len(column) > 1
        shape = types.SimpleNamespace(event_ndim=int(vector), __name__="vector family")
        columns, by, weights = _select(shape, source, column, by, weights)
        numeric = columns + ([weights] if weights else [])
        engines: dict = {}
        single = None if by is not None else _new_engine(families, int(vector), k, rng)
        offset = 0
        for batch in source.batches(numeric + ([by] if by else []), numeric):
            chunk = _Chunk(batch, columns, weights, by)
            check_cells(path, [*chunk.cols, chunk.w], offset, fmt == "csv")
            x = chunk.x
            check_finite(x, name=f"{path}: column(s) {columns} (data rows from {offset})")
            w = None
            if chunk.w is not None:
                w = check_weights(chunk.w.values, (x.shape[0],),
                                  name=f"{path}: column {weights!r} (data rows from {offset})",
                                  allow_zero=True)
            if single is not None:
                single.add(x, w)
            else:
                labels = chunk.lab.labels()
                if chunk.lab.names is not None:
                    labels = np.ma.MaskedArray(chunk.lab.names[np.asarray(labels)],
                                               mask=np.ma.getmaskarray(labels))
                for label, rows in group_rows(labels, x.shape[0]):
                    if label not in engines:
                        engines[label] = _new_engine(families, int(vector), k, rng)
                    engines[label].add(x[rows], None if w is None else w[rows])
            offset += x.shape[0]
    finally:
        source.close()
    if offset == 0:
        raise EmptyDataError(f"{path}: no rows")
    if single is not None:
        return single
    return {g: engines[g] for g in sorted(engines)}


def dask_engines(data, families, *, column, weights, by, k, rng):
    """A Dask array or Series/DataFrame column: the engine is set up from the first
    ``HEAD`` observations, then every block is reduced in its own task (its own stream of
    fold assignments) and the moments are merged."""
    import dask
    import dask.array as da

    if by is not None:
        raise ShapeError("select(by=...) on a Dask collection is not supported: select per "
                         "group on the groups' data, or read a file with by=")
    if isinstance(data, da.Array):
        x = data if column is None else data[:, column]
        if x.ndim > 1:
            x = x.rechunk({1: -1})
        blocks = x.to_delayed().ravel()
        wblocks = None
        if weights is not None:
            wa = da.asarray(weights).rechunk((x.chunks[0],))
            wblocks = wa.to_delayed().ravel()
        event_ndim = x.ndim - 1
    else:
        series = data if column is None else data[column]
        if hasattr(series, "columns"):
            raise ShapeError("select on a Dask DataFrame needs column=")
        blocks = series.to_delayed()
        wblocks = None if weights is None else weights.to_delayed()
        event_ndim = 0
    engine = _new_engine(families, event_ndim, k, rng)
    head_parts, n = [], 0
    for b in blocks:  # the head: the first blocks, until HEAD observations
        part = np.asarray(b.compute(), dtype=np.float64)
        check_finite(part)
        head_parts.append(part)
        n += part.shape[0]
        if n >= HEAD:
            break
    if n == 0:
        raise EmptyDataError("data: no observations (empty data)")
    head = np.concatenate(head_parts)
    engine.prepare(head[:HEAD], head)
    seeds = np.random.SeedSequence(int(rng.integers(2**63))).spawn(len(blocks))
    parts = [dask.delayed(_block_part)(engine, blocks[i], None if wblocks is None else wblocks[i],
                                       seeds[i], i) for i in range(len(blocks))]
    for part in dask.compute(*parts):
        engine.absorb(part)
    return engine


def _block_part(engine, x, w, seed, index):
    x = np.asarray(x, dtype=np.float64)
    check_finite(x, name=f"data (block {index})")
    part = engine.part(np.random.default_rng(seed))
    if w is not None:
        w = check_weights(np.asarray(w), (x.shape[0],), name=f"weights (block {index})",
                          allow_zero=True)
    if x.shape[0]:
        part.consume(x, w)
    return part
