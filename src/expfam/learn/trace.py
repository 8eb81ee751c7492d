"""The learner's trace: one row per recorded step, for plots and convergence checks."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class SGDTrace:
    """Per-step record of a stochastic fit (every ``trace_every``-th step).

    Arrays have one row per recorded step; per-distribution quantities carry the model's
    batch shape after that axis (``(n_rows,)`` for a single distribution).

    Attributes
    ----------
    step : ndarray of int
        Step number ``t`` (1-based count of updates).
    lr : ndarray
        Learning rate ``lr_t`` of the step (before backtracking).
    residual_norm : ndarray
        ``|E_batch[u] - E_eta[u]| / |E_batch[u]|`` at the iterate the step started from:
        the norm of the (relative) residual that drove the step.
    moment_se : ndarray
        Monte Carlo standard error of the model moment, same scale as ``residual_norm``
        (zeros for exact moments): residuals below it are noise.
    distance_se : ndarray
        Distance of the reported model (after the step) from the maximum-likelihood
        estimate of all the data (the training array, or every batch seen so far), in
        standard errors of that estimate: ``sqrt(W r' F^-1 r)`` with ``r`` the residual on
        those data and ``F`` the Fisher information at the model (see
        :class:`~expfam.StochasticFitter`, Notes).  The stochastic stopping rule compares
        it with ``se_tol``.
    backtracks : ndarray of int
        Halvings of the step needed to stay in the natural domain with finite values.
    cross_entropy, cross_entropy_se : ndarray
        Minibatch cross-entropy ``-(1/B) sum log p(x_n | eta)`` at the iterate the step
        started from, and its standard error ``sd / sqrt(B)`` (NaN when the family's log
        partition is intractable).
    holdout_cross_entropy, holdout_cross_entropy_se : ndarray or None
        :func:`expfam.mc_cross_entropy` of the reported model (after the step) on the
        held-out data, with its standard error; ``None`` without held-out data.
    natural : ndarray, shape (n_rows, *batch, k)
        Natural parameters of the reported model after the step (the Polyak-Ruppert
        average when averaging).
    """

    step: np.ndarray
    lr: np.ndarray
    residual_norm: np.ndarray
    moment_se: np.ndarray
    distance_se: np.ndarray
    backtracks: np.ndarray
    cross_entropy: np.ndarray
    cross_entropy_se: np.ndarray
    holdout_cross_entropy: np.ndarray | None
    holdout_cross_entropy_se: np.ndarray | None
    natural: np.ndarray

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @property
    def total_backtracks(self) -> int:
        """Halvings summed over the recorded steps and batch elements."""
        return int(np.sum(self.backtracks))


class TraceRecorder:
    """Collects rows; :meth:`freeze` stacks them into an :class:`SGDTrace`."""

    def __init__(self, holdout: bool):
        self.holdout = holdout
        self.rows = {f.name: [] for f in fields(SGDTrace)}

    def add(self, **row) -> None:
        for name, value in row.items():
            self.rows[name].append(value)

    def freeze(self) -> SGDTrace:
        out = {}
        for name, values in self.rows.items():
            if name.startswith("holdout") and not self.holdout:
                out[name] = None
            elif not values:
                out[name] = np.zeros((0,), dtype=int if name in ("step", "backtracks") else float)
            else:
                out[name] = np.stack([np.asarray(v) for v in values])
        return SGDTrace(**out)
