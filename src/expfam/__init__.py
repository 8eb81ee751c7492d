"""expfam: maximum likelihood as KL minimisation, for exponential families.

Maximising the likelihood minimises ``KL(p_data || p_w)``, that is the cross-entropy,
which samples estimate by a Monte Carlo average.  For an exponential family the gradient
is a residual, ``E_data[u] - E_model[u]``, so the exact fit is moment matching.
"""

from . import domains, ebm, errors
from .divergence import MonteCarloEstimate, cross_entropy, entropy, kl, mc_cross_entropy, mc_kl
from .ebm import Ising, Potts
from .families import *  # noqa: F403  (every family class, registered by subclassing)
from .families import (
    FAMILIES,
    ExponentialFamily,
    FiniteSupportFamily,
    SufficientStatisticModel,
    resolve_family,
)
from .families import __all__ as _family_exports
from .fitting import FitResult, fit
from .io import fit_file, stats_from_file
from .learn import SGDResult, SGDTrace, StochasticFitter, fit_sgd
from .stats import SufficientStats

__version__ = "0.1.0"

__all__ = [
    "errors", "domains", "fit", "FitResult", "SufficientStats", "fit_file", "stats_from_file",
    "kl", "entropy", "cross_entropy", "mc_cross_entropy", "mc_kl", "MonteCarloEstimate",
    "fit_sgd", "StochasticFitter", "SGDResult", "SGDTrace", "FAMILIES", "ExponentialFamily",
    "FiniteSupportFamily", "SufficientStatisticModel", "resolve_family", "ebm", "Ising", "Potts",
]
__all__ += [name for name in _family_exports if name not in __all__]
