"""Finite mixtures of exponential families, fitted by exact EM.

:func:`fit_mixture` fits; :class:`Mixture` is the fitted law (densities, sampling,
responsibilities, Monte Carlo entropy and KL, JSON); :func:`choose_k` compares numbers of
components.  Modules: ``model`` (the mixture), ``init`` (starts), ``em`` (E-step, M-step,
loop), ``se`` (Louis' standard errors), ``result``, ``fit``, ``select``.
"""

from .fit import fit_mixture
from .model import Mixture
from .online import OnlineMixture
from .result import MixtureResult
from .select import ChooseKResult, choose_k

__all__ = ["fit_mixture", "Mixture", "MixtureResult", "choose_k", "ChooseKResult", "OnlineMixture"]
