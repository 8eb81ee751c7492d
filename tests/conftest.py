"""Test configuration: property tests are reproducible on CI; the units of a parallel run.

With ``CI`` set (as ``.ci/run`` is run), hypothesis draws its examples from a fixed seed
per test, so a submission cannot fail on an example that a previous run never saw;
locally the examples vary from run to run and keep exploring.

Parallel runs (``pytest -n``) hand out whole units (the scheduler
below), because most of the suite's time on a fresh clone is numba compiling
kernels, once per family and signature, into the on-disk cache that every worker then
reads.  A unit is a test module, so that the kernels (and module-scoped fixtures) of a
module are built by one worker only; ``tests/test_kernels.py`` is cut by family instead
and its units run first, so that the two workers compile the families' fused kernels
side by side, each family once, before the other modules load them from the cache.
"""

import os
import re

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


def _unit(nodeid):
    """``(rank, unit)`` of a test: its unit of work in a parallel run, and when it starts
    (from the test's id alone: the scheduler sees no more)."""
    from expfam.families import FAMILIES

    module = nodeid.split("::")[0]
    if module == _KERNELS:
        params = re.split(r"[\[\]-]", nodeid.split("::")[-1])[1:]
        family = next((p for p in params if p in FAMILIES), None)
        return (0, f"kernels-{family}") if family else (1, module)
    return (2 + _LONG_FIRST.index(module) if module in _LONG_FIRST else 99), module


def pytest_collection_modifyitems(config, items):
    rank = {item: _unit(item.nodeid)[0] for item in items}
    items.sort(key=rank.__getitem__)  # stable: module order kept within a rank


def pytest_xdist_make_scheduler(config, log):
    """The scheduler of ``pytest -n`` (the default ``--dist load``): units of work by
    :func:`_unit`, handed out in the order of the collection (``--no-loadscope-reorder``
    in pyproject.toml).  (``--dist loadgroup`` would do, but pytest-xdist 3.8 cannot add
    its group to a test's id under pytest 9.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class UnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return _unit(nodeid)[1]

    return UnitScheduling(config, log)


@pytest.fixture(scope="module")
def client():
    """A real ``dask.distributed`` cluster on loopback: two worker processes, one thread
    each (per test module; imported here only when a test asks for it)."""
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           host="127.0.0.1", dashboard_address=None)
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


if os.environ.get("EXPFAM_TEST_PROFILE"):
    # where the suite's time goes (numba compilations, CPU per test): tests/_profile.py
    def pytest_configure(config):
        from . import _profile

        _profile.configure(config, os.environ["EXPFAM_TEST_PROFILE"])
