"""expfam: maximum likelihood as KL minimisation, for exponential families.

Maximising the likelihood minimises ``KL(p_data || p_w)``, that is the cross-entropy,
which samples estimate by a Monte Carlo average.  For an exponential family the gradient
is a residual, ``E_data[u] - E_model[u]``, so the exact fit is moment matching.
"""

import importlib
from typing import TYPE_CHECKING

from . import domains, ebm, errors
from .divergence import MonteCarloEstimate, cross_entropy, entropy, kl, mc_cross_entropy, mc_kl
from .ebm import Ising, Potts
from .families import *  # noqa: F403  (every family class, registered by subclassing)
from .families import (
    FAMILIES,
    ExponentialFamily,
    FiniteSupportFamily,
    SufficientStatisticModel,
    define_family,
    resolve_family,
)
from .families import __all__ as _family_exports
from .fitting import FitResult, fit
from .stats import SufficientStats

__version__ = "0.1.0"

__all__ = [
    "errors", "domains", "fit", "FitResult", "SufficientStats", "fit_file", "stats_from_file",
    "kl", "entropy", "cross_entropy", "mc_cross_entropy", "mc_kl", "MonteCarloEstimate",
    "fit_sgd", "StochasticFitter", "SGDResult", "SGDTrace", "FAMILIES", "ExponentialFamily",
    "FiniteSupportFamily", "SufficientStatisticModel", "resolve_family", "define_family",
    "ebm", "Ising", "Potts",
]
__all__ += [name for name in _family_exports if name not in __all__]

#: public names served from subpackages imported on first use (they import scipy.stats, or
#: are not needed by a small fit: the file readers, the stochastic learner)
_LAZY = {"fit_file": "io", "stats_from_file": "io",
         "fit_sgd": "learn", "StochasticFitter": "learn", "SGDResult": "learn", "SGDTrace": "learn",
         "select": "selection", "SelectionResult": "selection", "GroupedSelection": "selection",
         "gof": "goodness", "GofResult": "goodness",
         "from_scipy": "interop", "from_json": "interop", "DistributionEstimator": "interop",
         "fit_mixture": "mixture", "Mixture": "mixture", "MixtureResult": "mixture",
         "choose_k": "mixture", "OnlineMixture": "mixture"}
__all__ += [name for name in _LAZY if name not in __all__]
#: subpackages imported on first attribute access (``expfam.io``, ``expfam.learn``...)
_LAZY_MODULES = frozenset({"io", "learn", "selection", "goodness", "interop", "mixture"})
if TYPE_CHECKING:  # for type checkers and IDEs; at run time see __getattr__
    from . import io as io
    from . import learn as learn
    from .goodness import GofResult as GofResult
    from .goodness import gof as gof
    from .interop import DistributionEstimator as DistributionEstimator
    from .interop import from_json as from_json
    from .interop import from_scipy as from_scipy
    from .io import fit_file as fit_file
    from .io import stats_from_file as stats_from_file
    from .learn import SGDResult as SGDResult
    from .learn import SGDTrace as SGDTrace
    from .learn import StochasticFitter as StochasticFitter
    from .learn import fit_sgd as fit_sgd
    from .mixture import Mixture as Mixture
    from .mixture import MixtureResult as MixtureResult
    from .mixture import OnlineMixture as OnlineMixture
    from .mixture import choose_k as choose_k
    from .mixture import fit_mixture as fit_mixture
    from .selection import GroupedSelection as GroupedSelection
    from .selection import SelectionResult as SelectionResult
    from .selection import select as select


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:  # importing a subpackage sets it as an attribute here
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | _LAZY_MODULES)
