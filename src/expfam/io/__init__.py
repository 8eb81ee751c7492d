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
import sys
from contextlib import closing

from .._kernels import kernel_threads
from .._labels import check_missing_labels
from .._validation import check_int
from ..errors import FileFormatError, ParameterError
from ..families import resolve_family
from ..fitting import FitResult, check_pseudo_count, fit_stats
from ..stats import SufficientStats
from .accumulate import SKIP_REASONS, _Accumulator
from .chunks import _Chunk, _prefetch
from .readers import _Csv, _format, _head, _Ipc, _Parquet, _unreadable
from .selection import _select
from .small_csv import _SmallCsv

__all__ = ["stats_from_file", "fit_file", "FileFormatError", "SKIP_REASONS"]

#: kernel threads while a file streams (``None``: all of numba's); the chunk being
#: decoded in the read-ahead thread and the sums of the current one share the cores, the
#: kernels' lanes taking their work as they get to it (see ``expfam._jit.sums_1d``)
_STREAM_THREADS = None


def stats_from_file(family, path, *, column=None, by=None, weights=None,
                    chunksize: int = 262_144, format: str | None = None,
                    skip_invalid: bool = False, progress: bool | None = None,
                    missing_labels: str = "error", **fixed) -> SufficientStats:
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
        Labels keep their type (text, integers, floats, timestamps).
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
        Show a tqdm progress bar (rows; bytes for CSV).  Default: when stderr is a TTY
        (not for a small CSV file, read at once: :mod:`expfam.io.small_csv`).
    missing_labels : {"error", "group"}
        Rows whose ``by`` label is missing (null, NaN): ``"error"`` raises
        :class:`~expfam.errors.LabelError` naming the file and row (with
        ``skip_invalid=True`` they are dropped, reason ``"invalid_label"``); ``"group"``
        fits them as a group of their own, labelled ``None`` and placed last (as
        :func:`expfam.fit` does).
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
    chunksize = check_int(chunksize, "chunksize", 1)
    missing_labels = check_missing_labels(missing_labels)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    _head(path)  # a directory, or a file that cannot be opened: FileFormatError
    if family.name == "categorical" and "n_categories" not in fixed:
        raise ParameterError(
            "Categorical from a file needs n_categories=K: the number of categories cannot "
            "be inferred from the first chunk")
    fmt = _format(path, format)
    source = acc = None
    try:
        # a small file (read at once: no progress bar unless asked for): no pyarrow, no thread
        if fmt == "csv" and by is None and progress is not True:
            small = _SmallCsv.open(path)
            if small is not None:
                columns, _, weights = _select(family, small, column, None, weights)
                acc = _Accumulator(family, path, columns, None, weights, fixed, skip_invalid,
                                   csv=True)
                for chunk in small.chunks(columns, weights, chunksize):
                    acc.add(chunk)
                return acc.result()
        source = {"parquet": _Parquet, "csv": _Csv, "ipc": _Ipc}[fmt](path, chunksize)
        columns, by, weights = _select(family, source, column, by, weights)
        acc = _Accumulator(family, path, columns, by, weights, fixed, skip_invalid,
                           csv=fmt == "csv", missing_group=missing_labels == "group")
        show = sys.stderr.isatty() if progress is None else bool(progress)
        from tqdm.auto import tqdm

        numeric = columns + ([weights] if weights else [])
        batches = source.batches(numeric + ([by] if by else []), numeric)
        chunks = (_Chunk(b, columns, weights, by) for b in batches)
        with tqdm(total=source.total, unit=source.unit, unit_scale=True,
                  unit_divisor=1024 if source.unit == "B" else 1000,
                  desc=os.path.basename(path), disable=not show, leave=False) as bar, \
                closing(_prefetch(chunks)) as ahead, kernel_threads(_STREAM_THREADS):
            done = 0
            for chunk in ahead:
                acc.add(chunk)
                now = source.position(acc.offset)
                bar.update(now - done)
                done = now
    except Exception as exc:  # what the readers did not explain: still name the file
        if not _unreadable(exc):
            raise
        rows = f" after its first {acc.offset} data rows" if acc is not None and acc.offset else ""
        raise FileFormatError(f"{path}: cannot read the file{rows} ({exc})") from exc
    finally:
        if source is not None:
            source.close()
    return acc.result()


def fit_file(family, path, *, column=None, by=None, weights=None, chunksize: int = 262_144,
             format: str | None = None, skip_invalid: bool = False,
             progress: bool | None = None, pseudo_count=None, prior_mean=None,
             missing_labels: str = "error", **fixed) -> FitResult:
    """Maximum-likelihood fit of a file read in chunks (see :func:`stats_from_file`).

    Equals ``fit_stats(stats_from_file(...), pseudo_count=..., prior_mean=...)``; the
    returned :class:`~expfam.fit.FitResult` has an extra attribute ``skipped``
    (``{reason: count}`` of the rows dropped by ``skip_invalid=True``; empty otherwise).
    """
    check_pseudo_count(pseudo_count, prior_mean)  # before reading the file
    stats = stats_from_file(family, path, column=column, by=by, weights=weights,
                            chunksize=chunksize, format=format, skip_invalid=skip_invalid,
                            progress=progress, missing_labels=missing_labels, **fixed)
    result = fit_stats(stats, pseudo_count=pseudo_count, prior_mean=prior_mean)
    result.skipped = stats.skipped
    return result
