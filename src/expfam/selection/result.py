"""The outcome of a model selection: plain objects with ``table()`` and ``to_dict()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["CandidateFit", "SelectionResult", "GroupedSelection"]


def _num(v):
    v = np.asarray(v)
    if v.ndim == 0:
        return float(v) if v.dtype.kind == "f" else v.item()
    return v.tolist()


@dataclass
class CandidateFit:
    """One family in the ranking.

    Attributes
    ----------
    family : str
        The family's label (``"gamma"``, ``"binomial(n=10)"``).
    params, se : dict
        Parameters fitted on all the data and their standard errors (inverse Fisher
        information, delta method; a profiled parameter's from the profile's curvature).
    fixed : dict
        Fixed parameters (a profiled one, e.g. Weibull's ``k``, at its estimate).
    n_params : int
        Free parameters (a profiled one counted).
    loglik, aic, bic : float
        Of the fit on all the data.
    cross_entropy, cross_entropy_se : float
        Held-out cross-entropy (nats per observation; k-fold: each fold scored by the
        fit on the others) and its standard error, ``sd(l) / sqrt(N)`` over the held-out
        log densities ``l``.
    delta, delta_se : float
        ``cross_entropy - cross_entropy of the best`` with its paired standard error
        (the same folds and observations: ``sd(l_best - l) / sqrt(N)``).
    converged : bool
        Every fit (each training set and all the data) reached its tolerance.
    discrete : bool
        A mass function (compared with densities per unit interval on integer data).
    notes : list of str
        Warnings raised by its fits.
    fit : FitResult
        The fit on all the data.
    """

    family: str
    params: dict
    se: dict
    fixed: dict
    n_params: int
    loglik: float
    aic: float
    bic: float
    cross_entropy: float
    cross_entropy_se: float
    delta: float = 0.0
    delta_se: float = 0.0
    converged: bool = True
    discrete: bool = False
    notes: list = field(default_factory=list)
    fit: Any = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"family": self.family, "params": {k: _num(v) for k, v in self.params.items()},
                "se": {k: _num(v) for k, v in self.se.items()},
                "fixed": {k: _num(v) for k, v in self.fixed.items()},
                "n_params": self.n_params, "loglik": self.loglik, "aic": self.aic,
                "bic": self.bic, "cross_entropy": self.cross_entropy,
                "cross_entropy_se": self.cross_entropy_se, "delta": self.delta,
                "delta_se": self.delta_se, "converged": self.converged,
                "discrete": self.discrete, "notes": list(self.notes)}


@dataclass
class SelectionResult:
    """Families ranked by held-out cross-entropy (smallest first).

    Attributes
    ----------
    ranking : list of CandidateFit
        Sorted by cross-entropy; ``delta`` is measured from the first.
    skipped : dict
        ``{family: reason}``: families not fitted (support, kind of data, a fixed
        parameter to give...).
    failed : dict
        ``{family: "ErrorType: message"}``: fits that raised.
    n : int
        Observations (rows); ``weight_sum`` their total weight.
    folds : int
    """

    ranking: list
    skipped: dict
    failed: dict
    n: int
    weight_sum: float
    folds: int

    @property
    def best(self) -> CandidateFit:
        """The family with the smallest held-out cross-entropy."""
        if not self.ranking:
            raise LookupError("no family could be fitted: see .skipped and .failed")
        return self.ranking[0]

    def __getitem__(self, family: str) -> CandidateFit:
        for row in self.ranking:
            if row.family == family:
                return row
        raise KeyError(family)

    def order(self, by: str = "cross_entropy") -> list:
        """Family labels sorted by ``"cross_entropy"``, ``"aic"`` or ``"bic"``."""
        if by not in ("cross_entropy", "aic", "bic"):
            raise ValueError(f"by must be 'cross_entropy', 'aic' or 'bic'; got {by!r}")
        return [r.family for r in sorted(self.ranking, key=lambda r: getattr(r, by))]

    def table(self) -> str:
        """A readable table: one row per family, then the skipped and failed ones."""
        head = (f"{'family':<22} {'cross-entropy':>13} {'se':>9} {'delta':>10} {'paired se':>9} "
                f"{'AIC':>12} {'BIC':>12} {'k':>2} conv")
        n = f"n = {self.n}"
        if self.weight_sum != self.n:
            n += f" (weight sum {self.weight_sum:g})"
        lines = [f"model selection: {n}, {self.folds}-fold held-out cross-entropy "
                 f"(nats/observation)", head]
        for r in self.ranking:
            lines.append(f"{r.family:<22} {r.cross_entropy:>13.6g} {r.cross_entropy_se:>9.3g} "
                         f"{r.delta:>10.4g} {r.delta_se:>9.3g} {r.aic:>12.7g} {r.bic:>12.7g} "
                         f"{r.n_params:>2} {'yes' if r.converged else 'NO'}")
        for name, why in self.failed.items():
            lines.append(f"{name:<22} failed: {why}")
        for name, why in self.skipped.items():
            lines.append(f"{name:<22} skipped: {why}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        """Plain Python types (for JSON)."""
        return {"n": self.n, "weight_sum": self.weight_sum, "folds": self.folds,
                "ranking": [r.to_dict() for r in self.ranking],
                "skipped": dict(self.skipped), "failed": dict(self.failed)}


@dataclass
class GroupedSelection:
    """One :class:`SelectionResult` per group (``by=``), in the order of ``groups``."""

    groups: list
    results: list

    def __getitem__(self, label) -> SelectionResult:
        for g, r in zip(self.groups, self.results):
            if g == label or (g is None and label is None):
                return r
        raise KeyError(label)

    def __iter__(self):
        return iter(zip(self.groups, self.results))

    def __len__(self) -> int:
        return len(self.groups)

    def table(self) -> str:
        return "\n\n".join(f"group {g!r}\n{r.table()}" for g, r in self)

    def to_dict(self) -> dict:
        return {"groups": [_num(g) if g is not None else None for g in self.groups],
                "results": [r.to_dict() for r in self.results]}
