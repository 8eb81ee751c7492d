"""Entropy, logpdf and KL against mpmath to the ends of every family's domain (item 5).

The rows come from ``tests/precision/cases_*.py``, one test per row generator (their
``GROUPS``); the floor is in ``tests/precision/_harness.py`` (1e-12 relative; KL also
1e-15 absolute).  ``benchmarks/bench_precision.py`` prints the whole table.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.precision as precision
from expfam.families import ExponentialFamily
from expfam.families._base import registered, resolve_family
from tests.precision._harness import ABS, REL

MODULES = {m.name: importlib.import_module(f"tests.precision.{m.name}")
           for m in sorted(pkgutil.iter_modules(precision.__path__), key=lambda m: m.name)
           if m.name.startswith("cases_")}
GROUPS = [(module, group) for module, mod in MODULES.items() for group in mod.GROUPS]
QUANTITIES = ("entropy", "logpdf", "kl")


@pytest.mark.parametrize("module,group", GROUPS, ids=[f"{m}-{g}" for m, g in GROUPS])
def test_against_mpmath(module, group):
    generate, families = MODULES[module].GROUPS[group]
    checks = list(generate())
    covered = {(resolve_family(c.family).name, c.quantity) for c in checks}
    missing = [(f, q) for f in families for q in QUANTITIES if (resolve_family(f).name, q) not in covered]
    assert not missing, f"{module}:{group} has no rows for {missing}"
    bad = sorted((c for c in checks if not c.ok), key=lambda c: -c.rel_error)
    lines = [f"{c.family} {c.quantity} at {c.where}: got {c.got!r}, mpmath {float(c.want)!r} "
             f"(rel {c.rel_error:.2e}, abs {c.abs_error:.2e})" for c in bad[:10]]
    assert not bad, (f"{len(bad)} of {len(checks)} values beyond rel {REL} / abs {ABS}:\n"
                     + "\n".join(lines))


def test_every_family_has_a_group():
    """Every registered family with a log partition is declared by a row generator, whose
    test checks that it yields entropy, logpdf and KL rows for it (the families defined
    by tests are not in expfam.families)."""
    declared = {resolve_family(f).name for mod in MODULES.values()
                for _, families in mod.GROUPS.values() for f in families}
    families = [name for name, cls in registered().items()
                if issubclass(cls, ExponentialFamily) and cls.__module__.startswith("expfam.families")]
    missing = sorted(set(families) - declared)
    assert not missing, f"no mpmath rows for {missing}"
