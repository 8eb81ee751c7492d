"""``scipy.stats``, imported on first use.

``scipy.stats`` costs about 50 MB of memory and a quarter of a second at import, and the
families need it only to hand out SciPy equivalents (``to_scipy``, ``cdf``) and for a
few samplers.  Modules write ``from .._lazy import stats`` and use ``stats.norm`` as
usual; the real module is imported the first time an attribute is read.
"""

from __future__ import annotations

import importlib


class _LazyModule:
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


stats = _LazyModule("scipy.stats")
