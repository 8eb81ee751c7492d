"""Exact EM for finite mixtures of exponential families.

E-step: responsibilities ``r_nk = w_k p_k(x_n) / sum_j w_j p_j(x_n)`` (log-sum-exp).
M-step: each component is the weighted moment-matching fit (:func:`expfam.fit`) with
weights ``r_nk`` (times the observation weights): it solves
``grad A(eta_k) = sum_n r_nk u(x_n) / sum_n r_nk``, the seed's residual set to zero with
the responsibilities as weights; the mixing weights are ``w_k = N_k / W``.

With ``pseudo_count = nu`` (MAP-EM) each component gets the conjugate prior of
:func:`expfam.fit` (``nu`` pseudo-observations at the family's reference mean ``mu0``) and
the weights a Dirichlet prior with ``alpha_k - 1 = nu / K``; the objective is then the
log posterior ``loglik + sum_k nu (eta_k . mu0 - A(eta_k)) + (nu / K) sum_k log w_k``.
EM never decreases its objective (Dempster, Laird and Rubin 1977): it is checked every
iteration.
"""

from __future__ import annotations

import numpy as np

from ..errors import (
    BoundaryError,
    DegenerateComponentError,
    EmptyDataError,
    ExpfamError,
    FloatRangeError,
    MonotonicityError,
    WeightError,
)
from ..families import MultivariateNormal
from ..fitting import fit_stats, prior_mean_params
from ..stats import SufficientStats
from ._fused import fused_estep
from ._gauss import gaussian_em_step, gaussian_responsibilities
from .model import Mixture

#: a decrease of the objective by more than this fraction of (|objective| + weight sum)
#: is not rounding (the M-step's Newton solvers stop at a relative residual ~1e-12)
MONOTONE_RTOL = 1e-9
#: a component whose responsibility sum falls below this fraction of W has lost its weight
MIN_WEIGHT = 1e-10
#: convergence also asks that the distance still to go, extrapolated from the last two EM
#: steps, be under this many (complete-data) standard errors (see :func:`converged_step`):
#: a slow EM whose objective barely changes is not called converged while its parameters
#: are still drifting on the scale of their noise
STEP_Z_TOL = 1e-2


def step_z(old: Mixture, new: Mixture, W: float) -> float:
    """The length of an EM step in standard-error units.

    The M-step sets component ``k``'s mean parameters to the responsibility-weighted mean
    of ``u``, so the step ``mu_k(new) - mu_k(old)`` is the moment residual (the gradient
    in ``eta_k``) at the old parameters.  Each coordinate is divided by its complete-data
    standard error ``sqrt(Var_k[u_j] / N_k)`` (``Var_k[u] = hess A(eta_k)``,
    ``N_k = w_k W``), the weights' steps by ``sqrt(w_k (1 - w_k) / W)``; the result is the
    Euclidean norm of these z-values.  Complete-data standard errors are never larger than
    the observed-data ones, so this overstates the step on the scale of the estimate's noise.
    """
    z = [(new.weights - old.weights)
         / np.sqrt(np.maximum(old.weights * (1 - old.weights), 1e-300) / W)]
    for a, b, w in zip(old.components, new.components, new.weights):
        cls, fx = type(a), a.fixed
        mu_a = np.ravel(cls.mean_from_natural(a.natural, fx))
        mu_b = np.ravel(cls.mean_from_natural(b.natural, fx))
        var = np.diagonal(np.reshape(cls.fisher_from_natural(a.natural, fx),
                                     (mu_a.size, mu_a.size)))
        z.append((mu_b - mu_a) / np.sqrt(np.maximum(var, 1e-300) / max(w * W, 1e-300)))
    return float(np.linalg.norm(np.concatenate(z)))


class ConvergenceRule:
    """EM's stopping rule: the objective's relative change below ``tol`` and the distance
    to the fixed point below :data:`STEP_Z_TOL` standard errors.

    EM converges linearly, ``step_{t+1} ~ rho step_t`` with ``rho`` the largest fraction of
    missing information (Dempster, Laird and Rubin 1977, sec. 3), so the distance still to
    go is ``step_t rho / (1 - rho)``; ``rho`` is estimated by the ratio of the last two
    step lengths (:func:`step_z`).  Overlapping components have ``rho`` near 1: there the
    objective changes by little per step while the parameters are still far away.
    """

    def __init__(self, tol: float, W: float):
        self.tol, self.W, self.previous = tol, W, np.inf

    def __call__(self, old: Mixture, new: Mixture, rel: float) -> bool:
        if rel >= self.tol:  # steps are measured only once the objective has settled
            self.previous = np.inf
            return False
        z = step_z(old, new, self.W)
        rho, self.previous = z / self.previous, z
        return z == 0.0 or (rho < 1.0 and z / (1.0 - rho) < STEP_Z_TOL)


def _groups(specs):
    """Indices of the components that share a family and fixed parameters."""
    out: list[tuple[type, dict, list[int]]] = []
    for i, (cls, fixed) in enumerate(specs):
        for c, f, idx in out:
            if c is cls and f == fixed:
                idx.append(i)
                break
        else:
            out.append((cls, fixed, [i]))
    return out


class _Terms:
    """Per group of components (:func:`_groups`), what the E-step and the statistics share
    on one chunk: ``u(x)`` and ``log h(x)`` for families without a location pivot."""

    def __init__(self, specs, x):
        self.x = x
        self.groups = _groups(specs)
        self.u, self.lh = [], []
        for cls, fixed, _ in self.groups:
            plain = not cls.pivot
            self.u.append(cls.sufficient_statistics(x, fixed) if plain else None)
            self.lh.append(cls.log_base_measure(x, fixed) if plain else None)


def _lse(j):
    """Row-wise log-sum-exp of ``(n, K)`` log terms."""
    m = j.max(axis=1)
    m = np.where(np.isfinite(m), m, 0.0)
    return m + np.log(np.exp(j - m[:, None]).sum(axis=1))


def estep(mix: Mixture, specs, x, wt, terms: _Terms | None = None):
    """E-step on (a chunk of) the data: responsibilities ``R`` and ``log p(x_n)``.

    Components of a family without a location pivot are evaluated in the exponential-family
    form ``log w_k + log h(x) + u(x) . eta_k - A(eta_k)``, one matrix product per family
    (``u`` and ``log h`` computed once and shared with the statistics); its rounding is a
    few ulps of the largest term.  Pivot families (normal, log-normal) use their own
    ``logpdf``, evaluated about each component's location.  The data must lie in every
    component's support (checked by the caller)."""
    terms = _Terms(specs, x) if terms is None else terms
    n, K = x.shape[0], mix.n_components
    j = np.empty((n, K))
    with np.errstate(divide="ignore"):
        logw = np.log(mix.weights)
    for (cls, fixed, idx), u, lh in zip(terms.groups, terms.u, terms.lh):
        eta = np.stack([mix.components[i].natural for i in idx])
        if u is not None:
            j[:, idx] = lh[:, None] + u @ eta.T - cls.log_partition(eta, fixed)
        else:
            xe = x[(slice(None), None) + (slice(None),) * cls.event_ndim]
            j[:, idx] = cls.from_natural(eta, **fixed).logpdf(xe)
        j[:, idx] += logw[idx]
    lse = _lse(j)
    return np.exp(j - lse[:, None]), lse


def resp_stats(specs, x, wt, R, terms: _Terms | None = None) -> list:
    """The M-step's data: per group of components sharing a family (:func:`_groups`), the
    :class:`~expfam.stats.SufficientStats` of ``x`` weighted by ``wt_n r_nk`` (batch axis:
    the group's components).  Additive over chunks of the data (merge)."""
    terms = _Terms(specs, x) if terms is None else terms
    Wr = wt[:, None] * R
    out = []
    for (cls, fixed, idx), u, lh in zip(terms.groups, terms.u, terms.lh):
        if u is not None:  # weighted sums as matrix products
            wk = Wr[:, idx]
            out.append(SufficientStats(cls, fixed, np.full(len(idx), x.shape[0]), wk.sum(axis=0),
                                       wk.T @ u, wk.T @ lh))
            continue
        xb = np.broadcast_to(x[(slice(None), None)], (x.shape[0], len(idx)) + x.shape[1:])
        with np.errstate(all="ignore"):
            out.append(SufficientStats.from_data(cls, xb, weights=Wr[:, idx], **fixed))
    return out


def estep_stats(mix: Mixture, specs, x, wt, need_resp: bool = True):
    """E-step and the responsibility statistics of (a chunk of) the data:
    ``(sum_n wt_n log p(x_n), resp_stats, R)``.

    Without ``need_resp``, components all of one family without a location pivot take the
    fused compiled pass (:mod:`expfam.mixture._fused`) and ``R`` is ``None``."""
    terms = _Terms(specs, x)
    if not need_resp and len(terms.groups) == 1 and terms.u[0] is not None:
        cls, fixed, idx = terms.groups[0]
        eta = np.stack([mix.components[i].natural for i in idx])
        with np.errstate(divide="ignore"):
            const = np.log(mix.weights[idx]) - cls.log_partition(eta, fixed)
        u = np.ascontiguousarray(terms.u[0], dtype=np.float64)
        ll, N, S, H = fused_estep(u, np.ascontiguousarray(terms.lh[0], dtype=np.float64),
                                  np.ascontiguousarray(wt, dtype=np.float64), eta, const)
        return ll, [SufficientStats(cls, fixed, np.full(len(idx), x.shape[0]), N, S, H)], None
    R, lse = estep(mix, specs, x, wt, terms)
    return float(np.dot(wt, lse)), resp_stats(specs, x, wt, R, terms), R


def _check_lost(Nk, W, start, iteration) -> None:
    lost = np.flatnonzero(~(Nk >= MIN_WEIGHT * W))
    if lost.size:
        raise DegenerateComponentError(
            f"component {int(lost[0])} lost all its weight (responsibility sum "
            f"{Nk[lost[0]]:.3g} of {W:.6g}) at iteration {iteration} of start {start}; "
            f"try fewer components or pass pseudo_count=")


def m_step_stats(specs, stats, W, pseudo_count, start, iteration) -> Mixture:
    """Weighted moment matching of every component from :func:`resp_stats`' statistics
    (``W``: the total observation weight)."""
    K = len(specs)
    groups = _groups(specs)
    Nk = np.empty(K)
    for (_, _, idx), st in zip(groups, stats):
        Nk[idx] = st.weight_sum
    if pseudo_count is None:
        _check_lost(Nk, W, start, iteration)
    comps = [None] * K
    for (cls, _, idx), st in zip(groups, stats):
        try:
            with np.errstate(all="ignore"):
                res = fit_stats(st, pseudo_count=pseudo_count)
        except (BoundaryError, FloatRangeError, EmptyDataError) as exc:
            raise DegenerateComponentError(
                f"a {cls.__name__} component among {idx} collapsed at iteration {iteration} "
                f"of start {start} (its weighted MLE does not exist: {exc}); try fewer "
                f"components, another start, or pass pseudo_count=") from exc
        for j, i in enumerate(idx):
            comps[i] = res.model[j]
    w = Nk / W if pseudo_count is None else (Nk + pseudo_count / K) / (W + pseudo_count)
    return Mixture(w, comps)


def m_step(specs, x, wt, R, pseudo_count, start, iteration) -> Mixture:
    """Weighted moment matching of every component, responsibilities as weights."""
    W = float(wt.sum())
    if pseudo_count is None:
        _check_lost((wt[:, None] * R).sum(axis=0), W, start, iteration)
    try:
        stats = resp_stats(specs, x, wt, R)
    except (EmptyDataError, WeightError) as exc:
        raise DegenerateComponentError(
            f"a component lost its weight at iteration {iteration} of start {start}: {exc}; "
            f"try fewer components or pass pseudo_count=") from exc
    return m_step_stats(specs, stats, W, pseudo_count, start, iteration)


def log_prior(mix: Mixture, pseudo_count) -> float:
    """The MAP-EM penalty: conjugate priors of the components and Dirichlet weights."""
    if pseudo_count is None:
        return 0.0
    total = pseudo_count / mix.n_components * float(np.sum(np.log(mix.weights)))
    for c in mix.components:
        cls, fixed = type(c), c.fixed
        mu0 = prior_mean_params(cls, fixed, None, np.shape(c.natural))
        total += pseudo_count * float(np.dot(c.natural, mu0) - cls.log_partition(c.natural, fixed))
    return total


def _check_step(obj, new, W, it, start):
    if not np.isfinite(new):
        raise DegenerateComponentError(
            f"the log-likelihood became {new} at iteration {it} of start {start}: a "
            f"component collapsed onto a point; pass pseudo_count=")
    if new < obj - MONOTONE_RTOL * (abs(obj) + W):
        raise MonotonicityError(
            f"EM objective decreased from {obj!r} to {new!r} at iteration {it} of start "
            f"{start}: EM never decreases it, this is a bug")


def _gaussian_mixture(N, W, means, covs, start, it) -> Mixture:
    lost = np.flatnonzero(~(N >= MIN_WEIGHT * W))
    if lost.size:
        raise DegenerateComponentError(
            f"component {int(lost[0])} lost all its weight at iteration {it} of start {start}; "
            f"try fewer components or pass pseudo_count=")
    try:
        comps = [MultivariateNormal(mean=m, cov=c) for m, c in zip(means, covs)]
    except ExpfamError as exc:
        raise DegenerateComponentError(
            f"a component collapsed (singular covariance) at iteration {it} of start {start}: "
            f"{exc}; pass pseudo_count=") from exc
    return Mixture(N / W, comps)


def iterate(mix, e_step, m_step_from, W, *, max_iter, tol, start):
    """The EM loop shared by every kind of data: ``e_step(mix) -> (objective, state)``,
    ``m_step_from(state, iteration) -> mix``; the objective is checked to be monotone
    (:func:`_check_step`) and the loop stops by :class:`ConvergenceRule`.

    Returns ``(mix, state, objective, trace, n_iter, converged, rel_change)``, ``state``
    that of the returned mixture's E-step.
    """
    obj, state = e_step(mix)
    trace = [obj]
    converged, rel, it = False, np.inf, 0
    done = ConvergenceRule(tol, W)
    for it in range(1, max_iter + 1):
        old, mix = mix, m_step_from(state, it)
        new, state = e_step(mix)
        _check_step(obj, new, W, it, start)
        rel = abs(new - obj) / max(abs(new), 1.0)
        obj = new
        trace.append(obj)
        if done(old, mix, rel):
            converged = True
            break
    return mix, state, obj, trace, it, converged, rel


def _run_gaussian(x, wt, mix, *, max_iter, tol, start):
    """The EM loop of a full-covariance normal mixture with the fused compiled pass."""
    W = float(wt.sum())

    def params(m):
        return (m.weights, np.array([c.params["mean"] for c in m.components]),
                np.array([c.params["cov"] for c in m.components]))

    def e_step(m):
        obj, *state = gaussian_em_step(x, wt, *params(m))
        return obj, state

    mix, _, obj, trace, it, converged, rel = iterate(
        mix, e_step, lambda st, it: _gaussian_mixture(st[0], W, st[1], st[2], start, it), W,
        max_iter=max_iter, tol=tol, start=start)
    R, lse = gaussian_responsibilities(x, *params(mix))
    return mix, R, float(np.dot(wt, lse)), obj, np.array(trace), it, converged, rel


def run_em(specs, x, wt, start_mix, start_resp, *, max_iter, tol, pseudo_count, start):
    """One EM run from a mixture or from responsibilities.

    Full-covariance normal mixtures without ``pseudo_count`` use the fused compiled pass
    (:mod:`expfam.mixture._gauss`); everything else the generic E- and M-steps.

    Returns ``(mixture, R, loglik, objective, trace, n_iter, converged, rel_change)``;
    ``trace`` holds the objective after every E-step.
    """
    W = float(wt.sum())
    mix = start_mix if start_mix is not None else m_step(specs, x, wt, start_resp, pseudo_count, start, 0)
    if pseudo_count is None and all(cls is MultivariateNormal for cls, _ in specs):
        return _run_gaussian(x, wt, mix, max_iter=max_iter, tol=tol, start=start)

    def e_step(m):
        ll, stats, _ = estep_stats(m, specs, x, wt, need_resp=False)
        return ll + log_prior(m, pseudo_count), (ll, stats)

    mix, (ll, _), obj, trace, it, converged, rel = iterate(
        mix, e_step, lambda st, it: m_step_stats(specs, st[1], W, pseudo_count, start, it), W,
        max_iter=max_iter, tol=tol, start=start)
    R, _ = estep(mix, specs, x, wt)
    return mix, R, ll, obj, np.array(trace), it, converged, rel
