"""Worked examples of user-defined families (:func:`expfam.define_family`).

Each function defines its family on first call (registering it under its name) and
returns the same class afterwards:

- :func:`conway_maxwell_poisson`: ``p(x) ~ lam^x / (x!)^nu`` on ``{0, 1, ...}``,
  ``u = (x, log x!)``, natural parameters ``(log lam, -nu)``: counts under-dispersed
  (``nu > 1``) or over-dispersed (``nu < 1``) relative to the Poisson (``nu = 1``);
- :func:`quartic`: ``p(x) ~ exp(eta1 x + eta2 x^2 + eta3 x^3 + eta4 x^4)`` on the real line
  (``eta4 < 0``), bimodal when ``eta2 > 0``;
- :func:`truncated_normal`: ``u = (x, x^2)`` on ``[a, b]``;
- :func:`grid_family`: a family on the 2-D states of a small grid, ``u = (x, y, x y)``
  (two coupled integer-valued variables);
- :func:`user_poisson`: the Poisson written as a user-defined family (``u = x``,
  ``log h = -log x!``), which agrees with :class:`expfam.Poisson`.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
from scipy import special

from .domains import NATURALS, REAL, Interval
from .families import define_family

__all__ = ["conway_maxwell_poisson", "quartic", "truncated_normal", "grid_family",
           "user_poisson", "cmp_natural", "truncnorm_natural"]


def _log_factorial(x):
    return special.gammaln(x + 1.0)


@functools.cache
def conway_maxwell_poisson():
    """The Conway-Maxwell-Poisson family: ``u(x) = (x, log x!)`` on ``{0, 1, 2, ...}``.

    Natural parameters ``(log_rate, neg_nu) = (log lam, -nu)`` (see :func:`cmp_natural`);
    ``A`` is a series (``nu > 0``, or ``nu = 0`` with ``lam < 1``).
    """
    return define_family(lambda x: (x, _log_factorial(x)), NATURALS,
                         name="conway_maxwell_poisson", param_names=("log_rate", "neg_nu"))


def cmp_natural(lam, nu) -> np.ndarray:
    """Natural parameters of the Conway-Maxwell-Poisson law with rate ``lam``, dispersion ``nu``."""
    return np.stack(np.broadcast_arrays(np.log(lam), -np.asarray(nu, dtype=np.float64)), -1)


@functools.cache
def quartic():
    """``u(x) = (x, x^2, x^3, x^4)`` on the real line: ``A`` by quadrature (``eta4 < 0``)."""
    return define_family(lambda x: (x, x ** 2, x ** 3, x ** 4), REAL, name="quartic")


@functools.cache
def truncated_normal(a: float = -1.0, b: float = 2.0):
    """The normal truncated to ``[a, b]``: ``u(x) = (x, x^2)``, natural parameters
    ``(mu / sigma^2, -1 / (2 sigma^2))`` (see :func:`truncnorm_natural`; any real
    ``eta2``: the interval is bounded)."""
    return define_family(lambda x: (x, x ** 2), Interval(a, b, True, True),
                         name=f"truncated_normal[{a:g},{b:g}]")


def truncnorm_natural(mu, sigma) -> np.ndarray:
    """Natural parameters of the normal ``N(mu, sigma^2)`` (before truncation)."""
    mu, s2 = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64) ** 2
    return np.stack(np.broadcast_arrays(mu / s2, -0.5 / s2), -1)


#: the states of :func:`grid_family`: the points (x, y) of {0, 1, 2} x {0, 1, 2, 3}
GRID_STATES = np.array(list(itertools.product(range(3), range(4))), dtype=np.float64)


@functools.cache
def grid_family():
    """A family on the 12 two-dimensional states ``(x, y)`` of ``{0,1,2} x {0,1,2,3}``:
    ``u = (x, y, x y)``, ``h = C(2, x) C(3, y)`` (binomial counts coupled by ``x y``)."""
    def u(s):
        return np.stack([s[:, 0], s[:, 1], s[:, 0] * s[:, 1]], axis=-1)

    def log_h(s):
        return np.log(special.comb(2, s[:, 0]) * special.comb(3, s[:, 1]))

    return define_family(u, GRID_STATES, log_h, name="coupled_binomial_grid",
                         param_names=("x", "y", "xy"))


@functools.cache
def user_poisson():
    """The Poisson as a user-defined family: ``u = x``, ``log h = -log x!``; ``eta = log lam``."""
    return define_family(lambda x: x, NATURALS, lambda x: -_log_factorial(x),
                         name="user_poisson", param_names=("log_rate",))
