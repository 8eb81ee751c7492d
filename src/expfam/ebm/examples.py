"""Energy-based models on real data shipped by other packages (loaders, not data).

- **Handwritten digits** (:func:`load_digits_spins`, :func:`digits_report`): scikit-learn's
  1797 images of 8x8 pixels (``sklearn.datasets.load_digits``, values 0..16), binarised at
  ``value > threshold``: 64 ``{0,1}`` spins, a fully visible Boltzmann machine.  Thirteen
  border pixels are never on (at the default threshold): their mean statistic lies on the
  boundary of the mean domain, so the unregularised MLE does not exist and
  ``expfam.fit(expfam.Ising, x)`` raises :class:`~expfam.errors.BoundaryError` naming
  them.  Two documented ways out: ``drop_constant=True`` removes the pixels that are
  constant in the training images (the model then describes the others; a pair of pixels
  never on together still puts the MLE at infinity), and ``l2 > 0`` regularises every
  parameter.  The report gives the held-out cross-entropy per image (nats) of independent
  pixels (exact), pseudolikelihood and PCD (``log Z`` by annealed importance sampling, so
  each value carries a standard error that combines the test-set spread and the AIS
  error).
- **ANES 1996** (:func:`load_anes96`, :func:`anes_report`): the American National Election
  Studies 1996 survey shipped by statsmodels (``statsmodels.datasets.anes96``, public
  domain, 944 answers): the categorical answers ``TVnews, selfLR, ClinLR, DoleLR, PID,
  educ, vote`` (q = 8, 7, 7, 7, 7, 7, 2: 268,912 joint states, so ``log Z`` is exact) as a
  dense Potts model with 645 lattice-gas parameters, fitted exactly (Newton on the
  enumerated moments) and by pseudolikelihood, both with an L2 penalty (about a
  thousand answers for 645 parameters: without it the MLE does not exist, as some joint
  states of pairs are never observed).

Every report is a dict of plain numbers (and small lists), so it prints and serialises.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import ModelCapabilityError, ParameterError
from .potts import Potts

__all__ = ["load_digits_spins", "digits_report", "load_anes96", "anes_report", "ANES_COLUMNS",
           "independent_cross_entropy"]

#: the categorical answers of ANES 1996 used as Potts variables
ANES_COLUMNS = ("TVnews", "selfLR", "ClinLR", "DoleLR", "PID", "educ", "vote")


def _need(module: str, pip_name: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelCapabilityError(f"this example needs {pip_name} (pip install '{pip_name}'), which "
                                   f"ships the data set") from None


def load_digits_spins(threshold: float = 8.0, pixels=None) -> np.ndarray:
    """The 1797 scikit-learn digits as ``{0,1}`` spins, ``1`` where ``value > threshold``.

    Parameters
    ----------
    threshold : float
        Pixel values run from 0 to 16.
    pixels : sequence of int, optional
        A subset of the 64 pixels (row-major ``8 * row + column``); default all.

    Returns
    -------
    ndarray, shape (1797, len(pixels)), float64
    """
    datasets = _need("sklearn.datasets", "scikit-learn>=1.3")
    if not np.isfinite(threshold) or not 0 <= threshold < 16:
        raise ParameterError(f"threshold must lie in [0, 16); got {threshold!r}")
    X = (datasets.load_digits().data > threshold).astype(np.float64)
    if pixels is not None:
        idx = np.asarray(pixels)
        if idx.ndim != 1 or idx.dtype.kind not in "iu" or idx.size == 0 or np.any(idx < 0) \
                or np.any(idx >= 64) or np.unique(idx).size != idx.size:
            raise ParameterError(f"pixels: expected distinct integers in 0..63; got {pixels!r}")
        X = X[:, idx]
    return X


def _split(N: int, test_fraction: float, seed):
    if not 0 < test_fraction < 1:
        raise ParameterError(f"test_fraction must lie in (0, 1); got {test_fraction!r}")
    perm = np.random.default_rng(seed).permutation(N)
    n_test = max(1, int(round(test_fraction * N)))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def independent_cross_entropy(train, test, l2: float = 0.0):
    """Held-out cross-entropy per sample (nats) of independent ``{0,1}`` variables.

    The fields maximise the penalised mean log-likelihood ``h m - log(1 + e^h) - l2 h^2 / 2``
    of each variable (``m`` its training mean): ``logit(m)`` without penalty, else one
    Newton iteration per variable to convergence.  Returns ``(estimate, se, fields)``
    with ``se = sd(log p(x_n)) / sqrt(N)``.
    """
    m = np.asarray(train, dtype=np.float64).mean(axis=0)
    if l2 == 0:
        if np.any((m <= 0) | (m >= 1)):
            from ..errors import BoundaryError

            bad = np.flatnonzero((m <= 0) | (m >= 1))
            raise BoundaryError(f"independent model: variable(s) {bad.tolist()} constant in the "
                                f"training data (the MLE is at infinity); pass l2=...")
        h = np.log(m / (1 - m))
    else:
        h = np.zeros_like(m)
        for _ in range(100):  # Newton on a strictly concave 1-D objective per variable
            p = 1.0 / (1.0 + np.exp(-h))
            g = m - p - l2 * h
            h = h + g / (p * (1 - p) + l2)
            if np.max(np.abs(g)) < 1e-13:
                break
    # log p(x) = h.x - sum log(1 + e^h), log1p(e^h) written stably
    logz = float(np.sum(np.logaddexp(0.0, h)))
    lp = np.asarray(test, dtype=np.float64) @ h - logz
    return float(-lp.mean()), float(lp.std(ddof=1) / np.sqrt(lp.size)), h


def digits_report(*, threshold: float = 8.0, pixels=None, drop_constant: bool = True,
                  l2: float = 1e-2, methods=("independent", "pseudolikelihood", "pcd"),
                  test_fraction: float = 0.2, seed=0, ais_runs: int = 500,
                  ais_temperatures: int = 2000, pcd_options=None) -> dict:
    """Fully visible Boltzmann machines on binarised digits: held-out cross-entropy.

    Parameters
    ----------
    threshold, pixels :
        See :func:`load_digits_spins`.
    drop_constant : bool
        Remove the pixels that are constant in the *training* images (listed in the
        report).  With ``False`` and ``l2 = 0`` the fit raises
        :class:`~expfam.errors.BoundaryError` naming them.
    l2 : float
        L2 penalty (per image) on every natural parameter, for every method.
    methods : sequence of {"independent", "pseudolikelihood", "pcd", "exact"}
        ``"exact"`` enumerates: at most 24 pixels.
    test_fraction : float
        Share of the images held out (a seeded random split).
    seed : int
        Seed of the split, of the PCD chains and of AIS.
    ais_runs, ais_temperatures : int
        Annealed importance sampling of ``log Z`` beyond 24 pixels.
    pcd_options : dict, optional
        Extra options of :func:`~expfam.ebm.learning.fit_ising` for ``"pcd"``.

    Returns
    -------
    dict
        ``n_train``, ``n_test``, ``pixels`` (kept, as indices of the 64), ``dropped``,
        ``l2`` and, per method, ``{"cross_entropy", "se", "logz_method", "fit_time_s",
        "converged", "model"}`` (the fitted :class:`~expfam.ebm.Ising`; ``None`` for
        independent pixels).
    """
    from .evaluate import cross_entropy
    from .learning import fit_ising

    X = load_digits_spins(threshold, pixels)
    kept = np.arange(64) if pixels is None else np.asarray(pixels)
    tr, te = _split(X.shape[0], test_fraction, seed)
    Xtr, Xte = X[tr], X[te]
    dropped = []
    if drop_constant:
        m = Xtr.mean(axis=0)
        const = (m == 0) | (m == 1)
        dropped = kept[const].tolist()
        kept = kept[~const]
        Xtr, Xte = Xtr[:, ~const], Xte[:, ~const]
    out = {"n_train": int(Xtr.shape[0]), "n_test": int(Xte.shape[0]), "pixels": kept.tolist(),
           "dropped": dropped, "l2": float(l2), "threshold": float(threshold)}
    n = Xtr.shape[1]
    for method in methods:
        t0 = time.perf_counter()
        if method == "independent":
            ce, se, _ = independent_cross_entropy(Xtr, Xte, l2)
            out[method] = {"cross_entropy": ce, "se": se, "logz_method": "exact",
                           "fit_time_s": time.perf_counter() - t0, "converged": True, "model": None}
            continue
        if method not in ("pseudolikelihood", "pcd", "exact"):
            raise ParameterError(f"unknown method {method!r}")
        options = dict(pcd_options or {}) if method == "pcd" else {}
        if method == "pcd":
            options.setdefault("rng", seed)
        res = fit_ising(Xtr, method=method, spins="01", l2=l2, **options)
        fit_time = time.perf_counter() - t0
        how = "exact" if n <= 24 else "ais"
        ais = {} if how == "exact" else {"n_runs": ais_runs, "n_temperatures": ais_temperatures,
                                         "rng": seed}
        ce = cross_entropy(res.model, Xte, method=how, **ais)
        out[method] = {"cross_entropy": float(ce.estimate), "se": float(ce.se), "logz_method": how,
                       "fit_time_s": fit_time, "converged": bool(res.converged), "model": res.model}
    return out


def load_anes96(columns=ANES_COLUMNS):
    """The ANES 1996 answers as Potts states ``0..q_i - 1``.

    Each column's codes are consecutive integers; state ``a`` is ``code - min(code)``.

    Returns
    -------
    X : ndarray, shape (944, len(columns)), int64
    q : tuple of int
        States per column (``max - min + 1``).
    columns : tuple of str
    """
    datasets = _need("statsmodels.datasets", "statsmodels>=0.14")
    df = datasets.anes96.load_pandas().data
    columns = tuple(columns)
    unknown = [c for c in columns if c not in df.columns]
    if unknown or not columns:
        raise ParameterError(f"columns: {unknown or 'none given'} not in anes96 "
                             f"(available: {list(df.columns)})")
    raw = df[list(columns)].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
        raise ParameterError("anes96: non-integer or missing codes")  # the shipped file has none
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    X = (raw - lo).astype(np.int64)
    return X, tuple(int(v) for v in hi - lo + 1), columns


def anes_report(*, columns=ANES_COLUMNS, l2: float = 1e-2, methods=("exact", "pseudolikelihood"),
                test_fraction: float = 0.2, seed=0, max_iter: int = 100) -> dict:
    """Potts models of the ANES 1996 answers: exact, PCD and pseudolikelihood fits side by side.

    Parameters
    ----------
    columns : sequence of str
        Columns of ``anes96`` (default :data:`ANES_COLUMNS`).
    l2 : float
        L2 penalty (per answer) on every lattice-gas parameter.
    methods : sequence of {"exact", "pcd", "pseudolikelihood"}
    test_fraction, seed :
        The held-out share of the answers and the seed of the split (and of PCD's chains).
    max_iter : int
        Iteration limit of each fit.

    Returns
    -------
    dict
        ``columns``, ``q``, ``n_params``, ``n_train``, ``n_test``, ``l2`` and, per method,
        ``{"train_cross_entropy", "test_cross_entropy", "test_se", "residual_max",
        "fit_time_s", "converged", "n_iter", "model"}``: cross-entropies per answer in nats
        with ``log Z`` exact; ``residual_max`` the largest ``|E_data[u] - E_model[u]|``
        over the training answers.
    """
    from .potts_learning import fit_potts

    X, q, columns = load_anes96(columns)
    tr, te = _split(X.shape[0], test_fraction, seed)
    Xtr, Xte = X[tr], X[te]
    fixed = Potts.check_fixed({"n": len(q), "q": q})
    out = {"columns": list(columns), "q": list(q), "n_params": Potts.natural_dim(fixed),
           "n_train": int(Xtr.shape[0]), "n_test": int(Xte.shape[0]), "l2": float(l2)}
    for method in methods:
        extra = {"rng": seed} if method == "pcd" else {}
        res = fit_potts(Xtr, q=q, method=method, l2=l2, max_iter=max_iter, **extra)
        model = res.model
        logz = model.log_partition()
        lp_tr = model.unnormalized_log_prob(Xtr) - logz
        lp_te = model.unnormalized_log_prob(Xte) - logz
        out[method] = {"train_cross_entropy": float(-lp_tr.mean()),
                       "test_cross_entropy": float(-lp_te.mean()),
                       "test_se": float(lp_te.std(ddof=1) / np.sqrt(lp_te.size)),
                       "residual_max": float(np.max(np.abs(res.residual))),
                       "fit_time_s": float(res.time_s), "converged": bool(res.converged),
                       "n_iter": int(res.n_iter), "model": model}
    return out
