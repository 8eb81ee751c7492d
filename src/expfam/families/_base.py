"""The model hierarchy, by capability.

A member of an exponential family is ``p(x | eta) = h(x) exp(eta . u(x) - A(eta))`` with
sufficient statistics ``u``, log base measure ``log h``, natural parameters ``eta`` and log
partition ``A``; ``grad A(eta) = E_eta[u]`` are the mean parameters and
``hess A(eta) = Cov_eta[u]`` is the Fisher information (DESIGN.md).

Two abstract base classes, each a capability:

- :class:`SufficientStatisticModel`: ``u``, ``log h``, the support (a
  :class:`~expfam.domains.Domain`), the fixed parameters and the natural dimension, and the
  source of its model moments (:meth:`~SufficientStatisticModel.moment_source`).  That is
  all the accumulator, the file readers, Dask and the stochastic learner need; a model
  whose ``A`` is intractable (an energy-based model sampled by MCMC) is one of these.
- :class:`ExponentialFamily`: adds a tractable ``A``, ``grad A`` and ``hess A``, and with
  them densities, entropy, KL and the exact fit.  Its mean -> natural map is the generic
  safeguarded Newton iteration (:func:`expfam.solvers.newton`) from the family's
  :meth:`~ExponentialFamily.initial_natural`; a family overrides
  :meth:`~ExponentialFamily.natural_from_mean` only for a closed form or a better solver.
  :class:`~expfam.families.FiniteSupportFamily` computes ``A`` by enumeration.

Every concrete class (one that sets ``name``) registers itself by subclassing; nothing
keeps a list by hand.

Everything about a family lives in its module: its statistics and base measure (one
array-agnostic ``element`` function, used by NumPy and compiled by the kernels), support,
``A`` and its derivatives, solver start, parameters and sampling.  The mathematics lives
in classmethods on arrays with a batch shape, ``eta`` of shape ``(..., k)``, and a dict
``fixed`` of the parameters held fixed (Binomial's ``n``, Weibull's ``k``...).  An instance
is one distribution (or a batch of them).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Union

import numpy as np

from .._validation import as_float_array, as_rng, check_finite, check_int, format_index, raise_support, show
from ..domains import Domain, FiniteSet
from ..errors import (
    FamilyMismatchError,
    FloatRangeError,
    ModelCapabilityError,
    ParameterError,
    ShapeError,
    UnknownFamilyError,
)
from ..moments import ExactMoments, in_hull_interior
from ..solvers import RTOL, SolveResult, newton, solve_mean_to_natural

__all__ = ["SufficientStatisticModel", "ExponentialFamily", "registered", "resolve_family",
           "broadcast_params", "require", "check_integer", "check_support"]

#: what the public functions accept as a family: a registry name, a class or an instance
FamilyLike = Union[str, type["SufficientStatisticModel"], "SufficientStatisticModel"]

#: registry name -> class, filled by ``__init_subclass__``
_REGISTRY: dict[str, type] = {}
#: normalised registry and class names -> class
_BY_KEY: dict[str, type] = {}
_NO_PARAMS = np.zeros(1)


def _normalise(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").replace(" ", "")


def registered() -> dict[str, type]:
    """Every registered model class, by registry name (a copy)."""
    return dict(_REGISTRY)


def resolve_family(family: FamilyLike) -> type[SufficientStatisticModel]:
    """The model class for a class, an instance or a registry name (case-insensitive).

    Raises
    ------
    UnknownFamilyError
        For an unknown name (the message lists the known ones) or an object that is not
        a family.
    """
    if isinstance(family, type) and issubclass(family, SufficientStatisticModel):
        return family
    if isinstance(family, SufficientStatisticModel):
        return type(family)
    if isinstance(family, str):
        cls = _BY_KEY.get(_normalise(family))
        if cls is not None:
            return cls
        raise UnknownFamilyError(
            f"unknown family {family!r}; known families: {', '.join(sorted(_REGISTRY))}")
    raise UnknownFamilyError(
        f"expected a family class, instance or name (e.g. 'gamma'); got {family!r}")


def broadcast_params(**params) -> dict:
    """Convert familiar parameters to float arrays broadcast to one batch shape."""
    arrays = {k: as_float_array(v, name=f"parameter {k!r}", invalid=ParameterError,
                                nonfinite=ParameterError) for k, v in params.items()}
    for k, v in arrays.items():
        check_finite(v, name=f"parameter {k!r}")
    try:
        shapes = np.broadcast_shapes(*(v.shape for v in arrays.values()))
    except ValueError as exc:
        raise ShapeError(f"parameters {list(arrays)} of shapes "
                         f"{[v.shape for v in arrays.values()]} do not broadcast together") from exc
    return {k: np.broadcast_to(v, shapes).astype(np.float64) for k, v in arrays.items()}


def require(condition, values, name: str, domain) -> None:
    """Raise :class:`ParameterError` for the first element where ``condition`` is False."""
    condition = np.asarray(condition)
    if not condition.all():
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), condition.shape)
        bad = np.flatnonzero(~condition)
        i = bad[0]
        where = f" at batch index {format_index(i, condition.shape)}" if condition.ndim else ""
        raise ParameterError(
            f"parameter {name!r} must be {domain}; got {show(values.ravel()[i])}{where}")


def check_integer(value, name: str, minimum: int) -> int:
    """A fixed parameter that must be a scalar integer ``>= minimum``; returned as int."""
    v = np.asarray(value)
    ok = v.ndim == 0 and v.dtype.kind in "iuf" and np.isfinite(v) and v == np.floor(v) and v >= minimum
    if not ok:
        shown = float(v) if v.ndim == 0 and v.dtype.kind in "iuf" else value
        raise ParameterError(f"fixed parameter {name!r} must be an integer >= {minimum}; got {shown!r}")
    return int(v)


def check_support(cls, x: np.ndarray, fixed: dict, name: str = "data") -> None:
    """Raise :class:`~expfam.errors.SupportError` naming the first value outside the support."""
    inside = np.asarray(cls.in_support(x, fixed))
    if not inside.all():
        raise_support(~inside, x, str(cls.support_of(fixed)), name=name)


def fixed_equal(a: dict, b: dict) -> bool:
    """Whether two dicts of fixed parameters are equal (arrays compared by value)."""
    if a.keys() != b.keys():
        return False
    return all(np.array_equal(a[k], b[k]) for k in a)


def _representable(method):
    """Wrap a family's ``natural_from_params`` (a classmethod): parameters that are valid
    but whose natural parameters overflow or underflow float64 (``Normal(0, 1e200)``:
    ``-1 / (2 scale^2)`` underflows to 0) raise :class:`FloatRangeError` saying so,
    instead of a misleading domain error."""
    raw = method.__func__ if isinstance(method, classmethod) else method

    @functools.wraps(raw)
    def natural_from_params(cls, fixed, **params):
        with np.errstate(all="ignore"):
            eta = raw(cls, fixed, **params)
        eta_arr = np.asarray(eta, dtype=np.float64)
        ok = np.all(np.isfinite(eta_arr), axis=-1) if eta_arr.ndim else np.isfinite(eta_arr)
        if np.all(ok):
            try:
                ok = np.asarray(cls.natural_in_domain(eta_arr, fixed))
            except (KeyError, TypeError, IndexError):  # fixed parameters not known yet
                pass
        if not np.all(ok):
            i = int(np.flatnonzero(~np.asarray(ok))[0])
            flat = {k: np.asarray(v, dtype=float).reshape(-1) for k, v in params.items()}
            shown = ", ".join(f"{k}={show(v[i] if v.size > 1 else v[0])}"
                              for k, v in flat.items() if v.size == 1 or v.size > i)
            raise FloatRangeError(
                f"{cls.__name__}({shown}) is a valid distribution, but its natural "
                f"parameters {eta_arr.reshape(-1, eta_arr.shape[-1])[i]} overflow or "
                f"underflow float64; expfam represents a distribution by its natural "
                f"parameters, so rescale the data or the parameters")
        return eta

    return classmethod(natural_from_params)


def _clamp_kl(value):
    """KL >= 0: a negative at rounding level (> -1e-12, from the cancelling terms of a
    closed form) is an exact 0."""
    return np.where((value < 0) & (value > -1e-12), 0.0, value)


class SufficientStatisticModel(ABC):
    """A model known through its sufficient statistics: ``u``, ``log h``, support, fixed
    parameters, natural dimension and the source of its model moments.

    Subclasses with a scalar observation describe ``u`` and ``log h`` by one function,
    :attr:`element`, written with the array-agnostic functions of
    :mod:`expfam._special`: ``element(v, p, c) -> (u, log_h)`` with ``u`` a tuple of the
    ``k`` statistics of the value ``v``, ``p`` the family's parameter array
    (:meth:`element_params`) and ``c`` the location pivot (0 for families without one).
    NumPy calls it on arrays; the compiled kernels on one float at a time.  Families of
    vector observations override :meth:`sufficient_statistics` and
    :meth:`log_base_measure` instead.
    """

    #: registry name, e.g. ``"gamma"``; concrete classes set it and are registered
    name: ClassVar[str] = ""
    #: number of trailing axes of one observation (0 for scalars, 1 for vectors)
    event_ndim: ClassVar[int] = 0
    #: whether the distribution is discrete (``logpmf``) or continuous (``logpdf``)
    discrete: ClassVar[bool] = False
    #: names of the parameters held fixed (not fitted)
    fixed_params: ClassVar[tuple[str, ...]] = ()
    #: fixed parameters that are integers, with their minimum (checked by check_fixed)
    integer_fixed: ClassVar[dict[str, int]] = {}
    #: names of the familiar parameters, in the order of the constructor
    param_names: ClassVar[tuple[str, ...]] = ()
    #: domains of the familiar parameters (validation and property tests)
    param_domains: ClassVar[dict[str, Domain]] = {}
    #: the support, when it does not depend on fixed parameters (else :meth:`support_of`)
    support: ClassVar[Any] = None
    #: what boundary data look like, used when the MLE does not exist
    boundary_hint: ClassVar[str] = ""
    #: the per-value map ``element(v, p, c) -> (u, log_h)`` (``None``: vector observations)
    element: ClassVar[Any] = None
    #: optionally, a compiled block map ``block_element(xs, m, p, bounds, buf) -> n_bad``
    #: with the same values as ``element`` (for loops that ``element`` value by value
    #: cannot vectorise, e.g. table lookups); the 1-D kernel then uses it
    block_element: ClassVar[Any] = None
    #: every value outside the support (NaN and inf included) makes a statistic or
    #: ``log h`` non-finite (e.g. ``log x`` below 0), so the kernels check the support by
    #: the finiteness of the sums instead of value by value (tested for every family
    #: that declares it, from its support's ``draw_outside``)
    support_from_statistics: ClassVar[bool] = False
    #: ``log h(x)`` does not depend on ``x`` (the kernels then sum it as ``n * log h``)
    log_h_constant: ClassVar[bool] = False
    #: the statistics are accumulated about a location pivot (see :meth:`shift_sums`)
    pivot: ClassVar[bool] = False
    #: whether ``A``, its derivatives, densities and the exact fit are available (the
    #: capability of :class:`ExponentialFamily`); learners ask, never probe
    has_log_partition: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for attr in ("element", "block_element", "rows_element"):
            fn = cls.__dict__.get(attr)
            if fn is not None and not isinstance(fn, staticmethod):
                setattr(cls, attr, staticmethod(fn))
        if "natural_from_params" in cls.__dict__:
            cls.natural_from_params = _representable(cls.__dict__["natural_from_params"])
        name = cls.__dict__.get("name")
        if name:
            other = _REGISTRY.get(name)
            if other is not None and (other.__module__, other.__qualname__) != (
                    cls.__module__, cls.__qualname__):
                raise ValueError(f"a family named {name!r} is registered already ({other!r})")
            _REGISTRY[name] = cls
            _BY_KEY[_normalise(name)] = cls
            _BY_KEY[_normalise(cls.__name__)] = cls

    # ------------------------------------------------------------------
    # Fixed parameters, support, dimension
    # ------------------------------------------------------------------
    @classmethod
    def check_fixed(cls, fixed: dict) -> dict:
        """Validate the fixed parameters; return them normalised."""
        missing = set(cls.fixed_params) - set(fixed)
        extra = set(fixed) - set(cls.fixed_params)
        if missing:
            raise ParameterError(f"{cls.__name__} needs the fixed parameter(s) {sorted(missing)}")
        if extra:
            raise ParameterError(
                f"{cls.__name__} has no fixed parameter(s) {sorted(extra)}; "
                f"its fixed parameters are {list(cls.fixed_params)}"
            )
        fixed = dict(fixed)
        for name, minimum in cls.integer_fixed.items():
            fixed[name] = check_integer(fixed[name], name, minimum)
        return fixed

    @classmethod
    def infer_fixed(cls, x: np.ndarray, fixed: dict) -> dict:
        """Fill in fixed parameters that the data determine (e.g. number of categories)."""
        return fixed

    @classmethod
    def support_of(cls, fixed: dict) -> Domain:
        """The support for these fixed parameters."""
        return cls.support

    @classmethod
    @abstractmethod
    def natural_dim(cls, fixed: dict) -> int:
        """Number of natural parameters ``k`` (the number of free parameters)."""

    @classmethod
    @abstractmethod
    def natural_in_domain(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``eta.shape[:-1]``: ``eta`` lies in the natural domain."""

    @classmethod
    @abstractmethod
    def moment_source(cls, fixed: dict):
        """Where the model moment ``E_eta[u]`` comes from (:mod:`expfam.moments`)."""

    @classmethod
    def range_problem(cls, mu: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``mu.shape[:-1]``: the mean of the statistics is not in the
        interior because a sum overflowed or underflowed float64 (not because of the
        data), so that the error says so.  Default: a non-finite mean (an overflow)."""
        return ~np.all(np.isfinite(mu), axis=-1)

    @classmethod
    def start_natural(cls, mu_data: np.ndarray, fixed: dict) -> np.ndarray:
        """Where a learner starts without ``init=``: ``eta = 0`` (the normalised base
        measure) when that lies in the natural domain; families override it."""
        eta = np.zeros(np.shape(mu_data))
        if not np.all(cls.natural_in_domain(eta, fixed)):
            raise ModelCapabilityError(f"{cls.__name__} gives no starting point: pass init=")
        return eta

    @classmethod
    def mean_in_interior(cls, mu: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``mu.shape[:-1]``: ``mu`` lies in the interior of the mean
        domain (the convex hull of ``u`` over the support), where the MLE exists.

        The default decides it for a finite support (a linear program over the states'
        statistics) and otherwise answers True (unknown: a learner then reports a
        divergence if the estimate does not exist); families override it.
        """
        support = cls.support_of(fixed)
        if isinstance(support, FiniteSet):
            U = cls.sufficient_statistics(support.states, fixed)
            return in_hull_interior(np.reshape(U, (support.states.shape[0], -1)), mu)
        return np.ones(np.shape(mu)[:-1], dtype=bool)

    # ------------------------------------------------------------------
    # Sufficient statistics and base measure
    # ------------------------------------------------------------------
    @classmethod
    def element_params(cls, fixed: dict) -> np.ndarray | None:
        """The float array ``p`` passed to :attr:`element` (fixed parameters, lookup
        tables); ``None`` when the compiled kernels cannot serve these fixed parameters."""
        return _NO_PARAMS

    @classmethod
    def _element_arrays(cls, x, fixed, shift):
        p = cls.element_params(fixed)
        if p is None:
            p = cls.element_params_numpy(fixed)
        c = 0.0 if shift is None else np.asarray(shift, dtype=np.float64)
        with np.errstate(all="ignore"):
            return cls.element(np.asarray(x, dtype=np.float64), p, c)

    @classmethod
    def element_params_numpy(cls, fixed: dict) -> np.ndarray:
        """``p`` for the NumPy evaluation of :attr:`element` where :meth:`element_params`
        declines (e.g. a table too large to build)."""
        raise NotImplementedError(f"{cls.__name__} has no element parameters for {fixed}")

    @classmethod
    def sufficient_statistics(cls, x: np.ndarray, fixed: dict, shift=None) -> np.ndarray:
        """``u(x)`` (about the pivot ``shift`` for pivot families): shape
        ``x.shape[:x.ndim - event_ndim] + (k,)``."""
        u, _ = cls._element_arrays(x, fixed, shift)
        return np.stack(np.broadcast_arrays(*u), axis=-1)

    @classmethod
    def log_base_measure(cls, x: np.ndarray, fixed: dict) -> np.ndarray:
        """``log h(x)``: shape ``x.shape[:x.ndim - event_ndim]``."""
        _, lh = cls._element_arrays(x, fixed, None)
        return np.broadcast_to(np.asarray(lh, dtype=np.float64), np.shape(x)).copy()

    @classmethod
    def in_support(cls, x: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``x.shape[:x.ndim - event_ndim]``: the observation lies in
        the support (``x`` is known to be finite)."""
        return cls.support_of(fixed).contains(x)

    # ------------------------------------------------------------------
    # Location pivots (shifted statistics of location families)
    # ------------------------------------------------------------------
    @classmethod
    def pivot_of(cls, x: np.ndarray, fixed: dict) -> np.ndarray:
        """The pivot of observations ``x`` (``x`` for Normal, ``log x`` for LogNormal):
        shape ``x.shape[:x.ndim - event_ndim] + pivot_shape``."""
        raise NotImplementedError(f"{cls.__name__} has no location pivot")

    @classmethod
    def shift_sums(cls, sum_u, weight_sum, d, fixed: dict) -> np.ndarray:
        """Re-centre weighted sums of ``u(x - c)`` to ``u(x - c - d)`` (Chan, Golub and
        LeVeque's pairwise update, exact in real arithmetic)."""
        raise NotImplementedError(f"{cls.__name__} has no location pivot")

    @classmethod
    def shift_natural(cls, eta, c, fixed: dict) -> np.ndarray:
        """Natural parameters of the law of ``x - c`` (in the statistics about ``c``)."""
        raise NotImplementedError(f"{cls.__name__} has no location pivot")

    @classmethod
    def unshift_natural(cls, eta_c, c, fixed: dict) -> np.ndarray:
        """The inverse of :meth:`shift_natural`."""
        raise NotImplementedError(f"{cls.__name__} has no location pivot")

    @classmethod
    def location(cls, eta, fixed: dict) -> np.ndarray:
        """The model's own pivot (its mean location), about which its densities,
        entropy and divergences are computed without cancellation."""
        raise NotImplementedError(f"{cls.__name__} has no location pivot")

    # ------------------------------------------------------------------
    # Parameters and sampling
    # ------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def natural_from_params(cls, fixed: dict, **params) -> np.ndarray:
        """Natural parameters from the familiar ones (validated)."""

    @classmethod
    @abstractmethod
    def params_from_natural(cls, eta: np.ndarray, fixed: dict) -> dict:
        """The familiar parameters, a dict name -> array of the batch shape."""

    @classmethod
    def check_params(cls, **params) -> dict:
        """Broadcast familiar parameters and check each against :attr:`param_domains`."""
        p = broadcast_params(**params)
        for name, value in p.items():
            domain = cls.param_domains.get(name)
            if domain is not None:
                require(domain.contains(value), value, name, f"in {domain}")
        return p

    @classmethod
    @abstractmethod
    def draw(cls, eta: np.ndarray, fixed: dict, size: tuple, rng: np.random.Generator):
        """Samples of shape ``size + batch_shape + event_shape``."""

    # ------------------------------------------------------------------
    # Instances
    # ------------------------------------------------------------------
    def _init_natural(self, natural, fixed: dict) -> None:
        cls = type(self)
        fixed = cls.check_fixed(dict(fixed))
        eta = as_float_array(natural, name="natural parameters", invalid=ParameterError,
                             nonfinite=ParameterError)
        k = cls.natural_dim(fixed)
        if eta.ndim == 0 or eta.shape[-1] != k:
            raise ShapeError(
                f"{cls.__name__} has {k} natural parameter(s); got an array of shape {eta.shape}")
        check_finite(eta, name="natural parameters")
        ok = cls.natural_in_domain(eta, fixed)
        if not np.all(ok):
            bad = np.flatnonzero(~np.asarray(ok))
            i = bad[0]
            raise ParameterError(
                f"natural parameters outside the domain of {cls.__name__} at batch index "
                f"{format_index(i, np.shape(ok))}: {eta.reshape(-1, k)[i]}"
            )
        self._eta = eta
        self._fixed = fixed

    @classmethod
    def from_natural(cls, natural, **fixed):
        """Distribution with natural parameters ``natural`` (shape ``(..., k)``)."""
        self = object.__new__(cls)
        self._init_natural(natural, fixed)
        return self

    @property
    def natural(self) -> np.ndarray:
        """Natural parameters ``eta``, shape ``batch_shape + (k,)``."""
        return self._eta

    @property
    def fixed(self) -> dict:
        """The fixed parameters."""
        return dict(self._fixed)

    @property
    def params(self) -> dict:
        """The familiar parameters, name -> array of the batch shape."""
        return type(self).params_from_natural(self._eta, self._fixed)

    @property
    def batch_shape(self) -> tuple:
        return self._eta.shape[:-1]

    def __getattr__(self, item):
        # Familiar parameters read as attributes: Gamma(...).rate
        if item.startswith("_") or item not in type(self).param_names:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {item!r}")
        return self.params[item]

    def __getitem__(self, index):
        """Select batch elements: ``model[3]`` is the fourth distribution of a batch."""
        if not isinstance(index, tuple):
            index = (index,)
        return type(self).from_natural(self._eta[index + (slice(None),)], **self._fixed)

    def __len__(self):
        if not self.batch_shape:
            raise TypeError("a single distribution has no length")
        return self.batch_shape[0]

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self._fixed.items()]
        for k, v in self.params.items():
            v = np.asarray(v)
            parts.append(f"{k}={float(v):.6g}" if v.ndim == 0
                         else f"{k}={np.array2string(v, precision=4, threshold=6)}")
        prefix = f"batch_shape={self.batch_shape}, " if self.batch_shape else ""
        return f"{type(self).__name__}({prefix}{', '.join(parts)})"

    def same_family(self, other) -> bool:
        """Whether ``other`` is of the same family with the same fixed parameters."""
        return type(other) is type(self) and fixed_equal(self._fixed, other._fixed)

    def sample(self, size=None, rng=None) -> np.ndarray:
        """Draw samples of shape ``size + batch_shape + event_shape``.

        Parameters
        ----------
        size : int or tuple of int, optional
        rng : numpy.random.Generator or int, optional
            Source of randomness; the same seed gives the same samples.
        """
        if size is None:
            size = ()
        elif np.ndim(size) == 0:
            size = (check_int(size, "size", 0),)
        else:
            size = tuple(check_int(s, "size", 0) for s in size)
        rng = as_rng(rng)
        return type(self).draw(self._eta, self._fixed, size, rng)

    def _observations(self, x, name="x") -> np.ndarray:
        x = as_float_array(x, name=name)
        if x.ndim < self.event_ndim:
            raise ShapeError(f"{name}: expected observations with {self.event_ndim} event axis")
        check_finite(x, name=name)
        obs = x.shape[: x.ndim - self.event_ndim]
        try:
            np.broadcast_shapes(obs, self.batch_shape)
        except ValueError:
            raise ShapeError(
                f"{name}: observations of shape {obs} do not broadcast against the batch "
                f"shape {self.batch_shape} (NumPy rules: trailing axes equal or 1); for "
                f"values x scored under every distribution use x[..., None]") from None
        return x


class ExponentialFamily(SufficientStatisticModel):
    """One distribution (or a batch of them) of an exponential family with a tractable
    log partition.

    Construct an instance from familiar parameters (``Gamma(shape=2.0, rate=3.0)``), from
    natural parameters (:meth:`from_natural`) or from mean parameters (:meth:`from_mean`).
    """

    has_log_partition: ClassVar[bool] = True

    # ------------------------------------------------------------------
    # The log partition and its derivatives
    # ------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def log_partition(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``A(eta)``: shape ``eta.shape[:-1]``."""

    @classmethod
    @abstractmethod
    def mean_from_natural(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``grad A(eta) = E_eta[u(x)]``: the mean parameters, shape ``(..., k)``."""

    @classmethod
    @abstractmethod
    def fisher_from_natural(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``hess A(eta) = Cov_eta[u(x)]``: the Fisher information, shape ``(..., k, k)``."""

    @classmethod
    @abstractmethod
    def mean_in_interior(cls, mu: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``mu.shape[:-1]``: ``mu`` lies in the interior of the mean
        domain, where the MLE exists."""

    @classmethod
    def moment_source(cls, fixed: dict):
        """Exact moments: ``grad A`` and ``hess A``."""
        return ExactMoments()

    # ------------------------------------------------------------------
    # Mean -> natural
    # ------------------------------------------------------------------
    @classmethod
    def initial_natural(cls, mu: np.ndarray, fixed: dict) -> np.ndarray:
        """Starting point of the generic Newton iteration for ``grad A(eta) = mu``, inside
        the natural domain (families that use :meth:`natural_from_mean`'s default give
        one)."""
        raise NotImplementedError(
            f"{cls.__name__} defines neither natural_from_mean nor initial_natural")

    @classmethod
    def natural_from_mean(cls, mu: np.ndarray, fixed: dict) -> SolveResult:
        """Solve ``grad A(eta) = mu`` (``mu`` interior): the generic safeguarded Newton
        iteration on the convex dual ``A(eta) - eta . mu`` from :meth:`initial_natural`."""
        mu = np.asarray(mu, dtype=np.float64)
        return newton(cls, mu, fixed, cls.initial_natural(mu, fixed), rtol=RTOL)

    # ------------------------------------------------------------------
    # Everything else a family provides
    # ------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def expected_log_base_measure(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``E_eta[log h(x)]``, needed by the entropy and the cross-entropy."""

    @classmethod
    @abstractmethod
    def moments(cls, eta: np.ndarray, fixed: dict) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of ``x`` (covariance matrix for vector observations)."""

    @classmethod
    def scipy_distribution(cls, eta: np.ndarray, fixed: dict):
        """A frozen ``scipy.stats`` distribution with the same law, or ``None``."""
        return None

    @classmethod
    @abstractmethod
    def reference_mean(cls, mu_data: np.ndarray, fixed: dict) -> np.ndarray:
        """Default prior mean (mean parameters) used by ``pseudo_count`` regularisation."""

    @classmethod
    def start_natural(cls, mu_data: np.ndarray, fixed: dict) -> np.ndarray:
        """A learner's default start: the family's reference member."""
        mu0 = np.array(np.broadcast_to(cls.reference_mean(mu_data, fixed), np.shape(mu_data)),
                       dtype=np.float64)
        return solve_mean_to_natural(cls, mu0, fixed).natural

    @classmethod
    def _centred(cls, eta, fixed):
        """``eta`` about the model's own location (pivot families), else ``eta``."""
        if not cls.pivot:
            return eta, None
        c = cls.location(eta, fixed)
        return cls.shift_natural(eta, c, fixed), c

    #: name of a compiled kernel in :mod:`expfam._divergence_jit` with the values of
    #: :meth:`kl_natural` (declared in the class that defines ``kl_natural``; a subclass
    #: that overrides ``kl_natural`` without declaring one gets none), and likewise for
    #: :meth:`entropy_natural`
    kl_kernel: ClassVar[str] = ""
    entropy_kernel: ClassVar[str] = ""

    @classmethod
    def divergence_params(cls, fixed: dict) -> np.ndarray:
        """The fixed parameters as the float array ``p`` passed to the divergence kernels."""
        return _NO_PARAMS

    @classmethod
    def entropy_params(cls, fixed: dict) -> np.ndarray | None:
        """The float array ``p`` passed to the entropy kernel (constants, fixed
        parameters); ``None`` when the kernel cannot serve these fixed parameters."""
        return _NO_PARAMS

    @classmethod
    def _compiled(cls, what: str, eta_p, eta_q, fixed: dict):
        """``KL(p || q)`` (``what="kl"``) or the entropy of ``p`` (``eta_q`` None) by the
        family's compiled kernel, for batches of at least
        :data:`expfam.divergence.KERNEL_MIN_SIZE`; the elements the kernel declines (where
        only the cancellation-free NumPy form is accurate) by :meth:`kl_natural` or
        :meth:`entropy_natural`.  ``None`` when no kernel applies."""
        from ..divergence import kernel_for

        name = kernel_for(cls, what, int(np.prod(np.shape(eta_p)[:-1])))
        if name is None:
            return None
        from .. import _divergence_jit

        shape, k = np.shape(eta_p)[:-1], np.shape(eta_p)[-1]
        a = np.ascontiguousarray(np.reshape(eta_p, (-1, k)), dtype=np.float64)
        b = None if eta_q is None else np.ascontiguousarray(np.reshape(eta_q, (-1, k)),
                                                            dtype=np.float64)
        params = cls.divergence_params(fixed) if b is not None else cls.entropy_params(fixed)
        if params is None:  # the kernel cannot serve these fixed parameters
            return None
        out, bad = _divergence_jit.run(name, a, b, params)
        if bad.any():
            if any(np.ndim(v) for v in fixed.values()):  # fixed arrays follow the batch
                return None
            bad = np.flatnonzero(bad)  # (few: indices gather faster than a mask)
            out[bad] = (cls.entropy_natural(a[bad], fixed) if b is None
                        else _clamp_kl(cls.kl_natural(a[bad], b[bad], fixed)))
        return out.reshape(shape)

    @classmethod
    def kl_natural(cls, eta_p: np.ndarray, eta_q: np.ndarray, fixed: dict) -> np.ndarray:
        """``KL(p || q)`` as the Bregman divergence of ``A`` (DESIGN.md):
        ``A(eta_q) - A(eta_p) - (eta_q - eta_p) . mu_p``, both about ``p``'s location for
        pivot families (KL does not change when both laws are shifted)."""
        if cls.pivot:
            c = cls.location(eta_p, fixed)
            eta_p, eta_q = cls.shift_natural(eta_p, c, fixed), cls.shift_natural(eta_q, c, fixed)
        mu_p = cls.mean_from_natural(eta_p, fixed)
        return (cls.log_partition(eta_q, fixed) - cls.log_partition(eta_p, fixed)
                - np.sum((eta_q - eta_p) * mu_p, axis=-1))

    @classmethod
    def log_density(cls, x: np.ndarray, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``log p(x) = log h(x) + eta . u(x) - A(eta)`` for ``x`` in the support (the
        caller masks the rest).  Pivot families evaluate it about the model's own
        location ``c``: ``log h(x) + eta_c . u(x - c) - A(eta_c)``.  Families override
        it where the generic sum cancels (e.g. Poisson's ``x log lam - lam - log x!``)."""
        eta_c, c = cls._centred(eta, fixed)
        u = cls.sufficient_statistics(x, fixed, shift=c)
        return (cls.log_base_measure(x, fixed) + np.sum(eta_c * u, axis=-1)
                - cls.log_partition(eta_c, fixed))

    @classmethod
    def entropy_natural(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """Entropy in nats, ``H = A(eta) - eta . mu - E[log h(x)]`` (the first two terms
        about the model's location for pivot families: they do not change under a
        shift).  Families override it where these terms cancel."""
        eta_c, _ = cls._centred(eta, fixed)
        mu = cls.mean_from_natural(eta_c, fixed)
        return (cls.log_partition(eta_c, fixed) - np.sum(eta_c * mu, axis=-1)
                - cls.expected_log_base_measure(eta, fixed))

    # ------------------------------------------------------------------
    # Instances
    # ------------------------------------------------------------------
    @classmethod
    def from_mean(cls, mean_params, **fixed):
        """Distribution whose mean parameters ``E[u(x)]`` are ``mean_params``.

        Raises :class:`~expfam.errors.BoundaryError` when they are not in the interior of
        the mean domain.
        """
        fixed = cls.check_fixed(fixed)
        mu = as_float_array(mean_params, name="mean parameters", invalid=ParameterError,
                            nonfinite=ParameterError)
        sol = solve_mean_to_natural(cls, mu, fixed)
        return cls.from_natural(sol.natural, **fixed)

    @property
    def mean_params(self) -> np.ndarray:
        """Mean parameters ``E[u(x)] = grad A(eta)``, shape ``batch_shape + (k,)``."""
        return type(self).mean_from_natural(self._eta, self._fixed)

    def log_partition_value(self) -> np.ndarray:
        """``A(eta)``."""
        return type(self).log_partition(self._eta, self._fixed)

    def fisher_information(self) -> np.ndarray:
        """Fisher information of one observation w.r.t. ``eta``: ``Cov[u(x)]``, (..., k, k)."""
        return type(self).fisher_from_natural(self._eta, self._fixed)

    def logpdf(self, x) -> np.ndarray:
        """Log density (log mass for discrete families) at ``x``.

        ``x`` has shape ``(..., *event_shape)`` and broadcasts against the batch shape.
        Values outside the support get ``-inf``; NaN or inf raise
        :class:`~expfam.errors.NonFiniteError`.  Computed by the family's
        :meth:`log_density`.
        """
        cls = type(self)
        x = self._observations(x)
        inside = cls.in_support(x, self._fixed)
        with np.errstate(all="ignore"):
            logp = cls.log_density(x, self._eta, self._fixed)
        return np.where(inside, logp, -np.inf)

    def pdf(self, x) -> np.ndarray:
        """Density (mass for discrete families) at ``x``."""
        return np.exp(self.logpdf(x))

    def logpmf(self, x) -> np.ndarray:
        """Log probability mass (the same as :meth:`logpdf`)."""
        return self.logpdf(x)

    def pmf(self, x) -> np.ndarray:
        """Probability mass (the same as :meth:`pdf`)."""
        return self.pdf(x)

    def cdf(self, x) -> np.ndarray:
        """Cumulative distribution function, through SciPy's implementation."""
        if self.event_ndim:
            raise NotImplementedError(f"{type(self).__name__} has vector observations: no cdf")
        x = self._observations(x)
        return self.to_scipy().cdf(x)

    def to_scipy(self):
        """The same distribution as a frozen ``scipy.stats`` object."""
        dist = type(self).scipy_distribution(self._eta, self._fixed)
        if dist is None:
            raise NotImplementedError(f"SciPy has no equivalent of {type(self).__name__}")
        return dist

    def to_json(self, *, indent=None) -> str:
        """This distribution as JSON (versioned schema; :func:`expfam.from_json` reads it)."""
        from .._json import distribution_json

        return distribution_json(self, indent)

    def mean(self) -> np.ndarray:
        """``E[x]``."""
        return type(self).moments(self._eta, self._fixed)[0]

    def var(self) -> np.ndarray:
        """``Var[x]`` (the covariance matrix for vector observations)."""
        return type(self).moments(self._eta, self._fixed)[1]

    def entropy(self) -> np.ndarray:
        """Differential (or Shannon) entropy in nats (the family's
        :meth:`entropy_natural`, or its compiled kernel for large batches)."""
        cls = type(self)
        value = cls._compiled("entropy", self._eta, None, self._fixed)
        return cls.entropy_natural(self._eta, self._fixed) if value is None else value

    def kl(self, other) -> np.ndarray:
        """``KL(self || other)`` in closed form for two members of this family with the
        same fixed parameters (batched); see :func:`expfam.kl`.  Negative values at
        rounding level (> -1e-12) are returned as 0."""
        if not self.same_family(other):
            raise FamilyMismatchError(
                f"KL in closed form needs two members of one family with the same fixed "
                f"parameters; got {self!r} and {other!r}. Use the Monte Carlo estimate "
                f"(mc_kl) instead.")
        cls = type(self)
        try:
            eta_p, eta_q = np.broadcast_arrays(self._eta, other._eta)
        except ValueError:
            raise ShapeError(f"KL: the batch shapes {self.batch_shape} and {other.batch_shape} "
                             f"of the two distributions do not broadcast") from None
        value = cls._compiled("kl", eta_p, eta_q, self._fixed)
        if value is not None:  # clamped below as well
            return value
        return _clamp_kl(cls.kl_natural(eta_p, eta_q, self._fixed))
