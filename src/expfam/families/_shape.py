"""The Gamma shape equation ``log(a) - digamma(a) = s`` (``s > 0``), shared by the Gamma
(``s = log mean(x) - mean(log x)``) and the inverse gamma (the same on ``1/x``).

The Newton iteration is written once, array-agnostic (:mod:`expfam._special`): it runs
vectorised with NumPy, or compiled one element at a time for large batches
(:func:`expfam._kernels.iterate`).  ``f(a) = log a - digamma(a) - s`` is convex and
decreasing, so Newton's method from Minka's start (within 1.5 % of the root) converges
monotonically after at most one step past the root (a step that would leave ``a > 0`` is
halved instead).
"""

from __future__ import annotations

import numpy as np

from .. import _kernels
from .._special import log_minus_digamma, log_minus_digamma_prime, select


def shape_start(s):
    """Minka (2002), "Estimating a Gamma distribution": the root within 1.5 %.  State:
    ``(a, |f| of the previous iterate)``."""
    a = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    return a, s * 0.0 + np.inf


def shape_step(state, s):
    """One Newton step; done at an exact root, at the rounding floor of ``f`` (``|f|``
    stopped decreasing: the previous iterate is kept), or after a step of relative size
    ``3e-8`` (quadratic convergence: the error of the new iterate is then ~1e-15)."""
    a, f_prev = state
    f = log_minus_digamma(a) - s
    an = a - f / log_minus_digamma_prime(a)
    an = select(an > 0.0, an, 0.5 * a)
    floor = (f == 0.0) | (abs(f) >= f_prev)
    done = floor | (abs(an - a) <= 3e-8 * a)
    return (select(floor, a, an), abs(f)), done


def solve_gamma_shape(s, max_iter: int = 100):
    """Solve ``log(a) - digamma(a) = s`` for ``a`` elementwise; ``(a, converged, n_iter)``."""
    (a, _), done, it = _kernels.iterate(shape_start, shape_step, (s,), max_iter=max_iter)
    return a, done, it
