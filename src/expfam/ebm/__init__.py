"""Energy-based models on vectors of discrete variables: Ising (fully visible Boltzmann
machine) and Potts models, exact enumeration, persistent Gibbs sampling, annealed
importance sampling, learning and evaluation.

- :class:`Ising` (:mod:`.ising`), :class:`Potts` (:mod:`.potts`): ``SufficientStatisticModel``
  subclasses (``u``, ``log h = 0``, a support, fixed parameters).  Their model moments
  come from enumeration for small systems or from a persistent sampler, so
  :func:`expfam.fit_sgd` can drive them; ``log Z``, moments and Fisher information are
  exact up to about 24 binary variables (:mod:`.enumerate`).
- :class:`GibbsSampler` (:mod:`.gibbs`): persistent heat-bath chains, compiled and
  parallel, seeded, checkpointable; diagnostics in :mod:`.diagnostics`.
- :func:`ais_log_partition` (:mod:`.ais`): ``log Z`` with its standard error.
- :func:`fit_ising` / ``expfam.fit(Ising, samples, method=...)`` (:mod:`.learning`):
  ``"exact"``, ``"pcd"``, ``"pseudolikelihood"``, with L1/L2 regularisation and weights;
  :func:`fit_potts` / ``expfam.fit(Potts, samples)`` (:mod:`.potts_learning`): exact,
  ``"pcd"`` or ``"pseudolikelihood"`` (:mod:`.potts_pseudolikelihood`).  PCD for both
  (:mod:`.pcd`): a stopping rule against the batch-means Monte Carlo error, checkpoint /
  resume.
- Evaluation (:mod:`.evaluate`): held-out log-likelihood / cross-entropy with its error,
  KL to a known model, connected correlations, coupling reconstruction error.
- Real data (:mod:`.examples`, loaders of data shipped by scikit-learn and statsmodels):
  a Boltzmann machine on binarised digits, a Potts model of the ANES 1996 survey.
"""

import importlib

from ._graph import lattice_edges
from .diagnostics import autocorrelation, effective_sample_size, integrated_autocorrelation_time, rhat
from .evaluate import (
    connected_correlations,
    coupling_error,
    cross_entropy,
    kl_divergence,
    log_likelihood,
)
from .ising import Ising, IsingEnumeration
from .potts import Potts, to_gauge

#: names whose modules hold compiled code, imported on first use (``import expfam``
#: compiles nothing)
_LAZY = {"GibbsSampler": "gibbs", "ais_log_partition": "ais", "AnnealedEstimate": "ais",
         "fit_ising": "learning", "EBMFitResult": "learning", "fit_potts": "potts_learning"}

__all__ = ["Ising", "Potts", "to_gauge", "fit_potts", "IsingEnumeration", "GibbsSampler",
           "ais_log_partition", "AnnealedEstimate", "autocorrelation",
           "integrated_autocorrelation_time", "effective_sample_size", "rhat", "lattice_edges",
           "fit_ising", "EBMFitResult", "log_likelihood", "cross_entropy", "kl_divergence",
           "connected_correlations", "coupling_error"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
