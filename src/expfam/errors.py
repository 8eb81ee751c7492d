"""Typed errors raised by expfam.

Every error that concerns bad input names what was wrong and where (index, value,
expected support), so that a user can find the offending row.
"""

from __future__ import annotations

__all__ = [
    "ExpfamError",
    "DataError",
    "NonFiniteError",
    "SupportError",
    "EmptyDataError",
    "ShapeError",
    "LabelError",
    "WeightError",
    "FileFormatError",
    "ParameterError",
    "BoundaryError",
    "FamilyMismatchError",
    "UnknownFamilyError",
    "InputTypeError",
    "ModelCapabilityError",
    "FloatRangeError",
    "DefinitionError",
    "NotFittedError",
    "DegenerateComponentError",
    "MonotonicityError",
    "ConvergenceWarning",
]


class ExpfamError(Exception):
    """Base class of every error raised by expfam."""


class DataError(ExpfamError, ValueError):
    """The data cannot be used as given."""


class NonFiniteError(DataError):
    """The data (or weights) contain NaN or +-inf."""


class SupportError(DataError):
    """A value lies outside the support of the family."""


class EmptyDataError(DataError):
    """There is no data (or a group has no data)."""


class ShapeError(DataError):
    """The data, weights or labels have the wrong shape."""


class LabelError(ShapeError):
    """Group labels (``by=``) are missing (None, NaN, NaT, NA, masked), of mixed or
    unsupported types, or of different types in two accumulators that are merged.

    A subclass of :class:`ShapeError`, which reported label problems before.
    """


class WeightError(DataError):
    """Weights are negative, non-finite or all zero."""


class FileFormatError(DataError):
    """The file's format is unknown, or the file cannot be read in that format."""


class ParameterError(ExpfamError, ValueError):
    """A parameter lies outside its domain."""


class BoundaryError(ExpfamError, ValueError):
    """The maximum-likelihood estimate does not exist.

    The empirical mean of the sufficient statistics lies on the boundary of the mean
    domain (all values equal, a category never observed, all counts zero...). Pass a
    ``pseudo_count`` to regularise with a conjugate prior.
    """


class FamilyMismatchError(ExpfamError, TypeError):
    """Two distributions are not members of the same family (with the same fixed
    parameters), so a closed form that needs that does not apply."""


class UnknownFamilyError(ExpfamError, ValueError):
    """The name (or object) does not designate a known family; the message lists the
    known ones."""


class InputTypeError(ExpfamError, TypeError):
    """An argument is not the kind of object expected: a distribution where one is needed
    (``expfam.entropy(3.0)``), a :class:`~expfam.SufficientStats` to merge...  The message
    says what was expected and what was given."""


class ModelCapabilityError(ExpfamError, TypeError):
    """The model lacks the capability the call needs (e.g. an exact fit or a density of a
    model whose log partition is intractable); the message says what it offers."""


class FloatRangeError(ExpfamError, ValueError):
    """A quantity leaves the range of float64 (overflow, or underflow to zero or to
    subnormal precision): data or parameters too large or too small in magnitude for
    the computation, though valid in themselves.  The message says which quantity and
    suggests rescaling."""


class DefinitionError(ExpfamError, ValueError):
    """A user-defined family (:func:`expfam.define_family`) is ill-defined: its statistics
    are not affinely independent on the support, its ``u`` or ``log h`` returns NaN or inf
    (the message names the state) or an array of the wrong shape, or its log partition is
    infinite at every starting point tried."""


class NotFittedError(ExpfamError, ValueError, AttributeError):
    """An estimator (:class:`expfam.DistributionEstimator`) is used before ``fit``; a
    ValueError and AttributeError, as scikit-learn's own ``NotFittedError``."""


class DegenerateComponentError(ExpfamError, ValueError):
    """A mixture component degenerated during EM: it collapsed onto a point (its
    maximum-likelihood estimate left the mean domain) or lost all its weight.  The message
    names the component, the start and the iteration; pass ``pseudo_count`` (MAP-EM with a
    conjugate prior) to regularise."""


class MonotonicityError(ExpfamError, RuntimeError):
    """The EM objective decreased by more than rounding between two iterations.  EM never
    decreases it, so this is a bug (please report it with the data)."""


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before reaching its tolerance."""
