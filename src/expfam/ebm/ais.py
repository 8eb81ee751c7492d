"""Annealed importance sampling (Neal 2001) of ``log Z`` of an Ising model.

Path: ``f_b(s) = h.s + b E_J(s)``, ``b = 0 = b_0 < b_1 < ... < b_K = 1``, in the ``{-1,+1}``
basis, with ``E_J(s) = sum_{i<j} J_ij s_i s_j``.  At ``b = 0`` the spins are independent:
``log Z_0 = sum_i log(2 cosh h_i)`` and exact draws are cheap.  Each of ``M`` runs starts
from an exact draw and at every step adds ``(b_k - b_(k-1)) E_J(s)`` to its log-weight,
then moves ``s`` by Gibbs sweeps that leave ``p_(b_k)`` invariant.  ``Z / Z_0`` is the mean
of the weights (unbiased); the estimate of ``log Z`` is
``log Z_0 + log mean(w)`` with the delta-method standard error
``sd(w) / (sqrt(M) mean(w))``, and the effective sample size of the weights,
``(sum w)^2 / sum w^2``, says whether it can be trusted (a handful out of ``M``: no).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int
from ..errors import ParameterError
from . import _hooks

__all__ = ["AnnealedEstimate", "ais_log_partition"]


@dataclass(frozen=True)
class AnnealedEstimate:
    """``log Z`` by annealed importance sampling.

    Attributes
    ----------
    value : float
        The estimate of ``log Z`` (in the model's own basis).
    se : float
        Its standard error (delta method over the ``M`` independent runs).
    ess : float
        Effective sample size of the importance weights.
    log_weights : ndarray, shape (M,)
    n_temperatures : int
    """

    value: float
    se: float
    ess: float
    log_weights: np.ndarray
    n_temperatures: int

    def __float__(self) -> float:
        return self.value


def ais_log_partition(model, *, n_runs: int = 1000, n_temperatures: int = 1000,
                      sweeps: int = 1, scan: str = "random", rng=None) -> AnnealedEstimate:
    """``log Z`` of an :class:`~expfam.ebm.Ising` model by AIS (see the module docstring).

    Parameters
    ----------
    model : Ising
    n_runs : int
        Number of independent annealing runs ``M`` (chains, run in parallel).
    n_temperatures : int
        Number of steps ``K`` of the linear schedule of ``b``.
    sweeps : int
        Gibbs sweeps per temperature.
    scan : {"random", "sequential", "checkerboard"}
    rng : int or numpy.random.Generator, optional

    Returns
    -------
    AnnealedEstimate
    """
    from .gibbs import GibbsSampler
    from .ising import Ising

    if not isinstance(model, Ising):
        raise ParameterError(f"ais_log_partition needs an Ising model; got {type(model).__name__}")
    M = check_int(n_runs, "n_runs", 2)
    K_steps = check_int(n_temperatures, "n_temperatures", 1)
    sweeps = check_int(sweeps, "sweeps", 1)
    rng = np.random.default_rng(rng)
    cls, fixed = type(model), model.fixed
    n = fixed["n"]
    eta_pm, c = cls.to_pm(model.natural, fixed)
    h, Jp = eta_pm[:n], eta_pm[n:]
    I, J = cls.pairs(fixed)
    pm_fixed = {**fixed, "spins": "+-1"}
    # log Z_0 = sum log(2 cosh h_i) = sum |h_i| + log(1 + exp(-2|h_i|)), stably
    logz0 = float(np.sum(np.abs(h) + np.log1p(np.exp(-2 * np.abs(h)))))
    g = GibbsSampler(M, scan=scan, thin=1, burn_in=0, seed=rng)
    g._start(n, rng, "ising")
    p_plus = 0.5 * (1.0 + np.tanh(h))  # exact draws of p_0
    g.states[:] = np.where(rng.random((M, n)) < p_plus, 1, -1).astype(np.int8)
    betas = np.linspace(0.0, 1.0, K_steps + 1)
    logw = np.zeros(M)
    Jm = cls.coupling_matrix(eta_pm, pm_fixed)
    for k in range(1, K_steps + 1):
        s = g.states.astype(np.float64)
        logw += (betas[k] - betas[k - 1]) * 0.5 * np.einsum("mi,mi->m", s @ Jm, s)
        eta_b = np.concatenate([h, betas[k] * Jp])
        g._sweep(cls, eta_b, pm_fixed, sweeps, 0)
    top = logw.max()
    w = np.exp(logw - top)
    mean_w = w.mean()
    se = float(w.std(ddof=1) / (np.sqrt(M) * mean_w))
    ess = float(w.sum() ** 2 / np.sum(w * w))
    value = logz0 + top + np.log(mean_w) + float(c)
    return AnnealedEstimate(value=float(value), se=se, ess=ess, log_weights=logw,
                            n_temperatures=K_steps)


_hooks.provide("ais", ais_log_partition)
