"""A family member from a frozen ``scipy.stats`` distribution (the inverse of ``to_scipy``).

One rule per SciPy distribution maps its shape, ``loc`` and ``scale`` to the family's
parameters; a location or scale that the family does not have (a shifted Gamma, a scaled
Poisson) is refused rather than dropped.  Every result is checked: its own ``to_scipy()``
must give back the same SciPy parameters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InputTypeError, ParameterError, UnknownFamilyError

__all__ = ["from_scipy"]


def _zero_loc(name, loc, scale, *, scale_one=False):
    if loc != 0:
        raise ParameterError(f"scipy.stats.{name} with loc={loc!r}: the expfam family has no "
                             f"location parameter (only loc=0 is supported)")
    if scale_one and scale != 1:
        raise ParameterError(f"scipy.stats.{name} with scale={scale!r}: the expfam family has "
                             f"no scale parameter (only scale=1 is supported)")


def _rule(family, build, *, loc=True, scale=False):
    """A rule: the family, ``build(shapes, loc, scale) -> kwargs``, and which of loc /
    scale must be 0 / 1 (``loc=True``: loc must be 0; ``scale=True``: scale must be 1)."""
    return family, build, loc, scale


#: scipy name -> (expfam family name, build, loc must be 0, scale must be 1)
_RULES = {
    "norm": _rule("normal", lambda s, loc, sc: {"loc": loc, "scale": sc}, loc=False),
    "gamma": _rule("gamma", lambda s, loc, sc: {"shape": s[0], "rate": 1 / sc}),
    "expon": _rule("exponential", lambda s, loc, sc: {"rate": 1 / sc}),
    "beta": _rule("beta", lambda s, loc, sc: {"a": s[0], "b": s[1]}, scale=True),
    "lognorm": _rule("lognormal", lambda s, loc, sc: {"mu": math.log(sc), "sigma": s[0]}),
    "weibull_min": _rule("weibull", lambda s, loc, sc: {"k": s[0], "scale": sc}),
    "invgamma": _rule("inverse_gamma", lambda s, loc, sc: {"shape": s[0], "scale": sc}),
    # scipy's invgauss(mu, scale=lam): mean mu * lam, shape lam
    "invgauss": _rule("inverse_gaussian", lambda s, loc, sc: {"mean": s[0] * sc, "shape": sc}),
    "laplace": _rule("laplace", lambda s, loc, sc: {"loc": loc, "scale": sc}, loc=False),
    "pareto": _rule("pareto", lambda s, loc, sc: {"alpha": s[0], "x_m": sc}),
    "rayleigh": _rule("rayleigh", lambda s, loc, sc: {"scale": sc}),
    "chi2": _rule("chi_square", lambda s, loc, sc: {"df": s[0]}, scale=True),
    "vonmises": _rule("von_mises", lambda s, loc, sc: {"loc": loc, "kappa": s[0]}, loc=False,
                      scale=True),
    "poisson": _rule("poisson", lambda s, loc, sc: {"rate": s[0]}),
    "bernoulli": _rule("bernoulli", lambda s, loc, sc: {"p": s[0]}),
    "binom": _rule("binomial", lambda s, loc, sc: {"n": _integer(s[0], "n"), "p": s[1]}),
    # expfam's geometric counts failures (support 0, 1, ...): SciPy's geom with loc=-1
    "geom": _rule("geometric", lambda s, loc, sc: {"p": s[0]}, loc=False),
    "nbinom": _rule("negative_binomial", lambda s, loc, sc: {"r": s[0], "p": s[1]}),
}


def _integer(value, name):
    if float(value) != int(value):
        raise ParameterError(f"{name} must be an integer; got {value!r}")
    return int(value)


def _scalar(value, what):
    arr = np.asarray(value, dtype=float)
    if arr.ndim:
        raise ParameterError(f"{what}: a batch of SciPy distributions (shape {arr.shape}); "
                             f"convert one at a time")
    return float(arr)


def _parsed(frozen) -> tuple:
    """``(name, shapes, loc, scale)`` of a univariate frozen SciPy distribution."""
    dist = frozen.dist
    parsed = dist._parse_args(*frozen.args, **frozen.kwds)
    shapes, loc = parsed[0], parsed[1]
    scale = parsed[2] if len(parsed) > 2 else 1.0
    what = f"scipy.stats.{dist.name}"
    return (dist.name, tuple(_scalar(s, what) for s in shapes), _scalar(loc, what),
            _scalar(scale, what))


def _multivariate(frozen):
    from ..families import resolve_family

    kind = type(frozen).__name__
    if kind == "multivariate_normal_frozen":
        cov = getattr(frozen, "cov_object", None)
        cov = frozen.cov if cov is None else cov.covariance
        return resolve_family("multivariate_normal")(mean=np.asarray(frozen.mean, float),
                                                     cov=np.asarray(cov, float))
    if kind == "dirichlet_frozen":
        return resolve_family("dirichlet")(alpha=np.asarray(frozen.alpha, float))
    if kind == "multinomial_frozen":
        return resolve_family("multinomial")(n=_integer(frozen.n, "n"),
                                             probs=np.asarray(frozen.p, float))
    return None


def from_scipy(frozen: Any):
    """The expfam distribution equal to a frozen ``scipy.stats`` distribution.

    Parameters
    ----------
    frozen : scipy.stats frozen distribution
        ``stats.gamma(2, scale=0.5)``, ``stats.poisson(3)``,
        ``stats.multivariate_normal(mean, cov)``...  Supported: norm, gamma, expon, beta,
        lognorm, weibull_min, invgamma, invgauss, laplace, pareto, rayleigh, chi2,
        vonmises, poisson, bernoulli, binom, nbinom (with ``loc = 0``, and ``scale = 1``
        where the family has no scale, except the location families norm, laplace and
        vonmises), multivariate_normal, dirichlet, multinomial.

    Returns
    -------
    ExponentialFamily
        The member, whose ``to_scipy()`` has the same parameters.

    Raises
    ------
    expfam.errors.InputTypeError
        ``frozen`` is not a frozen SciPy distribution.
    expfam.errors.UnknownFamilyError
        SciPy's distribution has no exponential family here (the message lists those
        supported).
    expfam.errors.ParameterError
        A location or scale the family does not have, a batch of distributions, or a
        parameter outside the family's domain.
    """
    from ..families import resolve_family

    member = _multivariate(frozen)
    if member is not None:
        return member
    if not (hasattr(frozen, "dist") and hasattr(frozen, "args") and hasattr(frozen, "kwds")):
        raise InputTypeError(f"from_scipy: expected a frozen scipy.stats distribution such as "
                             f"scipy.stats.gamma(2, scale=0.5); got {type(frozen).__name__}")
    name, shapes, loc, scale = _parsed(frozen)
    if name not in _RULES:
        raise UnknownFamilyError(
            f"from_scipy: scipy.stats.{name} is not an exponential family of expfam; "
            f"supported: {', '.join(sorted(_RULES))}, multivariate_normal, dirichlet, "
            f"multinomial")
    family, build, zero_loc, unit_scale = _RULES[name]
    if name == "geom" and loc != -1:
        raise ParameterError(f"scipy.stats.geom with loc={loc!r}: expfam's Geometric counts "
                             f"failures (support 0, 1, ...), which is geom(p, loc=-1)")
    if zero_loc:
        _zero_loc(name, loc, scale, scale_one=unit_scale)
    elif unit_scale and scale != 1:
        _zero_loc(name, 0, scale, scale_one=True)
    member = resolve_family(family)(**build(shapes, loc, scale))
    _check_round_trip(name, shapes, loc, scale, member)
    return member


def _check_round_trip(name, shapes, loc, scale, member) -> None:
    back = _parsed(member.to_scipy())
    expected = (name, shapes, loc, scale)
    if back[0] != name or not np.allclose(np.r_[back[1], back[2:]], np.r_[shapes, loc, scale],
                                          rtol=1e-9, atol=0):
        raise AssertionError(f"from_scipy: {member!r} is {back}, not {expected}")  # a bug
