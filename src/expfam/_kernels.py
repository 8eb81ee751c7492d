"""Fused one-pass kernels for the sufficient statistics of common families.

``fused_sums(family, x, fixed)`` returns ``(sum_u, sum_log_h)`` computed in one pass that
also checks every value (finite, inside the support), or ``None`` when no kernel applies
or a value is bad; the caller then takes the general path, which names the bad value.

The kernels (numba, in :mod:`expfam._jit`) are imported and compiled on the first call
that needs them (``cache=True``: once per machine), never when expfam is imported.  Data
smaller than ``MIN_SIZE`` values take the general NumPy path, which is faster there.

Each kernel returns up to three raw sums ``r`` (see the codes in ``_jit``); the table
below turns them into the family's ``sum_u`` (the order of its ``sufficient_statistics``)
and ``sum_log_h`` (its ``log_base_measure``), with ``n`` the number of observations.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

#: below this many values the general NumPy path is used (no compilation, less overhead)
MIN_SIZE = 1 << 15

_LOG_2PI = math.log(2 * math.pi)
_LOG2 = math.log(2.0)
#: Poisson: log h(v) = -lgamma(v + 1) is looked up below this value (Stirling above)
_POISSON_TABLE = 1024
#: Binomial: largest n whose table of log h is built
_BINOMIAL_TABLE = 1 << 20
#: grouped sums: groups smaller than this on average are summed without compensation
_GROUP_PLAIN_SIZE = 1024
#: Dirichlet row-sum tolerance, as in the family's in_support
_DIRICHLET_SUM_TOL = 1e-9


def _load_jit():
    """The numba kernels, or ``None`` when disabled (``EXPFAM_DISABLE_KERNELS=1``) or when
    numba cannot be imported; the general NumPy path then does the work."""
    if os.environ.get("EXPFAM_DISABLE_KERNELS", "") not in ("", "0"):
        return None
    try:
        from . import _jit
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return _jit


@contextmanager
def kernel_threads(n: int):
    """Run the kernels launched from this thread on ``n`` threads inside the block.

    The streaming reader decodes the next chunk in a second thread while the current
    one is summed: with one kernel thread the two overlap instead of competing for the
    cores (numba's thread count is a per-thread setting)."""
    _jit = _load_jit()
    if _jit is None:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _scalar(fixed, name):
    v = np.asarray(fixed.get(name))
    return float(v) if v.ndim == 0 and v.dtype.kind in "iuf" else None


def _p_none(fixed):
    return np.zeros(1)


def _p_scalar(name):
    def params(fixed):
        v = _scalar(fixed, name)
        return None if v is None else np.array([v])

    return params


@lru_cache(maxsize=8)
def _poisson_table(family):
    return np.ascontiguousarray(family.log_base_measure(np.arange(_POISSON_TABLE, dtype=float), {}))


@lru_cache(maxsize=8)
def _binomial_table(family, n):
    return np.ascontiguousarray(family.log_base_measure(np.arange(n + 1, dtype=float), {"n": n}))


def _specs():
    """family name -> (kernel code, number of raw sums ``ns``, params(fixed) -> float array
    or None (no kernel), finish(raw, n, fixed) -> (sum_u components, sum_log_h))."""
    from . import _jit as J

    return {
        "normal": (J.NORMAL, 2, _p_none, lambda r, n, f: ([r[0], r[1]], -0.5 * _LOG_2PI * n)),
        "exponential": (J.EXPONENTIAL, 1, _p_none, lambda r, n, f: ([r[0]], 0.0)),
        "gamma": (J.GAMMA, 2, _p_none, lambda r, n, f: ([r[0], r[1]], 0.0)),
        "beta": (J.BETA, 2, _p_none, lambda r, n, f: ([r[0], r[1]], 0.0)),
        "lognormal": (J.LOGNORMAL, 2, _p_none,
                      lambda r, n, f: ([r[0], r[1]], -r[0] - 0.5 * _LOG_2PI * n)),
        "inverse_gaussian": (J.INVERSE_GAUSSIAN, 3, _p_none,
                             lambda r, n, f: ([r[0], r[1]], -0.5 * _LOG_2PI * n - 1.5 * r[2])),
        "von_mises": (J.VON_MISES, 2, _p_none, lambda r, n, f: ([r[0], r[1]], -_LOG_2PI * n)),
        "weibull": (J.WEIBULL, 2, _p_scalar("k"),
                    lambda r, n, f: ([r[0]], n * math.log(f["k"]) + (f["k"] - 1) * r[1])),
        "rayleigh": (J.RAYLEIGH, 2, _p_none, lambda r, n, f: ([r[0]], r[1])),
        "pareto": (J.PARETO, 1, _p_scalar("x_m"), lambda r, n, f: ([r[0]], -r[0])),
        "laplace": (J.LAPLACE, 1, _p_scalar("loc"), lambda r, n, f: ([r[0]], -_LOG2 * n)),
        "chi_square": (J.CHI_SQUARE, 2, _p_none, lambda r, n, f: ([r[0]], -0.5 * r[1] - r[0])),
        "inverse_gamma": (J.INVERSE_GAMMA, 2, _p_none, lambda r, n, f: ([r[0], r[1]], 0.0)),
        "bernoulli": (J.BERNOULLI, 1, _p_none, lambda r, n, f: ([r[0]], 0.0)),
        "geometric": (J.GEOMETRIC, 1, lambda f: np.zeros(0), lambda r, n, f: ([r[0]], 0.0)),
        "poisson": (J.POISSON, 2, None, lambda r, n, f: ([r[0]], r[1])),
        "binomial": (J.BINOMIAL, 2, None, lambda r, n, f: ([r[0]], r[1])),
    }


def _spec(family):
    specs = _specs_cached()
    return specs.get(family.name)


@lru_cache(maxsize=1)
def _specs_cached():
    return _specs()


def _params(family, code_params, fixed):
    if family.name == "poisson":
        return _poisson_table(family)
    if family.name == "binomial":
        n = _scalar(fixed, "n")
        if n is None or n > _BINOMIAL_TABLE:
            return None
        return _binomial_table(family, int(n))
    return code_params(fixed)


def _n_chunks(n_units: int) -> int:
    # a fixed count (not the thread count) keeps the sums reproducible on any machine
    return max(1, min(n_units, 256))


def _plan(family, fixed):
    """``(jit module, code, n stats, finish, params)`` of a family's kernel, or ``None``
    when kernels are off or the family (with these fixed parameters) has none."""
    _jit = _load_jit()
    if _jit is None:
        return None
    spec = _spec(family)
    if spec is None:
        return None
    code, ns, code_params, finish = spec
    p = _params(family, code_params, fixed)
    if p is None:
        return None
    return _jit, code, ns, finish, p


def fused_sums(family, x, fixed, *, min_size: int = MIN_SIZE):
    """One fused pass over ``x``; ``None`` when no kernel applies or the data are bad.

    Parameters
    ----------
    family : ExponentialFamily subclass
    x : ndarray of float64, shape ``(n, *batch, *event)``
    fixed : dict
        The family's fixed parameters (validated).
    min_size : int
        Smaller arrays return ``None`` (the general path is faster there).

    Returns
    -------
    (sum_u, sum_log_h) or None
        ``sum_u`` of shape ``batch + (k,)``, ``sum_log_h`` of shape ``batch``.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.size < max(min_size, 1):
        return None
    name = getattr(family, "name", "")
    if name == "dirichlet":
        return _dirichlet(family, x, fixed)
    if family.event_ndim != 0 or name not in _NAMES:
        return None
    plan = _plan(family, fixed)
    if plan is None:
        return None
    _jit, code, ns, finish, p = plan
    n = x.shape[0]
    batch = x.shape[1:]
    M = int(np.prod(batch, dtype=np.int64))
    x = np.ascontiguousarray(x)
    if M == 1:
        nblk = -(-n // _jit.BLOCK)
        S, C, bad = _jit.run(_jit.sums_1d, x.reshape(n), code, ns, p, _n_chunks(nblk))
        if bad.sum() != 0 or (bad < 0).any():
            return None
        raw = [math.fsum(np.concatenate([S[:, s], C[:, s]])) for s in range(ns)]
        u, lh = finish(raw, float(n), fixed)
        sum_u = np.array(u, dtype=np.float64).reshape(batch + (len(u),))
        return sum_u, np.full(batch, lh, dtype=np.float64)
    # parallel over column tiles; split the rows too when there are few tiles (the
    # partition depends on the shape only, so the sums do not depend on the threads)
    ntiles = -(-M // _jit.WIDE)
    rows_per_map = max(1, min(128, _jit.BLOCK // M)) if M <= _jit.WIDE else 1
    nchunks = max(1, min(-(-16 // ntiles), -(-n // rows_per_map), (1 << 19) // (ns * M)))
    S, C, bad = _jit.run(_jit.sums_2d, x.reshape(n, M), code, ns, p, nchunks)
    if bad.sum() != 0 or (bad < 0).any():
        return None
    raw = [_neumaier_rows(S[:, s], C[:, s]) for s in range(ns)]
    u, lh = finish(raw, float(n), fixed)
    sum_u = np.stack([np.broadcast_to(v, (M,)) for v in u], axis=-1).reshape(batch + (len(u),))
    lh = np.broadcast_to(np.asarray(lh, dtype=np.float64), (M,)).reshape(batch)
    return sum_u, np.array(lh)


def fused_group_sums(family, x, fixed, inverse, n_groups, *, min_size: int = MIN_SIZE):
    """Per-group ``(count, sum_u, sum_log_h)`` of 1-D ``x`` in one fused pass, or ``None``.

    ``inverse`` holds the group code (``0..n_groups-1``) of every observation; a code may
    have no observation (its count is 0).  The sums are compensated per group when the
    groups are large; the data are validated again on the way (``None`` if a value is bad).
    """
    if (not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.ndim != 1
            or x.size < max(min_size, 1) or family.event_ndim != 0
            or getattr(family, "name", "") not in _NAMES):
        return None
    plan = _plan(family, fixed)
    if plan is None:
        return None
    _jit, code, ns, finish, p = plan
    n_groups = int(n_groups)
    x = np.ascontiguousarray(x)
    inv = np.ascontiguousarray(inverse, dtype=np.int64)
    nblk = -(-x.shape[0] // _jit.BLOCK)
    nchunks = max(1, min(4, nblk, (1 << 22) // ((2 * ns + 1) * n_groups)))
    # compensated sums for large groups; plain ones (error <= size * eps) for small groups
    compensated = x.shape[0] > _GROUP_PLAIN_SIZE * n_groups
    A, bad = _jit.run(_jit.grouped_sums, x, inv, n_groups, code, ns, p, nchunks, compensated)
    if bad.sum() != 0 or (bad < 0).any():
        return None
    tot = A.sum(axis=0)  # (G, 2 ns + 1): few chunks, each already compensated
    raw = [tot[:, 2 * s] + tot[:, 2 * s + 1] for s in range(ns)]
    count = tot[:, 2 * ns]
    u, lh = finish(raw, count, fixed)
    sum_u = np.stack([np.broadcast_to(v, (n_groups,)) for v in u], axis=-1)
    sum_log_h = np.array(np.broadcast_to(np.asarray(lh, dtype=np.float64), (n_groups,)))
    return count.astype(np.int64), sum_u, sum_log_h


def _neumaier_rows(S, C):
    """Compensated sum over axis 0 of per-chunk partial sums and their compensations."""
    s = np.zeros(S.shape[1:])
    c = np.sum(C, axis=0)
    for t in S:
        u = s + t
        c += np.where(np.abs(s) >= np.abs(t), (s - u) + t, (t - u) + s)
        s = u
    return s + c


def _dirichlet(family, x, fixed):
    if x.ndim != 2 or x.shape[1] < 2 or fixed.get("n_categories") not in (None, x.shape[1]):
        return None
    _jit = _load_jit()
    if _jit is None:
        return None
    x = np.ascontiguousarray(x)
    n, K = x.shape
    S, C, bad = _jit.run(_jit.dirichlet_sums, x, _DIRICHLET_SUM_TOL,
                          _n_chunks(-(-n * K // _jit.BLOCK)))
    if bad.sum() != 0:
        return None
    return _neumaier_rows(S, C), np.zeros(())


_NAMES = {
    "normal", "exponential", "gamma", "beta", "lognormal", "inverse_gaussian", "von_mises",
    "weibull", "rayleigh", "pareto", "laplace", "chi_square", "inverse_gamma", "bernoulli",
    "geometric", "poisson", "binomial",
}
