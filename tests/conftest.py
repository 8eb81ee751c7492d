"""Test configuration: property tests are reproducible on CI.

With ``CI`` set (as ``.ci/run`` is run), hypothesis draws its examples from a fixed seed
per test, so a submission cannot fail on an example that a previous run never saw;
locally the examples vary from run to run and keep exploring.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


if os.environ.get("EXPFAM_TEST_PROFILE"):
    # where the suite's time goes (numba compilations, CPU per test): tests/_profile.py
    def pytest_configure(config):
        from . import _profile

        _profile.configure(config, os.environ["EXPFAM_TEST_PROFILE"])
