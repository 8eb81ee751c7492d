"""The online learner: one residual step per batch (the seed's eq. 5)."""

from __future__ import annotations

import threading
import warnings

import numpy as np

from .._validation import as_float_array, as_rng, check_finite, check_int, check_nonempty
from ..divergence import mc_cross_entropy
from ..errors import ConvergenceWarning, ExpfamError, ParameterError, ShapeError
from ..families import SufficientStatisticModel, resolve_family
from ..families._base import check_support, fixed_equal
from ..stats import SufficientStats
from .batches import BatchSummary, validate_batch
from .moments import resolve_moments
from .steps import DEFAULT_LR, Averager, Schedule, make_rule, safeguarded_step, solve
from .target import check_pseudo_count, make_target
from .trace import TraceRecorder

#: relative change of the iterate below which a step counts as "did not move"
STALL_RTOL = 1e-15
#: the domain safeguard keeps the cross-entropy on the data below its value at the start
#: plus this factor of ``1 + |start value|`` (nats per observation)
CAP_FACTOR = 1e3


class StochasticFitter:
    """Stochastic maximum likelihood by residual steps, for online use.

    Each call of :meth:`partial_fit` takes one batch and makes one step along the
    residual ``g = E_batch[u] - E_eta[u]``, the gradient of the batch's mean
    log-likelihood (the seed's eq. 5), scaled by the step rule (see
    :func:`expfam.fit_sgd` for the rules and schedules).

    Parameters
    ----------
    family : SufficientStatisticModel subclass or str
    method : {"natural", "plain", "adam"}
    lr : float, optional
        Base learning rate; default 1.0 (natural), 0.1 (plain), 0.01 (adam).
    schedule : {"constant", "robbins-monro"}, optional
        ``lr_t = lr`` or ``lr * (B_t / N_t)**power`` with ``B_t`` the size of batch ``t``
        and ``N_t`` that of batches ``1..t`` (``= lr / t**power`` for equal batch
        sizes).  Default: ``"constant"`` when every step sees the exact full-data
        residual (``full_batch=True`` with exact moments), else ``"robbins-monro"``.
    power : float, optional
        Exponent of the Robbins-Monro schedule, in (0.5, 1].  Default: 1 for
        natural-gradient steps without averaging, else 0.6.
    averaging : {"tail", True, "all", False}, optional
        Polyak-Ruppert averaging: the reported model is an average of the iterates (see
        :class:`expfam.learn.steps.Averager`).  ``"tail"``: the mean of the last half to
        three quarters of the iterates (the start's transient is forgotten); ``True`` or
        ``"all"``: the mean of every iterate after ``average_start``; ``False``: the
        last iterate.  Default: ``False`` when every step sees the exact full-data
        residual, and for natural-gradient steps with exact moments; else ``"tail"``.
    average_start : int
        Number of initial steps left out of the average (burn-in).
    n_model_samples : int, optional
        Estimate ``E_eta[u]`` (and the Fisher information) from this many samples of the
        current model instead of the closed form (:class:`SampledMoments`).
    moments : "exact" or a moment source, optional
        A custom source of ``E_eta[u]`` (see :mod:`expfam.learn.moments`).
    tol : float
        Relative-residual tolerance of the exact full-batch criterion (see Notes).
    se_tol : float
        Tolerance of the stochastic criterion, in standard errors of the MLE (see Notes).
    window : int
        Number of consecutive steps that do not move the iterate after which the learner
        reports ``status="stalled"`` (see Notes).
    full_batch : bool
        Every batch is the whole data set (enables the exact residual criterion).
    holdout : array_like, optional
        Held-out observations: their cross-entropy is traced.
    trace_every : int
        Record every ``trace_every``-th step in :attr:`trace`.
    init : SufficientStatisticModel or array_like, optional
        Starting point (a distribution of the family, or natural parameters).  Default:
        with minibatches or a stream and exact moments, the moment-matched member of the
        first batch (its own MLE, regularised with ``pseudo_count``), where its mean is
        interior; otherwise the family's reference member (``reference_mean``; e.g.
        Gamma(1, 1)).
    rng : numpy.random.Generator or int, optional
        Randomness of the sampled model moments.
    pseudo_count : float, optional
        Regularise as :func:`expfam.fit` does: the target is the mean
        ``(sum_u + nu * mu0) / (W + nu)`` of the data seen and ``nu`` pseudo-observations
        of mean ``mu0`` (a conjugate prior; the posterior mode in the natural
        parametrisation), which exists even for boundary data.  Each batch's mean
        ``mu_b`` enters a step as ``(W mu_b + nu mu0) / (W + nu)``, with ``W`` the weight
        of the data seen so far.
    prior_mean : array_like or ExponentialFamily, optional
        The prior's mean parameters ``mu0`` (only with ``pseudo_count``); default the
        family's reference member.
    betas, eps :
        Adam's moment decay rates and denominator offset.
    max_halvings : int
        Backtracking limit of the domain safeguard.
    **fixed
        The family's fixed parameters.

    Attributes
    ----------
    model : SufficientStatisticModel
        The current (reported) distribution.
    natural : ndarray
        Its natural parameters (the average when averaging).
    iterate : ndarray
        The last iterate (equals ``natural`` without averaging).
    trace : SGDTrace
    converged : bool
        Whether the maximum-likelihood estimate of the data seen was reached (see Notes).
    status : str
        ``"not started"``, ``"running"``, ``"converged"``, ``"stalled"`` (the last
        ``window`` steps did not move the iterate) or ``"diverged"`` (see Notes).
    message : str
        Why the learner is in its status (empty while running).
    distance_se : ndarray
        The stochastic criterion's distance (see Notes) after the last step.
    n_steps : int
        Number of updates made.
    n_backtracked : int
        Number of steps that the domain safeguard had to cut.
    stats_ : SufficientStats or None
        Additive statistics of every batch passed to :meth:`partial_fit`.

    Notes
    -----
    Convergence means that the maximum-likelihood estimate (MLE) of the data was
    reached -- the data being the training array for :func:`expfam.fit_sgd`, or every
    batch passed to :meth:`partial_fit` so far -- never merely that the iterates stopped
    moving.  Let ``mu_hat`` be the mean of ``u`` over those data (the regularised mean
    with ``pseudo_count``), ``W`` their weight (``+ nu``), ``eta`` the reported
    parameters, ``r = mu_hat - E_eta[u]`` the residual on the data (the exact
    ``grad A(eta)`` where the family has it, else the moment source's estimate) and
    ``F = Cov_eta[u]`` the Fisher information (exact where available).

    - *Exact mode* (``full_batch=True``, exact moments, no averaging): every step sees
      the exact, deterministic residual, and ``converged`` is
      ``|r| / |mu_hat| <= tol`` *and* ``distance_se <= se_tol`` (below) at the current
      iterate, checked before each step (a converged learner makes no further step).
      (The relative residual alone can hide a large error in standard errors, e.g. for
      a Normal with ``|mean| >> sd``.)
    - *Stochastic mode* (minibatches, streams, sampled moments or averaging): after each
      step the residual on the data is compared with its sampling error.  The data mean
      ``mu_hat`` has covariance ``F / W`` (at the MLE), and the MLE error is
      ``F^-1 r`` to first order, so ``distance_se = sqrt(W r' F^-1 r)`` is the distance
      of ``eta`` from the MLE measured in standard errors of the MLE: every natural
      parameter ``eta_j``, and every smooth function of ``eta`` (the familiar
      parameters), lies within ``distance_se`` of its MLE value in units of its standard
      error ``sqrt(diag(F^-1) / W)`` (the ``se_natural`` / ``se`` of
      :func:`expfam.fit`), to first order.  ``converged`` is
      ``distance_se <= se_tol`` (default 0.05: a twentieth of a standard error); for a
      batch of distributions, every element.

    Domain safeguard and divergence.  A step is halved until the new iterate is valid:
    inside the natural domain, finite, with finite ``E_eta[u]`` (exact moments), and
    with a cross-entropy on the data, ``f(eta) = A(eta) - eta . mu_hat`` (nats per
    observation, up to the constant ``E_data[log h]``), at most
    ``f(eta_0) + 1000 (1 + |f(eta_0)|)`` with ``eta_0`` the starting point.  ``f`` is
    convex and grows without bound in every direction when ``mu_hat`` is interior, so
    this keeps the iterates in a bounded set: parameters cannot run away (a far
    overshoot of the first natural-gradient steps is cut back instead).  The halvings are
    counted in ``trace.backtracks``.  When a step is still invalid after
    ``max_halvings`` halvings (the learning rate is too large, or values are not
    finite) the run has diverged: ``status="diverged"`` (for good), ``converged=False``
    and a :class:`~expfam.errors.ConvergenceWarning`; the parameters stay at the last
    valid iterate.

    Stalling.  When ``window`` consecutive steps change no iterate by more than a
    relative ``1e-15`` (a learning rate too small to move the parameters in floating
    point) without meeting the criterion, the status is ``"stalled"``, with a
    :class:`~expfam.errors.ConvergenceWarning`; :func:`expfam.fit_sgd` stops there.

    Boundary data.  When the data seen lie on the boundary of the mean domain (all
    values equal, a category never seen...) their MLE does not exist: without
    ``pseudo_count``, :meth:`partial_fit` records the batch in :attr:`stats_`, makes no
    step and raises :class:`~expfam.errors.BoundaryError` (a later batch may move the
    statistics off the boundary).

    Thread safety.  :meth:`partial_fit` holds an instance lock
    (:class:`threading.RLock`) for the whole update -- validation, statistics, step,
    trace -- so calls from several threads are serialised: no batch or step is lost and
    every step starts from the state the previous one left.  The order of the steps is
    the order in which the threads acquire the lock.  Reading :attr:`model`,
    :attr:`natural` or :attr:`iterate` takes the lock too.  The fitter can be pickled
    (the lock is recreated on unpickling).
    """

    def __init__(self, family, *, method="natural", lr=None, schedule=None, power=None,
                 averaging=None, average_start=0, n_model_samples=None, moments=None,
                 tol=1e-6, se_tol=0.05, window=10, full_batch=False, holdout=None,
                 trace_every=1, init=None, rng=None, pseudo_count=None, prior_mean=None,
                 betas=(0.9, 0.999), eps=1e-8, max_halvings=60, **fixed):
        self.family = resolve_family(family)
        self.method = method
        self._rule = make_rule(method, betas, eps)
        self._source = resolve_moments(self.family, fixed, moments, n_model_samples)
        self.full_batch = bool(full_batch)
        deterministic = self.full_batch and self._source.exact
        if schedule is None:
            schedule = "constant" if deterministic else "robbins-monro"
        if averaging is None:
            natural_exact = method == "natural" and self._source.exact
            averaging = False if deterministic or natural_exact else "tail"
        if power is None:
            power = 1.0 if method == "natural" and averaging is False else 0.6
        self._schedule = Schedule(DEFAULT_LR[method] if lr is None else lr, schedule, power)
        self.schedule = schedule
        self.average_start = _check_int(average_start, "average_start", 0)
        self._averager = Averager(averaging, self.average_start)
        self.averaging = self._averager.kind
        self.tol = _check_number(tol, "tol", low=0.0)
        self.se_tol = _check_number(se_tol, "se_tol", low=0.0)
        self.window = _check_int(window, "window", 1)
        self.trace_every = _check_int(trace_every, "trace_every", 1)
        self.max_halvings = _check_int(max_halvings, "max_halvings", 0)
        self.pseudo_count = check_pseudo_count(pseudo_count, prior_mean)
        self._prior_mean_in = prior_mean
        self.rng = as_rng(rng)
        self._init, self._fixed_in, self._holdout_in = init, dict(fixed), holdout
        self.fixed = None
        self._eta = self._eta0 = self._reported = None
        self._mu_cache = None
        self._cap = None  # (cap, target) of the safeguard during a step
        self._still = 0  # consecutive steps that did not move the iterate
        self._rows = 0  # observations in the batches stepped on (the schedule's clock)
        self._recorder = TraceRecorder(holdout is not None)
        self._lock = threading.RLock()
        self.n_steps = 0
        self.n_backtracked = 0  # steps the domain safeguard had to cut
        self.converged = False
        self.diverged = False
        self.status, self.message = "not started", ""
        self.distance_se = np.nan
        self.stats_ = None
        self.last_residual_norm = np.nan

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]  # a lock cannot be pickled; a copy gets its own
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # ------------------------------------------------------------------
    @property
    def residual_mode(self) -> bool:
        """Whether convergence is judged by the exact full-data residual (see Notes)."""
        return self.full_batch and self._source.exact and self.averaging is False

    @property
    def natural(self) -> np.ndarray:
        with self._lock:
            self._require_started()
            return self._reported.copy()

    @property
    def iterate(self) -> np.ndarray:
        with self._lock:
            self._require_started()
            return self._eta.copy()

    @property
    def model(self) -> SufficientStatisticModel:
        with self._lock:
            self._require_started()
            return self.family.from_natural(self._reported, **self.fixed)

    @property
    def trace(self):
        with self._lock:
            return self._recorder.freeze()

    def _require_started(self):
        if self._eta is None:
            raise ExpfamError("the learner has seen no data yet: call partial_fit first")

    # ------------------------------------------------------------------
    def partial_fit(self, batch, weights=None) -> "StochasticFitter":
        """Validate one batch, add it to :attr:`stats_` and make one step; returns
        ``self``.  Thread-safe (see Notes).

        Parameters
        ----------
        batch : array_like, shape (B, *batch_shape, *event_shape)
        weights : array_like, optional
            Non-negative weights, shape ``(B,)`` or ``(B, *batch_shape)``.

        Raises
        ------
        expfam.errors.DataError
            Bad values, shapes or weights (the message names the entry); nothing is
            recorded.
        expfam.errors.BoundaryError
            The statistics of all the batches seen so far lie on the boundary of the mean
            domain and no ``pseudo_count`` was given: the batch is recorded, no step is
            made.
        """
        with self._lock:
            cls = self.family
            fixed = self._fixed_in if self.fixed is None else self.fixed
            x, w, fixed = validate_batch(cls, batch, weights, fixed)
            summary = BatchSummary.from_data(cls, x, w, fixed)
            # the statistics exactly as expfam.fit computes them (compensated sums), so that
            # the boundary check agrees with it
            stats = SufficientStats.from_data(cls, x, w, **fixed)
            if self.stats_ is not None and stats.batch_shape != self.stats_.batch_shape:
                raise ShapeError(f"batch: batch shape {stats.batch_shape} differs from the "
                                 f"first batch's {self.stats_.batch_shape}")
            self.fixed = fixed
            self.stats_ = stats if self.stats_ is None else self.stats_.merge(stats)
            # BoundaryError here: the batch is recorded, no step is made
            target = make_target(self.stats_, self.pseudo_count, self._prior_mean_in,
                                 seen="the batches seen so far")
            if self._eta is None:
                # start from the MLE of the batches so far (usually just this one), and let
                # the first step see all of them: none is counted twice
                self._start(fixed, target.mean)
                self._step(summary, target, online=True, mu=target.mean,
                           rows=int(np.max(self.stats_.count)))
            else:
                self._step(summary, target, online=True)
            return self

    def _start(self, fixed: dict, mu_data: np.ndarray) -> None:
        """Set the fixed parameters and the starting point (from the first batch's mean
        ``mu_data``, which fixes the batch shape); validate the held-out data."""
        cls = self.family
        from_data = not self.full_batch and self._source.exact
        eta = _initial_natural(cls, self._init, fixed, mu_data, from_data)
        if self._holdout_in is not None:
            h = as_float_array(self._holdout_in, name="holdout")
            check_nonempty(h, name="holdout")
            check_finite(h, name="holdout")
            check_support(cls, h, fixed, name="holdout")
            self._holdout = h
        self.fixed, self._eta, self._eta0, self._reported = fixed, eta, eta, eta
        self.status = "running"

    def _step(self, summary: BatchSummary, target, *, online=False, mu=None,
              rows=None) -> bool:
        """One residual step from a batch summary towards ``target`` (the
        :class:`~expfam.learn.target.Target` of all the data); False when skipped
        (converged in exact mode).

        With ``pseudo_count``, a minibatch of a fixed data set enters as
        ``target.batch_mean`` (an unbiased estimate of the regularised target); a batch of
        a stream (``online``) enters as it is, the prior counting as ``nu`` observations
        seen before the first batch (in the schedule's clock and the starting point), so
        that ``1/t`` natural steps track ``(sum_u + nu mu0) / (W + nu)`` of the batches
        seen.  ``mu`` and ``rows`` replace the batch's mean and size (the first step of a
        stream sees every batch so far)."""
        cls, fixed, eta = self.family, self.fixed, self._eta
        mu_b = summary.mean_u if mu is None else mu
        if mu_b.shape != eta.shape:
            raise ShapeError(f"batch: statistics of shape {mu_b.shape}; the model's: {eta.shape}")
        if not online:
            mu_b = target.batch_mean(mu_b)
        offset = (self.pseudo_count or 0.0) if online else 0.0
        t = self.n_steps + 1
        with np.errstate(all="ignore"):
            est_mean, est_se = self._model_mean(eta)
            g = mu_b - est_mean
            scale = np.maximum(np.linalg.norm(mu_b, axis=-1), 1e-300)
            rel = np.linalg.norm(g, axis=-1) / scale
            self.last_residual_norm = rel
            if self.residual_mode and not self.diverged and np.all(rel <= self.tol):
                z = self._assess(target)["distance_se"]  # the reported model is eta
                if np.all(z <= self.se_tol):
                    self.converged, self.distance_se = True, z
                    self.status = "converged"
                    self.message = _converged_message(self, rel, z)
                    return False
            fisher = (self._source.fisher(cls, eta, fixed, self.rng) if self._rule.needs_fisher
                      else None)
            rows = summary.u.shape[0] if rows is None else rows
            lr_t = self._schedule(t, rows / max(offset + self._rows + rows, 1e-300))
            direction = self._rule.direction(g, fisher)
            self._cap = self._cross_entropy_cap(target)
            new, halvings, aux, ok = safeguarded_step(eta, lr_t * direction, self._check,
                                                      self.max_halvings)
            # relative to each distribution's whole parameter vector: a component at
            # zero that moves by 1e-301 next to components of order 1 has not moved
            moved = (np.linalg.norm(new - eta, axis=-1)
                     > STALL_RTOL * np.maximum(np.linalg.norm(eta, axis=-1), 1e-300))
        self._mu_cache = aux if (aux is not None and np.all(ok)) else None
        self._eta, self.n_steps = new, t
        self._rows += rows
        self._reported = self._averager(new, t)
        self._still = 0 if np.any(moved) else self._still + 1
        self.n_backtracked += int(np.any(halvings > 0))
        self._assess_step(target, t, lr_t, ok)
        if t % self.trace_every == 0:
            self._record(summary, eta, t, lr_t, rel, np.linalg.norm(est_se, axis=-1) / scale,
                         halvings)
        return True

    # ------------------------------------------------------------------
    def _assess_step(self, target, t, lr_t, ok):
        """Divergence, the stochastic convergence criterion and stalling after step t."""
        if not self.diverged and not np.all(ok):
            n_bad = int(np.size(ok) - np.count_nonzero(ok))
            reason = (f"step {t} was still rejected by the domain safeguard after "
                      f"{self.max_halvings} halvings (outside the natural domain, non-finite "
                      f"values, or a cross-entropy on the data far above the start's) for "
                      f"{n_bad} batch element(s): the learning rate (lr_t = {lr_t:.3g}) is "
                      f"too large")
            self.diverged, self.converged = True, False
            self.status, self.message = "diverged", reason
            warnings.warn(f"{self.family.__name__} stochastic fit diverged: {reason}",
                          ConvergenceWarning, stacklevel=4)
        z = self._assess(target)["distance_se"]
        self.distance_se = z
        if self.diverged:
            return
        if self.residual_mode:
            self.converged = False  # judged on the exact residual before the next step
        else:
            self.converged = bool(np.all(z <= self.se_tol))
        if self.converged:
            self.status, self.message = "converged", _converged_message(self, None, z)
        elif self._still >= self.window:
            if self.status != "stalled":
                self.message = (
                    f"the last {self._still} steps did not move the parameters (relative "
                    f"change <= {STALL_RTOL:g}; learning rate lr_t = {lr_t:.3g}) and the "
                    f"criterion is not met (distance to the MLE {_fmt(z)} standard errors)")
                warnings.warn(f"{self.family.__name__} stochastic fit stalled: {self.message}",
                              ConvergenceWarning, stacklevel=4)
            self.status = "stalled"
        else:
            self.status, self.message = "running", ""

    def _cross_entropy_cap(self, target):
        """The largest cross-entropy on the data the safeguard accepts (None where the
        log partition is intractable)."""
        f0 = self._cross_entropy(self._eta0, target)
        if f0 is None:
            return None
        with np.errstate(all="ignore"):
            cap = f0 + CAP_FACTOR * (1 + np.abs(f0))
        return np.where(np.isfinite(cap), cap, np.inf), target

    def _cross_entropy(self, eta, target):
        """``A(eta) - eta . mu_hat``: the cross-entropy on the data less ``E_data[log h]``
        (None where the log partition is intractable)."""
        if self.family.has_log_partition:
            A = self.family.log_partition(eta, self.fixed)
        elif hasattr(self._source, "log_partition"):  # enumerated moments know A too
            A = self._source.log_partition(self.family, eta, self.fixed)
        else:
            return None
        with np.errstate(all="ignore"):
            return A - np.sum(eta * target.mean, axis=-1)

    def _model_mean(self, eta):
        if self._mu_cache is not None:
            return self._mu_cache, np.zeros(eta.shape)
        est = self._source.mean(self.family, eta, self.fixed, self.rng)
        return est.mean, est.se

    def _check(self, cand):
        cls, fixed = self.family, self.fixed
        ok = np.asarray(cls.natural_in_domain(cand, fixed)) & np.all(np.isfinite(cand), axis=-1)
        safe = np.where(ok[..., None], cand, self._eta)  # evaluate inside the domain only
        if self._cap is not None:
            cap, target = self._cap
            ok = ok & (self._cross_entropy(safe, target) <= cap)
        if not self._source.exact:
            return ok, None
        mu = self._source.mean(cls, safe, fixed, self.rng).mean
        return ok & np.all(np.isfinite(mu), axis=-1), mu

    def _record(self, summary, eta, t, lr_t, rel, moment_se, halvings):
        cls, fixed = self.family, self.fixed
        ce, ce_se = summary.cross_entropy(cls, eta, fixed)
        row = dict(step=t, lr=lr_t, residual_norm=rel, moment_se=moment_se,
                   distance_se=np.asarray(self.distance_se, dtype=float),
                   backtracks=np.asarray(halvings, dtype=int), cross_entropy=ce,
                   cross_entropy_se=ce_se, natural=self._reported.copy())
        if self._holdout_in is not None:
            if cls.has_log_partition:
                h = mc_cross_entropy(self.model, self._holdout)
                row.update(holdout_cross_entropy=h.estimate, holdout_cross_entropy_se=h.se)
            else:  # no normalised density to evaluate
                nan = np.full(eta.shape[:-1], np.nan)
                row.update(holdout_cross_entropy=nan, holdout_cross_entropy_se=nan)
        self._recorder.add(**row)

    # ------------------------------------------------------------------
    def _moments_at(self, eta):
        """``E_eta[u]`` and ``Cov_eta[u]``: exact where the family has them, else the
        moment source's estimates."""
        if self.family.has_log_partition:
            return (self.family.mean_from_natural(eta, self.fixed),
                    self.family.fisher_from_natural(eta, self.fixed))
        return (self._source.mean(self.family, eta, self.fixed, self.rng).mean,
                self._source.fisher(self.family, eta, self.fixed, self.rng))

    def _assess(self, target):
        """Residual, relative residual and distance in standard errors (Notes) of the
        reported model on ``target``."""
        with np.errstate(all="ignore"):
            mu_model, F = self._moments_at(self._reported)
            r = target.mean - mu_model
            rel = np.linalg.norm(r, axis=-1) / np.maximum(
                np.linalg.norm(target.mean, axis=-1), 1e-300)
            q = np.sum(r * solve(F, r), axis=-1)
            z = np.sqrt(target.weight * np.clip(q, 0, None))
            z = np.where(np.isfinite(q), z, np.nan)
        return {"residual": r, "residual_norm": rel, "distance_se": z}

    def assess(self, stats):
        """How far the reported model is from the MLE of the data summarised by ``stats``.

        Parameters
        ----------
        stats : SufficientStats
            The data (for example :attr:`stats_`).  With ``pseudo_count`` the target is
            the regularised mean, as in :func:`expfam.fit`.

        Returns
        -------
        dict
            ``residual`` (``mu_hat - E_model[u]``, shape ``(..., k)``), ``residual_norm``
            (``|residual| / |mu_hat|``) and ``distance_se`` (``sqrt(W r' F^-1 r)``, the
            distance from the MLE in its standard errors; see Notes).

        Raises
        ------
        expfam.errors.BoundaryError
            The data have no MLE and no ``pseudo_count`` was given.
        """
        with self._lock:
            self._require_started()
            return self._assess(make_target(stats, self.pseudo_count, self._prior_mean_in))

    def residual(self, stats):
        """``E_data[u] - E_model[u]`` for the reported model and its norm relative to
        ``|E_data[u]|``: exact moments where the family has them, else the moment
        source's estimate (the regularised target with ``pseudo_count``)."""
        out = self.assess(stats)
        return out["residual"], out["residual_norm"]


def _fmt(v) -> str:
    v = np.asarray(v, dtype=float)
    return f"{float(v):.3g}" if v.ndim == 0 else np.array2string(v, precision=3, threshold=6)


def _converged_message(fitter, rel, z) -> str:
    out = (f"the reported model is {_fmt(z)} standard errors from the MLE of the data "
           f"(<= se_tol = {fitter.se_tol:g})")
    if fitter.residual_mode:
        out += (f" and the relative residual on the full data {_fmt(rel)} is <= tol = "
                f"{fitter.tol:g}")
    return out


def _initial_natural(cls, init, fixed, mu_data, from_data=False):
    """The starting natural parameters, broadcast to the data's batch shape.

    ``init=None``: with ``from_data``, the moment-matched member of the first batch (mean
    ``mu_data``), element by element where that mean is interior and the family's
    mean -> natural map succeeds; otherwise the family's reference member.
    """
    k = mu_data.shape[-1]
    if init is None:
        eta = np.array(np.broadcast_to(cls.start_natural(mu_data, fixed), mu_data.shape),
                       dtype=np.float64)
        if from_data:
            eta = _moment_matched(cls, mu_data, fixed, eta)
    elif isinstance(init, SufficientStatisticModel):
        if type(init) is not cls:
            raise ParameterError(f"init must be a {cls.__name__}; got {type(init).__name__}")
        if not fixed_equal(init.fixed, fixed):
            raise ParameterError(f"init has fixed parameters {init.fixed}; the data use {fixed}")
        eta = init.natural
    else:
        eta = as_float_array(init, name="init", invalid=ParameterError, nonfinite=ParameterError)
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


def _moment_matched(cls, mu, fixed, eta_ref):
    """``grad A^-1(mu)`` where ``mu`` is interior and the map succeeds, else ``eta_ref``."""
    mu = np.array(np.broadcast_to(mu, eta_ref.shape), dtype=np.float64)
    if not cls.has_log_partition:
        return eta_ref
    with np.errstate(all="ignore"):
        interior = np.asarray(cls.mean_in_interior(mu, fixed)) & np.all(np.isfinite(mu), -1)
        if not interior.any():
            return eta_ref
        mu_ref = cls.mean_from_natural(eta_ref, fixed)
        sol = cls.natural_from_mean(np.where(interior[..., None], mu, mu_ref), fixed)
        eta = np.asarray(sol.natural, dtype=np.float64)
        ok = (interior & np.asarray(sol.converged) & np.all(np.isfinite(eta), axis=-1)
              & np.asarray(cls.natural_in_domain(np.where(np.isfinite(eta), eta, eta_ref), fixed)))
    return np.where(ok[..., None], eta, eta_ref)


def _check_int(v, name, low):
    return check_int(v, name, low)  # the library's one validator of integer arguments


def _check_number(v, name, low):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not np.isfinite(v) or v < low:
        raise ParameterError(f"{name} must be a finite number >= {low}; got {v!r}")
    return float(v)
