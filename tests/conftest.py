"""Test configuration: property tests are reproducible on CI.

With ``CI`` set (as ``.ci/run`` is run), hypothesis draws its examples from a fixed seed
per test, so a submission cannot fail on an example that a previous run never saw;
locally the examples vary from run to run and keep exploring.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


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
