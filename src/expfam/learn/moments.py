"""The learner's model moments: the sources of :mod:`expfam.moments`, chosen by the model.

The learner asks the model for its source (``cls.moment_source(fixed)``: exact ``grad A``
for a family with a tractable log partition; enumeration or a persistent sampler for
energy-based models); ``moments=`` or ``n_model_samples=`` override it.
"""

from __future__ import annotations

from ..errors import ParameterError
from ..moments import DrawSampler, EnumeratedMoments, ExactMoments, MomentEstimate, SampledMoments, Sampler

__all__ = ["ExactMoments", "EnumeratedMoments", "SampledMoments", "MomentEstimate", "Sampler",
           "DrawSampler", "resolve_moments"]


def resolve_moments(cls, fixed, moments=None, n_model_samples=None):
    """The moment source of a learner: the user's ``moments`` (a source, or ``"exact"``),
    ``n_model_samples`` Monte Carlo samples of the model, or by default the model's own
    (:meth:`~expfam.families.SufficientStatisticModel.moment_source`)."""
    if moments is not None and n_model_samples is not None:
        raise ParameterError("give either moments= or n_model_samples=, not both")
    if n_model_samples is not None:
        return SampledMoments(n_model_samples)
    if moments is None:
        return cls.moment_source(dict(fixed))
    if isinstance(moments, str) and moments == "exact":
        if not cls.has_log_partition:
            raise ParameterError(f"{cls.__name__} has no tractable log partition: its model "
                                 "moments cannot be exact; use its default source or "
                                 "n_model_samples=...")
        return ExactMoments()
    if all(hasattr(moments, a) for a in ("mean", "fisher", "exact")):
        return moments
    raise ParameterError(
        f"moments must be 'exact' or a moment source (ExactMoments, EnumeratedMoments, "
        f"SampledMoments...); got {moments!r}"
    )
