"""Services that the model modules reach without importing upwards.

The models (:mod:`.ising`, :mod:`.potts`) sit below the sampler (:mod:`.gibbs`), annealed
importance sampling (:mod:`.ais`) and the learners (:mod:`.learning`,
:mod:`.potts_learning`), which import them; a model's method that needs one of those
(``Ising.draw`` beyond enumeration, ``log_partition(method="ais")``, ``expfam.fit``) finds
it here.  Each upper module registers what it provides when it is imported; a service
not yet loaded is imported on first use.
"""

from __future__ import annotations

import importlib

from ..errors import ModelCapabilityError

__all__ = ["provide", "service"]

_SERVICES: dict[str, object] = {}
#: the module that provides each service (imported on first use: the compiled code is
#: loaded only when it is needed)
_PROVIDERS = {"gibbs_sampler": "expfam.ebm.gibbs", "ais": "expfam.ebm.ais",
              "fit_ising": "expfam.ebm.learning", "fit_potts": "expfam.ebm.potts_learning"}


def provide(name: str, obj) -> None:
    """Register ``obj`` as the service ``name``."""
    _SERVICES[name] = obj


def service(name: str):
    """The service ``name`` (registered by the module that provides it, imported here on
    first use)."""
    if name not in _SERVICES and name in _PROVIDERS:
        importlib.import_module(_PROVIDERS[name])
    try:
        return _SERVICES[name]
    except KeyError:
        raise ModelCapabilityError(f"the service {name!r} is not loaded: import expfam.ebm") from None
