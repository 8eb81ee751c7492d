"""Goodness of fit with parametric-bootstrap p-values, and parameter intervals.

The observed statistic compares the data with the law fitted to them; its null
distribution is that of the same statistic on samples drawn from the fitted law *and
refitted* (the estimated parameters make the classical tables wrong).  Every bootstrap
sample is refitted at once: a block of samples is one array of shape ``(n, m)``, fitted
as ``m`` independent fits in one pass of the batched accumulator, and the statistics of
the block are computed by one compiled kernel (:mod:`._edf`).

Layout: :mod:`._edf` (KS, CvM, AD of many samples), :mod:`.chisquare` (pooled cells),
:mod:`.intervals` (Wald, profile likelihood, percentile bootstrap), :mod:`.result`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .._validation import as_float_array, as_rng, check_int, check_nonempty
from ..errors import BoundaryError, ModelCapabilityError, ParameterError, ShapeError
from ..families import resolve_family
from ..fitting import fit
from ._edf import COMPILED, edf_compiled, edf_numpy
from .chisquare import chi_square, pooled_cells
from .intervals import percentile_interval, profile_interval, wald_interval
from .result import GofResult

__all__ = ["gof", "GofResult"]

#: values per block of bootstrap samples (bounds the memory: 8 bytes each, a few arrays)
BLOCK_VALUES = 1 << 22
#: show a progress bar (when ``progress=None`` and stderr is a terminal) above this many
#: bootstrap values
PROGRESS_VALUES = 1 << 24


def gof(family: Any, data: Any, statistic: str | None = None, *, n_bootstrap: int = 999,
        rng: Any = None, level: float = 0.95, intervals: str = "profile",
        progress: bool | None = None, min_expected: float = 5.0, **fixed: Any) -> GofResult:
    """Goodness of fit of a family to data, with a parametric-bootstrap p-value.

    Parameters
    ----------
    family : str, class or instance
        The family (fitted to ``data`` by maximum likelihood).
    data : array_like
        Observations, shape ``(n,)`` (scalar families).
    statistic : {"ad", "ks", "cvm", "chi2"}, optional
        Anderson-Darling (default for continuous families), Kolmogorov-Smirnov,
        Cramer-von Mises, or Pearson's chi-square with pooled cells (the only one, and
        the default, for discrete families).
    n_bootstrap : int
        Bootstrap samples ``B``; the p-value is ``(1 + #{T_b >= T}) / (B + 1)`` and its
        Monte Carlo standard error ``sqrt(p (1 - p) / B)`` is reported.
    rng : numpy.random.Generator or int, optional
    level : float
        Confidence level of the parameter intervals.
    intervals : {"profile", "wald", "bootstrap"}
        Wald intervals (inverse Fisher information) are always given; ``"profile"``
        adds profile-likelihood intervals of every parameter (the shape-type ones are
        where they differ); ``"bootstrap"`` adds percentile intervals from the
        bootstrap refits as well.
    progress : bool, optional
        A tqdm progress bar over the blocks (default: on a terminal, for long runs).
    min_expected : float
        Chi-square: the least expected count of a pooled cell.
    **fixed
        The family's fixed parameters.

    Returns
    -------
    GofResult
        ``statistic``, ``value``, ``pvalue``, ``pvalue_se``, ``null`` (the bootstrap
        statistics), ``fit``, ``intervals`` and ``table()`` / ``to_dict()``.

    Raises
    ------
    expfam.errors.DataError
        Bad data (NaN, outside the support, empty...).
    ParameterError
        An unknown statistic, KS/AD/CvM for a discrete family, ``n_bootstrap < 1``,
        ``level`` outside (0, 1).
    ModelCapabilityError
        A family without a CDF (vector observations).
    """
    cls = resolve_family(family)
    if not isinstance(family, (str, type)) and hasattr(family, "fixed"):
        fixed = {**family.fixed, **fixed}
    B = check_int(n_bootstrap, "n_bootstrap", 1)
    gen = as_rng(rng)
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ParameterError(f"level must be a number in (0, 1); got {level!r}")
    if intervals not in ("profile", "wald", "bootstrap"):
        raise ParameterError(f"intervals must be 'profile', 'wald' or 'bootstrap'; got {intervals!r}")
    if cls.event_ndim:
        raise ModelCapabilityError(f"{cls.__name__} has vector observations: no CDF, so no "
                                   f"EDF or chi-square test here")
    stat = statistic or ("chi2" if cls.discrete else "ad")
    if stat not in ("ad", "ks", "cvm", "chi2"):
        raise ParameterError(f"statistic must be 'ad', 'ks', 'cvm' or 'chi2'; got {statistic!r}")
    if cls.discrete and stat != "chi2":
        raise ParameterError(f"{cls.__name__} is discrete: the EDF statistics (KS, AD, CvM) "
                             f"assume a continuous CDF; use statistic='chi2'")
    if not cls.discrete and stat == "chi2":
        raise ParameterError(f"{cls.__name__} is continuous: use 'ad', 'ks' or 'cvm'")
    x = as_float_array(data)
    check_nonempty(x)
    if x.ndim != 1:
        raise ShapeError(f"data: expected observations of shape (n,); got {x.shape}")
    result = fit(cls, x, **fixed)  # validates the data (NaN, support)
    model = result.model
    fixed = model.fixed
    n = x.shape[0]
    cells = None
    if stat == "chi2":
        cells = pooled_cells(model.to_scipy(), x, min_expected)
        observed = float(chi_square(x[:, None], cells, model.to_scipy())[0])
    else:
        observed = float(_statistic(cls, x[:, None], model.params, fixed, stat, model)[0])

    null = np.empty(B)
    boot_params: dict = {k: np.empty(B) for k in model.params}
    done, failed = 0, 0
    block = max(1, min(B, BLOCK_VALUES // n))
    show = (sys.stderr.isatty() and n * B > PROGRESS_VALUES) if progress is None else bool(progress)
    from tqdm.auto import tqdm

    with tqdm(total=B, desc=f"bootstrap {stat}", unit="sample", disable=not show,
              leave=False) as bar:
        while done < B:
            m = min(block, B - done)
            # (n, m): m samples of the fitted law, each sample contiguous (drawn as rows
            # of an (m, n) array) for the sorts and the compiled statistics
            X = model.sample((m, n), rng=gen).T
            try:
                refit = fit(cls, X, **fixed).model  # m fits in one batched pass
                keep = np.arange(m)
            except BoundaryError:  # a sample on the boundary: fit the others
                refit, keep = _fit_each(cls, X, fixed)
                failed += m - keep.size
                X = X[:, keep]
            if keep.size:
                if stat == "chi2":
                    values = chi_square(X, cells, refit.to_scipy())
                else:
                    values = _statistic(cls, X, refit.params, fixed, stat, refit)
                null[done:done + keep.size] = values
                for k, v in refit.params.items():
                    boot_params[k][done:done + keep.size] = v
            done += keep.size
            B -= m - keep.size
            bar.update(m)
    null = null[:done]
    boot_params = {k: v[:done] for k, v in boot_params.items()}
    exceed = int(np.count_nonzero(null >= observed))
    p = (1 + exceed) / (done + 1)
    ivals = _intervals(result, level, intervals, boot_params)
    return GofResult(
        family=cls.name, statistic=stat, value=observed, pvalue=p,
        pvalue_se=float(np.sqrt(p * (1 - p) / max(done, 1))), n=n, n_bootstrap=done,
        n_failed=failed, null=null, fit=result, intervals=ivals, level=level, cells=cells,
        bootstrap_params=boot_params)


def _statistic(cls, X, params, fixed, stat, model):
    if cls.name in COMPILED and type(model) is cls:
        return edf_compiled(X, cls.name, params, fixed, stat)
    return edf_numpy(X, model.to_scipy(), stat)


def _fit_each(cls, X, fixed):
    """Fit the columns one by one, leaving out those whose MLE does not exist."""
    keep = []
    for j in range(X.shape[1]):
        try:
            fit(cls, X[:, j], **fixed)
            keep.append(j)
        except BoundaryError:
            continue
    keep = np.asarray(keep, dtype=np.intp)
    if keep.size == 0:
        return None, keep
    return fit(cls, X[:, keep], **fixed).model, keep


def _intervals(result, level, method, boot_params):
    out = {}
    for name, value in result.params.items():
        v = np.asarray(value)
        if v.ndim:
            continue
        se = float(np.asarray(result.se[name]))
        row = {"estimate": float(v), "se": se, "wald": wald_interval(float(v), se, level)}
        if method in ("profile", "bootstrap"):
            row["profile"] = profile_interval(result, name, level)
        if method == "bootstrap" and name in boot_params and boot_params[name].size:
            row["bootstrap"] = percentile_interval(boot_params[name], level)
        out[name] = row
    return out
