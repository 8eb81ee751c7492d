"""A scikit-learn style density estimator: ``DistributionEstimator("gamma").fit(X)``.

Duck-typed (scikit-learn is not imported here): ``fit`` returns ``self``, learned
attributes end in ``_``, ``score`` is the mean log-likelihood, so that
``GridSearchCV`` and ``cross_val_score`` rank settings (a family, a pseudo-count, a fixed
parameter) by held-out log-likelihood, i.e. by held-out cross-entropy (the seed's eq. 2-4).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NotFittedError, ShapeError

__all__ = ["DistributionEstimator"]


class DistributionEstimator:
    """Maximum-likelihood fit of one family, with the scikit-learn estimator interface.

    Parameters
    ----------
    family : str or ExponentialFamily subclass
        The family (``"gamma"``, ``expfam.Weibull``...).
    pseudo_count : float, optional
        Conjugate-prior strength (see :func:`expfam.fit`).
    **fixed
        The family's fixed parameters (``k=1.5`` for Weibull); each is a parameter of
        the estimator for ``get_params`` / ``set_params`` / grid searches.

    Attributes
    ----------
    model_ : ExponentialFamily
        The fitted distribution.
    params_, se_ : dict
        Fitted familiar parameters (floats; arrays for vector parameters) and their
        standard errors (inverse Fisher information).
    result_ : FitResult
        The full fit (log-likelihood, AIC, BIC, residual).
    converged_ : bool
    n_features_in_ : int
        Columns of ``X``: 1 for scalar families, ``d`` for vector ones.

    Notes
    -----
    ``X`` is ``(n,)`` or ``(n, 1)`` for scalar families and ``(n, d)`` for vector ones;
    ``y`` is ignored (unsupervised).  Values outside the support have log-likelihood
    ``-inf`` in :meth:`score_samples` and :meth:`score` (the held-out cross-entropy of a
    model that excludes a held-out value is infinite).
    """

    def __init__(self, family: Any = "normal", pseudo_count: float | None = None, **fixed: Any):
        self.family = family
        self.pseudo_count = pseudo_count
        self._fixed_names = list(fixed)
        for name, value in fixed.items():
            setattr(self, name, value)

    # -- parameters ---------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters (``family``, ``pseudo_count`` and fixed ones)."""
        return {"family": self.family, "pseudo_count": self.pseudo_count,
                **{name: getattr(self, name) for name in self._fixed_names}}

    def set_params(self, **params: Any) -> DistributionEstimator:
        """Set parameters (a new name is a fixed parameter of the family); returns self."""
        for name, value in params.items():
            if name not in ("family", "pseudo_count") and name not in self._fixed_names:
                self._fixed_names.append(name)
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if k == "family" or v is not None)
        return f"DistributionEstimator({args})"

    def __sklearn_tags__(self):  # called by scikit-learn only, so it is imported then
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(estimator_type="density_estimator", target_tags=TargetTags(required=False),
                    input_tags=InputTags(two_d_array=True))

    # -- data ---------------------------------------------------------------------

    def _cls(self):
        from ..families import resolve_family

        return resolve_family(self.family)

    def _observations(self, X, cls) -> np.ndarray:
        from .._validation import as_float_array

        x = as_float_array(X, name="X")
        if cls.event_ndim == 0:
            if x.ndim == 2 and x.shape[1] == 1:
                x = x[:, 0]
            if x.ndim != 1:
                raise ShapeError(f"X: {cls.__name__} has scalar observations: expected shape "
                                 f"(n,) or (n, 1); got {x.shape}")
        elif x.ndim != 2:
            raise ShapeError(f"X: {cls.__name__} has vector observations: expected shape "
                             f"(n, d); got {x.shape}")
        return x

    # -- fit and score ------------------------------------------------------------

    def fit(self, X, y=None, sample_weight=None) -> DistributionEstimator:
        """Maximum-likelihood fit to the rows of ``X`` (``y`` ignored); returns self."""
        from ..fitting import fit

        cls = self._cls()
        x = self._observations(X, cls)
        fixed = {name: getattr(self, name) for name in self._fixed_names}
        result = fit(cls, x, weights=sample_weight, pseudo_count=self.pseudo_count, **fixed)
        self.result_ = result
        self.model_ = result.model
        self.params_ = {k: _plain(v) for k, v in result.params.items()}
        self.se_ = {k: _plain(v) for k, v in result.se.items()}
        self.converged_ = bool(np.all(result.converged))
        self.n_features_in_ = 1 if x.ndim == 1 else x.shape[1]
        return self

    def _fitted(self):
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {self!r} is not fitted yet: call fit(X) first")
        return self.model_

    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each row of ``X`` under the fitted model."""
        model = self._fitted()
        x = self._observations(X, type(model))
        if x.ndim == 2 and x.shape[1] != self.n_features_in_:
            raise ShapeError(f"X has {x.shape[1]} features, but DistributionEstimator is "
                             f"expecting {self.n_features_in_} features as input")
        return np.asarray(model.logpdf(x), dtype=float)

    def score(self, X, y=None, sample_weight=None) -> float:
        """Mean log-likelihood of the rows of ``X`` (weighted by ``sample_weight``)."""
        values = self.score_samples(X)
        if sample_weight is None:
            return float(np.mean(values))
        from .._validation import check_weights

        w = check_weights(sample_weight, values.shape, name="sample_weight")
        return float(np.sum(w * values) / np.sum(w))

    def sample(self, n_samples: int = 1, random_state: Any = None) -> np.ndarray:
        """``n_samples`` draws of the fitted model, shape ``(n_samples,)`` or ``(n_samples, d)``."""
        from .._validation import check_int

        return self._fitted().sample(check_int(n_samples, "n_samples", 1), rng=random_state)


def _plain(v):
    v = np.asarray(v)
    return float(v) if v.ndim == 0 else v
