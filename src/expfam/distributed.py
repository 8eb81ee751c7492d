"""Sufficient statistics of Dask collections: one task per block, a tree of merges.

Data enter a fit only through additive sufficient statistics (DESIGN.md), so a cluster
only has to add them up: :func:`dask_stats` runs one :meth:`SufficientStats.from_data`
per block of a dask array (or per partition of a dask DataFrame / Series), merges the
results in a tree of fan-in ``split_every`` and calls ``.compute()`` once, on whatever
scheduler is active (local threads or processes, or a ``dask.distributed.Client``).
:func:`expfam.fit` calls it when its data are a dask collection.

Why ``dask.delayed`` tasks rather than ``dask.array.reduction`` or ``dask.bag``:

- the partial result is a :class:`SufficientStats`, not an array: grouped statistics
  carry a ragged, partition-dependent set of group labels, which an array reduction
  (fixed-shape chunks concatenated along an axis) cannot hold;
- each task must know *which* block it reads and that block's global row offset, to name
  the offending row of a bad value; ``reduction`` and bag partitions do not pass that;
- the same few lines serve arrays and DataFrames (``to_delayed()`` of both), and a delayed
  graph runs on the active scheduler (threads by default), whereas a bag would default to
  processes when no client is active.

Skipped: blocks of known length 0 (before the graph is built) and empty partitions
(inside their task, which returns ``None``; merges ignore ``None``).

Bad data raise the same typed error as in memory (:mod:`expfam.errors`), with the block
(dask array: its index, its global rows and the global row of the bad value) or the
partition (DataFrame: its number, the row inside it and its index label) prepended.
When several blocks hold bad values, the error of whichever failing task the scheduler
reports first is raised (in memory: the first bad value).

Zero weights: a block in which every weight of a batch element (or of a group) is zero is
legitimate as long as other blocks carry weight; its values are validated all the same and
its sums for that element are zero.  After the merge, an element (group) whose weights
are all zero everywhere raises as in memory.

Group labels follow the rules of :mod:`expfam._labels` in every block: a missing label
raises :class:`~expfam.errors.LabelError` naming the block and row (or, with
``missing_labels="group"``, joins the group labelled ``None``), and blocks whose labels are
of different types (``1`` in one, ``"1"`` in another) raise when merged.

Fixed parameters that the family infers from the values (``n_categories`` of a
Categorical, ``n`` of a Multinomial) are inferred per block; when blocks disagree a
:class:`~expfam.errors.ParameterError` asks for them explicitly.  Those inferred from the
shape alone (Dirichlet, MultivariateNormal) always agree.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ._labels import check_missing_labels
from ._validation import as_float_array, check_int, show, show_group
from .errors import EmptyDataError, ExpfamError, ParameterError, ShapeError, WeightError
from .families import resolve_family
from .stats import SufficientStats

__all__ = ["dask_stats"]

# internal column names of the projected DataFrame handed to the partition tasks
_X, _W, _BY = "__expfam_x__", "__expfam_w__", "__expfam_by__"


def dask_stats(family, collection, weights=None, *, by=None, column=None, split_every=8,
               missing_labels="error", **fixed) -> SufficientStats:
    """Sufficient statistics of a dask array, DataFrame or Series, computed on the cluster.

    Parameters
    ----------
    family : ExponentialFamily subclass or str
    collection : dask.array.Array, dask.dataframe.DataFrame or Series
        A dask array of shape ``(n, *batch, *event)``, chunked along axis 0 (any other
        chunking is rechunked so that every block holds whole observations); or a dask
        DataFrame (with ``column=``; without it, every column is a batch element) or
        Series.
    weights : dask array / array_like (arrays), dask Series (DataFrames), optional
        Non-negative weights aligned with the observations, shape ``(n,)`` or
        ``(n, *batch)``.
    by : optional
        Group labels: a column name or a dask Series aligned with the DataFrame; for a
        dask array, a 1-D dask or NumPy array of length ``n``.
    column : str or int, optional
        DataFrame column holding the observations; for a 2-D dask array, the index of a
        column (``x[:, column]``, never a row).
    split_every : int
        Fan-in of the tree of merges (>= 2).
    missing_labels : {"error", "group"}
        Rows with a missing ``by`` label: a :class:`~expfam.errors.LabelError` naming the
        block / partition and row, or a group of their own labelled ``None`` (see
        :func:`expfam.fit`).
    **fixed
        The family's fixed parameters.

    Returns
    -------
    SufficientStats
        Equal (up to the order of floating-point additions) to
        ``SufficientStats.from_data`` of the same data in memory.
    """
    import dask
    import dask.array as da

    family = resolve_family(family)
    split_every = check_int(split_every, "split_every", 2)
    missing_labels = check_missing_labels(missing_labels)
    if isinstance(collection, da.Array):
        tasks = _array_tasks(family, collection, weights, by, column, fixed, missing_labels)
    elif _is_dask_frame(collection):
        tasks = _frame_tasks(family, collection, weights, by, column, fixed, missing_labels)
    else:
        raise ShapeError(
            f"data: expected a dask array, DataFrame or Series; got {type(collection).__name__}"
        )
    if not tasks:
        raise EmptyDataError("data: no observations (empty data)")
    merge = dask.delayed(_merge_all, pure=False)
    while len(tasks) > 1:
        tasks = [merge(*tasks[i:i + split_every]) for i in range(0, len(tasks), split_every)]
    stats = tasks[0].compute()
    if stats is None:
        raise EmptyDataError("data: no observations (empty data)")
    if weights is not None:
        _check_total_weight(stats)
    return stats


# ----------------------------------------------------------------------------------
# Building the per-block tasks
# ----------------------------------------------------------------------------------

def _is_dask_frame(obj) -> bool:
    try:
        import dask.dataframe as dd
    except ImportError:  # dask[array] without dataframe
        return False
    return isinstance(obj, (dd.DataFrame, dd.Series))


def _aligned_array(a, name, chunks0, n, ndim_max):
    """``a`` (dask or array_like) as a dask array chunked like the data along axis 0 and
    whole along the other axes."""
    import dask.array as da

    if not isinstance(a, da.Array):
        a = np.asarray(a)
        a = da.from_array(a, chunks=a.shape or ())
    if a.ndim == 0:
        raise ShapeError(f"{name}: expected one value per observation, got a scalar")
    if a.ndim > ndim_max:
        raise ShapeError(f"{name}: shape {a.shape} has too many axes for the data")
    if not (math.isnan(a.shape[0]) or math.isnan(n)) and a.shape[0] != n:
        raise ShapeError(f"{name}: {a.shape[0]} entries for {n} observations")
    if a.chunks[0] == chunks0 and all(len(c) == 1 for c in a.chunks[1:]):
        return a
    return a.rechunk((chunks0,) + (-1,) * (a.ndim - 1))


def _array_tasks(family, x, weights, by, column, fixed, missing_labels):
    import dask

    if column is not None:  # an integer column of a 2-D array, as in memory
        if isinstance(column, (bool, np.bool_)) or not isinstance(column, (int, np.integer)):
            raise ShapeError(f"data: column= on a dask array is the index of a column (an "
                             f"integer); got {column!r}")
        if x.ndim != 2:
            raise ShapeError(f"data: column={int(column)} selects a column of a 2-D array "
                             f"(n, columns); got a dask array of shape {x.shape}")
        if not -x.shape[1] <= column < x.shape[1]:
            raise ShapeError(f"data: column={int(column)} is out of range for an array with "
                             f"{x.shape[1]} column(s)")
        x = x[:, int(column)]
    if isinstance(by, str):
        raise ShapeError("by= names a column, but the data are a dask array: pass the labels")
    if x.ndim == 0:
        raise ShapeError("data: expected an array of observations, got a scalar")
    if x.ndim > 1 and any(len(c) > 1 for c in x.chunks[1:]):
        x = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
    chunks0 = x.chunks[0]
    n = x.shape[0]
    obs_ndim = max(x.ndim - family.event_ndim, 1)
    blocks = x.to_delayed().reshape(-1)
    wblocks = byblocks = [None] * len(blocks)
    if weights is not None:
        w = _aligned_array(weights, "weights", chunks0, n, obs_ndim)
        wblocks = w.to_delayed().reshape(-1)
    if by is not None:
        b = _aligned_array(by, "by", chunks0, n, 1)
        byblocks = b.to_delayed().reshape(-1)
    known = not any(math.isnan(c) for c in chunks0)
    offsets = np.concatenate([[0], np.cumsum(chunks0)]).astype(np.int64) if known else None
    task = dask.delayed(_block_stats, pure=False)
    tasks = []
    for i, size in enumerate(chunks0):
        if size == 0:  # known to be empty: no task at all
            continue
        where = ("array", i, None if offsets is None else (int(offsets[i]), int(size)))
        tasks.append(task(family, blocks[i], wblocks[i], byblocks[i], fixed, where,
                          missing_labels))
    return tasks


def _frame_tasks(family, frame, weights, by, column, fixed, missing_labels):
    import dask
    import dask.dataframe as dd

    if isinstance(frame, dd.Series):
        if column is not None:
            raise ShapeError(f"data: no column {column!r} in the data (a dask Series)")
        if isinstance(by, str):
            raise ShapeError("by= names a column, but the data are a Series: pass the labels")
        base, xcol = frame.to_frame(name=_X), _X
    elif column is not None:
        if column not in frame.columns:
            raise ShapeError(f"data: no column {column!r} in the data")
        base, xcol = frame, column
    else:
        if isinstance(by, str):
            raise ShapeError("by= names a column: also pass column= for the observations")
        base, xcol = frame, list(frame.columns)
    bycol = wcol = None
    if isinstance(by, str):
        if by not in base.columns:
            raise ShapeError(f"by: no column {by!r} in the data")
        bycol = by
    elif by is not None:
        if not isinstance(by, dd.Series):
            raise ShapeError("by: with a dask DataFrame, pass a column name or a dask Series "
                             "aligned with it")
        base, bycol = base.assign(**{_BY: by}), _BY
    if weights is not None:
        if not isinstance(weights, dd.Series):
            raise ShapeError("weights: with a dask DataFrame, pass a dask Series aligned "
                             "with it")
        base, wcol = base.assign(**{_W: weights}), _W
    needed = list(xcol) if isinstance(xcol, list) else [xcol]
    needed += [c for c in (wcol, bycol) if c is not None and c not in needed]
    parts = base[needed].to_delayed()
    task = dask.delayed(_partition_stats, pure=False)
    return [task(family, part, xcol, wcol, bycol, fixed, i, missing_labels)
            for i, part in enumerate(parts)]


# ----------------------------------------------------------------------------------
# The tasks
# ----------------------------------------------------------------------------------

def _partition_stats(family, part, xcol, wcol, bycol, fixed, index, missing_labels="error"):
    if len(part) == 0:
        return None
    x = part[xcol]
    w = None if wcol is None else part[wcol]
    labels = None if bycol is None else part[bycol]  # a Series: its own NA and dtype
    return _block_stats(family, x, w, labels, fixed, ("partition", index, part.index),
                        missing_labels)


def _block_stats(family, x, w, by, fixed, where, missing_labels="error"):
    """Statistics of one block, or ``None`` when it is empty; errors name the block."""
    if np.shape(x)[:1] == (0,):
        return None
    try:
        x = as_float_array(x)
        # a block is part of the data: a batch element (group) whose weights are all zero
        # here is kept with zero sums; the total is checked after the merge
        return SufficientStats.from_data(family, x, w, by=by, missing_labels=missing_labels,
                                         _partial=True, **fixed)
    except ExpfamError as exc:
        raise type(exc)(_locate(exc, where)) from None


def _locate(exc, where) -> str:
    kind, index, extra = where
    msg = str(exc)
    m = re.search(r"at index \(?(\d+)", msg)
    row = int(m.group(1)) if m else None
    if kind == "array":
        if extra is None:  # unknown chunk sizes
            return f"dask array block {index}: {msg}" + (
                f" (row {row} of the block)" if row is not None else "")
        start, size = extra
        return f"dask array block {index} (global rows {start} to {start + size - 1}): {msg}" + (
            f" (global row {start + row})" if row is not None else "")
    out = f"dask partition {index}: {msg}"
    if row is not None:
        out += f" (row {row} of the partition"
        try:
            out += f", index label {show(extra[row])})"
        except Exception:  # noqa: BLE001 - the label is a courtesy only
            out += ")"
    return out


def _merge_all(*parts):
    """Merge the non-empty partial statistics (``None`` marks an empty block)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        _check_same_fixed(out, p)
        out = out.merge(p)
    return out


def _check_same_fixed(a, b):
    keys = sorted(set(a.fixed) | set(b.fixed))
    for k in keys:
        if k not in a.fixed or k not in b.fixed or not np.array_equal(a.fixed[k], b.fixed[k]):
            va, vb = a.fixed.get(k), b.fixed.get(k)
            raise ParameterError(
                f"the fixed parameter {k!r} inferred from the data differs between blocks "
                f"({show(va)} and {show(vb)}): pass {k}=... explicitly"
            )


def _check_total_weight(stats):
    zero = ~(stats.weight_sum > 0)
    if not zero.any():
        return
    if stats.groups is not None:
        g = stats.groups[np.flatnonzero(zero)[0]]
        raise EmptyDataError(f"weights: every weight of {show_group(g)} is zero")
    raise WeightError("weights: all weights are zero (for at least one batch element)")

