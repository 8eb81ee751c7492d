"""Test cases for the generic family tests: one module per family, each with ``CASES``.

A case is a :class:`Case`: a distribution built by expfam from familiar parameters, and
an independent oracle for it (a frozen SciPy distribution, or closed forms).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Case:
    """One distribution and its oracle.

    Attributes
    ----------
    id : str
        Test id.
    make : callable
        Builds the expfam distribution (no arguments).
    oracle : object or None
        Frozen SciPy distribution (``logpdf``/``logpmf``, ``mean``, ``var``, ``entropy``,
        ``cdf``), or None when ``logpdf``, ``mean``, ``var`` and ``entropy`` are given.
    x : list
        Points (inside the support) where the log-density is compared.
    logpdf, mean, var, entropy : callable or value, optional
        Closed-form oracles used when there is no SciPy distribution.
    scipy_fit : callable, optional
        ``scipy_fit(data) -> frozen scipy distribution`` fitted by SciPy's MLE, used to
        check that expfam's log-likelihood is never lower.
    fit_kwargs : dict
        Fixed parameters passed to ``expfam.fit``.
    discrete : bool
        Whether the oracle uses ``logpmf``.
    """

    id: str
    make: Callable[[], Any]
    oracle: Any = None
    x: list = field(default_factory=list)
    logpdf: Callable | None = None
    mean: Any = None
    var: Any = None
    entropy: Any = None
    scipy_fit: Callable | None = None
    fit_kwargs: dict = field(default_factory=dict)
    discrete: bool = False
    has_cdf: bool = True


def all_cases() -> list[Case]:
    cases = []
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        cases.extend(importlib.import_module(f"{__name__}.{mod.name}").CASES)
    return cases
