"""Stochastic learners that share the residual ``E_batch[u] - E_model[u]`` (eq. 5).

- :func:`fit_sgd` -- minibatch / full-batch fit of an array or a stream of batches;
- :class:`StochasticFitter` -- the online learner behind it (``partial_fit``);
- moment sources (:class:`ExactMoments`, :class:`SampledMoments`) for ``E_model[u]``;
- :class:`SGDTrace`, :class:`SGDResult` -- the record and the outcome.
"""

from .fitter import StochasticFitter
from .moments import ExactMoments, MomentEstimate, SampledMoments
from .sgd import SGDResult, fit_sgd
from .trace import SGDTrace

__all__ = ["fit_sgd", "StochasticFitter", "SGDResult", "SGDTrace", "ExactMoments",
           "SampledMoments", "MomentEstimate"]
