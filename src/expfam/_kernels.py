"""Fused one-pass kernels for the sufficient statistics: the front end.

``fused_sums(family, x, fixed)`` returns ``(sum_u, sum_log_h)`` computed in one pass that
also checks every value (finite, inside the support), or ``None`` when no kernel applies
or a value is bad; the caller then takes the general NumPy path, which names the bad
value.  Any family whose observations are scalars, whose support is an interval and
which defines ``element`` (see :mod:`expfam.families._base`) gets the kernels: 1-D,
batched (2-D), weighted and grouped.  Families of vector observations may define
``rows_element`` (a block of rows at a time) for the row kernel.  Nothing here names a family.

The kernels (numba, in :mod:`expfam._jit`) are imported and compiled on the first call
that needs them (``cache=True``: once per machine and family), never when expfam is
imported.  Data smaller than ``MIN_SIZE`` values take the general NumPy path, which is
faster there.  ``EXPFAM_DISABLE_KERNELS=1`` turns them off.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

import numpy as np

from .domains import Interval

#: below this many values the general NumPy path is used (no compilation, less overhead)
MIN_SIZE = 1 << 15
#: grouped sums: groups smaller than this on average are summed without compensation
_GROUP_PLAIN_SIZE = 1024


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
def kernel_threads(n: int | None):
    """Run the kernels launched from this thread on ``n`` threads inside the block
    (``None``: leave the count as it is).

    numba's thread count is a per-thread setting.  The 1-D kernels share out their
    chunks at run time (lanes, see :func:`expfam._jit.sums_1d`), so they can run on every
    core while the streaming reader decodes the next chunk in a second thread: the
    lane that shares its core with the reader takes fewer chunks."""
    _jit = _load_jit() if n is not None else None
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


_TOKENS: dict = {}


def compiled(fn, n_stats: int = 0, log_h_constant: bool = False):
    """The :class:`expfam._jit.Compiled` token of an array-agnostic function (cached)."""
    key = (fn, n_stats, log_h_constant)
    tok = _TOKENS.get(key)
    if tok is None:
        tok = _TOKENS[key] = _load_jit().Compiled(fn, n_stats, log_h_constant)
    return tok


def _plan(family, fixed):
    """``(jit, token, p, bounds, element)`` of a family's scalar kernel, or ``None`` when
    kernels are off or do not apply (no element, vector data, a support that is not an
    interval, parameters the element cannot take)."""
    element = getattr(family, "element", None)
    if element is None or family.event_ndim != 0:
        return None
    jit = _load_jit()
    if jit is None:
        return None
    support = family.support_of(fixed)
    if not isinstance(support, Interval) or not support.scalar:
        return None
    p = family.element_params(fixed)
    if p is None or np.ndim(p) != 1:  # no table, or fixed parameters with a batch shape
        return None
    p = np.ascontiguousarray(p, dtype=np.float64)
    with np.errstate(all="ignore"):
        k = len(element(np.float64(1.0), p, 0.0)[0])
    if not 1 <= k <= 3:
        return None
    tok = compiled(element, k, family.log_h_constant)
    return jit, tok, p, support.bounds(), element


def _checked(family, launch, bounds):
    """Run ``launch(dom) -> (arrays..., bad)`` and return its arrays, or ``None`` when a
    value lies outside the support.

    A family whose statistics are non-finite at every value outside its support
    (``support_from_statistics``) is summed without the per-value check (``dom``
    ``None``); only when a sum comes out non-finite is the pass run again with the
    check, to tell a bad value (``None``: the general path names it) from an overflow of
    the statistics (the non-finite sums are returned)."""
    if family.support_from_statistics:
        *out, bad = launch(None)
        if all(np.isfinite(a).all() for a in out):
            return out
    *out, bad = launch(bounds)
    return None if bad.sum() != 0 else out


def _constant_log_h(element, p, v) -> float:
    """``log h`` of a family whose base measure is constant, from one valid value."""
    with np.errstate(all="ignore"):
        return float(np.asarray(element(np.float64(v), p, 0.0)[1]))


def _n_chunks(n_units: int) -> int:
    # a fixed count (not the thread count) keeps the sums reproducible on any machine
    return max(1, min(n_units, 256))


def _lanes(nchunks: int) -> int:
    """Parallel lanes of the 1-D kernels: the kernel thread count of this thread (see
    :func:`kernel_threads`), at most one per chunk; the lanes share out the chunks."""
    import numba

    return max(1, min(nchunks, numba.get_num_threads()))


def fused_sums(family, x, fixed, *, weights=None, shift=None, min_size: int = MIN_SIZE):
    """One fused pass over ``x``; ``None`` when no kernel applies or the data are bad.

    Parameters
    ----------
    family : SufficientStatisticModel subclass
    x : ndarray of float64, shape ``(n, *batch, *event)``
    fixed : dict
        The family's fixed parameters (validated).
    weights : ndarray, shape ``(n,)``, optional
        Validated weights (1-D scalar data only; else ``None`` is returned).
    shift : ndarray of the batch shape, optional
        Location pivots of a pivot family (statistics of ``x - shift``).
    min_size : int
        Smaller arrays return ``None`` (the general path is faster there).

    Returns
    -------
    (sum_u, sum_log_h) or None
        ``sum_u`` of shape ``batch + (k,)``, ``sum_log_h`` of shape ``batch``.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.size < max(min_size, 1):
        return None
    if family.event_ndim == 1 and weights is None and shift is None:
        return _row_sums(family, x, fixed)
    plan = _plan(family, fixed)
    if plan is None:
        return None
    jit, tok, p, bounds, element = plan
    n = x.shape[0]
    batch = x.shape[1:]
    M = int(np.prod(batch, dtype=np.int64))
    x = np.ascontiguousarray(x)
    const = family.log_h_constant
    if M == 1 and (weights is None or np.ndim(weights) == 1):
        c = 0.0 if shift is None else float(np.asarray(shift).reshape(-1)[0])
        w = np.zeros(0) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
        nblk = -(-n // jit.BLOCK)
        block = getattr(family, "block_element", None)
        blk = None if block is None else compiled(block)
        xs = x.reshape(n)

        nchunks = _n_chunks(nblk)
        lanes = _lanes(nchunks)

        def launch(dom):
            # unchecked: the fused loop; checked: the buffered one, faster with the check
            if dom is None and blk is None:
                return jit.run(jit.sums_1d, xs, w, tok, p, None, c, nchunks, lanes)
            return jit.run(jit.sums_1d_buffered, xs, w, tok, blk, p, dom, c, nchunks, lanes)

        out = _checked(family, launch, bounds)
        if out is None:
            return None
        S, C = out
        raw = [math.fsum(np.concatenate([S[:, s], C[:, s]])) for s in range(S.shape[1])]
        k = tok.n_stats
        total = float(n) if weights is None else math.fsum(w)
        lh = total * _constant_log_h(element, p, x.flat[0]) if const else raw[k]
        sum_u = np.array(raw[:k], dtype=np.float64).reshape(batch + (k,))
        return sum_u, np.full(batch, lh, dtype=np.float64)
    if weights is not None:
        return None
    # parallel over column tiles; split the rows too when there are few tiles (the
    # partition depends on the shape only, so the sums do not depend on the threads)
    ntiles = -(-M // jit.WIDE)
    rows_per_map = max(1, min(128, jit.BLOCK // M)) if M <= jit.WIDE else 1
    ns = tok.n_stats + (0 if const else 1)
    nchunks = max(1, min(-(-16 // ntiles), -(-n // rows_per_map), (1 << 19) // (ns * M)))
    c = np.zeros(M) if shift is None else np.ascontiguousarray(
        np.broadcast_to(shift, batch), dtype=np.float64).reshape(M)
    out = _checked(family, lambda dom: jit.run(jit.sums_2d, x.reshape(n, M), tok, p, dom, c,
                                               nchunks), bounds)
    if out is None:
        return None
    S, C = out
    raw = [_neumaier_rows(S[:, s], C[:, s]) for s in range(ns)]
    k = tok.n_stats
    sum_u = np.stack(raw[:k], axis=-1).reshape(batch + (k,))
    lh = n * _constant_log_h(element, p, x.flat[0]) if const else raw[k]
    lh = np.broadcast_to(np.asarray(lh, dtype=np.float64), (M,)).reshape(batch)
    return sum_u, np.array(lh)


def fused_group_sums(family, x, fixed, inverse, n_groups, *, weights=None, shift=None,
                     min_size: int = MIN_SIZE):
    """Per-group ``(count, weight_sum, sum_u, sum_log_h)`` of 1-D ``x`` in one fused pass,
    or ``None``.

    ``inverse`` holds the group code (``0..n_groups-1``) of every observation; a code may
    have no observation (its count is 0).  ``weights`` (validated, shape ``(n,)``) weight
    the sums; ``count`` counts the observations of positive weight.  ``shift`` holds each
    group's pivot (pivot families).  The sums are compensated per group when the groups
    are large; the data are validated again on the way (``None`` if a value is bad).
    """
    if (not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.ndim != 1
            or x.size < max(min_size, 1)):
        return None
    plan = _plan(family, fixed)
    if plan is None:
        return None
    jit, tok, p, bounds, element = plan
    n_groups = int(n_groups)
    x = np.ascontiguousarray(x)
    inv = np.ascontiguousarray(inverse, dtype=np.int64)
    const = family.log_h_constant
    ns = tok.n_stats + (0 if const else 1)
    nblk = -(-x.shape[0] // jit.BLOCK)
    nchunks = max(1, min(4, nblk, (1 << 22) // ((2 * ns + 3) * n_groups)))
    # compensated sums for large groups; plain ones (error <= size * eps) for small groups
    compensated = x.shape[0] > _GROUP_PLAIN_SIZE * n_groups
    cg = np.zeros(n_groups) if shift is None else np.ascontiguousarray(shift, dtype=np.float64)
    w = np.zeros(0) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    out = _checked(family, lambda dom: jit.run(jit.grouped_sums, x, w, inv, n_groups, tok, p,
                                               dom, cg, nchunks, compensated), bounds)
    if out is None:
        return None
    (A,) = out
    tot = A.sum(axis=0)  # (G, 2 ns + 3): few chunks, each already compensated
    raw = [tot[:, 2 * s] + tot[:, 2 * s + 1] for s in range(ns)]
    count, weight_sum = tot[:, 2 * ns], tot[:, 2 * ns + 1] + tot[:, 2 * ns + 2]
    k = tok.n_stats
    sum_u = np.stack(raw[:k], axis=-1)
    lh = weight_sum * _constant_log_h(element, p, x[0]) if const else raw[k]
    return count.astype(np.int64), weight_sum, sum_u, np.array(lh, dtype=np.float64)


def _neumaier_rows(S, C):
    """Compensated sum over axis 0 of per-chunk partial sums and their compensations."""
    s = np.zeros(S.shape[1:])
    c = np.sum(C, axis=0)
    for t in S:
        u = s + t
        c += np.where(np.abs(s) >= np.abs(t), (s - u) + t, (t - u) + s)
        s = u
    return s + c


def _row_sums(family, x, fixed):
    """The row kernel of a family of vector observations with a ``rows_element``."""
    rows_element = getattr(family, "rows_element", None)
    if rows_element is None or x.ndim != 2:
        return None
    jit = _load_jit()
    if jit is None:
        return None
    p = family.element_params(fixed)
    if p is None:
        return None
    k = family.natural_dim(fixed)
    tok = compiled(rows_element, k, True)
    x = np.ascontiguousarray(x)
    n, K = x.shape
    S, C, bad = jit.run(jit.row_sums, x, tok, np.ascontiguousarray(p, dtype=np.float64),
                        _n_chunks(-(-n * K // jit.BLOCK)))
    if bad.sum() != 0:
        return None
    return _neumaier_rows(S, C), np.zeros(())


def iterate(start, step, inputs, *, max_iter: int = 100, min_size: int = 4096):
    """Run a family's elementwise iteration (``start``, ``step``: array-agnostic
    functions, see :func:`expfam.solvers.iterate`) compiled, one element per task, when
    there are at least ``min_size`` elements and kernels are on; else vectorised with
    NumPy.  Returns ``(state tuple, done, n_iter)`` like :func:`expfam.solvers.iterate`."""
    from .solvers import iterate as iterate_numpy

    arrays = [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*inputs)]
    shape = arrays[0].shape
    jit = _load_jit() if arrays[0].size >= min_size else None
    if jit is None:
        return iterate_numpy(start, step, arrays, max_iter=max_iter)
    flat = tuple(np.ascontiguousarray(a).reshape(-1) for a in arrays)
    out, done, iters = jit.run(jit.iterate, compiled(start), compiled(step), flat, max_iter)
    state = tuple(out[:, j].reshape(shape) for j in range(out.shape[1]))
    return state, done.reshape(shape), int(iters.max(initial=0))
