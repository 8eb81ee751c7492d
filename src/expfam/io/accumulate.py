"""The running total of a file's statistics, chunk by chunk.

Every row is validated; an invalid one raises a typed error naming the file, the column,
the row and the value, or (``skip_invalid=True``) is dropped and counted by reason
(:data:`SKIP_REASONS`).
"""

from __future__ import annotations

import numpy as np

from .._labels import public_labels, split_labels
from ..errors import (
    DataError,
    EmptyDataError,
    LabelError,
    NonFiniteError,
    ParameterError,
    SupportError,
    WeightError,
)
from ..stats import SufficientStats

#: reasons for which ``skip_invalid=True`` drops a row, in order of precedence
SKIP_REASONS = ("null", "non_numeric", "non_finite", "outside_support", "invalid_weight",
                "invalid_label")
_NULL, _NON_NUMERIC, _NON_FINITE, _SUPPORT, _WEIGHT, _LABEL = range(1, 7)


class _Accumulator:
    """Statistics of the chunks seen so far, with the counts of the rows dropped."""

    def __init__(self, family, path, columns, by, weights, fixed, skip_invalid, csv,
                 missing_group=False):
        self.family, self.path = family, path
        self.missing_group = bool(missing_group)  # missing labels: a group of their own
        self.columns, self.by, self.weights = columns, by, weights
        self.user_fixed = dict(fixed)
        self.fixed = None  # resolved on the first chunk
        self.skip = bool(skip_invalid)
        self.csv = csv
        self.offset = 0
        self.total = None
        self.counts = np.zeros(len(SKIP_REASONS) + 1, dtype=np.int64)

    # -- one chunk --------------------------------------------------------------
    def add(self, chunk):
        n, cols, x, w, lab = chunk.n, chunk.cols, chunk.x, chunk.w, chunk.lab
        if n == 0:
            return
        clean = all(c.bad_mask() is None for c in cols) and (w is None or w.bad_mask() is None) \
            and (lab is None or lab.bad is None or self.missing_group)
        if self.fixed is None:
            self._resolve_fixed(x, cols)
        st = None
        if clean and self.fixed is not None:
            try:
                st = SufficientStats.from_data(self.family, x, None if w is None else w.values,
                                               by=None if lab is None else lab.labels(),
                                               missing_labels=self._missing_labels,
                                               **self.fixed)
            except DataError:
                st = None  # locate the bad rows below
        if st is None:
            st = self._careful(x, cols, w, lab, n)
        if st is not None:
            if lab is not None and lab.names is not None:  # codes -> the labels (sorted alike)
                codes, missing = split_labels(st.groups)
                st.groups = public_labels(lab.names[np.asarray(codes, dtype=np.int64)], missing)
            self.total = st if self.total is None else self.total.merge(st)
        self.offset += n

    @property
    def _missing_labels(self) -> str:
        return "group" if self.missing_group else "error"

    def _resolve_fixed(self, x, cols):
        """Fixed parameters from the first valid row (shapes; a Multinomial's ``n``)."""
        pre = _any_rows(x, [c.bad_mask() for c in cols])
        candidates = np.flatnonzero(~pre)
        for tries, i in enumerate(candidates):
            try:
                fixed = self.family.infer_fixed(x[i:i + 1], dict(self.user_fixed))
                self.fixed = self.family.check_fixed(fixed)
                return
            except (NonFiniteError, SupportError) as exc:
                if not self.skip:
                    raise type(exc)(f"{self.path}: {self._row(self.offset + i)}: {exc}") from exc
                if tries >= 100:
                    raise ParameterError(
                        f"{self.path}: cannot infer {list(self.family.fixed_params)} from the "
                        f"first rows; pass them explicitly") from exc

    def _careful(self, x, cols, w, lab, n):
        """Validate every row; raise for the first bad one, or drop the bad ones."""
        reason = np.zeros(n, dtype=np.int8)
        if lab is not None and lab.bad is not None and not self.missing_group:
            reason[lab.bad] = _LABEL
        if w is not None:
            with np.errstate(invalid="ignore"):
                wbad = ~(np.isfinite(w.values) & (w.values >= 0))
            reason[wbad] = _WEIGHT
        finite = np.isfinite(x) if x.ndim == 1 else np.isfinite(x).all(axis=1)
        if self.fixed is not None:
            rows = None if finite.all() else np.flatnonzero(finite)
            inside = self.family.in_support(x if rows is None else x[rows], self.fixed)
            m = len(x) if rows is None else len(rows)
            inside = np.asarray(inside).reshape(m, -1).all(axis=1)
            if not inside.all():
                reason[(np.arange(n) if rows is None else rows)[~inside]] = _SUPPORT
        else:  # no row gave the fixed parameters: every finite row is outside the support
            reason[finite] = _SUPPORT
        reason[~finite] = _NON_FINITE
        for c in cols:
            if c.non_numeric is not None:
                reason[c.non_numeric] = _NON_NUMERIC
        for c in cols:
            if c.null is not None:
                reason[c.null] = _NULL
        keep = reason == 0
        if not keep.all():
            if not self.skip:
                self._raise(int(np.flatnonzero(~keep)[0]), int(reason[~keep][0]), x, cols, w)
            self.counts += np.bincount(reason, minlength=len(self.counts))
            self.counts[0] = 0
        if w is not None:
            keep &= w.values > 0  # weight-0 rows add nothing (and may empty a group)
        if not keep.any():
            return None
        all_rows = keep.all()
        try:
            return SufficientStats.from_data(
                self.family, x if all_rows else x[keep],
                None if w is None else (w.values if all_rows else w.values[keep]),
                by=None if lab is None else lab.labels(None if all_rows else keep),
                missing_labels=self._missing_labels, **self.fixed)
        except DataError as exc:
            raise type(exc)(f"{self.path}, rows {self.offset} to {self.offset + n - 1}: "
                            f"{exc}") from exc

    # -- messages ---------------------------------------------------------------
    def _row(self, g: int) -> str:
        return f"row {g} (line {g + 2})" if self.csv else f"row {g}"

    def _raise(self, i, why, x, cols, w):
        where = self._row(self.offset + i)
        hint = "; skip_invalid=True drops invalid rows"
        if why in (_NULL, _NON_NUMERIC, _NON_FINITE):
            for c in cols:
                if why == _NULL and c.null is not None and c.null[i]:
                    raise NonFiniteError(f"{self.path}: column {c.name!r}, {where}: missing "
                                         f"value (null){hint}")
                if why == _NON_NUMERIC and c.non_numeric is not None and c.non_numeric[i]:
                    raise SupportError(f"{self.path}: column {c.name!r}, {where}: "
                                       f"{c.raw[i].as_py()!r} is not a number{hint}")
                if why == _NON_FINITE and not np.isfinite(c.values[i]):
                    raise NonFiniteError(f"{self.path}: column {c.name!r}, {where}: non-finite "
                                         f"value {float(c.values[i])!r}{hint}")
        if why == _SUPPORT:
            support = self.family.support
            if self.family.event_ndim == 0:
                inside = np.atleast_1d(self.family.in_support(x[i], self.fixed)) \
                    if self.fixed is not None else np.zeros(len(cols), dtype=bool)
                j = int(np.flatnonzero(~inside)[0])
                raise SupportError(f"{self.path}: column {cols[j].name!r}, {where}: value "
                                   f"{float(cols[j].values[i])!r} outside the support "
                                   f"{support}{hint}")
            row = np.array2string(x[i], precision=6, threshold=8)
            raise SupportError(f"{self.path}: columns {[c.name for c in cols]}, {where}: "
                               f"{row} outside the support {support}{hint}")
        if why == _WEIGHT:
            value = "missing (null)" if w.null is not None and w.null[i] else (
                repr(w.raw[i].as_py()) if w.non_numeric is not None and w.non_numeric[i]
                else repr(float(w.values[i])))
            raise WeightError(f"{self.path}: weights column {w.name!r}, {where}: weight {value}; "
                              f"weights must be finite numbers >= 0{hint}")
        raise LabelError(f"{self.path}: by column {self.by!r}, {where}: missing group label"
                         f"{hint}, or missing_labels='group' fits them as a group of their own")

    # -- the end ----------------------------------------------------------------
    def result(self) -> SufficientStats:
        skipped = {SKIP_REASONS[k - 1]: int(self.counts[k])
                   for k in range(1, len(self.counts)) if self.counts[k]}
        if self.total is None:
            if self.offset == 0:
                raise EmptyDataError(f"{self.path}: no data rows (empty file)")
            detail = ", ".join(f"{v} {k}" for k, v in skipped.items())
            raise EmptyDataError(f"{self.path}: no valid rows among {self.offset}"
                                 + (f" (skipped: {detail})" if detail else ""))
        self.total.skipped = skipped
        return self.total


def _any_rows(x, masks):
    """Rows that are null / non-numeric in some column, or not finite."""
    bad = ~(np.isfinite(x) if x.ndim == 1 else np.isfinite(x).all(axis=1))
    for m in masks:
        if m is not None:
            bad |= m
    return bad
