"""The exponential-family base class.

A member of a family is ``p(x | eta) = h(x) exp(eta . u(x) - A(eta))`` with sufficient
statistics ``u``, log base measure ``log h``, natural parameters ``eta`` and log partition
``A``.  ``grad A(eta) = E_eta[u]`` are the mean parameters and ``hess A(eta) = Cov_eta[u]``
is the Fisher information (DESIGN.md).

A family is a subclass of :class:`ExponentialFamily`.  Its mathematics lives in
classmethods that act on arrays with a batch shape, ``eta`` of shape ``(..., k)``, and on a
dict ``fixed`` of the parameters held fixed (Binomial's ``n``, Weibull's ``k``...).  An
instance is one distribution (or a batch of them): the family, its fixed parameters and
an array of natural parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._validation import as_float_array, check_finite, format_index, raise_support, show
from ..errors import FamilyMismatchError, ParameterError, ShapeError


@dataclass(frozen=True)
class SolveResult:
    """Outcome of a mean -> natural map.

    Attributes
    ----------
    natural : ndarray, shape (..., k)
        Natural parameters.
    converged : ndarray of bool, shape (...)
        Whether each batch element reached the tolerance (always True for closed forms).
    n_iter : int
        Iterations used (0 for closed forms).
    mean : ndarray or None
        ``grad A(natural)`` when the solver computed it anyway (saves the caller a
        recomputation), else None.
    """

    natural: np.ndarray
    converged: np.ndarray
    n_iter: int = 0
    mean: np.ndarray | None = None


def closed_form(natural) -> SolveResult:
    """Wrap a closed-form mean -> natural map as a converged :class:`SolveResult`."""
    natural = np.asarray(natural, dtype=np.float64)
    return SolveResult(natural, np.ones(natural.shape[:-1], dtype=bool), 0)


def broadcast_params(**params) -> dict:
    """Convert familiar parameters to float arrays broadcast to one batch shape."""
    arrays = {k: as_float_array(v, name=k) for k, v in params.items()}
    for k, v in arrays.items():
        check_finite(v, name=f"parameter {k!r}")
    try:
        shapes = np.broadcast_shapes(*(v.shape for v in arrays.values()))
    except ValueError as exc:
        raise ShapeError(f"parameters {list(arrays)} do not broadcast together") from exc
    return {k: np.broadcast_to(v, shapes).astype(np.float64) for k, v in arrays.items()}


def require(condition, values, name: str, domain: str) -> None:
    """Raise :class:`ParameterError` for the first element where ``condition`` is False."""
    condition = np.asarray(condition)
    if not condition.all():
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), condition.shape)
        bad = np.flatnonzero(~condition)
        i = bad[0]
        raise ParameterError(
            f"parameter {name!r} must be {domain}; got {show(values.ravel()[i])} at batch index "
            f"{format_index(i, condition.shape)}"
        )


def check_integer(value, name: str, minimum: int) -> int:
    """A fixed parameter that must be a scalar integer ``>= minimum``; returned as int."""
    v = np.asarray(value)
    ok = v.ndim == 0 and v.dtype.kind in "iuf" and np.isfinite(v) and v == np.floor(v) and v >= minimum
    if not ok:
        shown = float(v) if v.ndim == 0 and v.dtype.kind in "iuf" else value
        raise ParameterError(f"fixed parameter {name!r} must be an integer >= {minimum}; got {shown!r}")
    return int(v)


class ExponentialFamily:
    """One distribution (or a batch of them) of an exponential family.

    Subclasses define the family; see the module docstring.  Construct an instance from
    familiar parameters (``Gamma(shape=2.0, rate=3.0)``), from natural parameters
    (:meth:`from_natural`) or from mean parameters (:meth:`from_mean`).
    """

    #: registry name, e.g. ``"gamma"``
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
    #: the support, in words, used in error messages
    support: ClassVar[str] = ""
    #: what boundary data look like, used when the MLE does not exist
    boundary_hint: ClassVar[str] = ""

    # ------------------------------------------------------------------
    # The family's mathematics (classmethods on arrays).  Subclasses override.
    # ------------------------------------------------------------------
    @classmethod
    def natural_dim(cls, fixed: dict) -> int:
        """Number of natural parameters ``k`` (the number of free parameters)."""
        raise NotImplementedError

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
    def sufficient_statistics(cls, x: np.ndarray, fixed: dict) -> np.ndarray:
        """``u(x)``: shape ``x.shape[:-event_ndim] + (k,)``."""
        raise NotImplementedError

    @classmethod
    def log_base_measure(cls, x: np.ndarray, fixed: dict) -> np.ndarray:
        """``log h(x)``: shape ``x.shape[:-event_ndim]``."""
        raise NotImplementedError

    @classmethod
    def log_partition(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``A(eta)``: shape ``eta.shape[:-1]``."""
        raise NotImplementedError

    @classmethod
    def mean_from_natural(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``grad A(eta) = E_eta[u(x)]``: the mean parameters, shape ``(..., k)``."""
        raise NotImplementedError

    @classmethod
    def fisher_from_natural(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``hess A(eta) = Cov_eta[u(x)]``: the Fisher information, shape ``(..., k, k)``."""
        raise NotImplementedError

    @classmethod
    def natural_from_mean(cls, mu: np.ndarray, fixed: dict) -> SolveResult:
        """Solve ``grad A(eta) = mu`` for ``eta`` (``mu`` in the interior of the mean domain)."""
        raise NotImplementedError

    @classmethod
    def in_support(cls, x: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``x.shape[:-event_ndim]``: observation lies in the support
        (``x`` is known to be finite)."""
        raise NotImplementedError

    @classmethod
    def natural_in_domain(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``eta.shape[:-1]``: ``eta`` lies in the natural domain."""
        raise NotImplementedError

    @classmethod
    def mean_in_interior(cls, mu: np.ndarray, fixed: dict) -> np.ndarray:
        """Boolean mask, shape ``mu.shape[:-1]``: ``mu`` lies in the interior of the mean
        domain, where the MLE exists."""
        raise NotImplementedError

    @classmethod
    def natural_from_params(cls, fixed: dict, **params) -> np.ndarray:
        """Natural parameters from the familiar ones (validated)."""
        raise NotImplementedError

    @classmethod
    def params_from_natural(cls, eta: np.ndarray, fixed: dict) -> dict:
        """The familiar parameters, a dict name -> array of the batch shape."""
        raise NotImplementedError

    @classmethod
    def expected_log_base_measure(cls, eta: np.ndarray, fixed: dict) -> np.ndarray:
        """``E_eta[log h(x)]``, needed by the entropy and the cross-entropy."""
        raise NotImplementedError

    @classmethod
    def moments(cls, eta: np.ndarray, fixed: dict) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of ``x`` (covariance matrix for vector observations)."""
        raise NotImplementedError

    @classmethod
    def draw(cls, eta: np.ndarray, fixed: dict, size: tuple, rng: np.random.Generator):
        """Samples of shape ``size + batch_shape + event_shape``."""
        raise NotImplementedError

    @classmethod
    def scipy_distribution(cls, eta: np.ndarray, fixed: dict):
        """A frozen ``scipy.stats`` distribution with the same law, or ``None``."""
        return None

    @classmethod
    def reference_mean(cls, mu_data: np.ndarray, fixed: dict) -> np.ndarray:
        """Default prior mean (mean parameters) used by ``pseudo_count`` regularisation.

        The default is a member of the family chosen by the subclass; see its docstring.
        """
        raise NotImplementedError

    @classmethod
    def kl_natural(cls, eta_p: np.ndarray, eta_q: np.ndarray, fixed: dict) -> np.ndarray:
        """``KL(p || q)`` as the Bregman divergence of ``A`` (DESIGN.md):
        ``A(eta_q) - A(eta_p) - (eta_q - eta_p) . mu_p``."""
        mu_p = cls.mean_from_natural(eta_p, fixed)
        return (
            cls.log_partition(eta_q, fixed)
            - cls.log_partition(eta_p, fixed)
            - np.sum((eta_q - eta_p) * mu_p, axis=-1)
        )

    # ------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------
    def _init_natural(self, natural, fixed: dict) -> None:
        fixed = type(self).check_fixed(dict(fixed))
        eta = as_float_array(natural, name="natural parameters")
        k = type(self).natural_dim(fixed)
        if eta.ndim == 0 or eta.shape[-1] != k:
            raise ShapeError(
                f"{type(self).__name__} has {k} natural parameter(s); got an array of shape "
                f"{eta.shape}"
            )
        check_finite(eta, name="natural parameters")
        ok = type(self).natural_in_domain(eta, fixed)
        if not np.all(ok):
            bad = np.flatnonzero(~np.asarray(ok))
            i = bad[0]
            raise ParameterError(
                f"natural parameters outside the domain of {type(self).__name__} at batch index "
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

    @classmethod
    def from_mean(cls, mean_params, **fixed):
        """Distribution whose mean parameters ``E[u(x)]`` are ``mean_params``.

        Raises :class:`~expfam.errors.BoundaryError` when they are not in the interior of
        the mean domain.
        """
        from ..solvers import solve_mean_to_natural

        fixed = cls.check_fixed(fixed)
        mu = as_float_array(mean_params, name="mean parameters")
        sol = solve_mean_to_natural(cls, mu, fixed)
        return cls.from_natural(sol.natural, **fixed)

    # ------------------------------------------------------------------
    # Parameters
    # ------------------------------------------------------------------
    @property
    def natural(self) -> np.ndarray:
        """Natural parameters ``eta``, shape ``batch_shape + (k,)``."""
        return self._eta

    @property
    def mean_params(self) -> np.ndarray:
        """Mean parameters ``E[u(x)] = grad A(eta)``, shape ``batch_shape + (k,)``."""
        return type(self).mean_from_natural(self._eta, self._fixed)

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
            parts.append(f"{k}={float(v):.6g}" if v.ndim == 0 else f"{k}={np.array2string(v, precision=4, threshold=6)}")
        prefix = f"batch_shape={self.batch_shape}, " if self.batch_shape else ""
        return f"{type(self).__name__}({prefix}{', '.join(parts)})"

    def log_partition_value(self) -> np.ndarray:
        """``A(eta)``."""
        return type(self).log_partition(self._eta, self._fixed)

    def fisher_information(self) -> np.ndarray:
        """Fisher information of one observation w.r.t. ``eta``: ``Cov[u(x)]``, (..., k, k)."""
        return type(self).fisher_from_natural(self._eta, self._fixed)

    def same_family(self, other) -> bool:
        """Whether ``other`` is of the same family with the same fixed parameters."""
        return type(other) is type(self) and _fixed_equal(self._fixed, other._fixed)

    # ------------------------------------------------------------------
    # Densities
    # ------------------------------------------------------------------
    def _observations(self, x, name="x") -> np.ndarray:
        x = as_float_array(x, name=name)
        if x.ndim < self.event_ndim:
            raise ShapeError(f"{name}: expected observations with {self.event_ndim} event axis")
        check_finite(x, name=name)
        return x

    def logpdf(self, x) -> np.ndarray:
        """Log density (log mass for discrete families) at ``x``.

        ``x`` has shape ``(..., *event_shape)`` and broadcasts against the batch shape.
        Values outside the support get ``-inf``; NaN or inf raise
        :class:`~expfam.errors.NonFiniteError`.
        """
        cls = type(self)
        x = self._observations(x)
        inside = cls.in_support(x, self._fixed)
        with np.errstate(all="ignore"):
            u = cls.sufficient_statistics(x, self._fixed)
            logp = (
                cls.log_base_measure(x, self._fixed)
                + np.sum(self._eta * u, axis=-1)
                - cls.log_partition(self._eta, self._fixed)
            )
        return np.where(inside, logp, -np.inf)

    def pdf(self, x) -> np.ndarray:
        """Density (mass for discrete families) at ``x``."""
        return np.exp(self.logpdf(x))

    logpmf = logpdf
    pmf = pdf

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

    # ------------------------------------------------------------------
    # Moments, entropy, sampling
    # ------------------------------------------------------------------
    def mean(self) -> np.ndarray:
        """``E[x]``."""
        return type(self).moments(self._eta, self._fixed)[0]

    def var(self) -> np.ndarray:
        """``Var[x]`` (the covariance matrix for vector observations)."""
        return type(self).moments(self._eta, self._fixed)[1]

    def entropy(self) -> np.ndarray:
        """Differential (or Shannon) entropy in nats:
        ``H = A(eta) - eta . mu - E[log h(x)]``."""
        cls = type(self)
        mu = cls.mean_from_natural(self._eta, self._fixed)
        return (
            cls.log_partition(self._eta, self._fixed)
            - np.sum(self._eta * mu, axis=-1)
            - cls.expected_log_base_measure(self._eta, self._fixed)
        )

    def kl(self, other) -> np.ndarray:
        """``KL(self || other)`` in closed form (same family); see :func:`expfam.kl`."""
        from ..divergence import kl

        return kl(self, other)

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
            size = (int(size),)
        else:
            size = tuple(int(s) for s in size)
        rng = np.random.default_rng(rng)
        return type(self).draw(self._eta, self._fixed, size, rng)


def _fixed_equal(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    return all(np.array_equal(a[k], b[k]) for k in a)


def require_same_family(p: ExponentialFamily, q: ExponentialFamily, what: str) -> None:
    """Raise :class:`FamilyMismatchError` unless ``p`` and ``q`` share family and fixed
    parameters."""
    if not isinstance(p, ExponentialFamily) or not p.same_family(q):
        raise FamilyMismatchError(
            f"{what} in closed form needs two members of one family with the same fixed "
            f"parameters; got {p!r} and {q!r}. Use the Monte Carlo estimate (mc_kl) instead."
        )


def check_support(cls, x: np.ndarray, fixed: dict, name: str = "data") -> None:
    """Raise :class:`~expfam.errors.SupportError` naming the first value outside the support."""
    inside = np.asarray(cls.in_support(x, fixed))
    if not inside.all():
        raise_support(~inside, x, cls.support, name=name)
