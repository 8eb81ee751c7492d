"""The Ising model / fully visible Boltzmann machine on ``n`` binary variables.

``p(s) = exp(h.s + sum_{(i,j)} J_ij s_i s_j - log Z)`` over the pairs ``i < j`` of a graph
(every pair: dense; or given ``edges``).  Spins take the values ``{-1,+1}``
(``spins="+-1"``, the default) or ``{0,1}`` (``spins="01"``, the Boltzmann machine's
``x``).  The two are the same family: with ``x = (1 + s) / 2``,

    ``b.x + sum W_ij x_i x_j = h.s + sum J_ij s_i s_j + c``,
    ``J = W / 4``, ``h = b / 2 + (W 1) / 4``, ``c = sum b / 2 + sum_(pairs) W / 4``,

so :meth:`Ising.to_spins` converts exactly (``log Z`` shifts by ``c``); every computation
is done in the ``{-1,+1}`` basis and mapped linearly.

Natural parameters ``eta = (h_1..h_n, J_p for the pairs p)`` and sufficient statistics
``u(s) = (s_1..s_n, s_i s_j for the pairs)``, with the pairs in the order of
``numpy.triu_indices(n, 1)`` (dense) or of the sorted ``edges``.

Usage::

    m = expfam.Ising(fields=h, couplings=J)              # J: symmetric (n, n), zero diagonal
    m = expfam.Ising(fields=h, couplings=J, edges=E)     # sparse graph (couplings off E are 0)
    m.log_partition()                                    # exact for n <= 24 (enumeration)
    m.log_partition(method="ais", rng=0)                 # AnnealedEstimate(value, se, ...)
    m.log_prob(s), m.unnormalized_log_prob(s)            # rows of s: states
    m.mean_params, m.fisher_information()                # E[u], Cov[u] (exact, n <= 24)
    m.sample(1000, rng=0)                                # exact (n <= 16) or Gibbs chains
    m.to_spins("01"), m.kl(other), m.connected_correlations()

Fixed parameters: ``n``, ``spins`` and ``edges`` (``None`` for dense).  The model
moments for learning come from enumeration (``n <= 20``) or persistent Gibbs chains
(:class:`~expfam.ebm.gibbs.GibbsSampler`); see :func:`expfam.ebm.fit_ising`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .._validation import as_float_array, check_finite, check_int
from ..errors import ModelCapabilityError, ParameterError, ShapeError
from ..families._base import SufficientStatisticModel
from ..moments import SampledMoments
from . import _hooks
from . import enumerate as _enum
from ._graph import DiscreteVectors, normalise_edges, pairs_of

__all__ = ["Ising", "SPINS", "IsingEnumeration"]

#: the two spin conventions
SPINS = ("+-1", "01")
#: largest ``n`` whose default moment source is enumeration (else persistent Gibbs chains)
ENUMERATE_DEFAULT = 20
#: largest ``n`` sampled exactly (by enumeration) in :meth:`Ising.draw`
DRAW_EXACT_MAX = 16


class IsingEnumeration:
    """Exact model moments of an Ising model by enumeration of its ``2^n`` states
    (:mod:`expfam.ebm.enumerate`); a moment source (:mod:`expfam.moments`)."""

    exact = True

    def mean(self, cls, eta, fixed, rng=None):
        from ..moments import MomentEstimate

        mu = _batched(lambda e: cls.exact(e, fixed)[1], eta, 1)
        return MomentEstimate(mu, np.zeros(np.shape(mu)))

    def fisher(self, cls, eta, fixed, rng=None):
        return _batched(lambda e: cls.exact(e, fixed, fisher=True)[2], eta, 2)

    def log_partition(self, cls, eta, fixed):
        return _batched(lambda e: np.asarray(cls.exact(e, fixed)[0]), eta, 0)

    def __repr__(self):
        return "IsingEnumeration()"


def _batched(fn, eta, extra):
    eta = np.asarray(eta, dtype=np.float64)
    if eta.ndim == 1:
        return fn(eta)
    flat = eta.reshape(-1, eta.shape[-1])
    out = np.stack([fn(e) for e in flat])
    return out.reshape(eta.shape[:-1] + out.shape[1:])


class Ising(SufficientStatisticModel):
    """An Ising model (fully visible Boltzmann machine); see the module docstring.

    Parameters
    ----------
    fields : array_like, shape (n,)
        ``h``.  Default zeros (then ``n`` comes from ``couplings`` or ``n=``).
    couplings : array_like, shape (n, n) or (m,)
        ``J``: a symmetric matrix with zero diagonal (entries off ``edges`` must be 0),
        or the vector of the pair couplings in the order of the pairs.  Default zeros.
    spins : {"+-1", "01"}
        The values of the variables.
    edges : array_like of int pairs, shape (m, 2), optional
        The interaction graph; default every pair (dense).
    n : int, optional
        Number of variables when neither ``fields`` nor a coupling matrix gives it.
    """

    name = "ising"
    event_ndim = 1
    discrete = True
    fixed_params = ("n", "spins", "edges")
    param_names = ("fields", "couplings")
    boundary_hint = ("a variable that never changes, a pair whose product never changes, or "
                     "a joint state of a pair never observed")
    moment_samples: ClassVar[int] = 4096

    def __init__(self, fields=None, couplings=None, *, spins="+-1", edges=None, n=None):
        n = _infer_n(fields, couplings, n)
        fixed = self.check_fixed({"n": n, "spins": spins, "edges": edges})
        eta = self.natural_from_params(fixed, fields=fields, couplings=couplings)
        self._init_natural(eta, fixed)

    # ------------------------------------------------------------------
    # Fixed parameters, dimension, support
    # ------------------------------------------------------------------
    @classmethod
    def check_fixed(cls, fixed):
        fixed = dict(fixed)
        fixed.setdefault("spins", "+-1")
        fixed.setdefault("edges", None)
        if "n" not in fixed:
            raise ParameterError("Ising needs the number of variables n (or data to infer it)")
        extra = set(fixed) - set(cls.fixed_params)
        if extra:
            raise ParameterError(f"Ising has no fixed parameter(s) {sorted(extra)}; its fixed "
                                 f"parameters are {list(cls.fixed_params)}")
        n = check_int(fixed["n"], "n", 1)
        if fixed["spins"] not in SPINS:
            raise ParameterError(f"spins must be one of {SPINS}; got {fixed['spins']!r}")
        return {"n": n, "spins": fixed["spins"], "edges": normalise_edges(fixed["edges"], n)}

    @classmethod
    def infer_fixed(cls, x, fixed):
        fixed = dict(fixed)
        if "n" not in fixed and np.ndim(x) >= 1:
            fixed["n"] = int(np.shape(x)[-1])
        return fixed

    @classmethod
    def pairs(cls, fixed) -> tuple[np.ndarray, np.ndarray]:
        """Index arrays ``(I, J)`` of the pairs, in the order of the natural parameters."""
        return pairs_of(fixed["n"], fixed["edges"])

    @classmethod
    def natural_dim(cls, fixed):
        return fixed["n"] + cls.pairs(fixed)[0].size

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.all(np.isfinite(eta), axis=-1)

    @classmethod
    def values(cls, fixed) -> np.ndarray:
        """The two values of a variable: ``[-1, 1]`` or ``[0, 1]``."""
        return np.array([-1.0, 1.0]) if fixed["spins"] == "+-1" else np.array([0.0, 1.0])

    @classmethod
    def support_of(cls, fixed):
        return DiscreteVectors([cls.values(fixed)] * fixed["n"])

    @classmethod
    def moment_source(cls, fixed):
        """Enumeration for ``n <= 20``; otherwise ``moment_samples`` samples of persistent
        Gibbs chains (:class:`~expfam.ebm.gibbs.GibbsSampler`)."""
        if fixed["n"] <= ENUMERATE_DEFAULT:
            return IsingEnumeration()
        return SampledMoments(cls.moment_samples, _hooks.service("gibbs_sampler")())

    # ------------------------------------------------------------------
    # Statistics
    # ------------------------------------------------------------------
    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        x = np.asarray(x, dtype=np.float64)
        I, J = cls.pairs(fixed)
        return np.concatenate([x, x[..., I] * x[..., J]], axis=-1)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x)[:-1])

    @classmethod
    def check_states(cls, x, fixed, name="x") -> np.ndarray:
        """``x`` as float64 ``(..., n)``: finite and in the support, else a typed error
        naming the first bad entry."""
        x = as_float_array(x, name=name)
        if x.ndim < 1 or x.shape[-1] != fixed["n"]:
            raise ShapeError(f"{name}: expected states of shape (..., {fixed['n']}); got {x.shape}")
        check_finite(x, name=name)
        from .data import check_levels

        check_levels(x, cls.values(fixed), name)
        return x

    # ------------------------------------------------------------------
    # Parameters and the two bases
    # ------------------------------------------------------------------
    @classmethod
    def natural_from_params(cls, fixed, fields=None, couplings=None):
        n = fixed["n"]
        I, J = cls.pairs(fixed)
        h = np.zeros(n) if fields is None else as_float_array(
            fields, name="fields", invalid=ParameterError, nonfinite=ParameterError)
        if h.shape != (n,):
            raise ShapeError(f"fields: expected shape ({n},); got {h.shape}")
        check_finite(h, name="fields")
        if couplings is None:
            c = np.zeros(I.size)
        else:
            Jm = as_float_array(couplings, name="couplings", invalid=ParameterError,
                                nonfinite=ParameterError)
            check_finite(Jm, name="couplings")
            if Jm.shape == (I.size,) and Jm.shape != (n, n):
                c = Jm
            elif Jm.shape == (n, n):
                c = _pairs_from_matrix(Jm, I, J, fixed["edges"] is not None)
            else:
                raise ShapeError(f"couplings: expected a ({n}, {n}) matrix or the {I.size} pair "
                                 f"couplings; got shape {Jm.shape}")
        return np.concatenate([h, c])

    @classmethod
    def params_from_natural(cls, eta, fixed):
        n = fixed["n"]
        return {"fields": eta[..., :n], "couplings": cls.coupling_matrix(eta, fixed)}

    @classmethod
    def coupling_matrix(cls, eta, fixed) -> np.ndarray:
        """The symmetric coupling matrix ``(..., n, n)`` (zero diagonal and off the graph)."""
        n = fixed["n"]
        I, J = cls.pairs(fixed)
        eta = np.asarray(eta, dtype=np.float64)
        M = np.zeros(eta.shape[:-1] + (n, n))
        M[..., I, J] = eta[..., n:]
        M[..., J, I] = eta[..., n:]
        return M

    @classmethod
    def to_pm(cls, eta, fixed) -> tuple[np.ndarray, np.ndarray]:
        """``(eta_pm, c)``: the parameters in the ``{-1,+1}`` basis and the constant with
        ``eta . u(x) = eta_pm . u(s) + c`` (``s = 2x - 1``); identity for ``"+-1"``."""
        eta = np.asarray(eta, dtype=np.float64)
        if fixed["spins"] == "+-1":
            return eta, np.zeros(eta.shape[:-1])
        n = fixed["n"]
        I, J = cls.pairs(fixed)
        b, W = eta[..., :n], eta[..., n:]
        h = b / 2
        _add_pairs(h, I, J, W / 4)
        c = np.sum(b, axis=-1) / 2 + np.sum(W, axis=-1) / 4
        return np.concatenate([h, W / 4], axis=-1), c

    @classmethod
    def from_pm(cls, eta_pm, fixed) -> np.ndarray:
        """The inverse of :meth:`to_pm`: parameters of the ``{-1,+1}`` basis in the
        model's basis."""
        eta_pm = np.asarray(eta_pm, dtype=np.float64)
        if fixed["spins"] == "+-1":
            return eta_pm
        n = fixed["n"]
        I, J = cls.pairs(fixed)
        h, Jp = eta_pm[..., :n], eta_pm[..., n:]
        row = np.zeros_like(h)
        _add_pairs(row, I, J, Jp)
        return np.concatenate([2 * h - 2 * row, 4 * Jp], axis=-1)

    @classmethod
    def basis_map(cls, fixed) -> tuple[np.ndarray, np.ndarray]:
        """``(A, a0)`` with ``u_model = A u_pm + a0`` (identity for ``"+-1"``): the mean
        parameters map as ``A mu_pm + a0`` and the Fisher information as ``A F A'``."""
        k = cls.natural_dim(fixed)
        if fixed["spins"] == "+-1":
            return np.eye(k), np.zeros(k)
        n = fixed["n"]
        I, J = cls.pairs(fixed)
        A = np.zeros((k, k))
        a0 = np.zeros(k)
        A[np.arange(n), np.arange(n)] = 0.5  # x_i = (1 + s_i) / 2
        a0[:n] = 0.5
        p = np.arange(n, k)  # x_i x_j = (1 + s_i + s_j + s_i s_j) / 4
        A[p, I] = 0.25
        A[p, J] = 0.25
        A[p, p] = 0.25
        a0[n:] = 0.25
        return A, a0

    # ------------------------------------------------------------------
    # Exact computation (enumeration)
    # ------------------------------------------------------------------
    @classmethod
    def exact(cls, eta, fixed, *, fisher=False):
        """``(log Z, E[u], Cov[u] or None)`` of one model by enumeration (``n <= 24``)."""
        n = fixed["n"]
        if n > _enum.ENUMERATE_MAX:
            raise ModelCapabilityError(
                f"exact enumeration of an Ising model is limited to n <= {_enum.ENUMERATE_MAX} "
                f"spins (2^n states); this one has n = {n}: use method='ais' for log Z and a "
                f"sampler for the moments")
        eta_pm, c = cls.to_pm(eta, fixed)
        I, J = cls.pairs(fixed)
        Jm = cls.coupling_matrix(eta_pm, {**fixed, "spins": "+-1"})
        logz, mu, F = _enum.exact_moments(eta_pm[:n], Jm, I, J, fisher=fisher)
        logz = logz + float(c)
        if fixed["spins"] == "01":
            A, a0 = cls.basis_map(fixed)
            mu = A @ mu + a0
            F = None if F is None else A @ F @ A.T
        return logz, mu, F

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        """Samples ``size + (n,)``: exact draws by enumeration for ``n <= 16``, else the
        states of independent Gibbs chains after a burn-in (:mod:`expfam.ebm.gibbs`)."""
        eta = np.asarray(eta, dtype=np.float64)
        if eta.ndim != 1:
            raise ModelCapabilityError("Ising.draw samples one model (no batch shape)")
        total = int(np.prod(size, dtype=np.int64))
        n = fixed["n"]
        if n <= DRAW_EXACT_MAX:
            eta_pm, _ = cls.to_pm(eta, fixed)
            I, J = cls.pairs(fixed)
            z = _enum.log_weights(eta_pm[:n], cls.coupling_matrix(eta_pm, {**fixed, "spins": "+-1"}))
            p = np.exp(z - z.max())
            cdf = np.cumsum(p)
            idx = np.searchsorted(cdf, rng.random(total) * cdf[-1], side="right")
            idx = np.minimum(idx, p.size - 1)
            s = 1.0 - 2.0 * ((idx[:, None] >> np.arange(n)) & 1)
        else:
            sampler = _hooks.service("gibbs_sampler")(n_chains=min(total, 1024), seed=rng)
            s = sampler.sample(cls, eta, fixed, total, rng)
            s = 2.0 * s - 1.0 if fixed["spins"] == "01" else s
        x = s if fixed["spins"] == "+-1" else (s + 1.0) / 2.0
        return x.reshape(tuple(size) + (n,))

    @classmethod
    def fit_samples(cls, family, data, weights=None, **options):
        """``expfam.fit(Ising or an Ising instance, samples, method=..., ...)``: see
        :func:`expfam.ebm.fit_ising` (an instance gives ``spins`` and ``edges``)."""
        fit_ising = _hooks.service("fit_ising")
        if isinstance(family, Ising):
            options.setdefault("spins", family.spins)
            options.setdefault("edges", family.edges)
        return fit_ising(data, weights, **options)

    # ------------------------------------------------------------------
    # Instances
    # ------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self._fixed["n"]

    @property
    def spins(self) -> str:
        return self._fixed["spins"]

    @property
    def edges(self):
        return self._fixed["edges"]

    def to_spins(self, spins: str) -> Ising:
        """The same distribution with variables in ``spins`` (``"+-1"`` or ``"01"``)."""
        if spins not in SPINS:
            raise ParameterError(f"spins must be one of {SPINS}; got {spins!r}")
        eta_pm, _ = type(self).to_pm(self._eta, self._fixed)
        fixed = {**self._fixed, "spins": spins}
        return type(self).from_natural(type(self).from_pm(eta_pm, fixed), **fixed)

    def unnormalized_log_prob(self, x) -> np.ndarray:
        """``eta . u(x)`` = ``h.x + sum J_ij x_i x_j`` for states ``x`` of shape ``(..., n)``."""
        x = type(self).check_states(x, self._fixed)
        return type(self).sufficient_statistics(x, self._fixed) @ self._eta

    def log_partition(self, method: str = "exact", **options):
        """``log Z``: ``"exact"`` (enumeration, ``n <= 24``; a float) or ``"ais"`` (annealed
        importance sampling, :func:`expfam.ebm.ais.ais_log_partition`; an
        :class:`~expfam.ebm.ais.AnnealedEstimate` with its standard error)."""
        if method == "exact":
            return type(self).exact(self._eta, self._fixed)[0]
        if method == "ais":
            return _hooks.service("ais")(self, **options)
        raise ParameterError(f"method must be 'exact' or 'ais'; got {method!r}")

    def log_prob(self, x) -> np.ndarray:
        """Normalised ``log p(x)`` (exact ``log Z`` by enumeration, ``n <= 24``)."""
        return self.unnormalized_log_prob(x) - self.log_partition()

    def logpmf(self, x) -> np.ndarray:
        """The same as :meth:`log_prob`."""
        return self.log_prob(x)

    @property
    def mean_params(self) -> np.ndarray:
        """``E[u]`` exactly (enumeration, ``n <= 24``)."""
        return type(self).exact(self._eta, self._fixed)[1]

    def fisher_information(self) -> np.ndarray:
        """``Cov[u]`` exactly (enumeration, ``n <= 24``), shape ``(k, k)``."""
        return type(self).exact(self._eta, self._fixed, fisher=True)[2]

    def means(self) -> np.ndarray:
        """``E[x_i]`` (exact)."""
        return self.mean_params[: self.n]

    def correlations(self) -> np.ndarray:
        """``E[x_i x_j]`` as an ``(n, n)`` matrix (exact, dense models), diagonal ``E[x_i^2]``."""
        n = self.n
        mu = self.densified().mean_params
        M = np.zeros((n, n))
        i, j = np.triu_indices(n, 1)
        M[i, j] = M[j, i] = mu[n:]
        M[np.arange(n), np.arange(n)] = 1.0 if self.spins == "+-1" else mu[:n]
        return M

    def connected_correlations(self) -> np.ndarray:
        """``E[x_i x_j] - E[x_i] E[x_j]``, ``(n, n)`` (exact)."""
        M = self.correlations()
        m = np.diag(M).copy() if self.spins == "01" else None
        mean = self.means() if m is None else m
        return M - np.outer(mean, mean)

    def kl(self, other: Ising) -> float:
        """``KL(self || other)`` exactly (enumeration): the Bregman divergence of ``log Z``,
        ``A(eta_q) - A(eta_p) - (eta_q - eta_p) . mu_p`` in the ``{-1,+1}`` basis of both."""
        if not isinstance(other, Ising) or other.n != self.n:
            raise ParameterError("kl needs another Ising model on the same number of variables")
        p, q = self.to_spins("+-1").densified(), other.to_spins("+-1").densified()
        A_p, mu_p, _ = type(p).exact(p._eta, p._fixed)
        A_q = type(q).exact(q._eta, q._fixed)[0]
        return max(0.0, float(A_q - A_p - (q._eta - p._eta) @ mu_p))

    def densified(self) -> Ising:
        """The same model with the dense graph (couplings off the edges zero)."""
        if self.edges is None:
            return self
        n = self.n
        eta = np.concatenate([self._eta[:n], self.couplings[np.triu_indices(n, 1)]])
        return type(self).from_natural(eta, **{**self._fixed, "edges": None})

    def __repr__(self) -> str:
        graph = "dense" if self.edges is None else f"{len(self.edges)} edges"
        return f"Ising(n={self.n}, spins={self.spins!r}, {graph})"


def _add_pairs(row, I, J, w):
    """``row[..., I] += w``, ``row[..., J] += w`` (repeated indices accumulate)."""
    flat = row.reshape(-1, row.shape[-1])
    wf = np.asarray(w).reshape(-1, np.shape(w)[-1])
    for r in range(flat.shape[0]):
        flat[r] += np.bincount(I, weights=wf[r], minlength=flat.shape[1])
        flat[r] += np.bincount(J, weights=wf[r], minlength=flat.shape[1])


def _pairs_from_matrix(M, I, J, sparse):
    n = M.shape[0]
    if not np.array_equal(M, M.T):
        d = np.abs(M - M.T)
        i, j = np.unravel_index(int(np.argmax(d)), d.shape)
        raise ParameterError(f"couplings must be symmetric; J[{i}, {j}] = {M[i, j]} but "
                             f"J[{j}, {i}] = {M[j, i]}")
    if np.any(np.diag(M) != 0):
        i = int(np.flatnonzero(np.diag(M) != 0)[0])
        raise ParameterError(f"couplings must have a zero diagonal; J[{i}, {i}] = {M[i, i]}")
    if sparse:
        off = M.copy()
        off[I, J] = off[J, I] = 0
        if np.any(off != 0):
            i, j = np.argwhere(off != 0)[0]
            raise ParameterError(f"couplings: J[{i}, {j}] = {M[i, j]} is not on the given edges "
                                 f"(must be 0)")
    del n
    return M[I, J].astype(np.float64)


def _infer_n(fields, couplings, n):
    if n is not None:
        return n
    if fields is not None:
        return int(np.shape(fields)[-1]) if np.ndim(fields) else 1
    if couplings is not None and np.ndim(couplings) == 2:
        return int(np.shape(couplings)[-1])
    raise ParameterError("Ising: give fields, a coupling matrix, or n=")
