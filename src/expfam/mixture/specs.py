"""The components of a mixture: ``[(family class, fixed parameters)]`` checked against
the data, and the count of distinct observations."""

from __future__ import annotations

import numpy as np

from ..errors import FamilyMismatchError, ModelCapabilityError, ShapeError
from ..families import resolve_family
from ..families._base import check_support


def _specs(family, K, x, fixed, check=True):
    """``[(class, fixed)]`` per component, validated against the data (the support only
    with ``check``)."""
    fams = list(family) if isinstance(family, (list, tuple)) else [family] * K
    if len(fams) != K:
        raise ShapeError(f"{len(fams)} families given for n_components={K}")
    specs = []
    for i, f in enumerate(fams):
        cls = resolve_family(f)
        if not cls.has_log_partition:
            raise ModelCapabilityError(f"component {i}: {cls.__name__} has no tractable log "
                                       f"partition; exact EM needs one")
        fx = dict(f.fixed) if hasattr(f, "fixed") and not isinstance(f, type) else dict(fixed)
        fx = cls.check_fixed(cls.infer_fixed(x, fx))
        specs.append((cls, fx))
    if len({cls.event_ndim for cls, _ in specs}) != 1:
        raise FamilyMismatchError("the component families have observations of different shapes")
    for i, (cls, fx) in enumerate(specs):
        if check:
            check_support(cls, x, fx, name=f"data (support of component {i}, {cls.__name__})")
    return specs


def _distinct(rows, K, rng) -> int:
    """The number of distinct rows, or a number >= K (a random subset of 20 K rows holds
    K distinct ones: the full sort is skipped)."""
    if rows.shape[0] > 20 * K:
        sub = rows[rng.choice(rows.shape[0], 20 * K, replace=False)]
        if len(np.unique(sub, axis=0)) >= K:
            return K
    return len(np.unique(rows, axis=0))
