"""Persistent Gibbs (heat-bath) sampling of Ising and Potts models, many chains at once.

:class:`GibbsSampler` is a :class:`expfam.moments.Sampler`: it keeps its chains between
calls and continues them at the new parameters (persistent contrastive divergence), so
``SampledMoments(n, GibbsSampler(...))`` is the moment source of an energy-based model in
the stochastic learner.  Chains are compiled (numba, ``cache=True``) and run in parallel
(``prange`` over chains); each chain has its own random stream seeded from one seed, so the
same seed gives the same chains whatever the number of threads.

Scans: ``"random"`` (``n`` uniformly drawn sites per sweep), ``"sequential"`` (sites
``0..n-1``) and ``"checkerboard"`` (the colour classes of a greedy graph colouring in
turn; the checkerboard of a lattice).  Dense Ising models in sequential or checkerboard
order run 16 chains in lock-step in SIMD lanes (:mod:`._lanes`; the random scan runs
chain by chain).  A periodic ``rows x cols`` lattice Ising model
with uniform coupling and field in checkerboard order runs multi-spin coded
(:mod:`._multispin`: 64 chains per machine word, heat-bath probabilities from a table of
five thresholds).

Usage::

    g = GibbsSampler(n_chains=512, scan="checkerboard", burn_in=200, seed=0)
    x = g.sample_model(model, 10_000)      # (10000, n), continuing the chains
    state = g.get_state(); g.set_state(state); g.save("chains.npz"); GibbsSampler.load(...)
    g.chains                                # (n_chains, R, n) of the last call, for diagnostics
"""

from __future__ import annotations

import json
import os

import numpy as np

from .._validation import check_int
from ..errors import FileFormatError, ParameterError
from ..moments import Sampler
from . import _gibbs_kernels as K
from . import _hooks
from . import _multispin as MS
from ._graph import colouring, csr_of, lattice_edges
from ._rng import seed_streams

__all__ = ["GibbsSampler", "SCANS"]

SCANS = {"sequential": K.SEQUENTIAL, "random": K.RANDOM, "checkerboard": K.ORDERED}


class GibbsSampler(Sampler):
    """Persistent heat-bath chains.

    Parameters
    ----------
    n_chains : int
        Number of chains (run in parallel).
    scan : {"random", "sequential", "checkerboard"}
    thin : int
        Sweeps between two recorded states of a chain.
    burn_in : int
        Sweeps made before the first recorded state, when the chains start (first call,
        after :meth:`reset`, or when the model's size changes).
    seed : int, numpy.random.SeedSequence or Generator, optional
        Seed of the chains' random streams; default: drawn from the ``rng`` of the first
        call.
    global_flip : bool
        End every sweep with the Metropolis move ``s -> -s`` (Ising models, dense or
        sparse kernels; see :mod:`._gibbs_kernels`): it leaves the model invariant and
        mixes the two halves of a near-symmetric model.
    """

    independent = False

    def __init__(self, n_chains: int = 256, *, scan: str = "random", thin: int = 1,
                 burn_in: int = 100, seed=None, global_flip: bool = True):
        self.n_chains = check_int(n_chains, "n_chains", 1)
        if scan not in SCANS:
            raise ParameterError(f"scan must be one of {sorted(SCANS)}; got {scan!r}")
        self.scan = scan
        self.thin = check_int(thin, "thin", 1)
        self.burn_in = check_int(burn_in, "burn_in", 0)
        self.seed = seed
        self.global_flip = bool(global_flip)
        self.reset()

    def reset(self) -> None:
        """Forget the chains (the next call starts them again, with a burn-in)."""
        self.states: np.ndarray | None = None
        self.streams: np.ndarray | None = None
        self.sweeps = 0
        self.chains: np.ndarray | None = None
        self._kind: str | None = None

    # ------------------------------------------------------------------
    def _start(self, n_vars: int, rng, kind: str) -> None:
        seed = self.seed
        if seed is None:
            seed = np.random.default_rng(rng).integers(0, 2**63)
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(
            int(seed.integers(0, 2**63)) if isinstance(seed, np.random.Generator) else seed)
        start, streams = ss.spawn(2)
        self.streams = seed_streams(streams, self.n_chains)
        init = np.random.default_rng(start)
        self._kind = kind
        self.states = np.where(init.random((self.n_chains, n_vars)) < 0.5, 1, -1).astype(np.int8)
        self.sweeps = 0

    def sample(self, cls, eta, fixed, size, rng=None) -> np.ndarray:
        """``size`` states of the model ``(cls, eta, fixed)``, shape ``(size, n)``: the
        chains continue (after a burn-in when they start) and each records a state every
        ``thin`` sweeps; the states are ordered record by record, chain by chain."""
        size = check_int(size, "size", 1)
        rounds = -(-size // self.n_chains)
        out = self.run(cls, eta, fixed, rounds, rng)
        flat = out.transpose(1, 0, 2).reshape(-1, out.shape[-1])[:size]
        return flat

    def sample_model(self, model, size, rng=None) -> np.ndarray:
        """:meth:`sample` for a model instance."""
        return self.sample(type(model), model.natural, model.fixed, size, rng)

    def run(self, cls, eta, fixed, rounds: int, rng=None) -> np.ndarray:
        """Run every chain for ``rounds * thin`` sweeps (plus the burn-in when starting);
        returns the recorded states ``(n_chains, rounds, n)`` in the model's values (also
        kept as :attr:`chains`)."""
        eta = np.asarray(eta, dtype=np.float64)
        kind = cls.name
        n_vars = fixed["n"]
        if self.states is None or self.states.shape[1] != n_vars or self._kind != kind:
            self._start(n_vars, rng, kind)
        if kind == "potts":
            from ._potts_kernels import potts_gibbs

            raw = potts_gibbs(self, cls, eta, fixed, rounds)
            self.chains = raw.astype(np.float64)
            return self.chains
        eta_pm, _ = cls.to_pm(eta, fixed)
        if self.sweeps == 0 and self.burn_in:
            self._sweep(cls, eta_pm, fixed, self.burn_in, 0)
        raw = self._sweep(cls, eta_pm, fixed, rounds * self.thin, rounds)
        x = raw.astype(np.float64)
        if fixed["spins"] == "01":
            x = (x + 1.0) / 2.0
        self.chains = x
        return x

    def _sweep(self, cls, eta_pm, fixed, n_sweeps, records):
        n = fixed["n"]
        out = np.zeros((self.n_chains, records, n), dtype=np.int8)
        every = self.thin if records else 1
        h = np.ascontiguousarray(eta_pm[:n])
        I, J = cls.pairs(fixed)
        couplings = eta_pm[n:]
        scan = SCANS[self.scan]
        shape = _uniform_lattice(n, fixed["edges"], h, couplings) if self.scan == "checkerboard" else None
        if shape is not None:
            # P(s = +1 | k neighbours at +1) = sigma(2 (h + J (2k - 4))), 64-bit fixed point
            k = np.arange(5)
            p = 1.0 / (1.0 + np.exp(-2.0 * (h[0] + couplings[0] * (2 * k - 4))))
            th = np.array([min(int(v * 2.0**64), 2**64 - 1) for v in p], dtype=np.uint64)
            groups = -(-self.n_chains // 64)
            W = MS.pack(self.states, groups)
            MS.sweep_lattice_packed(W, shape[0], shape[1], MS.digit_masks(th),
                                    self.streams[:groups], n_sweeps, out, every)
            MS.unpack(W, self.states)
        else:
            order = _order(n, I, J, self.scan)
            small = self.n_chains * n * n_sweeps < K.PARALLEL_UPDATES
            if fixed["edges"] is None and scan != K.RANDOM:
                # lock-step blocks of chains in SIMD lanes (float64 fields: no refresh)
                Jm = cls.coupling_matrix(eta_pm, {**fixed, "spins": "+-1"})
                kernel = K.sweep_dense_lanes_serial if small else K.sweep_dense_lanes
                kernel(self.states, h, Jm, self.streams, n_sweeps, order, out, every,
                       self.global_flip, 0)
            elif fixed["edges"] is None:
                Jm = cls.coupling_matrix(eta_pm, {**fixed, "spins": "+-1"})
                kernel = K.sweep_dense_serial if small else K.sweep_dense
                kernel(self.states, h, Jm, self.streams, n_sweeps, scan, order, out, every,
                       self.global_flip, K.SIGMA)
            else:
                indptr, indices, values = csr_of(n, I, J, couplings)
                kernel = K.sweep_sparse_serial if small else K.sweep_sparse
                kernel(self.states, h, indptr, indices, values, self.streams, n_sweeps, scan,
                       order, out, every, self.global_flip, K.SIGMA)
        self.sweeps += n_sweeps
        return out

    # ------------------------------------------------------------------
    # Checkpoint and resume
    # ------------------------------------------------------------------
    def get_state(self) -> dict:
        """The chains' states and random streams (copies), with the settings."""
        return {"states": None if self.states is None else self.states.copy(),
                "streams": None if self.streams is None else self.streams.copy(),
                "sweeps": self.sweeps, "kind": self._kind,
                "settings": {"n_chains": self.n_chains, "scan": self.scan, "thin": self.thin,
                             "burn_in": self.burn_in, "global_flip": self.global_flip}}

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`'s output: the chains continue exactly where they were."""
        if state["states"] is not None and state["states"].shape[0] != self.n_chains:
            raise ParameterError(f"the state holds {state['states'].shape[0]} chains; this "
                                 f"sampler has {self.n_chains}")
        self.states = None if state["states"] is None else np.array(state["states"], dtype=np.int8)
        self.streams = None if state["streams"] is None else np.array(state["streams"], dtype=np.uint64)
        self.sweeps = int(state["sweeps"])
        self._kind = state["kind"]

    def save(self, path) -> None:
        """Write the state to an ``.npz`` file (arrays and a JSON header; no pickle)."""
        st = self.get_state()
        if st["states"] is None:
            raise ParameterError("the sampler has no chains yet: nothing to save")
        header = json.dumps({"sweeps": st["sweeps"], "kind": st["kind"], **st["settings"]})
        with open(os.fspath(path), "wb") as f:
            np.savez(f, states=st["states"], streams=st["streams"], header=np.array(header))

    @classmethod
    def load(cls, path) -> GibbsSampler:
        """A sampler restored from :meth:`save`'s file."""
        try:
            with np.load(os.fspath(path), allow_pickle=False) as z:
                header = json.loads(str(z["header"]))
                states, streams = z["states"], z["streams"]
        except (OSError, KeyError, ValueError) as exc:
            raise FileFormatError(f"{path}: not a GibbsSampler state file ({exc})") from exc
        g = cls(header["n_chains"], scan=header["scan"], thin=header["thin"],
                burn_in=header["burn_in"], global_flip=header["global_flip"])
        g.set_state({"states": states, "streams": streams, "sweeps": header["sweeps"],
                     "kind": header["kind"]})
        return g

    def __repr__(self):
        return (f"GibbsSampler(n_chains={self.n_chains}, scan={self.scan!r}, thin={self.thin}, "
                f"burn_in={self.burn_in}, global_flip={self.global_flip})")


_ORDER_CACHE: dict = {}
_LATTICE_CACHE: dict = {}


def _order(n, I, J, scan):
    if scan != "checkerboard":
        return np.arange(n, dtype=np.int64)
    key = (n, I.tobytes(), J.tobytes())
    if key not in _ORDER_CACHE:
        col = colouring(n, I, J)
        _ORDER_CACHE[key] = np.argsort(col, kind="stable").astype(np.int64)
    return _ORDER_CACHE[key]


def _uniform_lattice(n, edges, h, couplings):
    """``(rows, cols)`` when the model is a periodic ``rows x cols`` lattice (row-major
    sites, both sides >= 3) with one coupling value and one field value; else ``None``."""
    if edges is None or couplings.size != 2 * n or np.any(couplings != couplings[0]) \
            or np.any(h != h[0]):
        return None
    first = {j for i, j in edges[:4] if i == 0}  # site 0's neighbours (edges are sorted)
    for rows in range(3, n // 3 + 1):
        if n % rows or n // rows < 3:
            continue
        shape = (rows, n // rows)
        if first != {1, shape[1] - 1, shape[1], n - shape[1]}:
            continue
        if shape not in _LATTICE_CACHE:
            _LATTICE_CACHE[shape] = lattice_edges(rows, cols=shape[1])
        if edges == _LATTICE_CACHE[shape]:
            return shape
    return None


_hooks.provide("gibbs_sampler", GibbsSampler)
