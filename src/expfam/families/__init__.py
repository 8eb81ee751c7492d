"""Families, one module each, and the model hierarchy (:mod:`._base`).

Every module of this package is imported here, and every concrete class registers itself
by subclassing (``name`` set): ``FAMILIES`` maps registry names to classes.  A new family is
one new module; nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

from ._base import (
    ExponentialFamily,
    FamilyLike,
    SufficientStatisticModel,
    registered,
    resolve_family,
)
from ._finite import FiniteSupportFamily
from ._user import define_family

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

#: registry name -> class of every family shipped with expfam
FAMILIES: dict[str, type] = registered()

for _cls in FAMILIES.values():
    globals()[_cls.__name__] = _cls

__all__ = ["SufficientStatisticModel", "ExponentialFamily", "FiniteSupportFamily", "FAMILIES",
           "FamilyLike", "define_family",
           "resolve_family", *sorted(cls.__name__ for cls in FAMILIES.values())]
