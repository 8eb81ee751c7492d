"""The package's layers import only downward (issue: architecture).

The import graph is read from the source (module-level imports and imports inside
functions alike, so that a deferred import cannot hide a cycle) and checked: no cycle,
the numerics leaves import no family, and no family module imports another family's
module (shared mathematics lives in the ``families/_*.py`` modules).
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "expfam"


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Every expfam module that ``path`` imports (absolute names), anywhere in it."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("expfam"):
                continue
            for alias in node.names:  # "from . import errors" imports a module
                sub = f"{target}.{alias.name}"
                out.add(sub if (ROOT.parent / (sub.replace(".", "/") + ".py")).exists()
                        or (ROOT.parent / sub.replace(".", "/")).is_dir() else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("expfam"))
    out.discard(name)
    return out


GRAPH = {_module_name(p): _imports(p) for p in ROOT.rglob("*.py")}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        for nxt in GRAPH.get(m, ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def test_no_import_cycle_below_the_package():
    # the package __init__ imports everything for the user; below it, no cycle
    cycles = [m for m in GRAPH if m != "expfam" and _reaches(m, m)]
    assert not cycles, f"modules on an import cycle: {sorted(cycles)}"


@pytest.mark.parametrize("leaf", ["expfam._special", "expfam.solvers", "expfam.domains",
                                  "expfam.moments", "expfam.errors", "expfam.divergence"])
def test_numerics_leaves_import_no_family(leaf):
    assert not any(_reaches(leaf, m) for m in GRAPH if m.startswith("expfam.families"))


def test_no_family_imports_another_family():
    families = {m for m in GRAPH if m.startswith("expfam.families.")
                and not m.rpartition(".")[2].startswith("_")}
    for m in families:
        others = GRAPH[m] & (families - {m})
        assert not others, f"{m} imports {sorted(others)}"


def test_import_expfam_compiles_nothing():
    # numba (and the kernels) are imported on first use only, never by import expfam
    code = "import sys, expfam; print('numba' in sys.modules, 'expfam._jit' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["False", "False"]


PARALLEL = sorted(_module_name(p) for p in ROOT.rglob("*.py")
                  if "prange" in p.read_text() or "parallel=True" in p.read_text())


@pytest.mark.parametrize("module", PARALLEL)
def test_parallel_kernels_set_the_fork_safe_threading_layer(module):
    """``import expfam`` loads no numba, so any module with parallel kernels may launch
    numba's first one: each reaches ``expfam._threading`` (the fork-safe layer; GNU
    OpenMP would kill the children of a process that forks after a fit)."""
    assert module == "expfam._threading" or _reaches(module, "expfam._threading")


def test_the_threading_layer_is_fork_safe_after_a_bootstrap_kernel():
    """A fresh process whose first parallel kernel is the bootstrap's EDF statistics runs
    numba's fork-safe layer (workqueue here), not GNU OpenMP (it was omp before
    ``expfam._threading``)."""
    code = ("import numpy as np, numba, expfam\n"
            "x = np.random.default_rng(0).normal(size=200)\n"
            "expfam.gof('normal', x, n_bootstrap=199, rng=0)\n"
            "print(numba.threading_layer())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] != "omp"
