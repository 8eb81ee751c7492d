"""The outcome of :func:`expfam.fit_mixture`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .model import Mixture
from .se import mixture_standard_errors


@dataclass
class MixtureResult:
    """The best EM run of :func:`expfam.fit_mixture`, with every start reported.

    Attributes
    ----------
    mixture : Mixture
        The fitted mixture, components ordered by :meth:`Mixture.order_key` (label
        switching: see :class:`Mixture`).
    loglik, mean_loglik : float
        Weighted log-likelihood ``sum_n wt_n log p(x_n)`` and its mean per unit weight.
    objective : float
        What EM maximised: ``loglik``, plus the log prior with ``pseudo_count``.
    converged : bool
        The relative change of the objective fell below ``tol`` and the distance to the
        fixed point, extrapolated from the last two EM steps, is under 0.01 (complete-data)
        standard errors (:class:`expfam.mixture.em.ConvergenceRule`).
    n_iter : int
        EM iterations of the best start.
    rel_change : float
        The final relative change of the objective.
    residual_norm : ndarray, shape (K,)
        Per component, ``|E_r[u] - E_model[u]| / |E_r[u]|`` at the final responsibilities:
        the responsibility-weighted moment residual (the gradient in ``eta_k``, scaled).
    trace : ndarray
        The objective after every E-step of the best start (non-decreasing).
    runs : list of dict
        Every start: ``objective``, ``loglik``, ``n_iter``, ``converged``, or ``error``.
    n, weight_sum : int, float
    n_params : int
        Free parameters: the components' natural dimensions plus ``K - 1`` weights.
    aic, bic : float
    regularization : dict or None
    """

    mixture: Mixture
    loglik: float
    objective: float
    converged: bool
    n_iter: int
    rel_change: float
    residual_norm: np.ndarray
    trace: np.ndarray
    runs: list
    n: int
    weight_sum: float
    n_params: int
    regularization: dict | None
    _data: tuple = field(default=(None, None, None), repr=False, compare=False)
    #: streamed fits: computes the observed information in one more pass over the data
    _info_fn: Any = field(default=None, repr=False, compare=False)

    @property
    def mean_loglik(self) -> float:
        return self.loglik / self.weight_sum

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self.n_params * np.log(self.weight_sum) - 2 * self.loglik

    @property
    def weights(self) -> np.ndarray:
        return self.mixture.weights

    @property
    def components(self) -> list:
        return self.mixture.components

    @cached_property
    def _se(self) -> dict:
        x, wt, R = self._data
        info = None if self._info_fn is None else self._info_fn()
        return mixture_standard_errors(self.mixture, x, wt, R, info=info)

    @property
    def se(self) -> dict:
        """Standard errors from the observed information (Louis' method, see
        :mod:`expfam.mixture.se`): ``{"weights": (K,), "params": [dict per component],
        "natural": [array per component]}``; computed on first access (for a file or a
        Dask collection: in one more streamed pass).  With
        ``pseudo_count`` they are those of the likelihood at the MAP estimate."""
        return {k: v for k, v in self._se.items() if k != "covariance"}

    @property
    def covariance(self) -> np.ndarray:
        """Covariance of ``(eta_1, .., eta_K, a_1, .., a_{K-1})`` (softmax logits ``a``)."""
        return self._se["covariance"]

    def summary(self) -> str:
        """A short human-readable report."""
        lines = [f"Mixture of {self.mixture.n_components} components: n={self.n}, "
                 f"converged={self.converged} after {self.n_iter} iterations "
                 f"(relative change {self.rel_change:.3g}), {len(self.runs)} start(s)"]
        se = self.se
        for k, c in enumerate(self.mixture.components):
            ps = ", ".join(f"{name}={np.array2string(np.asarray(v), precision=4)} "
                           f"(se {np.array2string(np.asarray(se['params'][k][name]), precision=2)})"
                           for name, v in c.params.items())
            lines.append(f"  [{k}] w={self.weights[k]:.4f} (se {se['weights'][k]:.2g})  "
                         f"{type(c).__name__}: {ps}")
        lines.append(f"  log-likelihood = {self.loglik:.6g}  AIC = {self.aic:.6g}  BIC = {self.bic:.6g}")
        return "\n".join(lines)
