"""Exponential families, one module each.  ``FAMILIES`` maps registry names to classes."""

from __future__ import annotations

from ._base import ExponentialFamily, SolveResult
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .chi_square import ChiSquare
from .dirichlet import Dirichlet
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .inverse_gamma import InverseGamma
from .inverse_gaussian import InverseGaussian
from .laplace import Laplace
from .lognormal import LogNormal
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .pareto import Pareto
from .poisson import Poisson
from .rayleigh import Rayleigh
from .von_mises import VonMises
from .weibull import Weibull

_CLASSES = [
    Bernoulli, Beta, Binomial, Categorical, ChiSquare, Dirichlet, Exponential, Gamma,
    Geometric, InverseGamma, InverseGaussian, Laplace, LogNormal, Multinomial,
    MultivariateNormal, NegativeBinomial, Normal, Pareto, Poisson, Rayleigh, VonMises, Weibull,
]

FAMILIES: dict[str, type[ExponentialFamily]] = {cls.name: cls for cls in _CLASSES}


def _normalise(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


#: normalised registry and class names -> class
_BY_KEY = {_normalise(key): cls for cls in _CLASSES for key in (cls.name, cls.__name__)}


def resolve_family(family) -> type[ExponentialFamily]:
    """The family class for a class, an instance or a registry name (case-insensitive).

    Raises
    ------
    KeyError
        For an unknown name (the message lists the known ones).
    """
    if isinstance(family, type) and issubclass(family, ExponentialFamily):
        return family
    if isinstance(family, ExponentialFamily):
        return type(family)
    if isinstance(family, str):
        cls = _BY_KEY.get(_normalise(family))
        if cls is not None:
            return cls
        raise KeyError(f"unknown family {family!r}; known: {', '.join(sorted(FAMILIES))}")
    raise TypeError(f"expected a family class or name, got {family!r}")


__all__ = ["ExponentialFamily", "SolveResult", "FAMILIES", "resolve_family",
           *(cls.__name__ for cls in _CLASSES)]
