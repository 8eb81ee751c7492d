"""Exponential families, one module each.  ``FAMILIES`` maps registry names to classes."""

from __future__ import annotations

from ._base import ExponentialFamily, SolveResult
from .gamma import Gamma
from .normal import Normal
from .poisson import Poisson

# Families written in parallel: imported when their module exists (temporary, see git log).
import importlib as _importlib

_PENDING = {
    "bernoulli": "Bernoulli", "binomial": "Binomial", "geometric": "Geometric",
    "negative_binomial": "NegativeBinomial", "categorical": "Categorical",
    "multinomial": "Multinomial", "exponential": "Exponential", "rayleigh": "Rayleigh",
    "weibull": "Weibull", "pareto": "Pareto", "laplace": "Laplace", "chi_square": "ChiSquare",
    "inverse_gamma": "InverseGamma", "lognormal": "LogNormal",
    "inverse_gaussian": "InverseGaussian", "von_mises": "VonMises", "beta": "Beta",
    "dirichlet": "Dirichlet", "multivariate_normal": "MultivariateNormal",
}
_loaded = []
for _mod, _cls in _PENDING.items():
    try:
        globals()[_cls] = getattr(_importlib.import_module(f".{_mod}", __name__), _cls)
        _loaded.append(_cls)
    except ModuleNotFoundError as _exc:
        if _exc.name != f"{__name__}.{_mod}":
            raise

FAMILIES: dict[str, type[ExponentialFamily]] = {
    cls.name: cls for cls in ExponentialFamily.__subclasses__() if cls.name
}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _refresh_registry() -> None:
    FAMILIES.update({c.name: c for c in _all_subclasses(ExponentialFamily) if c.name})


_refresh_registry()


def _normalise(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


def resolve_family(family) -> type[ExponentialFamily]:
    """The family class for a class or a registry name (case-insensitive)."""
    if isinstance(family, type) and issubclass(family, ExponentialFamily):
        return family
    if isinstance(family, ExponentialFamily):
        return type(family)
    if isinstance(family, str):
        key = _normalise(family)
        for name, cls in FAMILIES.items():
            if _normalise(name) == key or _normalise(cls.__name__) == key:
                return cls
        raise KeyError(f"unknown family {family!r}; known: {', '.join(sorted(FAMILIES))}")
    raise TypeError(f"expected a family class or name, got {family!r}")


__all__ = ["ExponentialFamily", "SolveResult", "FAMILIES", "resolve_family", "Gamma", "Normal", "Poisson", *_loaded]
