"""Model selection by held-out cross-entropy (the seed's eq. 2-4, estimated on data the
fit has not seen), with standard errors, paired differences, AIC and BIC.

Layout: :mod:`.candidates` (which families, their columns), :mod:`.folds` (the additive
per-fold moments), :mod:`.engine` (one pass over chunks), :mod:`.ranking` (fits and
held-out scores), :mod:`.result` (the result objects), :mod:`.sources` (arrays, groups,
files, Dask).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from .._validation import as_float_array, as_rng, check_finite, check_int, check_nonempty, check_weights
from ..errors import ParameterError, ShapeError
from .candidates import resolve_candidates
from .engine import Engine
from .ranking import rank
from .result import CandidateFit, GroupedSelection, SelectionResult
from .sources import dask_engines, file_engines, group_rows

__all__ = ["select", "SelectionResult", "CandidateFit", "GroupedSelection"]

#: rows per chunk of data in memory (bounds the memory of the columns)
CHUNK = 1 << 16


def select(data: Any, families: Any = "auto", weights: Any = None, *, by: Any = None,
           folds: int = 10, rng: Any = None, column: Any = None,
           chunksize: int = 262_144) -> SelectionResult | GroupedSelection:
    """Fit every applicable family and rank them by k-fold held-out cross-entropy.

    The held-out cross-entropy ``-(1/N) sum_n log p(x_n | fit without x_n's fold)``
    estimates ``E_data[-log p]``, i.e. ``KL(p_data || p) + H(p_data)`` (the seed's eq.
    2-4): the family that minimises it is closest to the data in KL, judged on data
    the fit has not seen.  It comes with its standard error and, for every family, the
    paired difference to the best with its paired standard error (the same folds and
    observations), so that real differences can be told from noise.  AIC and BIC of the
    fits on all the data are reported too.

    The data are read once: every candidate's columns ``[log h, u]`` are reduced to
    per-fold sums and products (additive: chunks, files, groups and Dask partitions all
    reduce the same way); the fit on a training set is that of ``total - fold``.

    Parameters
    ----------
    data : array_like, pandas Series/DataFrame, path of a file, or a Dask collection
        Observations: shape ``(n,)`` for scalar families, ``(n, d)`` for vector families
        (Dirichlet on the simplex, MultivariateNormal, Multinomial).  A path
        (``.parquet``, ``.csv``, ``.arrow``...) is read in chunks of ``chunksize`` rows
        (``column=``, ``by=`` and ``weights=`` then name columns).
    families : "auto", "all" or list
        ``"auto"``: every built-in family except nominal models of labels
        (Categorical); ``"all"``: every built-in family.  User-defined families
        (:func:`expfam.define_family`) join the ranking when listed (so that the
        candidates do not depend on what was defined earlier in the process).  A list holds
        names, classes, instances (their fixed parameters are used) or
        ``(family, {fixed})`` pairs.  Families whose support excludes the data, or that
        need a fixed parameter the data cannot give (Binomial's ``n``, Pareto's ``x_m``,
        Laplace's ``loc``), are listed in ``result.skipped`` with the reason.  Weibull's
        ``k`` and the negative binomial's ``r`` are estimated (profile likelihood on a
        grid around an estimate from the first 4096 observations, refined by a quartic
        and 6-point interpolation) and counted as parameters.
    weights : array_like or str, optional
        Non-negative weights, one per observation.  Integer weights are frequencies: a
        row of weight ``w`` is ``w`` observations, split over the folds at random.
    by : array_like or str, optional
        Group labels: one selection per group (a :class:`GroupedSelection`).
    folds : int
        Number of folds ``k >= 2`` (each observation is held out once).
    rng : numpy.random.Generator or int, optional
        Assignment of the observations to folds (the same seed, the same result).
    column : str or int, optional
        The observations' column of a DataFrame, 2-D array or file.
    chunksize : int
        Rows per chunk of a file.

    Returns
    -------
    SelectionResult or GroupedSelection
        ``result.ranking`` (best first), ``result.best``, ``result.table()``,
        ``result.to_dict()``, ``result.skipped``, ``result.failed``.

    Raises
    ------
    expfam.errors.DataError
        NaN or inf in the data, empty data, bad weights or shapes (fitting failures of
        single families are reported in ``result.failed`` instead).
    """
    k = check_int(folds, "folds", 2)
    gen = as_rng(rng)
    if isinstance(data, (str, os.PathLike)):
        engines = file_engines(data, families, column=column, weights=weights, by=by, k=k,
                               rng=gen, chunksize=check_int(chunksize, "chunksize", 1))
        return _results(engines, k)
    if "dask" in sys.modules and sys.modules["dask"].is_dask_collection(data):
        engines = dask_engines(data, families, column=column, weights=weights, by=by, k=k,
                               rng=gen)
        return _results(engines, k)
    if isinstance(by, str):
        if not hasattr(data, "columns") or by not in data.columns:
            raise ShapeError(f"by={by!r} names a column, but the data have no column {by!r}")
        by = data[by]
    if isinstance(weights, str):
        if not hasattr(data, "columns") or weights not in data.columns:
            raise ShapeError(f"weights={weights!r} names a column, but the data have no "
                             f"column {weights!r}")
        weights = data[weights]
    x = as_float_array(data, column=column)
    check_nonempty(x)
    if x.ndim > 2:
        raise ShapeError(f"data: expected observations of shape (n,) or (n, d); got {x.shape}")
    check_finite(x)
    w = None if weights is None else check_weights(weights, (x.shape[0],))
    candidates, skipped = resolve_candidates(families, x.ndim - 1)
    if not candidates:
        raise ParameterError(f"no family to fit: {skipped}")
    if by is None:
        engine = Engine(candidates, skipped, k, gen)
        _feed(engine, x, w)
        return rank(engine.finish(), k)
    engines = {}
    for label, rows in group_rows(by, x.shape[0]):
        engine = Engine(candidates, skipped, k, gen)
        _feed(engine, x[rows], None if w is None else w[rows])
        engines[label] = engine.finish()
    return _results(engines, k)


def _feed(engine: Engine, x: np.ndarray, w: np.ndarray | None) -> None:
    for start in range(0, x.shape[0], CHUNK):
        engine.add(x[start:start + CHUNK], None if w is None else w[start:start + CHUNK])


def _results(engines, k):
    if not isinstance(engines, dict):
        return rank(engines.finish(), k)
    labels = list(engines)
    return GroupedSelection(labels, [rank(engines[g].finish(), k) for g in labels])


