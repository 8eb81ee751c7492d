"""The outcome of a goodness-of-fit test: a plain object with ``table()``/``to_dict()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GofResult"]

_NAMES = {"ad": "Anderson-Darling", "ks": "Kolmogorov-Smirnov", "cvm": "Cramer-von Mises",
          "chi2": "chi-square (pooled cells)"}


@dataclass
class GofResult:
    """A goodness-of-fit test with a parametric-bootstrap p-value.

    Attributes
    ----------
    family, statistic : str
    value : float
        The statistic of the data against the law fitted to them.
    pvalue, pvalue_se : float
        ``(1 + #{null >= value}) / (n_bootstrap + 1)`` and its Monte Carlo standard
        error ``sqrt(p (1 - p) / n_bootstrap)``.
    n, n_bootstrap, n_failed : int
        Observations; bootstrap samples used; bootstrap samples whose refit does not
        exist (boundary samples, left out and counted).
    null : ndarray
        The statistic of each bootstrap sample (refitted).
    fit : FitResult
        The fit to the data.
    intervals : dict
        Per parameter: ``estimate``, ``se``, ``wald`` and (on request) ``profile`` and
        ``bootstrap`` intervals at ``level``.
    cells : list or None
        The pooled cells of the chi-square test.
    bootstrap_params : dict
        The refitted parameters of every bootstrap sample.
    """

    family: str
    statistic: str
    value: float
    pvalue: float
    pvalue_se: float
    n: int
    n_bootstrap: int
    n_failed: int
    null: np.ndarray = field(repr=False)
    fit: Any = field(repr=False)
    intervals: dict = field(default_factory=dict)
    level: float = 0.95
    cells: list | None = None
    bootstrap_params: dict = field(default_factory=dict, repr=False)

    def table(self) -> str:
        lines = [f"goodness of fit: {self.family}, n = {self.n}, {_NAMES[self.statistic]}",
                 f"  statistic = {self.value:.6g}, p = {self.pvalue:.4g} (Monte Carlo se "
                 f"{self.pvalue_se:.2g}; {self.n_bootstrap} refitted bootstrap samples"
                 + (f", {self.n_failed} without an MLE" if self.n_failed else "") + ")"]
        if self.cells is not None:
            lines.append(f"  {len(self.cells)} pooled cells")
        pct = f"{100 * self.level:g}%"
        for name, row in self.intervals.items():
            parts = [f"  {name:>8} = {row['estimate']:.6g} (se {row['se']:.3g})",
                     f"Wald {pct} [{row['wald'][0]:.5g}, {row['wald'][1]:.5g}]"]
            for kind in ("profile", "bootstrap"):
                if kind in row:
                    parts.append(f"{kind} [{row[kind][0]:.5g}, {row[kind][1]:.5g}]")
            lines.append("  ".join(parts))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        return {"family": self.family, "statistic": self.statistic, "value": self.value,
                "pvalue": self.pvalue, "pvalue_se": self.pvalue_se, "n": self.n,
                "n_bootstrap": self.n_bootstrap, "n_failed": self.n_failed,
                "level": self.level,
                "intervals": {k: {kk: (list(vv) if isinstance(vv, tuple) else vv)
                                  for kk, vv in v.items()} for k, v in self.intervals.items()},
                "cells": None if self.cells is None else [list(c) for c in self.cells]}
