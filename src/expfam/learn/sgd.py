"""``fit_sgd``: stochastic maximum likelihood on an array or a stream of batches."""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float_array, check_nonempty
from ..errors import EmptyDataError, ParameterError
from ..families import resolve_family
from ..stats import SufficientStats
from .batches import ArrayBatches
from .fitter import StochasticFitter, _check_int
from .trace import SGDTrace


@dataclass
class SGDResult:
    """The outcome of :func:`fit_sgd`.

    Attributes
    ----------
    model : ExponentialFamily
        The fitted distribution (the Polyak-Ruppert average when averaging).
    trace : SGDTrace
        Per-step record (residual, learning rate, cross-entropies, parameters).
    converged : bool
        Whether the convergence criterion was met (see :class:`StochasticFitter`).  In
        full-batch residual mode it is ``residual_norm <= tol`` for the returned model.
    n_steps : int
        Number of updates made.
    residual : ndarray, shape (..., k)
        ``E_data[u] - E_model[u]`` for the returned model, with the data the full
        training array (array input) or every batch seen (stream input).  Zero at the
        MLE of those data: the honest measure of how far the fit is from it.
    residual_norm : ndarray
        ``|residual| / |E_data[u]|``.
    method : str
    stats : SufficientStats
        The data statistics ``residual`` refers to.
    fitter : StochasticFitter
        The learner, to continue with ``partial_fit``.
    """

    model: object
    trace: SGDTrace
    converged: bool
    n_steps: int
    residual: np.ndarray
    residual_norm: np.ndarray
    method: str
    stats: SufficientStats = field(repr=False)
    fitter: StochasticFitter = field(repr=False)

    @property
    def natural(self) -> np.ndarray:
        return self.model.natural

    @property
    def params(self) -> dict:
        return self.model.params


def fit_sgd(family, data, *, batch_size=256, method="natural", lr=None, schedule="constant",
            power=0.6, averaging=False, average_start=0, n_model_samples=None, moments=None,
            max_steps=1000, tol=1e-6, window=10, holdout=None, sampling="shuffle",
            trace_every=1, rng=None, progress=False, init=None, **fixed) -> SGDResult:
    """Maximum likelihood by stochastic residual steps (the seed's eq. 5).

    Each step draws a batch and moves the natural parameters along the residual
    ``g = E_batch[u] - E_eta[u]``, the gradient of the batch's mean log-likelihood (=
    minus the gradient of the KL divergence from the data):

    - ``"plain"``: ``eta += lr_t * g``;
    - ``"natural"``: ``eta += lr_t * F(eta)^-1 g`` (Fisher-preconditioned; a step in
      mean-parameter space).  With ``lr=1``, the full batch and exact moments this is
      Newton's method on the convex dual and converges in a handful of steps;
    - ``"adam"``: Adam on ``-g``.

    Parameters
    ----------
    family : ExponentialFamily subclass or str
    data : array_like or iterable of array_like
        An array (ndarray, list, tuple, pandas object) of observations
        ``(n, *batch, *event)``, from which minibatches are drawn with ``rng``; or any
        other iterable (iterator, generator) of batch arrays, each used once, in order.
    batch_size : int or None
        Minibatch size for array data; ``None`` or ``>= n`` uses the full data at every
        step (the data statistics are computed once).  Ignored for a stream.
    method : {"natural", "plain", "adam"}
    lr : float, optional
        Base learning rate; default 1.0 (natural), 0.1 (plain), 0.01 (adam).  Plain
        steps are stable only below ``2 / (largest eigenvalue of the Fisher
        information)`` along the path; the domain safeguard keeps a too large rate
        finite, not convergent.
    schedule : {"constant", "robbins-monro"}
        ``lr_t = lr`` or ``lr / t**power``.
    power : float
        Robbins-Monro exponent in (0.5, 1].
    averaging : bool
        Polyak-Ruppert averaging of the iterates; the returned model is the average.
    average_start : int
        Steps left out of the average (burn-in).
    n_model_samples : int, optional
        Estimate the model moments by Monte Carlo from this many samples of the current
        model per step (``cls.draw``), for families whose ``A`` is intractable.
    moments : "exact" or a moment source, optional
        A custom model-moment source (see :mod:`expfam.learn.moments`).
    max_steps : int
        Largest number of steps (batches).
    tol : float
        Convergence tolerance; see the Notes of :class:`StochasticFitter`.
    window : int
        Window (steps) of the relative-change criterion.
    holdout : array_like or float, optional
        Held-out observations, or a fraction in (0, 1) of the array ``data`` set aside
        at random; their cross-entropy (with its standard error) is traced.
    sampling : {"shuffle", "replacement"}
        Minibatches from epochs of random permutations, or independent draws with
        replacement.
    trace_every : int
        Record every ``trace_every``-th step.
    rng : numpy.random.Generator or int, optional
        Source of randomness (minibatches, held-out split, model samples).
    progress : bool
        Show a tqdm progress bar (on standard error, only if it is a terminal).
    init : ExponentialFamily or array_like, optional
        Starting point; default the family's reference member.
    **fixed
        The family's fixed parameters.

    Returns
    -------
    SGDResult

    Raises
    ------
    expfam.errors.ParameterError
        Bad ``lr``, ``method``, ``schedule``, ``power``, ``batch_size``, ``max_steps``...
    expfam.errors.DataError
        Bad data (NaN/inf, outside the support, empty, bad shapes).

    Notes
    -----
    Convergence: see :class:`StochasticFitter`.  In short, with the full batch and exact
    moments (and no averaging) the criterion is the exact relative residual
    ``|E_data[u] - E_model[u]| / |E_data[u]| <= tol``; otherwise it is the relative change
    of the reported parameters averaged over ``window`` steps, which says the iterates
    stopped moving, not that they reached the MLE: ``residual`` (exact, on the full data)
    reports how far they are.

    With minibatches or sampled model moments, a constant learning rate leaves the
    iterates fluctuating around a point biased by O(lr) from the MLE (the objective is
    not quadratic); averaging does not remove that bias.  Use ``schedule="robbins-monro"``
    with ``averaging=True`` (and a burn-in ``average_start``) for estimates whose error
    shrinks like ``1/sqrt(steps)``.

    Examples
    --------
    >>> import numpy as np, expfam
    >>> x = np.random.default_rng(0).gamma(2.0, 0.5, size=10_000)
    >>> res = expfam.fit_sgd(expfam.Gamma, x, batch_size=None, method="natural", lr=1.0)
    >>> res.converged, res.n_steps <= 10
    (True, True)
    """
    cls = resolve_family(family)
    rng = np.random.default_rng(rng)
    max_steps = _check_int(max_steps, "max_steps", 1)
    if batch_size is not None:
        batch_size = _check_int(batch_size, "batch_size", 1)
    kwargs = dict(method=method, lr=lr, schedule=schedule, power=power, averaging=averaging,
                  average_start=average_start, n_model_samples=n_model_samples, moments=moments,
                  tol=tol, window=window, trace_every=trace_every, init=init, rng=rng)
    if _is_array(data):
        return _fit_array(cls, data, fixed, batch_size, sampling, holdout, max_steps, progress,
                          rng, kwargs)
    if holdout is not None and not _is_array(holdout):
        raise ParameterError("holdout as a fraction needs array data; pass held-out observations")
    fitter = StochasticFitter(cls, holdout=holdout, **kwargs, **fixed)
    with _progress_bar(progress, max_steps, cls) as bar:
        for batch in itertools.islice(data, max_steps):  # never pulls a batch it won't use
            fitter.partial_fit(batch)
            _tick(bar, fitter)
            if fitter.converged:
                break
    if fitter.stats_ is None:
        raise EmptyDataError("data: the iterable of batches is empty")
    return _result(fitter, fitter.stats_)


def _fit_array(cls, data, fixed, batch_size, sampling, holdout, max_steps, progress, rng, kwargs):
    x = as_float_array(data)
    check_nonempty(x)
    x, holdout = _split_holdout(x, holdout, rng)
    stats = SufficientStats.from_data(cls, x, **fixed)  # validates every value once
    fixed = stats.fixed
    u, log_h = cls.sufficient_statistics(x, fixed), cls.log_base_measure(x, fixed)
    batches = ArrayBatches(u, log_h, batch_size, sampling, rng, mean_u=stats.mean)
    fitter = StochasticFitter(cls, holdout=holdout, full_batch=batches.full_batch, **kwargs,
                              **fixed)
    fitter._start(fixed, stats.mean)
    with _progress_bar(progress, max_steps, cls) as bar:
        for _ in range(max_steps):
            if not fitter._step(batches.next()):
                break
            _tick(bar, fitter)
            if fitter.converged:
                break
    return _result(fitter, stats)


def _split_holdout(x, holdout, rng):
    if holdout is None or _is_array(holdout):
        return x, holdout
    frac = holdout
    if (isinstance(frac, bool) or not isinstance(frac, (float, int, np.floating))
            or not 0 < frac < 1):
        raise ParameterError(
            f"holdout must be held-out data or a fraction in (0, 1); got {holdout!r}")
    n = x.shape[0]
    n_hold = int(round(frac * n))
    if n_hold < 1 or n_hold >= n:
        raise ParameterError(
            f"holdout={frac} of {n} observations leaves no held-out or no training data")
    perm = rng.permutation(n)
    return x[perm[n_hold:]], x[perm[:n_hold]]


def _result(fitter, stats) -> SGDResult:
    residual, rel = fitter.residual(stats)
    converged = bool(np.all(rel <= fitter.tol)) if fitter.residual_mode else bool(fitter.converged)
    return SGDResult(model=fitter.model, trace=fitter.trace, converged=converged,
                     n_steps=fitter.n_steps, residual=residual, residual_norm=rel,
                     method=fitter.method, stats=stats, fitter=fitter)


def _is_array(data) -> bool:
    return isinstance(data, (np.ndarray, list, tuple)) or hasattr(data, "to_numpy")


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress_bar(progress, total, cls):
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm

    # disable=None: tqdm turns itself off when the output is not a terminal
    return tqdm(total=total, desc=f"fit_sgd {cls.__name__}", file=sys.stderr, disable=None,
                leave=False)


def _tick(bar, fitter):
    if bar is None:
        return
    bar.update(1)
    if fitter.n_steps % 50 == 1:
        bar.set_postfix(residual=f"{np.max(fitter.last_residual_norm):.3g}", refresh=False)
