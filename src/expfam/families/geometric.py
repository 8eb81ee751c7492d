"""Geometric distribution: the number of failures before the first success.

``u(x) = x``, ``eta = log(1 - p)`` (``eta < 0``), ``h = 1`` on ``{0, 1, 2, ...}``,
``A(eta) = -log p = -log(-expm1(eta))``.  The MLE is ``p = 1 / (1 + mean(x))``.  The
mathematics shared with the negative binomial is
:class:`~expfam.families._failures.FailureCountFamily`.
"""

from __future__ import annotations

import numpy as np

from .._lazy import stats
from ..domains import UNIT_INTERVAL
from ._failures import FailureCountFamily


class Geometric(FailureCountFamily):
    """Geometric distribution of the number of failures before the first success,
    ``P(x = k) = p (1 - p)^k`` on ``{0, 1, 2, ...}``.

    This counts failures (support starting at 0), not trials: it equals
    ``scipy.stats.geom(p, loc=-1)`` and ``numpy``'s ``geometric(p) - 1``, and is the
    negative binomial with ``r = 1``.

    Parameters
    ----------
    p : array_like
        Success probability of one trial, ``0 < p < 1``.
    """

    name = "geometric"
    param_domains = {"p": UNIT_INTERVAL}
    log_h_constant = True
    # its entropy (-q log q - p log p) / p, compiled (expfam._divergence_jit) for large batches
    entropy_kernel = "geometric_entropy"

    def __init__(self, p=0.5):
        self._init_natural(self.natural_from_params({}, p=p), {})

    @staticmethod
    def element(v, p, c):
        return (v,), 0.0

    @classmethod
    def _successes(cls, fixed):
        return 1.0

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = -np.expm1(eta[..., 0])
        return (rng.geometric(p, size=size + eta.shape[:-1]) - 1).astype(np.float64)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.geom(-np.expm1(eta[..., 0]), loc=-1)

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Geometric(1/2): one failure on average, ``mu0 = 1``."""
        return np.array([1.0])
