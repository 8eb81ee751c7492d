"""The online learner: one residual step per batch (the seed's eq. 5)."""

from __future__ import annotations

from collections import deque

import numpy as np

from .._validation import as_float_array, check_finite, check_nonempty
from ..divergence import mc_cross_entropy
from ..errors import ExpfamError, ParameterError, ShapeError
from ..families import ExponentialFamily, resolve_family
from ..families._base import check_support, fixed_equal
from ..solvers import solve_mean_to_natural
from .batches import BatchSummary, validate_batch
from .moments import resolve_moments
from .steps import DEFAULT_LR, Schedule, make_rule, safeguarded_step
from .trace import TraceRecorder


class StochasticFitter:
    """Stochastic maximum likelihood by residual steps, for online use.

    Each call of :meth:`partial_fit` takes one batch and makes one step along the
    residual ``g = E_batch[u] - E_eta[u]``, the gradient of the batch's mean
    log-likelihood (the seed's eq. 5), scaled by the step rule (see
    :func:`expfam.fit_sgd` for the rules and schedules).

    Parameters
    ----------
    family : ExponentialFamily subclass or str
    method : {"natural", "plain", "adam"}
    lr : float, optional
        Base learning rate; default 1.0 (natural), 0.1 (plain), 0.01 (adam).
    schedule : {"constant", "robbins-monro"}
        ``lr_t = lr`` or ``lr / t**power``.
    power : float
        Exponent of the Robbins-Monro schedule, in (0.5, 1].
    averaging : bool
        Polyak-Ruppert averaging: the reported model is the running mean of the iterates
        after step ``average_start``.
    average_start : int
        Number of initial steps left out of the average (burn-in).
    n_model_samples : int, optional
        Estimate ``E_eta[u]`` (and the Fisher information) from this many samples of the
        current model instead of the closed form (:class:`SampledMoments`).
    moments : "exact" or a moment source, optional
        A custom source of ``E_eta[u]`` (see :mod:`expfam.learn.moments`).
    tol : float
        Convergence tolerance (see Notes).
    window : int
        Number of steps of the window criterion (see Notes).
    full_batch : bool
        Every batch is the whole data set (enables the residual criterion).
    holdout : array_like, optional
        Held-out observations: their cross-entropy is traced.
    trace_every : int
        Record every ``trace_every``-th step in :attr:`trace`.
    init : ExponentialFamily or array_like, optional
        Starting point (a distribution of the family, or natural parameters).  Default:
        the family's reference member (``reference_mean``; e.g. Gamma(1, 1)).
    rng : numpy.random.Generator or int, optional
        Randomness of the sampled model moments.
    betas, eps :
        Adam's moment decay rates and denominator offset.
    max_halvings : int
        Backtracking limit of the domain safeguard.
    **fixed
        The family's fixed parameters.

    Attributes
    ----------
    model : ExponentialFamily
        The current (reported) distribution.
    natural : ndarray
        Its natural parameters (the average when averaging).
    iterate : ndarray
        The last iterate (equals ``natural`` without averaging).
    trace : SGDTrace
    converged : bool
    n_steps : int
        Number of updates made.
    stats_ : SufficientStats or None
        Additive statistics of every batch passed to :meth:`partial_fit`.

    Notes
    -----
    Convergence.  With ``full_batch=True``, exact moments and no averaging the residual
    is exact and deterministic, so the criterion is the relative residual
    ``|E_data[u] - E_eta[u]| / |E_data[u]| <= tol`` at the current iterate, checked
    before each step (a converged learner makes no further step).  Otherwise residuals
    are noisy and the criterion is the relative change of the reported parameters,
    ``|eta_t - eta_{t-1}| / |eta_t|``, averaged over the last ``window`` steps,
    ``<= tol`` (for a batch of distributions, the largest over the batch).  With a
    constant learning rate and minibatches the iterates keep fluctuating at the noise
    level, so that criterion is met only with a decaying schedule or averaging; the
    reported ``converged`` says so honestly.

    Domain safeguard.  A step that leaves the natural domain or gives non-finite
    parameters (or, with exact moments, non-finite ``E_eta[u]``) is halved until it is
    valid; after ``max_halvings`` halvings the element keeps its parameters.  The
    halvings are counted in ``trace.backtracks``.
    """

    def __init__(self, family, *, method="natural", lr=None, schedule="constant", power=0.6,
                 averaging=False, average_start=0, n_model_samples=None, moments=None,
                 tol=1e-6, window=10, full_batch=False, holdout=None, trace_every=1,
                 init=None, rng=None, betas=(0.9, 0.999), eps=1e-8, max_halvings=60, **fixed):
        self.family = resolve_family(family)
        self.method = method
        self._rule = make_rule(method, betas, eps)
        self._schedule = Schedule(DEFAULT_LR[method] if lr is None else lr, schedule, power)
        self._source = resolve_moments(moments, n_model_samples)
        self.tol = _check_number(tol, "tol", low=0.0)
        self.window = _check_int(window, "window", 1)
        self.trace_every = _check_int(trace_every, "trace_every", 1)
        self.average_start = _check_int(average_start, "average_start", 0)
        self.max_halvings = _check_int(max_halvings, "max_halvings", 0)
        self.averaging = bool(averaging)
        self.full_batch = bool(full_batch)
        self.rng = np.random.default_rng(rng)
        self._init, self._fixed_in, self._holdout_in = init, dict(fixed), holdout
        self.fixed = None
        self._eta = self._avg = self._reported = None
        self._mu_cache = None
        self._n_avg = 0
        self._changes = deque(maxlen=self.window)
        self._recorder = TraceRecorder(holdout is not None)
        self.n_steps = 0
        self.converged = False
        self.stats_ = None
        self.last_residual_norm = np.nan

    # ------------------------------------------------------------------
    @property
    def residual_mode(self) -> bool:
        """Whether convergence is judged by the exact full-data residual (see Notes)."""
        return self.full_batch and self._source.exact and not self.averaging

    @property
    def natural(self) -> np.ndarray:
        self._require_started()
        return self._reported.copy()

    @property
    def iterate(self) -> np.ndarray:
        self._require_started()
        return self._eta.copy()

    @property
    def model(self) -> ExponentialFamily:
        self._require_started()
        return self.family.from_natural(self._reported, **self.fixed)

    @property
    def trace(self):
        return self._recorder.freeze()

    def _require_started(self):
        if self._eta is None:
            raise ExpfamError("the learner has seen no data yet: call partial_fit first")

    # ------------------------------------------------------------------
    def partial_fit(self, batch, weights=None) -> "StochasticFitter":
        """Validate one batch and make one step; returns ``self``.

        Parameters
        ----------
        batch : array_like, shape (B, *batch_shape, *event_shape)
        weights : array_like, optional
            Non-negative weights, shape ``(B,)`` or ``(B, *batch_shape)``.

        Raises
        ------
        expfam.errors.DataError
            Bad values, shapes or weights (the message names the entry).
        """
        cls = self.family
        fixed = self._fixed_in if self.fixed is None else self.fixed
        x, w, fixed = validate_batch(cls, batch, weights, fixed)
        summary = BatchSummary.from_data(cls, x, w, fixed)
        if self.fixed is None:
            self._start(fixed, summary.mean_u)
        stats = summary.to_stats(cls, fixed)
        if self.stats_ is not None and stats.batch_shape != self.stats_.batch_shape:
            raise ShapeError(f"batch: batch shape {stats.batch_shape} differs from the first "
                             f"batch's {self.stats_.batch_shape}")
        self.stats_ = stats if self.stats_ is None else self.stats_.merge(stats)
        self._step(summary)
        return self

    def _start(self, fixed: dict, mu_data: np.ndarray) -> None:
        """Set the fixed parameters and the starting point (from the first batch's mean
        ``mu_data``, which fixes the batch shape); validate the held-out data."""
        cls = self.family
        eta = _initial_natural(cls, self._init, fixed, mu_data)
        if self._holdout_in is not None:
            h = as_float_array(self._holdout_in, name="holdout")
            check_nonempty(h, name="holdout")
            check_finite(h, name="holdout")
            check_support(cls, h, fixed, name="holdout")
            self._holdout = h
        self.fixed, self._eta, self._reported = fixed, eta, eta

    def _step(self, summary: BatchSummary) -> bool:
        """One residual step from a batch summary; False when skipped (converged in
        residual mode)."""
        cls, fixed, eta = self.family, self.fixed, self._eta
        mu_b = summary.mean_u
        if mu_b.shape != eta.shape:
            raise ShapeError(f"batch: statistics of shape {mu_b.shape}; the model's: {eta.shape}")
        t = self.n_steps + 1
        with np.errstate(all="ignore"):
            est_mean, est_se = self._model_mean(eta)
            g = mu_b - est_mean
            scale = np.maximum(np.linalg.norm(mu_b, axis=-1), 1e-300)
            rel = np.linalg.norm(g, axis=-1) / scale
            self.last_residual_norm = rel
            if self.residual_mode and np.all(rel <= self.tol):
                self.converged = True
                return False
            fisher = (self._source.fisher(cls, eta, fixed, self.rng) if self._rule.needs_fisher
                      else None)
            lr_t = self._schedule(t)
            direction = self._rule.direction(g, fisher)
            new, halvings, aux, ok = safeguarded_step(eta, lr_t * direction, self._check,
                                                      self.max_halvings)
        self._mu_cache = aux if (aux is not None and np.all(ok)) else None
        self._eta, self.n_steps = new, t
        previous = self._reported
        self._reported = self._average(new, t)
        self._update_convergence(previous)
        if t % self.trace_every == 0:
            self._record(summary, eta, t, lr_t, rel, np.linalg.norm(est_se, axis=-1) / scale,
                         halvings)
        return True

    # ------------------------------------------------------------------
    def _model_mean(self, eta):
        if self._mu_cache is not None:
            return self._mu_cache, np.zeros(eta.shape)
        est = self._source.mean(self.family, eta, self.fixed, self.rng)
        return est.mean, est.se

    def _check(self, cand):
        cls, fixed = self.family, self.fixed
        ok = np.asarray(cls.natural_in_domain(cand, fixed)) & np.all(np.isfinite(cand), axis=-1)
        if not self._source.exact:
            return ok, None
        safe = np.where(ok[..., None], cand, self._eta)  # evaluate inside the domain only
        mu = cls.mean_from_natural(safe, fixed)
        return ok & np.all(np.isfinite(mu), axis=-1), mu

    def _average(self, new, t):
        if not self.averaging or t <= self.average_start:
            return new
        self._n_avg += 1
        self._avg = new.copy() if self._n_avg == 1 else self._avg + (new - self._avg) / self._n_avg
        return self._avg

    def _update_convergence(self, previous):
        if self.residual_mode:
            self.converged = False  # judged before the next step
            return
        r = self._reported
        change = (np.linalg.norm(r - previous, axis=-1)
                  / np.maximum(np.linalg.norm(r, axis=-1), 1e-300))
        self._changes.append(float(np.max(change)))
        self.converged = len(self._changes) == self.window and np.mean(self._changes) <= self.tol

    def _record(self, summary, eta, t, lr_t, rel, moment_se, halvings):
        cls, fixed = self.family, self.fixed
        ce, ce_se = summary.cross_entropy(cls, eta, fixed)
        row = dict(step=t, lr=lr_t, residual_norm=rel, moment_se=moment_se,
                   backtracks=np.asarray(halvings, dtype=int), cross_entropy=ce,
                   cross_entropy_se=ce_se, natural=self._reported.copy())
        if self._holdout_in is not None:
            try:
                h = mc_cross_entropy(self.model, self._holdout)
                row.update(holdout_cross_entropy=h.estimate, holdout_cross_entropy_se=h.se)
            except NotImplementedError:  # no tractable log partition
                nan = np.full(eta.shape[:-1], np.nan)
                row.update(holdout_cross_entropy=nan, holdout_cross_entropy_se=nan)
        self._recorder.add(**row)

    def residual(self, stats):
        """``E_data[u] - E_model[u]`` for the reported model and its norm relative to
        ``|E_data[u]|``: exact moments where the family has them, else the moment
        source's estimate."""
        mu_data = stats.mean
        try:
            mu_model = self.family.mean_from_natural(self._reported, self.fixed)
        except NotImplementedError:
            mu_model = self._source.mean(self.family, self._reported, self.fixed, self.rng).mean
        r = mu_data - mu_model
        return r, np.linalg.norm(r, axis=-1) / np.maximum(np.linalg.norm(mu_data, axis=-1), 1e-300)


def _initial_natural(cls, init, fixed, mu_data):
    """The starting natural parameters, broadcast to the data's batch shape."""
    k = mu_data.shape[-1]
    if init is None:
        mu0 = np.broadcast_to(cls.reference_mean(mu_data, fixed), mu_data.shape)
        eta = solve_mean_to_natural(cls, np.array(mu0, dtype=np.float64), fixed).natural
    elif isinstance(init, ExponentialFamily):
        if type(init) is not cls:
            raise ParameterError(f"init must be a {cls.__name__}; got {type(init).__name__}")
        if not fixed_equal(init.fixed, fixed):
            raise ParameterError(f"init has fixed parameters {init.fixed}; the data use {fixed}")
        eta = init.natural
    else:
        eta = as_float_array(init, name="init")
        if eta.ndim == 0 or eta.shape[-1] != k:
            raise ShapeError(f"init: {cls.__name__} has {k} natural parameter(s); "
                             f"got shape {eta.shape}")
        if not np.all(np.isfinite(eta)) or not np.all(cls.natural_in_domain(eta, fixed)):
            raise ParameterError(f"init: natural parameters {eta} outside the domain of "
                                 f"{cls.__name__}")
    try:
        return np.array(np.broadcast_to(eta, mu_data.shape), dtype=np.float64)
    except ValueError as exc:
        raise ShapeError(
            f"init: shape {np.shape(eta)} does not match the data's {mu_data.shape}"
        ) from exc


def _check_int(v, name, low):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ParameterError(f"{name} must be an integer >= {low}; got {v!r}")
    return int(v)


def _check_number(v, name, low):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not np.isfinite(v) or v < low:
        raise ParameterError(f"{name} must be a finite number >= {low}; got {v!r}")
    return float(v)
