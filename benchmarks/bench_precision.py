"""The accuracy table of entropy, logpdf and KL against mpmath (correctness item 5).

Runs every ``tests/precision/cases_*.py`` module (mpmath at 60 digits from the natural
parameters each expfam object holds) and prints, per family and quantity, the number of
values compared, the worst relative and absolute errors and where the worst one is.
The floor (asserted by ``tests/test_precision.py``): 1e-12 relative, or 1e-15 absolute.

Run: ``.venv/bin/python benchmarks/bench_precision.py`` (from the repository root).
"""

from __future__ import annotations

import importlib
import os
import pathlib
import pkgutil
import sys
from collections import defaultdict

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
os.environ.setdefault("EXPFAM_PRECISION_FULL", "1")  # every grid point (the suite thins the slow ones)

import tests.precision as precision  # noqa: E402
from tests.precision._harness import ABS, REL  # noqa: E402


def main() -> None:
    rows = defaultdict(list)
    for m in sorted(pkgutil.iter_modules(precision.__path__), key=lambda m: m.name):
        if m.name.startswith("cases_"):
            for c in importlib.import_module(f"tests.precision.{m.name}").checks():
                rows[(c.family, c.quantity)].append(c)
    print(f"floor: relative {REL:g} or absolute {ABS:g}\n")
    print("rel: rows within the relative floor, their worst relative error (and where);")
    print("abs: rows within the absolute floor only (values within rounding of 0), their")
    print("number and worst absolute error\n")
    print(f"{'family':20s} {'quantity':8s} {'n':>5s} {'max rel':>9s} {'n abs':>5s} {'max abs':>9s} "
          f"{'ok':>3s}  worst relative at")
    failed = 0
    for (family, quantity), checks in sorted(rows.items()):
        rel = [c for c in checks if c.rel_error <= REL]
        near_zero = [c for c in checks if c.rel_error > REL]
        ok = all(c.ok for c in checks)
        failed += not ok
        worst = max(rel, key=lambda c: c.rel_error) if rel else None
        bad = [c for c in checks if not c.ok]
        where = bad[0].where if bad else (worst.where if worst else "-")
        print(f"{family:20s} {quantity:8s} {len(checks):5d} "
              f"{max((c.rel_error for c in rel), default=0.0):9.1e} {len(near_zero):5d} "
              f"{max((c.abs_error for c in near_zero), default=0.0):9.1e} "
              f"{'yes' if ok else 'NO':>3s}  {where[:70]}")
    print(f"\n{len(rows) - failed} of {len(rows)} family/quantity pairs within the floor")

if __name__ == "__main__":
    main()
