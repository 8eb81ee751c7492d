"""Step rules, learning-rate schedules and the domain safeguard.

Every rule turns the residual ``g = E_batch[u] - E_eta[u]`` (the ascent direction of the
mean log-likelihood, the seed's eq. 5) into a direction ``d``; the learner then moves
``eta += lr_t * d``:

- ``"plain"``: ``d = g``;
- ``"natural"``: ``d = F(eta)^-1 g`` with the Fisher information ``F = Cov_eta[u]``.  With
  ``lr = 1``, the full batch and exact moments this is Newton's method on the convex dual
  ``A(eta) - eta . mu_data``;
- ``"adam"``: Adam (Kingma & Ba 2015) on the loss gradient ``-g``, with bias-corrected
  first and second moments; ``d`` is the ascent direction ``m_hat / (sqrt(v_hat) + eps)``
  of the moments of ``g``.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

METHODS = ("plain", "natural", "adam")
SCHEDULES = ("constant", "robbins-monro")
AVERAGING = (False, True, "all", "tail")
#: default learning rate of each method (plain's ideal rate depends on the scale of u)
DEFAULT_LR = {"plain": 0.1, "natural": 1.0, "adam": 0.01}


class Schedule:
    """Learning rate of step ``t = 1, 2, ...``: ``lr`` (constant) or, Robbins-Monro,
    ``lr * (B_t / N_t)**power`` with ``B_t`` the number of observations of batch ``t`` and
    ``N_t`` that of batches ``1..t``: ``lr / t**power`` when the batches have equal sizes
    (the clock counts observations, so that with ``power=1`` a batch weighs in proportion
    to its size).  ``power`` in (0.5, 1] so that ``sum lr_t = inf`` and
    ``sum lr_t**2 < inf``."""

    def __init__(self, lr, schedule="constant", power=0.6):
        if schedule not in SCHEDULES:
            raise ParameterError(f"schedule must be one of {SCHEDULES}; got {schedule!r}")
        if not _is_real(lr) or not np.isfinite(lr) or lr <= 0:
            raise ParameterError(f"lr must be a finite number > 0; got {lr!r}")
        if not _is_real(power) or not 0.5 < power <= 1:
            raise ParameterError(f"power must lie in (0.5, 1]; got {power!r}")
        self.lr, self.schedule, self.power = float(lr), schedule, float(power)

    def __call__(self, t: int, frac: float | None = None) -> float:
        """``lr_t``; ``frac = B_t / N_t`` (default ``1 / t``)."""
        if self.schedule == "constant":
            return self.lr
        return self.lr * (1.0 / t if frac is None else frac) ** self.power


class Averager:
    """Polyak-Ruppert averaging of the iterates ``eta_t``, ``t = 1, 2, ...``.

    Parameters
    ----------
    kind : {False, True, "all", "tail"}
        ``False``: no averaging (the reported parameters are the iterate).  ``True`` or
        ``"all"``: the classical average of every iterate after ``start`` (Polyak &
        Juditsky 1992).  ``"tail"``: suffix averaging -- with ``s = t - start`` and
        ``2^j <= s < 2^(j+1)``, the mean of the iterates since ``s = 2^(j-1)``, i.e. of
        the last half to three quarters of the steps, so that the transient from the
        starting point is forgotten instead of diluted like ``1/t``.
    start : int
        Steps left out of the average (burn-in).
    """

    def __init__(self, kind=False, start=0):
        if isinstance(kind, np.bool_):
            kind = bool(kind)
        if not any(kind is a or (isinstance(kind, str) and kind == a) for a in AVERAGING):
            raise ParameterError(f"averaging must be one of {AVERAGING}; got {kind!r}")
        self.kind = "all" if kind is True else kind
        self.start = int(start)
        self._a = self._b = None  # running means (the reported one, the next block's)
        self._na = self._nb = 0

    def __call__(self, eta, t):
        """The reported parameters after iterate ``eta`` of step ``t``."""
        s = t - self.start
        if self.kind is False or s <= 0:
            return eta
        if self.kind == "all":
            self._na += 1
            self._a = eta.copy() if self._na == 1 else self._a + (eta - self._a) / self._na
            return self._a
        if s & (s - 1) == 0:  # s is a power of two: the last block becomes the reported one
            if self._b is not None:
                self._a, self._na = self._b, self._nb
            self._b, self._nb = None, 0
        self._nb += 1
        self._b = eta.copy() if self._nb == 1 else self._b + (eta - self._b) / self._nb
        if self._a is None:
            return self._b
        self._na += 1
        self._a = self._a + (eta - self._a) / self._na
        return self._a


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


class PlainStep:
    needs_fisher = False

    def direction(self, g, fisher=None):
        return g


class NaturalStep:
    needs_fisher = True

    def direction(self, g, fisher):
        return solve(fisher, g)


class AdamStep:
    """Adam on ``-g``; the state (moments, step count) lives in the rule."""

    needs_fisher = False

    def __init__(self, betas=(0.9, 0.999), eps=1e-8):
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1) or not eps > 0:
            raise ParameterError(f"Adam needs betas in [0, 1) and eps > 0; got {betas}, {eps}")
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.m = self.v = None
        self.t = 0

    def direction(self, g, fisher=None):
        if self.m is None:
            self.m, self.v = np.zeros_like(g), np.zeros_like(g)
        self.t += 1
        # moments of the loss gradient -g: m tracks -g, v tracks g**2
        self.m = self.b1 * self.m + (1 - self.b1) * (-g)
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat = self.m / (1 - self.b1**self.t)
        v_hat = self.v / (1 - self.b2**self.t)
        return -m_hat / (np.sqrt(v_hat) + self.eps)  # descent on -g = ascent on g


def make_rule(method, betas=(0.9, 0.999), eps=1e-8):
    if method == "plain":
        return PlainStep()
    if method == "natural":
        return NaturalStep()
    if method == "adam":
        return AdamStep(betas, eps)
    raise ParameterError(f"method must be one of {METHODS}; got {method!r}")


def solve(F, g):
    """``F^-1 g`` per batch element; the pseudo-inverse where ``F`` is singular."""
    with np.errstate(all="ignore"):
        try:
            d = np.linalg.solve(F, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            d = None
        if d is None or not np.all(np.isfinite(d)):
            pinv = np.linalg.pinv(np.where(np.isfinite(F), F, 0.0))
            d_pinv = np.einsum("...ij,...j->...i", pinv, g)
            d = d_pinv if d is None else np.where(np.isfinite(d), d, d_pinv)
    return d


def safeguarded_step(eta, step, check, max_halvings=60):
    """``eta + s * step`` with ``s = 1, 1/2, 1/4...``: the first that ``check`` accepts.

    Parameters
    ----------
    eta : ndarray, shape (..., k)
        Current parameters (valid).
    step : ndarray, shape (..., k)
        Proposed step; non-finite components make the whole step of that batch element
        rejected.
    check : callable
        ``check(candidate) -> (ok, aux)``: ``ok`` a boolean mask of the batch shape
        (inside the natural domain, finite...), ``aux`` an array ``(..., k)`` computed at
        the candidate (e.g. its exact mean, reused by the next step) or ``None``.
    max_halvings : int
        A batch element whose step is still rejected after this many halvings keeps its
        ``eta`` (a zero step).

    Returns
    -------
    new_eta : ndarray
    halvings : ndarray of int, batch shape
        Backtracks per element (``max_halvings`` for a rejected step).
    aux : ndarray or None
        ``check``'s ``aux`` at the accepted candidates (``None`` where the step was
        rejected, signalled by ``ok_final`` False).
    ok_final : ndarray of bool
    """
    batch = eta.shape[:-1]
    finite = np.all(np.isfinite(step), axis=-1)
    step = np.where(finite[..., None], step, 0.0)
    halvings = np.where(finite, 0, max_halvings)
    scale = np.ones(batch)
    new = eta + step
    ok, aux = check(new)
    ok = ok & finite
    for _ in range(max_halvings):
        todo = ~ok & finite & (halvings < max_halvings)
        if not todo.any():
            break
        scale = np.where(todo, 0.5 * scale, scale)
        halvings = halvings + todo
        cand = eta + scale[..., None] * step
        ok2, aux2 = check(cand)
        new = np.where(todo[..., None], cand, new)
        ok = np.where(todo, ok2, ok)
        if aux is not None:
            aux = np.where(todo[..., None], aux2, aux)
    new = np.where(ok[..., None], new, eta)
    return new, halvings, aux, ok
