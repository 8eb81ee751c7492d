"""Test configuration: property tests are reproducible on CI; the units of a parallel run.

With ``CI`` set (as ``.ci/run`` is run), hypothesis draws its examples from a fixed seed
per test, so a submission cannot fail on an example that a previous run never saw;
locally the examples vary from run to run and keep exploring.

Parallel runs (``pytest -n``) hand out whole units (``--dist loadgroup``, set in
pyproject.toml), because most of the suite's time on a fresh clone is numba compiling
kernels, once per family and signature, into the on-disk cache that every worker then
reads.  A unit is a test module, so that the kernels (and module-scoped fixtures) of a
module are built by one worker only; ``tests/test_kernels.py`` is cut by family instead
and its units run first, so that the two workers compile the families' fused kernels
side by side, each family once, before the other modules load them from the cache.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_KERNELS = "tests/test_kernels.py"
#: modules with a few long tests, started early so that none is left running alone at
#: the end of a parallel run
_LONG_FIRST = ("tests/test_precision.py", "tests/test_cli.py", "tests/test_readme.py",
               "tests/test_divergence_speed_precision.py", "tests/test_cli_commands.py",
               "tests/test_dask.py", "tests/test_io.py")


def _unit(item):
    """``(rank, group)`` of a test: its unit of work in a parallel run, and when it starts."""
    module = item.nodeid.split("::")[0]
    family = getattr(item, "callspec", None) and item.callspec.params.get("name")
    if module == _KERNELS:
        return (0, f"kernels-{family}") if isinstance(family, str) else (1, module)
    return (2 + _LONG_FIRST.index(module) if module in _LONG_FIRST else 99), module


def pytest_collection_modifyitems(config, items):
    units = {item: _unit(item) for item in items}
    for item, (_, group) in units.items():
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: units[item][0])  # stable: module order kept within a rank


if os.environ.get("EXPFAM_TEST_PROFILE"):
    # where the suite's time goes (numba compilations, CPU per test): tests/_profile.py
    def pytest_configure(config):
        from . import _profile

        _profile.configure(config, os.environ["EXPFAM_TEST_PROFILE"])
