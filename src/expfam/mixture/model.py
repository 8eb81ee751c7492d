"""The finite mixture ``p(x) = sum_k w_k p_k(x)`` of exponential-family members.

Label switching: the likelihood of a mixture does not change when its components are
permuted, so component labels are not identifiable.  :class:`Mixture` always stores its
components in a stated order (:meth:`Mixture.ordered`: by the first coordinate of each
component's mean ``E[x]``, ties by weight), so that two fits of the same data report
matching labels.
"""

from __future__ import annotations

import json

import numpy as np
from scipy.special import logsumexp

from .._validation import as_float_array, as_rng, check_finite, check_int
from ..divergence import MonteCarloEstimate, _estimate
from ..errors import FamilyMismatchError, FileFormatError, InputTypeError, ParameterError, ShapeError
from ..families import ExponentialFamily, resolve_family
from ..families._base import fixed_equal

__all__ = ["Mixture"]


def _blocks(components):
    """Group the components into batches of one family with equal fixed parameters:
    a list of ``(batched instance, component indices)``; a batch's log densities are
    evaluated at once."""
    groups: list[tuple[type, dict, list[int]]] = []
    for i, c in enumerate(components):
        for cls, fixed, idx in groups:
            if type(c) is cls and fixed_equal(c.fixed, fixed):
                idx.append(i)
                break
        else:
            groups.append((type(c), c.fixed, [i]))
    out = []
    for cls, fixed, idx in groups:
        eta = np.stack([components[i].natural for i in idx])
        out.append((cls.from_natural(eta, **fixed), np.array(idx)))
    return out


class Mixture:
    """A finite mixture ``p(x) = sum_k w_k p_k(x)``.

    Parameters
    ----------
    weights : array_like, shape (K,)
        Mixing weights, positive, summing to 1 (to 1e-9; renormalised).
    components : sequence of ExponentialFamily
        ``K`` single distributions (batch shape ``()``); they may be of different families
        when their supports and event shapes agree.

    Notes
    -----
    The labels of a mixture are not identifiable (label switching): permuting the
    components leaves the law unchanged.  The fit returns its components ordered by
    :meth:`ordered`'s key, the first coordinate of each component's mean ``E[x]``.
    """

    def __init__(self, weights, components):
        w = as_float_array(weights, name="mixing weights", invalid=ParameterError,
                           nonfinite=ParameterError)
        check_finite(w, name="mixing weights")
        comps = list(components)
        if w.ndim != 1 or w.size != len(comps) or w.size == 0:
            raise ShapeError(f"mixing weights of shape {w.shape} for {len(comps)} components")
        if np.any(w <= 0) or abs(w.sum() - 1) > 1e-9:
            raise ParameterError(f"mixing weights must be > 0 and sum to 1; got {w}")
        for i, c in enumerate(comps):
            if not isinstance(c, ExponentialFamily) or c.batch_shape != ():
                raise InputTypeError(f"component {i}: expected one ExponentialFamily "
                                     f"distribution (batch shape ()); got {c!r}")
        if len({c.event_ndim for c in comps}) != 1:
            raise FamilyMismatchError("components have observations of different event shapes")
        self.weights = w / w.sum()
        self.components = comps
        self._batches = _blocks(comps)

    @property
    def n_components(self) -> int:
        return len(self.components)

    @property
    def event_ndim(self) -> int:
        return self.components[0].event_ndim

    def __repr__(self):
        parts = ", ".join(f"{w:.4g}*{c!r}" for w, c in zip(self.weights, self.components))
        return f"Mixture({parts})"

    # ------------------------------------------------------------------
    def _as_data(self, x, name="x") -> np.ndarray:
        x = as_float_array(x, name=name)
        check_finite(x, name=name)
        if x.ndim < self.event_ndim:
            raise ShapeError(f"{name}: expected observations with {self.event_ndim} event axis")
        return x

    def component_logpdf(self, x) -> np.ndarray:
        """``log p_k(x)`` of every component, shape ``x.shape[:ndim-event] + (K,)``
        (``-inf`` outside a component's support)."""
        x = self._as_data(x)
        xe = x[(..., None) + (slice(None),) * self.event_ndim]
        out = np.empty(x.shape[: x.ndim - self.event_ndim] + (self.n_components,))
        for batch, idx in self._batches:
            out[..., idx] = batch.logpdf(xe)
        return out

    def joint_logpdf(self, x) -> np.ndarray:
        """``log w_k + log p_k(x)``, shape ``(..., K)``."""
        with np.errstate(divide="ignore"):
            return np.log(self.weights) + self.component_logpdf(x)

    def logpdf(self, x) -> np.ndarray:
        """Log density of the mixture, ``logsumexp_k(log w_k + log p_k(x))``."""
        return logsumexp(self.joint_logpdf(x), axis=-1)

    def pdf(self, x) -> np.ndarray:
        """Density of the mixture."""
        return np.exp(self.logpdf(x))

    def predict_proba(self, x) -> np.ndarray:
        """Responsibilities ``P(z = k | x)``, shape ``(..., K)`` (Bayes' rule, log-sum-exp).

        Raises :class:`~expfam.errors.SupportError` for values no component supports."""
        j = self.joint_logpdf(x)
        lse = logsumexp(j, axis=-1, keepdims=True)
        if not np.all(np.isfinite(lse)):
            from .._validation import raise_support
            x = self._as_data(x)
            raise_support(~np.isfinite(lse[..., 0]), x, "the support of the mixture", name="x")
        return np.exp(j - lse)

    def predict(self, x) -> np.ndarray:
        """Hard labels: the component of highest responsibility."""
        return np.argmax(self.predict_proba(x), axis=-1)

    def sample(self, size=None, rng=None, return_labels: bool = False):
        """Draw ``size`` observations (an int, or None for one); optionally their labels."""
        n = 1 if size is None else check_int(size, "size", 0)
        rng = as_rng(rng)
        z = rng.choice(self.n_components, size=n, p=self.weights)
        first = self.components[0].sample(1, rng=rng)
        x = np.empty((n,) + first.shape[1:])
        for k, c in enumerate(self.components):
            m = int(np.count_nonzero(z == k))
            if m:
                x[z == k] = c.sample(m, rng=rng)
        if size is None:
            x, z = x[0], z[0]
        return (x, z) if return_labels else x

    def mean(self) -> np.ndarray:
        """``E[x] = sum_k w_k E_k[x]``."""
        return sum(w * np.asarray(c.mean()) for w, c in zip(self.weights, self.components))

    def entropy(self, n_samples: int = 100_000, rng=None, level: float = 0.95) -> MonteCarloEstimate:
        """Entropy by Monte Carlo, ``-mean log p(x_i)`` over ``x_i ~ p``, with its standard
        error (a mixture's entropy has no closed form)."""
        x = self.sample(check_int(n_samples, "n_samples", 2), rng=rng)
        return _estimate(-self.logpdf(x), None, level)

    def kl(self, other, n_samples: int = 100_000, rng=None, level: float = 0.95) -> MonteCarloEstimate:
        """``KL(self || other)`` by Monte Carlo, ``mean(log p(x_i) - log q(x_i))`` over
        ``x_i ~ self``, with its standard error; ``other`` is any object with ``logpdf``."""
        if not hasattr(other, "logpdf"):
            raise InputTypeError(f"KL needs a model with logpdf; got {other!r}")
        x = self.sample(check_int(n_samples, "n_samples", 2), rng=rng)
        return _estimate(self.logpdf(x) - other.logpdf(x), None, level)

    # ------------------------------------------------------------------
    def order_key(self) -> np.ndarray:
        """The key :meth:`ordered` sorts by: the first coordinate of each component's
        mean ``E[x]``."""
        return np.array([float(np.ravel(c.mean())[0]) for c in self.components])

    def ordering(self) -> np.ndarray:
        """The permutation that sorts the components by :meth:`order_key` (then weight)."""
        return np.lexsort((-self.weights, self.order_key()))

    def ordered(self) -> "Mixture":
        """The same mixture with components sorted by :meth:`order_key`."""
        p = self.ordering()
        return Mixture(self.weights[p], [self.components[i] for i in p])

    # ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-compatible description (natural parameters, to full precision)."""
        return {"format": "expfam.mixture", "version": 1, "weights": self.weights.tolist(),
                "components": [{"family": c.name, "fixed": {k: np.asarray(v).tolist()
                                                            for k, v in c.fixed.items()},
                                "natural": np.asarray(c.natural).tolist()}
                               for c in self.components]}

    def to_json(self) -> str:
        """Serialise to JSON (``repr`` of floats round-trips exactly; no pickle)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text) -> "Mixture":
        """Read :meth:`to_json`'s output.  Malformed input raises
        :class:`~expfam.errors.FileFormatError`."""
        try:
            d = json.loads(text) if isinstance(text, (str, bytes)) else dict(text)
            if d.get("format") != "expfam.mixture":
                raise FileFormatError("not an expfam mixture (missing 'format': 'expfam.mixture')")
            comps = [resolve_family(c["family"]).from_natural(np.asarray(c["natural"], dtype=float),
                                                              **c.get("fixed", {}))
                     for c in d["components"]]
            return cls(d["weights"], comps)
        except FileFormatError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise FileFormatError(f"malformed mixture JSON: {exc}") from exc
