"""The Potts model: ``n`` categorical variables, variable ``i`` taking ``q_i`` states.

``p(x) = exp(sum_i h_i(x_i) + sum_{(i,j)} J_ij(x_i, x_j) - log Z)`` over the pairs
``i < j`` of a graph (every pair: dense; or given ``edges``), states ``0..q_i - 1``.

**Gauge.**  Adding ``c(a)`` to ``J_ij(a, b)`` for every ``b`` and subtracting it from
``h_i(a)`` (and constants) leaves ``p`` unchanged, so fields and couplings are defined only
up to such shifts.  expfam's natural parameters use the *lattice-gas* gauge (reference
state 0): ``h_i(0) = 0`` and ``J_ij(0, b) = J_ij(a, 0) = 0``, i.e. the sufficient
statistics are the indicators ``[x_i = a]`` (``a >= 1``) and ``[x_i = a][x_j = b]``
(``a, b >= 1``): ``k = sum_i (q_i - 1) + sum_(pairs) (q_i - 1)(q_j - 1)``, a minimal
(identifiable) family.  :func:`to_gauge` converts full fields and couplings in any gauge
to the *lattice-gas* or the *zero-sum* gauge (``sum_a h_i(a) = 0``,
``sum_a J_ij(a, b) = sum_b J_ij(a, b) = 0``); both describe the same distribution, and the
conversion returns the constant by which ``log Z`` changes.  An Ising model with ``{0,1}``
spins is the ``q = 2`` Potts model in the lattice-gas gauge.

Full parameters are padded arrays: ``fields`` of shape ``(n, q_max)`` and ``couplings`` of
shape ``(n, n, q_max, q_max)`` with ``couplings[j, i] = couplings[i, j].T`` (entries beyond
``q_i`` ignored and returned as 0).

Usage::

    m = expfam.Potts(fields=H, couplings=Jfull, q=[3, 4, 2])  # any gauge in, lattice-gas kept
    m.params                                    # lattice-gas fields and couplings
    m.parameters("zero-sum")                    # the same law in the zero-sum gauge
    m.log_partition(), m.log_prob(x), m.mean_params, m.fisher_information()  # exact
    m.sample(1000, rng=0)                       # exact draws (small) or Gibbs chains
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_finite, check_int
from ..errors import ModelCapabilityError, ParameterError, ShapeError
from ..families._base import SufficientStatisticModel
from ..moments import MomentEstimate, SampledMoments
from . import _hooks
from ._graph import DiscreteVectors, normalise_edges, pairs_of

__all__ = ["Potts", "to_gauge", "GAUGES", "PottsEnumeration"]

GAUGES = ("lattice-gas", "zero-sum")
#: largest number of joint states enumerated
ENUMERATE_MAX_STATES = 2**22
#: joint states per chunk of the enumeration
CHUNK = 2**16


def to_gauge(fields, couplings, q, gauge: str = "zero-sum"):
    """Full fields ``(n, q_max)`` and couplings ``(n, n, q_max, q_max)`` in ``gauge``.

    Returns ``(fields, couplings, shift)``: the same distribution, with
    ``energy_old(x) = energy_new(x) + shift`` for every state (so ``log Z`` shifts by
    ``shift``).  Only the pairs ``i < j`` of ``couplings`` are read; the result is
    symmetric (``couplings[j, i] = couplings[i, j].T``) with a zero diagonal block.
    """
    if gauge not in GAUGES:
        raise ParameterError(f"gauge must be one of {GAUGES}; got {gauge!r}")
    q = np.asarray(q, dtype=np.int64)
    n = q.size
    H = np.array(fields, dtype=np.float64)
    Jf = np.array(couplings, dtype=np.float64)
    qm = H.shape[1]
    out = np.zeros_like(Jf)
    shift = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            M = Jf[i, j, :q[i], :q[j]]
            if gauge == "zero-sum":
                r, c, m = M.mean(axis=1), M.mean(axis=0), M.mean()
                T = M - r[:, None] - c[None, :] + m
                H[i, :q[i]] += r - m
                H[j, :q[j]] += c - m
            else:  # lattice gas: reference state 0
                r, c, m = M[:, 0], M[0, :], M[0, 0]
                T = M - r[:, None] - c[None, :] + m
                H[i, :q[i]] += r - m
                H[j, :q[j]] += c - m
            shift += m
            out[i, j, :q[i], :q[j]] = T
            out[j, i, :q[j], :q[i]] = T.T
    for i in range(n):
        ref = H[i, :q[i]].mean() if gauge == "zero-sum" else H[i, 0]
        H[i, :q[i]] -= ref
        H[i, q[i]:] = 0.0
        shift += ref
    del qm
    return H, out, shift


class Potts(SufficientStatisticModel):
    """A Potts model; see the module docstring.

    Parameters
    ----------
    fields : array_like, shape (n, q_max)
        ``h_i(a)`` (any gauge; entries beyond ``q_i`` must be 0).  Default zeros.
    couplings : array_like, shape (n, n, q_max, q_max), optional
        ``J_ij(a, b)``, with ``couplings[j, i] = couplings[i, j].T``; zero blocks off the
        graph and on the diagonal.  Default zeros.
    q : int or sequence of int
        Number of states of every variable (or of each).  Default: ``fields.shape[1]``.
    edges : array_like of pairs, optional
        The interaction graph; default dense.
    n : int, optional
        Number of variables when ``fields`` does not give it.
    """

    name = "potts"
    event_ndim = 1
    discrete = True
    fixed_params = ("n", "q", "edges")
    param_names = ("fields", "couplings")
    boundary_hint = "a state of a variable, or a joint state of a pair, never observed"
    moment_samples = 4096

    def __init__(self, fields=None, couplings=None, *, q=None, edges=None, n=None):
        if n is None:
            if fields is None:
                raise ParameterError("Potts: give fields or n=")
            n = int(np.shape(fields)[0])
        if q is None:
            if fields is None:
                raise ParameterError("Potts: give q (states per variable) or fields")
            q = int(np.shape(fields)[1])
        fixed = self.check_fixed({"n": n, "q": q, "edges": edges})
        eta = self.natural_from_params(fixed, fields=fields, couplings=couplings)
        self._init_natural(eta, fixed)

    # ------------------------------------------------------------------
    @classmethod
    def check_fixed(cls, fixed):
        fixed = dict(fixed)
        fixed.setdefault("edges", None)
        if "n" not in fixed or "q" not in fixed:
            raise ParameterError("Potts needs n and q (states per variable)")
        extra = set(fixed) - set(cls.fixed_params)
        if extra:
            raise ParameterError(f"Potts has no fixed parameter(s) {sorted(extra)}")
        n = check_int(fixed["n"], "n", 1)
        q = fixed["q"]
        q = (q,) * n if np.ndim(q) == 0 else tuple(q)
        if len(q) != n:
            raise ParameterError(f"q: expected {n} numbers of states; got {len(q)}")
        q = tuple(check_int(int(v) if isinstance(v, (np.integer,)) else v, f"q[{i}]", 2)
                  for i, v in enumerate(q))
        return {"n": n, "q": q, "edges": normalise_edges(fixed["edges"], n)}

    @classmethod
    def infer_fixed(cls, x, fixed):
        fixed = dict(fixed)
        if "n" not in fixed and np.ndim(x) >= 1:
            fixed["n"] = int(np.shape(x)[-1])
        if "q" not in fixed and np.size(x):
            fixed["q"] = tuple(int(v) + 1 for v in np.max(np.asarray(x), axis=0))
        return fixed

    @classmethod
    def pairs(cls, fixed):
        return pairs_of(fixed["n"], fixed["edges"])

    @classmethod
    def layout(cls, fixed):
        """Offsets: ``field_off[i]`` (start of ``h_i(1..q_i-1)``) and ``pair_off[p]`` (start
        of ``J_p(1.., 1..)``, row-major), and ``k``."""
        q = np.asarray(fixed["q"], dtype=np.int64)
        I, J = cls.pairs(fixed)
        field_off = np.concatenate([[0], np.cumsum(q - 1)])
        sizes = (q[I] - 1) * (q[J] - 1)
        pair_off = field_off[-1] + np.concatenate([[0], np.cumsum(sizes)])
        return field_off, pair_off, int(pair_off[-1])

    @classmethod
    def natural_dim(cls, fixed):
        return cls.layout(fixed)[2]

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.all(np.isfinite(eta), axis=-1)

    @classmethod
    def support_of(cls, fixed):
        return DiscreteVectors([np.arange(v, dtype=np.float64) for v in fixed["q"]])

    @classmethod
    def n_states(cls, fixed) -> int:
        return int(np.prod(np.asarray(fixed["q"], dtype=np.float64)))

    @classmethod
    def moment_source(cls, fixed):
        """Enumeration when there are at most 2^20 joint states, else persistent Gibbs
        chains."""
        if cls.n_states(fixed) <= 2**20:
            return PottsEnumeration()
        return SampledMoments(cls.moment_samples, _hooks.service("gibbs_sampler")())

    # ------------------------------------------------------------------
    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        x = np.asarray(x)
        xi = x.astype(np.int64)
        q = fixed["q"]
        I, J = cls.pairs(fixed)
        cols = [(xi[..., i:i + 1] == np.arange(1, q[i])).astype(np.float64) for i in range(len(q))]
        for i, j in zip(I.tolist(), J.tolist()):
            a = cols[i][..., :, None] * cols[j][..., None, :]
            cols.append(a.reshape(a.shape[:-2] + (-1,)))
        return np.concatenate(cols, axis=-1)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x)[:-1])

    @classmethod
    def full_params(cls, eta, fixed):
        """``(fields (n, q_max), couplings (n, n, q_max, q_max))`` in the lattice-gas gauge."""
        eta = np.asarray(eta, dtype=np.float64)
        q = fixed["q"]
        n, qm = len(q), max(q)
        fo, po, _ = cls.layout(fixed)
        I, J = cls.pairs(fixed)
        H = np.zeros((n, qm))
        for i in range(n):
            H[i, 1:q[i]] = eta[fo[i]:fo[i + 1]]
        C = np.zeros((n, n, qm, qm))
        for p, (i, j) in enumerate(zip(I.tolist(), J.tolist())):
            blk = eta[po[p]:po[p + 1]].reshape(q[i] - 1, q[j] - 1)
            C[i, j, 1:q[i], 1:q[j]] = blk
            C[j, i, 1:q[j], 1:q[i]] = blk.T
        return H, C

    @classmethod
    def natural_from_params(cls, fixed, fields=None, couplings=None):
        q = fixed["q"]
        n, qm = len(q), max(q)
        I, J = cls.pairs(fixed)
        H = np.zeros((n, qm)) if fields is None else as_float_array(
            fields, name="fields", invalid=ParameterError, nonfinite=ParameterError)
        if H.shape != (n, qm):
            raise ShapeError(f"fields: expected shape ({n}, {qm}); got {H.shape}")
        check_finite(H, name="fields")
        C = np.zeros((n, n, qm, qm)) if couplings is None else as_float_array(
            couplings, name="couplings", invalid=ParameterError, nonfinite=ParameterError)
        if C.shape != (n, n, qm, qm):
            raise ShapeError(f"couplings: expected shape ({n}, {n}, {qm}, {qm}); got {C.shape}")
        check_finite(C, name="couplings")
        for i in range(n):
            if np.any(H[i, q[i]:] != 0):
                raise ParameterError(f"fields[{i}] has nonzero entries beyond q[{i}] = {q[i]}")
            if np.any(C[i, i] != 0):
                raise ParameterError(f"couplings[{i}, {i}] must be zero (no self-coupling)")
        on = set(zip(I.tolist(), J.tolist()))
        for i in range(n):
            for j in range(i + 1, n):
                if not np.array_equal(C[i, j], C[j, i].T):
                    raise ParameterError(f"couplings[{j}, {i}] must equal couplings[{i}, {j}].T")
                if (i, j) not in on and np.any(C[i, j] != 0):
                    raise ParameterError(f"couplings[{i}, {j}] is nonzero but ({i}, {j}) is not an edge")
                if np.any(C[i, j, q[i]:, :] != 0) or np.any(C[i, j, :, q[j]:] != 0):
                    raise ParameterError(f"couplings[{i}, {j}] has entries beyond q")
        Hl, Cl, _ = to_gauge(H, C, q, "lattice-gas")
        parts = [Hl[i, 1:q[i]] for i in range(n)]
        parts += [Cl[i, j, 1:q[i], 1:q[j]].ravel() for i, j in zip(I.tolist(), J.tolist())]
        return np.concatenate(parts) if parts else np.zeros(0)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        H, C = cls.full_params(eta, fixed)
        return {"fields": H, "couplings": C}

    # ------------------------------------------------------------------
    @classmethod
    def energies(cls, x, eta, fixed) -> np.ndarray:
        """``sum_i h_i(x_i) + sum J_ij(x_i, x_j)`` of integer states ``x`` ``(..., n)``."""
        H, C = cls.full_params(eta, fixed)
        x = np.asarray(x).astype(np.int64)
        n = len(fixed["q"])
        E = np.zeros(x.shape[:-1])
        for i in range(n):
            E += H[i, x[..., i]]
        I, J = cls.pairs(fixed)
        for i, j in zip(I.tolist(), J.tolist()):
            E += C[i, j, x[..., i], x[..., j]]
        return E

    @classmethod
    def _state_chunks(cls, fixed):
        q = np.asarray(fixed["q"], dtype=np.int64)
        total = cls.n_states(fixed)
        if total > ENUMERATE_MAX_STATES:
            raise ModelCapabilityError(
                f"exact enumeration of a Potts model is limited to {ENUMERATE_MAX_STATES} joint "
                f"states; this one has {total:.3g}: use a sampler")
        radix = np.concatenate([[1], np.cumprod(q[:-1])])
        for start in range(0, int(total), CHUNK):
            idx = np.arange(start, min(start + CHUNK, int(total)), dtype=np.int64)
            yield (idx[:, None] // radix) % q

    @classmethod
    def exact(cls, eta, fixed, *, fisher=False):
        """``(log Z, E[u], Cov[u] or None)`` by enumeration, in chunks of states: a
        log-sum-exp with a running maximum; moments and the covariance summed with weights
        relative to the final maximum."""
        eta = np.asarray(eta, dtype=np.float64)
        chunks = list(cls._state_chunks(fixed))
        Es = [cls.energies(x, eta, fixed) for x in chunks]
        top = max(float(E.max()) for E in Es)
        ws = [np.exp(E - top) for E in Es]
        Z = sum(float(w.sum()) for w in ws)
        logz = top + np.log(Z)
        k = eta.size
        mu = np.zeros(k)
        for x, w in zip(chunks, ws):
            mu += w @ cls.sufficient_statistics(x, fixed)
        mu /= Z
        F = None
        if fisher:
            F = np.zeros((k, k))
            for x, w in zip(chunks, ws):
                U = cls.sufficient_statistics(x, fixed) - mu
                F += (U * w[:, None]).T @ U
            F /= Z
        return float(logz), mu, F

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        """Exact draws for at most 2^16 joint states, else Gibbs chains after a burn-in."""
        total = int(np.prod(size, dtype=np.int64))
        if cls.n_states(fixed) <= 2**16:
            x = next(cls._state_chunks(fixed))
            E = cls.energies(x, eta, fixed)
            p = np.exp(E - E.max())
            cdf = np.cumsum(p)
            idx = np.minimum(np.searchsorted(cdf, rng.random(total) * cdf[-1], side="right"),
                             p.size - 1)
            out = x[idx].astype(np.float64)
        else:
            sampler = _hooks.service("gibbs_sampler")(min(total, 1024), seed=rng)
            out = sampler.sample(cls, eta, fixed, total, rng)
        return out.reshape(tuple(size) + (len(fixed["q"]),))

    @classmethod
    def fit_samples(cls, family, data, weights=None, **options):
        """``expfam.fit(Potts or a Potts instance, samples, method="exact", l2=...)``: see
        :func:`expfam.ebm.potts_learning.fit_potts` (an instance gives ``q`` and ``edges``)."""
        fit_potts = _hooks.service("fit_potts")
        if isinstance(family, Potts):
            options.setdefault("q", family.q)
            options.setdefault("edges", family._fixed["edges"])
        return fit_potts(data, weights, **options)

    # ------------------------------------------------------------------
    @property
    def q(self) -> tuple:
        return self._fixed["q"]

    @property
    def n(self) -> int:
        return self._fixed["n"]

    def parameters(self, gauge: str = "lattice-gas"):
        """``(fields, couplings)`` in ``gauge`` (``"lattice-gas"`` or ``"zero-sum"``)."""
        H, C = type(self).full_params(self._eta, self._fixed)
        H, C, _ = to_gauge(H, C, self.q, gauge)
        return H, C

    def unnormalized_log_prob(self, x) -> np.ndarray:
        x = self._checked(x)
        return type(self).energies(x, self._eta, self._fixed)

    def _checked(self, x):
        from .data import check_levels

        x = as_float_array(x, name="x")
        if x.ndim < 1 or x.shape[-1] != self.n:
            raise ShapeError(f"x: expected states of shape (..., {self.n}); got {x.shape}")
        check_finite(x, name="x")
        for i, qi in enumerate(self.q):
            check_levels(x[..., i], np.arange(qi, dtype=np.float64), f"x[..., {i}]")
        return x

    def log_partition(self) -> float:
        """``log Z`` by enumeration."""
        return type(self).exact(self._eta, self._fixed)[0]

    def log_prob(self, x) -> np.ndarray:
        """Normalised ``log p(x)`` (exact)."""
        return self.unnormalized_log_prob(x) - self.log_partition()

    @property
    def mean_params(self) -> np.ndarray:
        return type(self).exact(self._eta, self._fixed)[1]

    def fisher_information(self) -> np.ndarray:
        return type(self).exact(self._eta, self._fixed, fisher=True)[2]

    def __repr__(self):
        graph = "dense" if self._fixed["edges"] is None else f"{len(self._fixed['edges'])} edges"
        return f"Potts(n={self.n}, q={self.q}, {graph})"


class PottsEnumeration:
    """Exact moments of a Potts model by enumeration (a moment source)."""

    exact = True

    def mean(self, cls, eta, fixed, rng=None):
        mu = cls.exact(eta, fixed)[1]
        return MomentEstimate(mu, np.zeros(mu.shape))

    def fisher(self, cls, eta, fixed, rng=None):
        return cls.exact(eta, fixed, fisher=True)[2]

    def log_partition(self, cls, eta, fixed):
        return np.asarray(cls.exact(eta, fixed)[0])

    def __repr__(self):
        return "PottsEnumeration()"
