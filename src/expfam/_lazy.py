"""``scipy.stats`` and ``scipy.special``, imported on first use.

``scipy.stats`` costs about 50 MB of memory and a quarter of a second at import, and the
families need it only to hand out SciPy equivalents (``to_scipy``, ``cdf``) and for a
few samplers.  ``scipy.special`` costs about half of ``import expfam`` when imported
eagerly, and many calls (a Normal fit, a Poisson log-likelihood) never need it.  Modules
write ``from .._lazy import stats`` (or ``special``) and use ``stats.norm`` as usual; the
real module is imported the first time an attribute is read, and the attributes read are
then kept on the proxy (no import machinery on later calls).  Reading an attribute at
module level defeats the purpose: do it inside the functions.
"""

from __future__ import annotations

import importlib


class _LazyModule:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):  # only called for attributes not yet kept
        if attr.startswith("__"):  # copy, pickle, inspect probing the proxy
            raise AttributeError(attr)
        value = getattr(importlib.import_module(self._name), attr)
        self.__dict__[attr] = value
        return value

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


stats = _LazyModule("scipy.stats")
special = _LazyModule("scipy.special")
