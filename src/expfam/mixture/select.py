"""Choosing the number of components: AIC / BIC, and held-out cross-entropy by k-fold.

The held-out cross-entropy ``-mean_n log p_K(x_n)`` (each ``x_n`` scored by the mixture
fitted without its fold) estimates ``H(p_data) + KL(p_data || p_K)`` (the seed's eq. 2),
so its smallest value picks the ``K`` closest in KL.  Its standard error is
``sd_n / sqrt(n)``; the differences to the best ``K`` are paired (the same folds, the
same observations), which removes the variation common to all ``K``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, as_rng, check_int
from ..errors import DegenerateComponentError, ParameterError
from .fit import fit_mixture


@dataclass
class ChooseKResult:
    """Per number of components ``ks[i]``.

    Attributes
    ----------
    ks : ndarray of int
    aic, bic : ndarray
        Of the fit to all the data.
    cv_cross_entropy, cv_se : ndarray
        Held-out cross-entropy per observation (nats) and its standard error.
    diff_to_best, diff_se : ndarray
        Paired difference of the held-out cross-entropy to the best ``K`` and its
        standard error.
    best_k_cv, best_k_bic : int
    failed : dict
        ``K -> message`` for the ``K`` whose fit degenerated (their values are NaN).
    """

    ks: np.ndarray
    aic: np.ndarray
    bic: np.ndarray
    cv_cross_entropy: np.ndarray
    cv_se: np.ndarray
    diff_to_best: np.ndarray
    diff_se: np.ndarray
    best_k_cv: int
    best_k_bic: int
    failed: dict


def choose_k(family, data, ks=(1, 2, 3, 4), *, folds: int = 5, rng=None, **fit_kwargs) -> ChooseKResult:
    """Compare numbers of components by AIC, BIC and k-fold held-out cross-entropy.

    Parameters
    ----------
    family : as in :func:`fit_mixture`
    data : array_like
    ks : sequence of int
        Numbers of components to compare.
    folds : int
        Number of folds (>= 2); the same folds for every ``K``.
    rng : numpy.random.Generator or int, optional
        For the folds and the starts.
    **fit_kwargs
        Passed to :func:`fit_mixture` (``n_init``, ``pseudo_count``...).

    Returns
    -------
    ChooseKResult
    """
    x = as_float_array(data, name="data")
    folds = check_int(folds, "folds", 2)
    ks = np.array([check_int(k, "ks", 1) for k in ks])
    if ks.size == 0:
        raise ParameterError("ks: give at least one number of components")
    rng = as_rng(rng)
    n = x.shape[0]
    if folds > n:
        raise ParameterError(f"folds={folds} exceeds the {n} observations")
    fold_of = rng.permutation(np.arange(n) % folds)
    loss = np.full((ks.size, n), np.nan)
    aic, bic = np.full(ks.size, np.nan), np.full(ks.size, np.nan)
    failed = {}
    for i, K in enumerate(ks):
        try:
            full = fit_mixture(family, x, int(K), rng=rng, **fit_kwargs)
            aic[i], bic[i] = full.aic, full.bic
            for f in range(folds):
                test = fold_of == f
                r = fit_mixture(family, x[~test], int(K), rng=rng, **fit_kwargs)
                loss[i, test] = -r.mixture.logpdf(x[test])
        except DegenerateComponentError as exc:
            failed[int(K)] = str(exc)
            loss[i] = np.nan
            aic[i] = bic[i] = np.nan
    ce = loss.mean(axis=1)
    se = loss.std(axis=1, ddof=1) / np.sqrt(n)
    ok = np.isfinite(ce)
    if not ok.any():
        raise DegenerateComponentError(f"every K degenerated: {failed}")
    best = int(np.nanargmin(np.where(ok, ce, np.inf)))
    d = loss - loss[best]
    return ChooseKResult(ks=ks, aic=aic, bic=bic, cv_cross_entropy=ce, cv_se=se,
                         diff_to_best=d.mean(axis=1), diff_se=d.std(axis=1, ddof=1) / np.sqrt(n),
                         best_k_cv=int(ks[best]),
                         best_k_bic=int(ks[np.nanargmin(np.where(ok, bic, np.inf))]), failed=failed)
