"""The additive sufficient-statistics accumulator.

Data enter a fit only through ``E_data[u]`` (DESIGN.md).  One pass over the data gives
``(count, weight sum, weighted sum of u(x), weighted sum of log h(x))``; these sums add up
exactly across chunks, files and groups, and every way of fitting goes through them.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _stats_file
from ._kernels import fused_group_sums, fused_sums
from ._labels import _codes, check_missing_labels, group_codes, merge_labels, public_labels
from ._validation import as_float_array, check_finite, check_int, check_nonempty, check_weights, show_group
from .errors import EmptyDataError, FamilyMismatchError, InputTypeError, ShapeError
from .families import FamilyLike, resolve_family
from .families._base import check_support, fixed_equal


class SufficientStats:
    """Weighted sums of the sufficient statistics of a family, with a batch shape.

    Parameters
    ----------
    family : ExponentialFamily subclass
    fixed : dict
        The family's fixed parameters.
    count : ndarray, shape batch
        Number of observations.
    weight_sum : ndarray, shape batch
        Sum of the weights (equals ``count`` without weights).
    sum_u : ndarray, shape batch + (k,)
        Weighted sum of ``u(x)``.
    sum_log_h : ndarray, shape batch
        Weighted sum of ``log h(x)`` (needed for the log-likelihood only).
    groups : ndarray, optional
        Group labels when the batch axis indexes groups (``by=``).
    shift : ndarray, optional
        Location pivot of each batch element (pivot families: Normal, LogNormal,
        MultivariateNormal), shape ``batch`` (``batch + (d,)`` for vector pivots): then
        ``sum_u`` holds the sums of ``u`` about the pivot, ``sum w u(x - shift)``, which
        keep every digit of the variance far from the origin.  ``None`` means 0; NaN marks
        an element that has no data yet.

    Notes
    -----
    Merging accumulators whose pivots differ re-centres the second onto the first's
    pivot exactly (the family's ``shift_sums``: Chan, Golub and LeVeque's pairwise
    update), so the statistics of any chunking agree to rounding.

    Thread safety: :meth:`update` is atomic.  Each instance holds a lock; the new chunk's
    statistics are computed outside it, then merged into the running total under it, so
    any number of threads may update one accumulator and no count is lost.  :meth:`merge`
    and :meth:`save` read a consistent state (taken under the lock) of an accumulator
    that other threads are updating.  The lock is not part of the state: instances
    pickle (e.g. between Dask workers) and copy without it, and get a fresh one.
    """

    #: the float sums, each carried with a compensation term (see :meth:`merge`)
    _SUMS = ("weight_sum", "sum_u", "sum_log_h")

    def __init__(self, family, fixed, count, weight_sum, sum_u, sum_log_h, groups=None,
                 shift=None):
        self.family = resolve_family(family)
        self.fixed = dict(fixed)
        self.count = np.array(count, dtype=np.int64)
        self.weight_sum = np.array(weight_sum, dtype=np.float64)
        self.sum_u = np.array(sum_u, dtype=np.float64)
        self.sum_log_h = np.array(sum_log_h, dtype=np.float64)
        self.groups = None if groups is None else np.asarray(groups)
        self.shift = _pivots(self.family, self.fixed, self.weight_sum.shape, shift)
        # low-order parts: the exact sum is sum + compensation, to about eps^2
        self._lo = {name: np.zeros_like(getattr(self, name)) for name in self._SUMS}
        self._lock = threading.RLock()  # guards updates in place (see Notes)

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]  # a lock cannot be pickled; each copy gets its own
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def _snapshot(self) -> "SufficientStats":
        """A consistent shallow copy, taken under the lock.

        Updates replace the arrays (and the ``_lo`` dict), never change them in place,
        so sharing them with the copy is safe.
        """
        with self._lock:
            state = self.__getstate__()
        out = object.__new__(type(self))
        out.__setstate__(state)
        return out

    @classmethod
    def zeros(cls, family: FamilyLike, batch_shape: tuple = (), *, grouped: bool = False,
              **fixed: Any) -> "SufficientStats":
        """An empty accumulator, to be filled by :meth:`update`.

        Parameters
        ----------
        family : ExponentialFamily subclass or str
        batch_shape : tuple
            Batch shape of the statistics (ignored when ``grouped``).
        grouped : bool
            Statistics per group label; groups are added as updates bring them.
        **fixed
            The family's fixed parameters (all of them: there are no data to infer from).
        """
        family = resolve_family(family)
        fixed = family.check_fixed(dict(fixed))
        k = family.natural_dim(fixed)
        if np.ndim(batch_shape) == 0:
            batch_shape = (batch_shape,)
        batch_shape = tuple(check_int(b, "batch_shape: each axis", 0) for b in batch_shape)
        shape = (0,) if grouped else batch_shape
        groups = np.array([]) if grouped else None
        shift = None
        if family.pivot:  # no data: no pivot yet (NaN), set by the first merge
            shift = np.full(shape + _pivot_event(family, fixed), np.nan)
        return cls(family, fixed, np.zeros(shape), np.zeros(shape), np.zeros(shape + (k,)),
                   np.zeros(shape), groups, shift)

    @classmethod
    def from_data(cls, family: FamilyLike, data: Any, weights: ArrayLike | None = None, *,
                  by: Any = None, column: str | int | None = None,
                  missing_labels: str = "error", _partial: bool = False,
                  **fixed: Any) -> "SufficientStats":
        """Validate ``data`` and accumulate its statistics in one pass.

        Parameters
        ----------
        family : ExponentialFamily subclass or str
        data : array_like, pandas Series or DataFrame
            Observations, shape ``(n, *batch, *event)``: every batch element is fitted
            separately in one vectorised pass.  Real numbers only: complex values, text
            and datetimes raise; missing values (``None``, ``pd.NA``, masked entries of a
            masked array) raise :class:`~expfam.errors.NonFiniteError` naming the first
            (masked entries are never used, and never dropped silently: remove them first,
            e.g. ``x.compressed()``).
        weights : array_like, optional
            Non-negative weights, exactly one per observation: shape ``(n,)`` or
            ``(n, *batch)`` (a single weight is not broadcast).
        by : array_like or str, optional
            Group labels, shape ``(n,)`` (or a column name of the DataFrame ``data``); see
            :mod:`expfam._labels` for the rules (labels keep their type; mixed types and
            missing labels raise :class:`~expfam.errors.LabelError`).
        column : str or int, optional
            Column of the DataFrame ``data`` (a name) or of the 2-D array ``data`` (an
            integer index: ``data[:, column]``) holding the observations.
        missing_labels : {"error", "group"}
            Rows whose ``by`` label is missing (``None``, NaN, NaT, ``pd.NA``, masked):
            ``"error"`` raises :class:`~expfam.errors.LabelError` naming the first;
            ``"group"`` puts them in a group of their own, labelled ``None``, last.
        **fixed
            The family's fixed parameters.
        """
        family = resolve_family(family)
        missing_labels = check_missing_labels(missing_labels)
        if isinstance(by, str):
            by = _label_column(data, by, column)
        x = as_float_array(data, column=column)
        check_nonempty(x)
        if x.ndim < 1 + family.event_ndim:
            raise ShapeError(
                f"data: {family.__name__} observations have {family.event_ndim} axis/axes; "
                f"expected an array of shape (n, ...), got {x.shape}"
            )
        fixed = family.check_fixed(family.infer_fixed(x, dict(fixed)))
        obs_shape = x.shape[: x.ndim - family.event_ndim]
        # the pivot of each batch element: the first observation nearest to the mean of
        # its first observations (validated below: a bad value there makes the pivot NaN,
        # and the value is reported)
        shift = _pivots_of_head(family, fixed, x) if family.pivot else None
        w = None
        if weights is not None and by is None and x.ndim == 1:
            w = check_weights(weights, obs_shape, allow_zero=_partial)
        if by is None and (weights is None or w is not None):
            fast = fused_sums(family, x, fixed, weights=w, shift=shift)
            if fast is not None:  # one fused pass that also validated every value
                sum_u, sum_log_h = fast
                count = np.full(obs_shape[1:], x.shape[0])
                weight_sum = count.astype(float)
                if w is not None:
                    count, weight_sum = np.count_nonzero(w > 0, axis=0), np.sum(w, axis=0)
                return cls(family, fixed, count, weight_sum, sum_u, sum_log_h, shift=shift)
        check_finite(x)
        check_support(family, x, fixed)
        if weights is not None and w is None:
            w = check_weights(weights, obs_shape, allow_zero=_partial)
        if by is not None:
            return cls._grouped(family, fixed, x, w, by, missing_labels, _partial)
        u = family.sufficient_statistics(x, fixed, shift=shift)
        log_h = family.log_base_measure(x, fixed)
        if w is None:
            count = np.full(obs_shape[1:], obs_shape[0])
            return cls(family, fixed, count, count.astype(float),
                       _sum0(u), np.sum(log_h, axis=0), shift=shift)
        count = np.count_nonzero(w > 0, axis=0)
        return cls(family, fixed, count, np.sum(w, axis=0),
                   _sum0(u * w[..., None]), np.sum(log_h * w, axis=0), shift=shift)

    @classmethod
    def _grouped(cls, family, fixed, x, w, by, missing_labels="error", partial=False):
        if x.ndim != 1 + family.event_ndim:
            raise ShapeError("by= groups need data of shape (n,) (or (n, d) for vector families)")
        groups, inverse, has_missing = group_codes(by, x.shape[0], missing_labels)
        G = groups.size + has_missing
        shift = None
        if family.pivot:
            shift = _group_pivots(family, fixed, x, inverse, G)
        fast = fused_group_sums(family, x, fixed, inverse, G, weights=w, shift=shift)
        if fast is not None:  # one fused pass (numba) that also counts
            count, weight_sum, sum_u, sum_log_h = fast
            present = np.bincount(inverse, minlength=G) > 0 if w is not None else count > 0
        else:
            u = family.sufficient_statistics(x, fixed,
                                             shift=None if shift is None else shift[inverse])
            log_h = family.log_base_measure(x, fixed)
            wv = np.ones(x.shape[0]) if w is None else w
            count = np.bincount(inverse, weights=None if w is None else w > 0, minlength=G)
            present = np.bincount(inverse, minlength=G) > 0
            weight_sum, sum_u, sum_log_h = _group_sums(
                inverse, present, wv, u * wv[:, None], log_h * wv)
        if not present.all():  # integer codes may skip values: drop those groups
            groups = groups[present[:groups.size]]  # (the missing group has rows)
            count, weight_sum = count[present], weight_sum[present]
            sum_u, sum_log_h = sum_u[present], sum_log_h[present]
            shift = None if shift is None else shift[present]
        groups = public_labels(groups, has_missing)
        if not partial and not (weight_sum > 0).all():
            g = groups[np.flatnonzero(weight_sum <= 0)[0]]
            raise EmptyDataError(f"weights: every weight of {show_group(g)} is zero")
        return cls(family, fixed, count.astype(np.int64), weight_sum.astype(np.float64), sum_u,
                   sum_log_h, groups, shift)

    @property
    def batch_shape(self) -> tuple:
        return self.weight_sum.shape

    @property
    def centred_mean(self) -> np.ndarray:
        """``E_data[u(x - shift)]``: the weighted mean of the statistics about the pivots
        (what a fit solves for; equal to :attr:`mean` for families without a pivot)."""
        return self.sum_u / self.weight_sum[..., None]

    @property
    def mean(self) -> np.ndarray:
        """``E_data[u]``: the weighted mean of the sufficient statistics ``u(x)``.  For a
        pivot family it is computed from the sums about the pivots and loses the digits
        that raw sums would lose far from the origin; fits use :attr:`centred_mean`."""
        mu = self.centred_mean
        if self.shift is None:
            return mu
        with np.errstate(invalid="ignore"):
            return self.family.shift_sums(mu, 1.0, -np.nan_to_num(self.shift), self.fixed)

    def merge(self, other: "SufficientStats") -> "SufficientStats":
        """The statistics of both data sets: exact counts, compensated float sums.

        The float sums are added with Knuth's two-sum and carried with their rounding
        error (double-double), so merging any number of chunks in any order gives the
        same totals to within one rounding of the final result: merging is associative
        and does not drift with the number of chunks.

        Grouped statistics are merged label by label; labels of different types (``1``
        and ``"1"``, ``1`` and ``1.0``) are never merged into one group: they raise
        :class:`~expfam.errors.LabelError`.  The missing groups (label ``None``) of both
        add up.
        """
        self._check_compatible(other)
        other = other._snapshot()  # not under self's lock: a.merge(b) || b.merge(a) is safe
        with self._lock:
            return self._merge_unlocked(other)

    def _merge_unlocked(self, other: "SufficientStats") -> "SufficientStats":
        if self.groups is not None or other.groups is not None:
            return self._merge_groups(other)
        if self.batch_shape != other.batch_shape:
            raise ShapeError(f"batch shapes differ: {self.batch_shape} and {other.batch_shape}")
        shift, other_sum_u, other_lo = self._recentred(other, self.shift, self.weight_sum)
        out = SufficientStats(self.family, self.fixed, self.count + other.count,
                              self.weight_sum, self.sum_u, self.sum_log_h, shift=shift)
        parts = {"sum_u": (other_sum_u, other_lo)}
        for name in self._SUMS:
            b_hi, b_lo = parts.get(name, (getattr(other, name), other._lo[name]))
            hi, lo = _two_sum_pair(getattr(self, name), self._lo[name], b_hi, b_lo)
            setattr(out, name, hi)
            out._lo[name] = lo
        return out

    def _recentred(self, other, shift, weight_sum):
        """``other``'s sums of ``u`` (and their compensations) about the pivots ``shift``
        of the accumulator they are added to (whose weight sums are ``weight_sum``), and
        the merged pivots: an element without weight takes the other's pivot."""
        if shift is None:
            return None, other.sum_u, other._lo["sum_u"]
        empty = ~(np.asarray(weight_sum) > 0)
        if shift.ndim > empty.ndim:  # vector pivots
            empty = empty[..., None]
        merged = np.where(empty | np.isnan(shift), other.shift, shift)
        # d: how far the pivot moves for other's sums (0 where other holds no weight)
        d = merged - other.shift
        other_empty = ~(np.asarray(other.weight_sum) > 0)
        if d.ndim > other_empty.ndim:
            other_empty = other_empty[..., None]
        d = np.where(other_empty | np.isnan(d), 0.0, d)
        if not np.any(d):
            return merged, other.sum_u, other._lo["sum_u"]
        fam, fixed = self.family, self.fixed
        hi = fam.shift_sums(other.sum_u, other.weight_sum, d, fixed)
        lo = fam.shift_sums(other._lo["sum_u"], other._lo["weight_sum"], d, fixed)
        return merged, hi, lo

    __add__ = merge

    def update(self, data: Any, weights: ArrayLike | None = None, *, by: Any = None,
               column: str | int | None = None,
               missing_labels: str = "error") -> "SufficientStats":
        """Add a chunk of data in place (validated like :meth:`from_data`); returns self.

        Atomic: concurrent updates from several threads all count (see the class Notes).
        Grouped statistics need ``by=`` labels of the type they hold (see
        :meth:`merge`); ungrouped ones take no ``by=``.
        """
        if self.groups is None and by is not None:
            raise ShapeError("by= needs grouped statistics (SufficientStats.zeros(..., grouped=True))")
        if self.groups is not None and by is None:
            raise ShapeError("these statistics are grouped: pass the chunk's group labels "
                             "(by=...)")
        chunk = SufficientStats.from_data(self.family, data, weights, by=by, column=column,
                                          missing_labels=missing_labels, **self.fixed)
        self._check_compatible(chunk)
        with self._lock:  # read the total, merge, write it back: one step
            merged = self._merge_unlocked(chunk)
            self.__dict__.update(merged.__getstate__())
        return self

    def _check_compatible(self, other) -> None:
        if not isinstance(other, SufficientStats):
            raise InputTypeError(f"cannot merge SufficientStats with {type(other).__name__}: "
                                 f"expected another SufficientStats")
        if other.family is not self.family or not fixed_equal(self.fixed, other.fixed):
            raise FamilyMismatchError(
                f"cannot merge statistics of different families or fixed parameters: "
                f"{self.family.__name__}{self.fixed} and {other.family.__name__}{other.fixed}"
            )

    def _merge_groups(self, other):
        if self.groups is None or other.groups is None:
            raise ShapeError("cannot merge grouped with ungrouped statistics")
        # LabelError for labels of different types (1 and "1"): never merged into one group
        groups, idx_self, idx_other = merge_labels(self.groups, other.groups)
        G, k = groups.size, self.sum_u.shape[-1]
        shift = None
        if self.family.pivot:
            shift = np.full((G,) + _pivot_event(self.family, self.fixed), np.nan)
        out = SufficientStats(self.family, self.fixed, np.zeros(G), np.zeros(G),
                              np.zeros((G, k)), np.zeros(G), groups, shift)
        for part, idx in ((self, idx_self), (other, idx_other)):
            out.count[idx] += part.count
            part_shift, part_u, part_lo = (None, part.sum_u, part._lo["sum_u"])
            if shift is not None:
                part_shift, part_u, part_lo = self._recentred(part, out.shift[idx],
                                                              out.weight_sum[idx])
                out.shift[idx] = part_shift
            sums = {"sum_u": (part_u, part_lo)}
            for name in self._SUMS:
                b_hi, b_lo = sums.get(name, (getattr(part, name), part._lo[name]))
                hi, lo = _two_sum_pair(getattr(out, name)[idx], out._lo[name][idx], b_hi, b_lo)
                getattr(out, name)[idx] = hi
                out._lo[name][idx] = lo
        return out

    def save(self, path) -> None:
        """Write to a ``.npz`` file (no pickle: arrays and a JSON header).

        Raises
        ------
        ShapeError
            Group labels that are neither numbers nor strings.
        """
        _stats_file.write(self._snapshot(), path)

    @classmethod
    def load(cls, path) -> "SufficientStats":
        """Read a file written by :meth:`save`, checking every field.

        Raises
        ------
        FileNotFoundError
            No such file.
        FileFormatError
            The file cannot be read, is not a statistics file, or holds inconsistent
            fields (a damaged or edited file): the message names the file and the field.
            See :mod:`expfam._stats_file` for the invariants checked.
        """
        return _stats_file.read(cls, path)

    def __repr__(self) -> str:
        return (
            f"SufficientStats({self.family.__name__}, batch_shape={self.batch_shape}, "
            f"count={self.count.sum()})"
        )


def _pivot_event(family, fixed) -> tuple:
    """The shape of one pivot: ``()`` for scalar observations, ``(d,)`` for vectors."""
    if family.event_ndim == 0:
        return ()
    return (fixed["dim"],)


def _pivots(family, fixed, batch_shape, shift):
    """Validated pivots: ``None`` for families without one, else a float array of shape
    ``batch + pivot event`` (``None`` given: zeros, the sums are raw)."""
    if not family.pivot:
        return None
    shape = tuple(batch_shape) + _pivot_event(family, fixed)
    if shift is None:
        return np.zeros(shape)
    return np.array(np.broadcast_to(np.asarray(shift, dtype=np.float64), shape))


def _two_sum_pair(a_hi, a_lo, b_hi, b_lo):
    """Double-double addition ``(a_hi + a_lo) + (b_hi + b_lo)`` (Knuth's two-sum, then
    renormalisation); returns ``(hi, lo)`` with ``|lo| <= ulp(hi) / 2``."""
    with np.errstate(invalid="ignore"):
        s = a_hi + b_hi
        bb = s - a_hi
        err = (a_hi - (s - bb)) + (b_hi - bb)
        lo = a_lo + b_lo + err
        hi = s + lo
        lo = lo - (hi - s)
    finite = np.isfinite(s)  # an overflow stays inf (never NaN from the error terms)
    return np.where(finite, hi, s), np.where(finite, lo, 0.0)


def _label_column(data, by: str, column):
    """The labels ``data[by]`` of a DataFrame (``by=`` a column name)."""
    if not hasattr(data, "columns"):
        raise ShapeError(f"by={by!r} names a column, but the data are a {type(data).__name__}, "
                         f"not a DataFrame: pass the labels themselves")
    if by not in data.columns:
        raise ShapeError(f"by: no column {by!r} in the data; the columns are "
                         f"{list(data.columns)}")
    if column is None:
        raise ShapeError("by= names a column: also pass column= for the observations")
    return data[by]


def _group_codes(labels: np.ndarray):
    """``(groups, inverse)`` of labels without missing values (see
    :func:`expfam._labels.group_codes`)."""
    return _codes(np.asarray(labels), "by")


#: the pivot of a batch element is the mean of (at most) this many first observations
_PIVOT_ROWS = 1024
#: ... and of at most this many values in all (a wide batch looks at fewer rows, at least
#: 4: any data value near the mean of a few is within a few deviations of the mean,
#: which keeps the cancellation in the shifted sums to a digit at most)
_PIVOT_VALUES = 1 << 16


def _pivots_of_head(family, fixed, x):
    """Each batch element's pivot: among its first observations, the one nearest to their
    mean.  Near the mean, ``E[(x - c)^2] - E[x - c]^2`` is free of cancellation; a data
    value (not the mean itself) makes the deviations of all-equal data exactly 0."""
    width = int(np.prod(x.shape[1:x.ndim - family.event_ndim], dtype=np.int64))
    rows = max(4, min(_PIVOT_ROWS, _PIVOT_VALUES // max(width, 1)))
    with np.errstate(all="ignore"):
        y = np.asarray(family.pivot_of(x[:rows], fixed), dtype=np.float64)
        lead = y.shape[0]
        flat = y.reshape(lead, -1, *(() if family.event_ndim == 0 else y.shape[-1:]))
        dist = np.abs(flat - flat.mean(axis=0))
        if family.event_ndim:
            dist = dist.max(axis=-1)
        idx = np.argmin(np.where(np.isnan(dist), np.inf, dist), axis=0)
        pick = np.take_along_axis(flat, idx.reshape((1,) + idx.shape + (1,) * family.event_ndim),
                                  axis=0)[0]
    return pick.reshape(y.shape[1:])


def _first_rows(inverse, G):
    """The first row of each of the ``G`` groups (every code occurs).  Scanned in chunks
    until every group has been seen: with shuffled labels that is after about
    ``G log G`` rows, not all of them."""
    first = np.full(G, -1, dtype=np.intp)
    step = max(1 << 16, 4 * G)
    for start in range(0, inverse.size, step):
        codes = inverse[start:start + step]
        found = np.full(G, -1, dtype=np.intp)
        found[codes[::-1]] = np.arange(start + codes.size - 1, start - 1, -1)
        first = np.where(first < 0, found, first)
        if first.min() >= 0:
            break
    return first


def _group_pivots(family, fixed, x, inverse, G):
    """Each group's pivot: among its observations in the first few thousand rows, the one
    nearest to their mean (its first observation when it has none there); see
    :func:`_pivots_of_head`."""
    first = _first_rows(inverse, G)
    with np.errstate(all="ignore"):
        shift = np.array(family.pivot_of(x[first], fixed), dtype=np.float64).reshape(G, -1)
        head = min(inverse.size, 4 * _PIVOT_ROWS)
        codes = inverse[:head]
        y = np.asarray(family.pivot_of(x[:head], fixed), dtype=np.float64).reshape(head, -1)
        counts = np.bincount(codes, minlength=G)
        sums = np.stack([np.bincount(codes, weights=y[:, j], minlength=G)
                         for j in range(y.shape[1])], axis=-1)
        means = sums / np.maximum(counts, 1)[:, None]
        dist = np.max(np.abs(y - means[codes]), axis=1)
        dist = np.where(np.isnan(dist), np.inf, dist)
        # per group, the head row with the smallest distance: sort by (code, distance)
        order = np.lexsort((dist, codes))
        firsts = order[np.searchsorted(codes[order], np.flatnonzero(counts))]
    shift[np.flatnonzero(counts)] = y[firsts]
    return shift.reshape((G,) + shift.shape[1:] if family.event_ndim else (G,))


def _group_sums(inverse, present, *values):
    """Per-group sums of each array in ``values`` (leading axis: observations), with
    NumPy's pairwise summation inside every group (the values sorted by group, then
    ``np.add.reduceat``): the error grows like ``log`` of the group's size, where
    ``np.bincount``'s sequential sums grow like its square root.  Groups absent from
    ``inverse`` (``present`` False) get 0."""
    order = np.argsort(inverse, kind="stable")
    codes = np.flatnonzero(present)
    starts = np.searchsorted(inverse[order], codes)
    out = []
    for v in values:
        total = np.zeros((present.size,) + v.shape[1:])
        if codes.size:
            total[codes] = np.add.reduceat(v[order], starts, axis=0)
        out.append(total)
    return out


def _sum0(u: np.ndarray) -> np.ndarray:
    """Sum over the observation axis with NumPy's pairwise summation.

    ``np.sum`` is pairwise only along a contiguous axis, so each statistic is summed from
    a contiguous copy of its column (the error grows like ``log n``, not ``n``).
    """
    moved = np.moveaxis(u, 0, -1)
    with np.errstate(over="ignore"):  # an overflow stays inf; the fit reports it
        return np.sum(np.ascontiguousarray(moved), axis=-1)
