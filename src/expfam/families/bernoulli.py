"""Bernoulli distribution.

``u(x) = x``, ``eta = logit(p) = log(p / (1 - p))``, ``h = 1`` on ``{0, 1}``,
``A(eta) = log(1 + e^eta)`` (softplus).  The MLE is ``p = mean(x)``.  The mathematics
shared with the Binomial is :class:`~expfam.families._logit.LogitFamily`.
"""

from __future__ import annotations

import numpy as np

from .._lazy import special, stats
from ..domains import UNIT_INTERVAL
from ..solvers import closed_form
from ._logit import LogitFamily, bernoulli_entropy


class Bernoulli(LogitFamily):
    """Bernoulli distribution on ``{0, 1}`` with ``P(x = 1) = p``.

    Parameters
    ----------
    p : array_like
        Success probability, ``0 < p < 1``.
    """

    name = "bernoulli"
    param_domains = {"p": UNIT_INTERVAL}
    boundary_hint = "all observations are 0 or all are 1, so p would be 0 or 1"
    log_h_constant = True

    def __init__(self, p=0.5):
        self._init_natural(self.natural_from_params({}, p=p), {})

    @staticmethod
    def element(v, p, c):
        return (v,), 0.0

    @classmethod
    def _trials(cls, fixed):
        return 1

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        # 1 - mu is exact for mu >= 1/2 (Sterbenz), so logit keeps full accuracy near 1
        return closed_form(special.logit(mu))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.bernoulli(special.expit(eta[..., 0]))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Bernoulli(1/2), the fair coin: ``mu0 = 1/2``."""
        return np.array([0.5])

    entropy_kernel = "bernoulli_entropy"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """Shannon entropy in nats, ``-p log p - (1 - p) log(1 - p)`` (accurate for ``p``
        near 0 and 1, where ``A(eta) - eta p`` cancels)."""
        return bernoulli_entropy(eta[..., 0])
