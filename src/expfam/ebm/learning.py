"""Learning Ising models: exact, persistent contrastive divergence, pseudolikelihood.

``expfam.fit(expfam.Ising, samples, method=...)`` and :func:`fit_ising` minimise
``KL(p_data || p_eta)`` (= maximise the mean log-likelihood) plus an optional penalty
``l2 / 2 |eta|^2 + l1 |eta|_1`` on every natural parameter.  The gradient of the mean
log-likelihood is the residual ``E_data[u] - E_eta[u]`` (the seed's eq. 5); the methods
differ in where ``E_eta[u]`` comes from:

- ``"exact"``: enumeration of the ``2^n`` states (``n <= 24``); Newton's method on the
  convex objective (exact Fisher information ``Cov_eta[u]``, Armijo backtracking) to
  machine precision, from the independent-spin model.  With ``l1 > 0``: L-BFGS-B on
  the split parameters ``eta = p - q``, ``p, q >= 0``.
- ``"pcd"``: persistent contrastive divergence (stochastic maximum likelihood): model
  moments from persistent Gibbs chains (:class:`~expfam.ebm.gibbs.GibbsSampler`;
  Rao-Blackwellised for dense ``+-1`` models: ``tanh`` of the local fields in place of
  the spins); steps preconditioned by the covariance of ``u`` over the data (the Fisher
  information at the MLE of a well-specified model), Robbins-Monro gain ``1/t`` (after a
  constant-gain warm-up only from a given ``init``: the pseudolikelihood start is already
  within the data's error of the MLE) (proximal soft-thresholding with ``l1``).  *Stopping rule*: at the
  end of each round the model is frozen and fresh chain samples measure its residual and
  the Monte Carlo standard error of that residual (batch means over the independent chains
  and over time, never below the error of independent states; :mod:`.pcd`).  The run has
  converged when no component of the residual differs from zero by more than its Monte
  Carlo error allows (a chi-square test at level ``alpha`` of the
  residual in units of that error) *and* the Monte Carlo error of the learned moments is
  at most ``mc_tol`` times the data's own sampling error of each moment
  (``sd_data(u_j) / sqrt(W)``); otherwise another round with twice the samples.
- ``"pseudolikelihood"``: L-BFGS (SciPy) on the exact mean negative log
  pseudolikelihood and its gradient (:mod:`.pseudolikelihood`); consistent and fast.

Data whose statistics lie on the boundary of the mean domain (a constant column, a pair
with a joint state never observed, perfectly correlated variables) have no MLE: without
``l1``/``l2`` the fit raises :class:`~expfam.errors.BoundaryError` naming them.

The result (:class:`EBMFitResult`) reports convergence, the final residual with its
Monte Carlo standard error, the exact log-likelihood and standard errors where ``n <= 20``.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .._validation import check_int
from ..errors import BoundaryError, ConvergenceWarning, ParameterError
from . import _hooks
from .data import check_ising_boundary, ising_data_moments, sample_matrix
from .ising import ENUMERATE_DEFAULT, Ising
from .pseudolikelihood import neg_log_pseudolikelihood

__all__ = ["fit_ising", "EBMFitResult", "METHODS"]

METHODS = ("exact", "pcd", "pseudolikelihood")
#: |eta| beyond which an exact fit is taken to run to infinity (boundary data)
DIVERGED_ETA = 40.0


@dataclass
class EBMFitResult:
    """The outcome of :func:`fit_ising`.

    Attributes
    ----------
    model : Ising
        The fitted model.
    method : str
    converged : bool
    status : str
        ``"converged"``, ``"max_iter"`` or ``"not_significant"`` (PCD rounds ran out).
    message : str
    n_iter : int
        Newton / L-BFGS iterations, or PCD steps.
    residual : ndarray, shape (k,)
        ``E_data[u] - E_model[u]`` at the fitted model (exact for ``n <= 20``, else
        estimated by the final chain samples).
    residual_se : ndarray, shape (k,)
        Monte Carlo standard error of the estimated model moments behind ``residual``
        (PCD's final check; zeros when the residual is exact).
    gradient : ndarray, shape (k,)
        The (minimal-norm sub)gradient of the minimised objective (mean negative
        log-likelihood plus penalty; the pseudolikelihood's for that method beyond
        ``n = 20``): ``-residual`` without penalty.
    residual_norm : float
        ``|residual| / |E_data[u]|``.
    distance_se : float or None
        ``sqrt(W r' F^-1 r)`` of the penalised gradient: the distance from the optimum in
        standard errors of the MLE (exact Fisher information, ``n <= 20``).
    mc_check : dict or None
        PCD: the final check -- ``z`` (residual / its Monte Carlo error, per component),
        ``chi2`` and its critical value ``chi2_crit``, ``max_abs_z``, ``mc_ratio`` (largest
        Monte Carlo error of the learned moments over the data's sampling error),
        ``n_samples`` (chain samples of the check), ``ess`` (smallest effective sample size
        of a statistic), ``batches`` (batch means per chain), ``residual`` (the check's
        estimate of ``E_data[u] - E_model[u]``) and ``se`` (its standard error, including
        the Monte Carlo error of the learned parameters).
    mean_loglik : float or None
        Mean log-likelihood of the training data (exact, ``n <= 24``).
    se_natural : ndarray or None
        Standard errors of the natural parameters, ``sqrt(diag(F^-1) / W)`` (exact
        Fisher information, ``n <= 20``, unpenalised fits).
    n, weight_sum : int, float
    data_mean : ndarray
        ``E_data[u]``.
    regularization : dict or None
        ``{"l1": ..., "l2": ...}`` when penalised.
    time_s : float
    trace : dict
        Per iteration: ``objective`` (exact, PL) or ``step_norm`` (PCD).
    """

    model: Ising
    method: str
    converged: bool
    status: str
    message: str
    n_iter: int
    residual: np.ndarray
    residual_se: np.ndarray
    gradient: np.ndarray
    residual_norm: float
    distance_se: float | None
    mc_check: dict | None
    mean_loglik: float | None
    se_natural: np.ndarray | None
    n: int
    weight_sum: float
    data_mean: np.ndarray
    regularization: dict | None
    time_s: float
    trace: dict = field(default_factory=dict, repr=False)

    @property
    def params(self) -> dict:
        return self.model.params

    def summary(self) -> str:
        """A short human-readable report."""
        lines = [f"Ising fit ({self.method}): n={self.n} samples, {self.model.n} variables, "
                 f"converged={self.converged} ({self.status})",
                 f"  {self.message}",
                 f"  residual norm {self.residual_norm:.3g}"
                 + (f", distance to the optimum {self.distance_se:.3g} standard errors"
                    if self.distance_se is not None else "")]
        if self.mc_check:
            lines.append(f"  Monte Carlo check: chi2 = {self.mc_check['chi2']:.1f} (critical "
                         f"{self.mc_check['chi2_crit']:.1f}), max |z| = "
                         f"{self.mc_check['max_abs_z']:.3g}, MC error / data error = "
                         f"{self.mc_check['mc_ratio']:.3g}")
        if self.mean_loglik is not None:
            lines.append(f"  mean log-likelihood {self.mean_loglik:.6g}")
        return "\n".join(lines)


def fit_ising(data, weights=None, *, method: str = "pseudolikelihood", spins=None, edges=None,
              l1: float = 0.0, l2: float = 0.0, init=None, rng=None, tol: float = 1e-10,
              max_iter: int = 200, n_chains: int = 1000, mc_tol: float = 0.5,
              alpha: float = 0.01, max_rounds: int = 6, warmup: int | None = None,
              scan: str = "sequential", checkpoint=None, checkpoint_every: int = 25,
              resume: bool = False, callback=None) -> EBMFitResult:
    """Maximum-likelihood (or penalised) fit of an Ising model to samples.

    Parameters
    ----------
    data : array_like, shape (N, n)
        Samples, entries in ``{-1,+1}`` or ``{0,1}`` (``spins`` default: inferred, ``"+-1"``
        if any entry is -1).
    weights : array_like, shape (N,), optional
        Non-negative sample weights.
    method : {"pseudolikelihood", "exact", "pcd"}
    spins : {"+-1", "01"}, optional
    edges : array_like of pairs, optional
        The interaction graph (default dense).
    l1, l2 : float
        Penalty ``l1 |eta|_1 + l2 / 2 |eta|^2`` on the natural parameters (per sample:
        the objective is the mean negative log-likelihood plus the penalty).
    init : Ising or array_like, optional
        Starting natural parameters (default: the pseudolikelihood estimate; for
        ``"exact"``, the independent-spin model with the data's means).
    rng : int or numpy.random.Generator, optional
        Seed of the PCD chains.
    tol : float
        Exact / PL: tolerance on the largest component of the penalised gradient.
    max_iter : int
        Exact / PL iterations.
    n_chains : int
        PCD: persistent chains (one sample each per step).
    mc_tol : float
        PCD: largest Monte Carlo error of the model moments in units of the data's
        sampling error ``sd_data(u_j) / sqrt(W)``.
    alpha : float
        PCD: level of the test that the residual is zero within its Monte Carlo error.
    max_rounds : int
        PCD: rounds (each doubling the samples) before giving up.
    warmup : int, optional
        PCD: steps with a constant gain (0.5, one sweep each) before the ``1/t`` averaging
        phase, to forget a poor start.  Default: 0 from the pseudolikelihood start (the
        default ``init``; already within the data's sampling error of the MLE, so
        constant-gain steps would only throw it off by their Monte Carlo noise, which the
        averaging phase then has to undo), 50 from a given ``init``.
    scan : str
        PCD: Gibbs scan.
    checkpoint : str or path, optional
        PCD: an ``.npz`` file (no pickle) to which the parameters, the chains (states and
        random streams), the gain and round counters, the trace and the state of ``rng``
        are written every ``checkpoint_every`` steps and after every Monte Carlo check.
    checkpoint_every : int
        PCD: steps between two checkpoints.
    resume : bool
        PCD: continue from ``checkpoint`` when the file exists (same data and options);
        the result is the one the uninterrupted run would have given.
    callback : callable, optional
        PCD: ``callback(t, eta)`` after every step (progress; raising interrupts the run,
        the last checkpoint keeps the finished work).

    Returns
    -------
    EBMFitResult

    Raises
    ------
    expfam.errors.DataError
        NaN/inf, values other than the two spin values, empty data, wrong shapes, bad
        weights.
    expfam.errors.BoundaryError
        The MLE does not exist (names the variables or pairs) and ``l1 = l2 = 0``.
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ParameterError(f"method must be one of {METHODS}; got {method!r}")
    if method != "pcd" and (checkpoint is not None or resume):
        raise ParameterError(f"checkpoint / resume apply to method='pcd' (the other methods are "
                             f"deterministic and short); got method={method!r}")
    l1, l2 = _penalty(l1, "l1"), _penalty(l2, "l2")
    raw = np.asarray(data) if not hasattr(data, "to_numpy") else data.to_numpy()
    if spins is None:
        spins = "+-1" if np.size(raw) and np.any(np.asarray(raw) == -1) else "01"
    fixed = Ising.check_fixed({"n": int(np.shape(raw)[-1]) if np.ndim(raw) == 2 else 1,
                               "spins": spins, "edges": edges})
    X, w = sample_matrix(data, fixed["n"], Ising.values(fixed), weights)
    I, J = Ising.pairs(fixed)
    mu, W = ising_data_moments(X, w, I, J)
    if l1 == 0 and l2 == 0:
        check_ising_boundary(X, w, I, J, Ising.values(fixed),
                             "pass l2=... or l1=... to regularise")
    A, _ = Ising.basis_map(fixed)
    ctx = _Context(fixed, X, w, W, mu, I, J, A, l1, l2)
    eta0 = _initial(ctx, init, tol, max_iter, independent=(method == "exact"))
    if method == "pseudolikelihood":
        out = _fit_pl(ctx, eta0, tol, max_iter)
    elif method == "exact":
        out = _fit_exact(ctx, eta0, tol, max_iter)
    else:
        out = _fit_pcd(ctx, eta0, np.random.default_rng(rng), check_int(n_chains, "n_chains", 2),
                       mc_tol, alpha, check_int(max_rounds, "max_rounds", 1),
                       check_int((0 if init is None else 50) if warmup is None else warmup,
                                 "warmup", 0), scan, checkpoint,
                       check_int(checkpoint_every, "checkpoint_every", 1), bool(resume), callback)
    return _result(ctx, method, out, time.perf_counter() - t0)


# ----------------------------------------------------------------------------------
class _Context:
    def __init__(self, fixed, X, w, W, mu, I, J, A, l1, l2):
        self.fixed, self.X, self.w, self.W, self.mu = fixed, X, w, W, mu
        self.I, self.J, self.A, self.l1, self.l2 = I, J, A, l1, l2
        self.k = mu.size
        self.n_rows = X.shape[0]
        # the distinct rows and their total weights: every sum over the samples (the
        # pseudolikelihood, the preconditioner) is a weighted sum over them
        self.Xu, self.wu = _distinct_rows(X, w)
        self.Xu_pm = self.Xu if fixed["spins"] == "+-1" else 2.0 * self.Xu - 1.0
        self.cls = Ising
        # sd_data(u_j): every statistic is a spin or a product of spins, so sqrt(1 - m^2)
        # for +-1 values and sqrt(m - m^2) for 0/1 values (m its data mean).  A statistic
        # constant in the data (a pair never on together) has no spread there; its floor is
        # the spread one differing sample would give (variance 1/W, or 4/W for +-1 values),
        # so that the Monte Carlo error is not compared with zero
        floor = (4.0 if fixed["spins"] == "+-1" else 1.0) / W
        self.spread = np.sqrt(np.maximum(self.second_moment(mu) - mu**2, floor))

    def second_moment(self, mean):
        """``E[u_j^2]`` from ``E[u_j]``: 1 for +-1 spin products, ``E[u_j]`` for 0/1 ones."""
        return np.ones_like(mean) if self.fixed["spins"] == "+-1" else mean

    def sample_mean(self, x):
        """Mean of ``u`` over the states ``x``, shape ``(M, n)``."""
        return ising_data_moments(x, None, self.I, self.J)[0]

    def chain_sums(self, x):
        """Sums of ``u`` over the records of chain samples ``x``, ``(C, R, n) -> (C, k)``."""
        s2 = np.matmul(x.transpose(0, 2, 1), x)
        return np.concatenate([x.sum(axis=1), s2[:, self.I, self.J]], axis=1)

    def rao_blackwell_sums(self, x, eta, squares=True):
        """Sums over the records of chain samples ``x`` (``(C, R, n)``) of the
        Rao-Blackwellised statistics of the model ``eta`` and the sums of their squares.

        With the local field ``f_i = h_i + sum_j J_ij s_j`` (``s_i`` not in it),
        ``E[s_i | rest] = tanh(f_i)``, so ``t_i = tanh(f_i)`` and ``(s_i t_j + s_j t_i) / 2``
        have the means of ``s_i`` and ``s_i s_j`` (``s_i`` is in the rest of ``j``) and
        less variance (conditioning never adds any).  Dense ``+-1`` models only
        (elsewhere ``(chain_sums(x), None)``).

        Returns
        -------
        sums : ndarray, shape (C, k)
        sq : ndarray, shape (k,) or None
            Sums of the squared statistics over all records of all chains (``None``
            without ``squares``).
        """
        if self.fixed["spins"] != "+-1" or self.fixed["edges"] is not None:
            return self.chain_sums(x), None
        n, I, J = self.fixed["n"], self.I, self.J
        T = np.tanh(x @ Ising.coupling_matrix(eta, self.fixed) + eta[:n])
        st = np.matmul(x.transpose(0, 2, 1), T)  # per chain: sum_r s_i t_j
        sums = np.concatenate([T.sum(axis=1), 0.5 * (st[:, I, J] + st[:, J, I])], axis=1)
        if not squares:
            return sums, None
        Tf = T.reshape(-1, n)
        q = np.einsum("ri,ri->i", Tf, Tf)
        P = (x.reshape(-1, n) * Tf).T @ (x.reshape(-1, n) * Tf)
        # ((s_i t_j + s_j t_i) / 2)^2 = (t_i^2 + t_j^2 + 2 (s_i t_i)(s_j t_j)) / 4 for s = +-1
        sq = np.concatenate([q, 0.25 * (q[I] + q[J] + 2.0 * P[I, J])])
        return sums, sq

    def penalty(self, eta):
        return self.l1 * np.sum(np.abs(eta)) + 0.5 * self.l2 * (eta @ eta)

    def to_pm(self, eta):
        return Ising.to_pm(eta, self.fixed)[0]

    def exact(self, eta, fisher=False):
        return Ising.exact(eta, self.fixed, fisher=fisher)

    def subgradient(self, g_smooth, eta):
        """Minimal-norm subgradient of ``f + l1 |eta|_1`` (``g_smooth``: of ``f``)."""
        if self.l1 == 0:
            return g_smooth
        out = g_smooth + self.l1 * np.sign(eta)
        zero = eta == 0
        out[zero] = np.sign(g_smooth[zero]) * np.maximum(np.abs(g_smooth[zero]) - self.l1, 0.0)
        return out


def _distinct_rows(X, w):
    """``(rows, weights)``: the distinct rows of ``X`` and their summed weights (``X``
    itself, ``w``, when most rows are distinct or ``n > 62``)."""
    N, n = X.shape
    if n > 62:
        return X, w
    keys = (X > 0).astype(np.int64) @ (np.int64(1) << np.arange(n, dtype=np.int64))
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if uniq.size > N // 2:
        return X, w
    counts = np.bincount(inverse, weights=None if w is None else w, minlength=uniq.size)
    return np.ascontiguousarray(X[first]), counts.astype(np.float64)


def _penalty(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not np.isfinite(v) or v < 0:
        raise ParameterError(f"{name} must be a finite number >= 0; got {v!r}")
    return float(v)


def _initial(ctx, init, tol, max_iter, independent=False):
    if init is None and independent:
        return _independent(ctx)
    if init is None:  # a start only: a gradient of 1e-6 is far below the data's noise
        return _fit_pl(ctx, np.zeros(ctx.k), max(tol, 1e-6), max_iter)["eta"]
    eta = np.asarray(init.natural if isinstance(init, Ising) else init, dtype=np.float64)
    if eta.shape != (ctx.k,) or not np.all(np.isfinite(eta)):
        raise ParameterError(f"init: expected {ctx.k} finite natural parameters; got shape "
                             f"{eta.shape}")
    return eta.copy()


def _independent(ctx):
    """The independent-spin model with the data's means (the start of exact Newton):
    ``h_i = atanh(m_i)`` (``+-1``) or ``logit(m_i)`` (``0/1``), clipped away from the
    boundary; couplings zero."""
    n = ctx.fixed["n"]
    m = ctx.mu[:n]
    eta = np.zeros(ctx.k)
    if ctx.fixed["spins"] == "+-1":
        eta[:n] = np.arctanh(np.clip(m, -1 + 1e-6, 1 - 1e-6))
    else:
        p = np.clip(m, 1e-6, 1 - 1e-6)
        eta[:n] = np.log(p / (1 - p))
    return eta


def _minimise(ctx, fun, eta0, tol, max_iter):
    """L-BFGS(-B) on ``fun(eta) -> (f, grad)`` plus the penalty; split variables for l1."""
    k = ctx.k
    trace = []
    if ctx.l1 == 0:
        def obj(e):
            f, g = fun(e)
            f += 0.5 * ctx.l2 * (e @ e)
            trace.append(f)
            return f, g + ctx.l2 * e

        res = optimize.minimize(obj, eta0, jac=True, method="L-BFGS-B",
                                options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-16,
                                         "maxcor": 10})
        eta = res.x
    else:
        def obj(z):
            e = z[:k] - z[k:]
            f, g = fun(e)
            f += ctx.penalty(e)
            trace.append(f)
            gs = g + ctx.l2 * e
            return f, np.concatenate([gs + ctx.l1, -gs + ctx.l1])

        z0 = np.concatenate([np.maximum(eta0, 0), np.maximum(-eta0, 0)])
        res = optimize.minimize(obj, z0, jac=True, method="L-BFGS-B", bounds=[(0, None)] * (2 * k),
                                options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-16,
                                         "maxcor": 10})
        eta = res.x[:k] - res.x[k:]
    return eta, res, trace


def _fit_pl(ctx, eta0, tol, max_iter):
    A = ctx.A

    def fun(eta):
        f, g_pm = neg_log_pseudolikelihood(ctx.to_pm(eta), ctx.Xu_pm, ctx.wu, ctx.W, ctx.I, ctx.J)
        return f, A @ g_pm  # eta_pm = A' eta: the chain rule

    eta, res, trace = _minimise(ctx, fun, eta0, tol, max_iter)
    f, g = fun(eta)
    grad = ctx.subgradient(g + ctx.l2 * eta, eta)
    ok = bool(np.max(np.abs(grad)) <= max(tol, 1e-7))
    return {"eta": eta, "n_iter": int(res.nit), "converged": ok,
            "message": f"L-BFGS on the pseudolikelihood: {res.message}; largest gradient "
                       f"component {np.max(np.abs(grad)):.3g}",
            "trace": {"objective": trace}, "pl_gradient": grad}


def _objective(ctx, eta):
    logz, mu_m, _ = ctx.exact(eta)
    return logz - eta @ ctx.mu + ctx.penalty(eta), mu_m


def _fit_exact(ctx, eta0, tol, max_iter):
    if ctx.fixed["n"] > 24:
        raise ParameterError(f"method='exact' enumerates 2^n states: n <= 24; this model has "
                             f"n = {ctx.fixed['n']} (use 'pcd' or 'pseudolikelihood')")
    if ctx.l1 > 0:
        def fun(eta):
            logz, mu_m, _ = ctx.exact(eta)
            return logz - eta @ ctx.mu, mu_m - ctx.mu

        eta, res, trace = _minimise(ctx, fun, eta0, tol, max_iter)
        eta, polished = _polish_l1(ctx, eta, tol)
        return {"eta": eta, "n_iter": int(res.nit) + polished, "converged": None,
                "message": f"L-BFGS-B on the exact objective (split variables for l1): "
                           f"{res.message}; then {polished} Newton step(s) on the nonzero "
                           f"parameters", "trace": {"objective": trace}}
    eta = eta0.copy()
    f, _ = _objective(ctx, eta)
    trace = [f]
    message = ""
    for it in range(1, max_iter + 1):
        logz, mu_m, F = ctx.exact(eta, fisher=True)
        g = ctx.mu - mu_m - ctx.l2 * eta  # ascent direction: the (penalised) residual
        if np.max(np.abs(g)) <= tol:
            message = f"Newton: largest residual component {np.max(np.abs(g)):.3g} <= tol"
            return {"eta": eta, "n_iter": it - 1, "converged": True, "message": message,
                    "trace": {"objective": trace}}
        H = F + ctx.l2 * np.eye(ctx.k)
        try:
            d = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            d = np.linalg.lstsq(H, g, rcond=None)[0]
        step, slope = 1.0, g @ d
        while step > 1e-12:
            cand = eta + step * d
            fc, _ = _objective(ctx, cand)
            if fc <= f - 1e-4 * step * slope or (step == 1.0 and fc <= f + 1e-14 * abs(f)):
                break
            step *= 0.5
        else:  # no decrease along the Newton direction: at the floor of float64
            message = f"Newton: no further decrease (largest residual {np.max(np.abs(g)):.3g})"
            ok = np.max(np.abs(g)) <= max(tol, 1e-8)
            return {"eta": eta, "n_iter": it, "converged": bool(ok), "message": message,
                    "trace": {"objective": trace}}
        eta, f = cand, fc
        trace.append(f)
        if np.max(np.abs(eta)) > DIVERGED_ETA and ctx.l1 == 0 and ctx.l2 == 0:
            big = np.flatnonzero(np.abs(eta) > DIVERGED_ETA)
            raise BoundaryError(
                f"the maximum-likelihood estimate does not exist: the exact fit runs to "
                f"infinity along parameter(s) {_names(ctx, big)} (the data's moments lie on a "
                f"face of the marginal polytope); pass l2=... or l1=... to regularise")
    return {"eta": eta, "n_iter": max_iter, "converged": False,
            "message": f"Newton: {max_iter} iterations without reaching tol", "trace": {"objective": trace}}


def _polish_l1(ctx, eta, tol, max_steps=20):
    """Newton steps on the nonzero parameters with their signs fixed (where the l1
    objective is smooth), kept only while no sign changes and the objective does not
    increase: L-BFGS-B's answer made exact to rounding.  Returns ``(eta, steps)``."""
    f, _ = _objective(ctx, eta)
    for it in range(max_steps):
        act = np.flatnonzero(eta != 0)
        if act.size == 0:
            return eta, it
        _, mu_m, F = ctx.exact(eta, fisher=True)
        g = (ctx.mu - mu_m - ctx.l2 * eta - ctx.l1 * np.sign(eta))[act]
        if np.max(np.abs(g)) <= tol:
            return eta, it
        d = np.linalg.solve(F[np.ix_(act, act)] + ctx.l2 * np.eye(act.size), g)
        cand = eta.copy()
        cand[act] += d
        fc, _ = _objective(ctx, cand)
        if np.any(np.sign(cand[act]) != np.sign(eta[act])) or fc > f + 1e-14 * abs(f):
            return eta, it
        eta, f = cand, fc
    return eta, max_steps


def _names(ctx, idx):
    n = ctx.fixed["n"]
    names = [f"h_{i}" if i < n else f"J_({ctx.I[i - n]},{ctx.J[i - n]})" for i in idx[:6]]
    return ", ".join(names) + (" ..." if idx.size > 6 else "")


def _fit_pcd(ctx, eta0, rng, n_chains, mc_tol, alpha, max_rounds, warmup, scan, checkpoint,
             checkpoint_every, resume, callback):
    from .gibbs import GibbsSampler
    from .pcd import run_pcd

    sampler = GibbsSampler(n_chains, scan=scan, thin=1, burn_in=max(20, warmup), seed=rng)
    return run_pcd(ctx, eta0, rng, sampler, mc_tol=mc_tol, alpha=alpha, max_rounds=max_rounds,
                   warmup=warmup, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                   resume=resume, callback=callback)


def _result(ctx, method, out, elapsed):
    fixed, eta = ctx.fixed, out["eta"]
    model = Ising.from_natural(eta, **fixed)
    n = fixed["n"]
    residual_se = np.zeros(ctx.k)
    distance = se_nat = loglik = None
    if n <= ENUMERATE_DEFAULT:
        logz, mu_m, F = ctx.exact(eta, fisher=True)
        residual = ctx.mu - mu_m
        loglik = float(eta @ ctx.mu - logz)
        grad = ctx.subgradient(-residual + ctx.l2 * eta, eta)
        # one eigendecomposition of the (penalised) Fisher information serves both
        lam, V = np.linalg.eigh(F + ctx.l2 * np.eye(ctx.k))
        keep = lam > 1e-14 * max(lam[-1], 1e-300)
        inv_lam = np.where(keep, 1.0 / np.where(keep, lam, 1.0), 0.0)
        q = float(np.sum((V.T @ grad) ** 2 * inv_lam))
        distance = math.sqrt(max(q, 0.0) * ctx.W)
        if ctx.l1 == 0 and ctx.l2 == 0:
            se_nat = np.sqrt(np.clip((V**2) @ inv_lam / ctx.W, 0, None))
    elif out.get("mc_check"):
        residual = out["mc_check"]["residual"]
        residual_se = out["mc_check"]["se"]
        grad = ctx.subgradient(-residual + ctx.l2 * eta, eta)
    else:  # pseudolikelihood beyond enumeration: its own gradient
        residual = np.full(ctx.k, np.nan)
        grad = out.get("pl_gradient", np.full(ctx.k, np.nan))
    converged = out["converged"]
    if converged is None:  # exact with l1: judged on the minimal-norm subgradient
        converged = bool(np.max(np.abs(grad)) <= 1e-8)
    status = out.get("status", "converged" if converged else "max_iter")
    if not converged and method != "pcd":
        warnings.warn(f"Ising {method} fit did not converge: {out['message']}", ConvergenceWarning,
                      stacklevel=3)
    with np.errstate(all="ignore"):
        rel = float(np.linalg.norm(residual) / max(np.linalg.norm(ctx.mu), 1e-300))
    reg = {"l1": ctx.l1, "l2": ctx.l2} if (ctx.l1 or ctx.l2) else None
    check = out.get("mc_check")
    return EBMFitResult(model=model, method=method, converged=bool(converged), status=status,
                        message=out["message"], n_iter=int(out["n_iter"]), residual=residual,
                        residual_se=residual_se, gradient=grad, residual_norm=rel,
                        distance_se=distance, mc_check=check, mean_loglik=loglik,
                        se_natural=se_nat, n=int(ctx.n_rows), weight_sum=float(ctx.W),
                        data_mean=ctx.mu, regularization=reg, time_s=elapsed, trace=out["trace"])


_hooks.provide("fit_ising", fit_ising)
