"""Interoperability: SciPy distributions (:func:`from_scipy`; ``to_scipy()`` is a method of
every family) and JSON (:func:`to_json`, :func:`from_json`; versioned, no pickle) and a scikit-learn style
estimator (:class:`DistributionEstimator`)."""

from __future__ import annotations

from .estimator import DistributionEstimator
from .jsonio import SCHEMA_VERSION, from_json, to_json
from .scipy_bridge import from_scipy

__all__ = ["DistributionEstimator", "from_scipy", "to_json", "from_json", "SCHEMA_VERSION"]
