"""``fit_mixture``: validation, starts, the best EM run kept."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._validation import as_float_array, as_rng, check_finite, check_int, check_nonempty, check_weights
from ..errors import (
    DataError,
    DegenerateComponentError,
    InputTypeError,
    ParameterError,
    ShapeError,
)
from ..fitting import check_pseudo_count
from .em import run_em
from .init import kmeanspp, random_resp
from .model import Mixture
from .result import MixtureResult
from .sources import SAMPLE_SIZE, DaskSource, FileSource, is_dask
from .specs import _distinct, _specs
from .streamed import fit_source, resolve_first

__all__ = ["fit_mixture"]


def fit_mixture(family, data: Any, n_components: int = 2, weights=None, *, init="k-means++",
                n_init: int = 1, max_iter: int = 1000, tol: float = 1e-8, rng=None,
                pseudo_count: float | None = None, column=None, chunksize: int = 262_144,
                format: str | None = None, sample_size: int = SAMPLE_SIZE,
                **fixed) -> MixtureResult:
    """Maximum-likelihood finite mixture of exponential-family members, by exact EM.

    Parameters
    ----------
    family : family (class, instance or name), or a list of ``n_components`` of them
        The components' family; a list mixes families whose supports agree.
    data : array_like, shape (n,) or (n, d) for vector families; a file path; a Dask collection
        In memory: an array, pandas Series or DataFrame (``column=``).  A path to a
        Parquet, CSV or Arrow IPC file (see :func:`expfam.io.stats_from_file`) is read
        in chunks of ``chunksize`` rows, one streamed pass per EM iteration (memory bounded
        by the chunk and the start sample, :mod:`expfam.mixture.streamed`).  A dask
        array, DataFrame column (``column=``) or Series is fitted on the active Dask
        scheduler, one reduction per iteration (:mod:`expfam.mixture.sources`).
        Both give the in-memory answer up to the order of the floating-point sums.
    n_components : int
        ``K``, at most the number of distinct observations.
    weights : array_like, shape (n,), optional
        Non-negative observation weights (for a file: the name of a weight column; for a
        dask DataFrame: an aligned dask Series).
    init : {"k-means++", "random"}, Mixture or array of shape (n, K)
        Starting point: k-means++ seeding with Lloyd steps (on standardised data),
        random (Dirichlet) responsibilities, a given :class:`Mixture` (EM starts with an
        E-step), or given responsibilities (EM starts with an M-step).
    n_init : int
        Number of starts (for the string inits); the highest objective is kept and every
        start is reported in ``result.runs``.
    max_iter : int
        Maximum EM iterations per start.
    tol : float
        Convergence: the relative change of the objective falls below ``tol``.
    rng : numpy.random.Generator or int, optional
    pseudo_count : float, optional
        MAP-EM: conjugate priors of strength ``nu`` on every component (as in
        :func:`expfam.fit`) and a Dirichlet prior ``alpha_k = 1 + nu / K`` on the weights.
    column : str or int, optional
        Column of a DataFrame / 2-D array holding scalar observations.
    chunksize : int
        Rows per chunk of a file.
    format : {"parquet", "csv", "ipc"}, optional
        A file's format (default: from its suffix).
    sample_size : int
        Files and Dask collections: the starts are computed in memory on a uniform
        reservoir sample of at most this many rows, drawn in the first pass.
    **fixed
        Fixed parameters shared by the components (e.g. ``k`` for a Weibull).

    Returns
    -------
    MixtureResult

    Raises
    ------
    expfam.errors.DataError
        NaN / inf, values outside a component's support, empty data, fewer distinct
        observations than components, bad weights.
    expfam.errors.DegenerateComponentError
        A component collapsed onto a point or lost its weight in every start (without
        ``pseudo_count``).
    expfam.errors.MonotonicityError
        The objective decreased (a bug).
    """
    K = check_int(n_components, "n_components", 1)
    n_init = check_int(n_init, "n_init", 1)
    max_iter = check_int(max_iter, "max_iter", 1)
    if not (isinstance(tol, (int, float, np.floating)) and np.isfinite(tol) and tol > 0):
        raise ParameterError(f"tol must be a finite number > 0; got {tol!r}")
    nu = check_pseudo_count(pseudo_count)
    if isinstance(data, (str, os.PathLike)) or is_dask(data):
        if weights is not None and isinstance(data, (str, os.PathLike)) and not isinstance(weights, str):
            raise InputTypeError("weights: for a file, the name of its weight column")
        sample_size = check_int(sample_size, "sample_size", 1)
        source = (FileSource(resolve_first(family), data, column, weights,
                             check_int(chunksize, "chunksize", 1), format)
                  if isinstance(data, (str, os.PathLike)) else DaskSource(data, column, weights))
        rng = as_rng(rng)

        def fit_sample(xs, ws):  # the starts: EM in memory on the reservoir sample
            return fit_mixture(family, xs, K, weights=ws, init=init, n_init=n_init,
                               max_iter=max_iter, tol=tol, rng=rng, pseudo_count=nu, **fixed)

        return fit_source(family, source, K, init=init, max_iter=max_iter, tol=tol, rng=rng,
                          pseudo_count=nu, sample_size=sample_size, fixed=fixed,
                          fit_sample=fit_sample)
    x = as_float_array(data, name="data", column=column)
    check_nonempty(x, name="data")
    check_finite(x, name="data")
    specs = _specs(family, K, x, fixed)
    ev = specs[0][0].event_ndim
    if x.ndim != ev + 1:
        raise ShapeError(f"data: expected shape (n,{' d' if ev else ''}) for "
                         f"{specs[0][0].__name__} components; got {x.shape}")
    n = x.shape[0]
    wt = np.ones(n) if weights is None else np.array(check_weights(weights, (n,)), dtype=float)
    distinct = _distinct(x.reshape(n, -1)[wt > 0], K, rng := as_rng(rng))
    if distinct < K:
        raise DataError(f"data: {distinct} distinct observation(s) with positive weight, fewer "
                        f"than n_components={K}: a mixture of {K} components is not identifiable")

    starts: list[tuple[Mixture | None, np.ndarray | None]] = []
    if isinstance(init, Mixture):
        if init.n_components != K:
            raise ShapeError(f"init has {init.n_components} components; n_components={K}")
        starts.append((init, None))
    elif isinstance(init, str):
        if init not in ("k-means++", "random"):
            raise ParameterError(f"init must be 'k-means++', 'random', a Mixture or an (n, K) "
                                 f"array; got {init!r}")
        for _ in range(n_init):
            R0 = kmeanspp(x, K, rng, ev) if init == "k-means++" else random_resp(n, K, rng)
            starts.append((None, R0))
    else:
        R0 = as_float_array(init, name="init", invalid=InputTypeError)
        if R0.shape != (n, K) or not np.all(np.isfinite(R0)) or np.any(R0 < 0):
            raise ShapeError(f"init: responsibilities must be finite, >= 0, of shape {(n, K)}; "
                             f"got shape {R0.shape}")
        starts.append((None, R0 / R0.sum(axis=1, keepdims=True)))

    best, runs, errors = None, [], []
    for s, (mix0, R0) in enumerate(starts):
        try:
            out = run_em(specs, x, wt, mix0, R0, max_iter=max_iter, tol=tol, pseudo_count=nu, start=s)
        except DegenerateComponentError as exc:
            runs.append({"start": s, "error": str(exc)})
            errors.append(exc)
            continue
        runs.append({"start": s, "objective": out[3], "loglik": out[2], "n_iter": out[5],
                     "converged": out[6]})
        if best is None or out[3] > best[3]:
            best = out
    if best is None:
        raise errors[0]
    mix, R, ll, obj, trace, n_iter, converged, rel = best
    p = mix.ordering()
    mix = Mixture(mix.weights[p], [mix.components[i] for i in p])
    R = R[:, p]
    W = float(wt.sum())
    resid = np.empty(K)
    for k, c in enumerate(mix.components):
        cls, fx = type(c), c.fixed
        Nk = float(np.dot(wt, R[:, k]))
        mu_r = (wt * R[:, k]) @ cls.sufficient_statistics(x, fx) / Nk
        resid[k] = np.linalg.norm(mu_r - cls.mean_from_natural(c.natural, fx)) / max(
            np.linalg.norm(mu_r), 1e-300)
    n_params = sum(cls.natural_dim(fx) for cls, fx in specs) + K - 1
    return MixtureResult(mixture=mix, loglik=ll, objective=obj, converged=converged, n_iter=n_iter,
                         rel_change=rel, residual_norm=resid, trace=trace, runs=runs, n=n,
                         weight_sum=W, n_params=n_params,
                         regularization=None if nu is None else {"pseudo_count": nu},
                         _data=(x, wt, R))
