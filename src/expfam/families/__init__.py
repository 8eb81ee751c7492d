"""Exponential families, one module each.  ``FAMILIES`` maps registry names to classes."""

from __future__ import annotations

from ._base import ExponentialFamily, SolveResult
from .gamma import Gamma
from .normal import Normal
from .poisson import Poisson

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


def resolve_family(family) -> type[ExponentialFamily]:
    """The family class for a class or a registry name (case-insensitive)."""
    if isinstance(family, type) and issubclass(family, ExponentialFamily):
        return family
    if isinstance(family, ExponentialFamily):
        return type(family)
    if isinstance(family, str):
        key = family.lower().replace("-", "").replace("_", "").replace(" ", "")
        if key in FAMILIES:
            return FAMILIES[key]
        raise KeyError(f"unknown family {family!r}; known: {', '.join(sorted(FAMILIES))}")
    raise TypeError(f"expected a family class or name, got {family!r}")


__all__ = ["ExponentialFamily", "SolveResult", "FAMILIES", "resolve_family", "Gamma", "Normal", "Poisson"]
