"""Entropy, logpdf and KL against mpmath to the ends of every family's domain (item 5).

The rows come from ``tests/precision/cases_*.py``; the floor is in
``tests/precision/_harness.py`` (1e-12 relative; KL also 1e-15 absolute).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

import pytest

import tests.precision as precision
from expfam.families import ExponentialFamily
from expfam.families._base import registered, resolve_family
from tests.precision._harness import ABS, REL

MODULES = sorted(m.name for m in pkgutil.iter_modules(precision.__path__)
                 if m.name.startswith("cases_"))


@functools.lru_cache(maxsize=None)
def rows(module: str) -> tuple:
    return tuple(importlib.import_module(f"tests.precision.{module}").checks())


@pytest.mark.parametrize("module", MODULES)
def test_against_mpmath(module):
    checks = rows(module)
    assert checks, f"{module} yields no rows"
    bad = sorted((c for c in checks if not c.ok), key=lambda c: -c.rel_error)
    lines = [f"{c.family} {c.quantity} at {c.where}: got {c.got!r}, mpmath {float(c.want)!r} "
             f"(rel {c.rel_error:.2e}, abs {c.abs_error:.2e})" for c in bad[:10]]
    assert not bad, (f"{len(bad)} of {len(checks)} values beyond rel {REL} / abs {ABS}:\n"
                     + "\n".join(lines))


def test_every_family_has_all_three_quantities():
    """Every registered family with a log partition is checked for entropy, logpdf and
    KL (the families defined by tests are not in expfam.families)."""
    covered = {(resolve_family(c.family).name, c.quantity) for m in MODULES for c in rows(m)}
    families = [name for name, cls in registered().items()
                if issubclass(cls, ExponentialFamily) and cls.__module__.startswith("expfam.families")]
    missing = [(f, q) for f in families for q in ("entropy", "logpdf", "kl")
               if (f, q) not in covered]
    assert not missing, f"no mpmath rows for {missing}"
