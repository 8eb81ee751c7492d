"""Learning Potts models: ``expfam.fit(expfam.Potts, samples, method="exact" | "pcd" | "pseudolikelihood")``.

The mean of the sufficient statistics (the indicators of the lattice-gas gauge) over the
weighted samples is matched by Newton's method on the convex objective
``log Z(eta) - eta . mu_data + l2 / 2 |eta|^2`` with the exact Fisher information from
enumeration (Armijo backtracking), from the independent-variable model.  Data in which a
state of a variable, or a joint state of a pair of the graph, is never observed have no
maximum-likelihood estimate (the MLE is at infinity): without ``l2`` the fit raises
:class:`~expfam.errors.BoundaryError` naming them.

``method="pseudolikelihood"``: L-BFGS (SciPy) on the exact mean negative log
pseudolikelihood and its gradient (:mod:`.potts_pseudolikelihood`), with the same ``l2``
penalty; consistent, and it needs no enumeration (its residual against the model's exact
moments is reported when the joint states can be enumerated).

``method="pcd"``: persistent contrastive divergence with the model moments from persistent
Gibbs chains, the same loop, stopping rule (residual against its Monte Carlo error) and
checkpoint / resume as the Ising models' (:mod:`.pcd`), from the pseudolikelihood estimate.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import BoundaryError, ParameterError
from . import _hooks
from .data import sample_matrix
from .potts import Potts

__all__ = ["fit_potts"]


def fit_potts(data, weights=None, *, q=None, edges=None, method: str = "exact", l2: float = 0.0,
              tol: float = 1e-10, max_iter: int = 100, rng=None, n_chains: int = 1000,
              mc_tol: float = 0.5, alpha: float = 0.01, max_rounds: int = 6, warmup: int = 50,
              checkpoint=None, checkpoint_every: int = 25, resume: bool = False, callback=None):
    """Maximum-likelihood (or ``l2``-penalised) fit of a Potts model by enumeration.

    Parameters
    ----------
    data : array_like, shape (N, n)
        Integer states ``0..q_i - 1``.
    weights : array_like, shape (N,), optional
    q : int or sequence of int, optional
        States per variable; default ``max + 1`` of each column.
    edges : array_like of pairs, optional
    method : {"exact", "pcd", "pseudolikelihood"}
    l2 : float
        Penalty ``l2 / 2 |eta|^2`` (per sample) on the lattice-gas parameters.
    tol, max_iter :
        Tolerance on the largest component of the penalised gradient (Newton's residual,
        or the pseudolikelihood's gradient), and the iteration limit.
    rng, n_chains, mc_tol, alpha, max_rounds, warmup, checkpoint, checkpoint_every, resume, callback :
        ``method="pcd"``: as in :func:`~expfam.ebm.learning.fit_ising`.

    Returns
    -------
    EBMFitResult
    """
    from .learning import EBMFitResult, _penalty

    t0 = time.perf_counter()
    if method not in ("exact", "pcd", "pseudolikelihood"):
        raise ParameterError(f"Potts models are fitted with method='exact' (enumeration), 'pcd' "
                             f"or 'pseudolikelihood'; got {method!r}")
    if method != "pcd" and (checkpoint is not None or resume):
        raise ParameterError(f"checkpoint / resume apply to method='pcd'; got method={method!r}")
    l2 = _penalty(l2, "l2")
    raw = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
    if raw.ndim != 2:
        raise ParameterError(f"samples: expected shape (N, n); got {raw.shape}")
    if q is None:  # inferred from the values: NaN / inf first get their own error
        from .._validation import as_float_array, check_finite

        check_finite(as_float_array(raw, name="samples"), name="samples")
        q = tuple(int(v) + 1 for v in np.nanmax(np.where(np.isfinite(raw.astype(float)), raw, 0),
                                                  axis=0))
    fixed = Potts.check_fixed({"n": raw.shape[1], "q": q, "edges": edges})
    qs = fixed["q"]
    X, w = sample_matrix(data, fixed["n"], np.arange(max(qs), dtype=np.float64), weights)
    for i, qi in enumerate(qs):
        if np.any(X[:, i] >= qi):
            from .data import check_levels

            check_levels(X[:, i], np.arange(qi, dtype=np.float64), f"samples[:, {i}]")
    wv = np.ones(X.shape[0]) if w is None else w
    W = float(wv.sum())
    mu = np.zeros(Potts.natural_dim(fixed))
    for start in range(0, X.shape[0], 8192):
        mu += wv[start:start + 8192] @ Potts.sufficient_statistics(X[start:start + 8192], fixed)
    mu /= W
    if l2 == 0:
        _check_boundary(X, wv, fixed)
    eta = _independent(mu, fixed)
    if method == "pseudolikelihood":
        return _fit_pl(X, w, W, mu, eta, l2, fixed, tol, max_iter, t0)
    if method == "pcd":
        start = _fit_pl(X, w, W, mu, eta, l2, fixed, max(tol, 1e-6), max_iter, t0).model.natural
        return _fit_pcd(X, w, W, mu, start, l2, fixed, t0, rng=rng, n_chains=n_chains,
                        mc_tol=mc_tol, alpha=alpha, max_rounds=max_rounds, warmup=warmup,
                        checkpoint=checkpoint, checkpoint_every=checkpoint_every, resume=resume,
                        callback=callback)
    f = _objective(eta, mu, l2, fixed)
    converged, it, message = False, 0, ""
    for it in range(1, max_iter + 1):
        _, mu_m, F = Potts.exact(eta, fixed, fisher=True)
        g = mu - mu_m - l2 * eta
        if np.max(np.abs(g)) <= tol:
            converged, message = True, f"Newton: largest residual component {np.max(np.abs(g)):.3g} <= tol"
            it -= 1
            break
        d = np.linalg.solve(F + l2 * np.eye(mu.size), g)
        step, slope = 1.0, g @ d
        while step > 1e-12:
            cand = eta + step * d
            fc = _objective(cand, mu, l2, fixed)
            if fc <= f - 1e-4 * step * slope or (step == 1.0 and fc <= f + 1e-14 * abs(f)):
                break
            step *= 0.5
        else:
            converged = bool(np.max(np.abs(g)) <= max(tol, 1e-8))
            message = f"Newton: no further decrease (largest residual {np.max(np.abs(g)):.3g})"
            break
        eta, f = cand, fc
    else:
        message = f"Newton: {max_iter} iterations without reaching tol"
    logz, mu_m, F = Potts.exact(eta, fixed, fisher=True)
    residual = mu - mu_m
    grad = -residual + l2 * eta
    lam, V = np.linalg.eigh(F + l2 * np.eye(mu.size))
    inv = np.where(lam > 1e-14 * lam[-1], 1.0 / np.maximum(lam, 1e-300), 0.0)
    distance = float(np.sqrt(max(float(np.sum((V.T @ grad) ** 2 * inv)), 0.0) * W))
    se_nat = np.sqrt(np.clip((V**2) @ inv / W, 0, None)) if l2 == 0 else None
    return EBMFitResult(
        model=Potts.from_natural(eta, **fixed), method="exact", converged=converged,
        status="converged" if converged else "max_iter", message=message, n_iter=it,
        residual=residual, residual_se=np.zeros(mu.size), gradient=grad,
        residual_norm=float(np.linalg.norm(residual) / max(np.linalg.norm(mu), 1e-300)),
        distance_se=distance, mc_check=None, mean_loglik=float(eta @ mu - logz),
        se_natural=se_nat, n=int(X.shape[0]), weight_sum=W, data_mean=mu,
        regularization={"l1": 0.0, "l2": l2} if l2 else None,
        time_s=time.perf_counter() - t0, trace={})


def _fit_pl(X, w, W, mu, eta0, l2, fixed, tol, max_iter, t0):
    from scipy import optimize

    from .learning import EBMFitResult
    from .potts_pseudolikelihood import potts_neg_log_pseudolikelihood

    trace = []
    # every sum over the samples is a weighted sum over the distinct rows
    Xu, inverse = np.unique(X, axis=0, return_inverse=True)
    wu = np.bincount(inverse.ravel(), weights=w, minlength=Xu.shape[0])

    def obj(eta):
        f, g = potts_neg_log_pseudolikelihood(eta, Xu, wu, W, fixed)
        f += 0.5 * l2 * (eta @ eta)
        trace.append(f)
        return f, g + l2 * eta

    res = optimize.minimize(obj, eta0, jac=True, method="L-BFGS-B",
                            options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-16, "maxcor": 10})
    eta = res.x
    _, grad = obj(eta)
    gmax = float(np.max(np.abs(grad))) if grad.size else 0.0
    converged = gmax <= max(tol, 1e-7)
    residual = np.full(mu.size, np.nan)
    mean_loglik = None
    if Potts.n_states(fixed) <= 2**20:  # the exact residual E_data[u] - E_model[u]
        logz, mu_m, _ = Potts.exact(eta, fixed)
        residual = mu - mu_m
        mean_loglik = float(eta @ mu - logz)
    return EBMFitResult(
        model=Potts.from_natural(eta, **fixed), method="pseudolikelihood", converged=converged,
        status="converged" if converged else "max_iter",
        message=f"L-BFGS on the pseudolikelihood: {res.message}; largest gradient component "
                f"{gmax:.3g}", n_iter=int(res.nit), residual=residual,
        residual_se=np.zeros(mu.size), gradient=grad,
        residual_norm=float(np.linalg.norm(residual) / max(np.linalg.norm(mu), 1e-300)),
        distance_se=None, mc_check=None, mean_loglik=mean_loglik, se_natural=None,
        n=int(X.shape[0]), weight_sum=W, data_mean=mu,
        regularization={"l1": 0.0, "l2": l2} if l2 else None,
        time_s=time.perf_counter() - t0, trace={"objective": trace})


class _PottsPCD:
    """The model and data as :func:`~expfam.ebm.pcd.run_pcd` sees them (no l1)."""

    cls = Potts
    l1 = 0.0

    def __init__(self, X, w, W, mu, l2, fixed):
        self.fixed, self.W, self.mu, self.l2, self.k = fixed, W, mu, l2, mu.size
        self.Xu, inverse = np.unique(X, axis=0, return_inverse=True)
        self.wu = np.bincount(inverse.ravel(), weights=w, minlength=self.Xu.shape[0])
        # every statistic is an indicator: sd_data = sqrt(m - m^2), at least the spread of
        # one differing sample (variance 1/W) where the data never show the state
        self.spread = np.sqrt(np.maximum(mu - mu**2, 1.0 / W))

    @staticmethod
    def second_moment(mean):
        return mean  # indicators: u^2 = u

    @staticmethod
    def subgradient(g, eta):
        return g

    def sample_mean(self, x):
        return Potts.sufficient_statistics(x, self.fixed).mean(axis=0)

    def chain_sums(self, x):
        return Potts.sufficient_statistics(x, self.fixed).sum(axis=1)


def _fit_pcd(X, w, W, mu, eta0, l2, fixed, t0, *, rng, n_chains, mc_tol, alpha, max_rounds, warmup,
             checkpoint, checkpoint_every, resume, callback):
    from .._validation import check_int
    from .gibbs import GibbsSampler
    from .learning import EBMFitResult
    from .pcd import run_pcd

    rng = np.random.default_rng(rng)
    ctx = _PottsPCD(X, w, W, mu, l2, fixed)
    sampler = GibbsSampler(check_int(n_chains, "n_chains", 2), scan="sequential", thin=1,
                           burn_in=max(20, warmup), seed=rng)
    out = run_pcd(ctx, eta0, rng, sampler, mc_tol=mc_tol, alpha=alpha,
                  max_rounds=check_int(max_rounds, "max_rounds", 1),
                  warmup=check_int(warmup, "warmup", 0), checkpoint=checkpoint,
                  checkpoint_every=check_int(checkpoint_every, "checkpoint_every", 1),
                  resume=bool(resume), callback=callback)
    eta = out["eta"]
    check = out["mc_check"]
    residual, residual_se, mean_loglik = check["residual"], check["se"], None
    if Potts.n_states(fixed) <= 2**20:  # the exact residual E_data[u] - E_model[u]
        logz, mu_m, _ = Potts.exact(eta, fixed)
        residual, residual_se = mu - mu_m, np.zeros(mu.size)
        mean_loglik = float(eta @ mu - logz)
    return EBMFitResult(
        model=Potts.from_natural(eta, **fixed), method="pcd", converged=out["converged"],
        status=out["status"], message=out["message"], n_iter=int(out["n_iter"]), residual=residual,
        residual_se=residual_se, gradient=-residual + l2 * eta,
        residual_norm=float(np.linalg.norm(residual) / max(np.linalg.norm(mu), 1e-300)),
        distance_se=None, mc_check=check,
        mean_loglik=mean_loglik, se_natural=None, n=int(X.shape[0]), weight_sum=W, data_mean=mu,
        regularization={"l1": 0.0, "l2": l2} if l2 else None,
        time_s=time.perf_counter() - t0, trace=out["trace"])


def _objective(eta, mu, l2, fixed):
    return Potts.exact(eta, fixed)[0] - eta @ mu + 0.5 * l2 * (eta @ eta)


def _independent(mu, fixed):
    """Fields ``log(p_i(a) / p_i(0))`` of the data's marginals (clipped), couplings zero."""
    qs = fixed["q"]
    fo, _, k = Potts.layout(fixed)
    eta = np.zeros(k)
    for i in range(len(qs)):
        p = np.clip(mu[fo[i]:fo[i + 1]], 1e-6, None)
        p0 = max(1.0 - p.sum(), 1e-6)
        eta[fo[i]:fo[i + 1]] = np.log(p / p0)
    return eta


def _check_boundary(X, w, fixed):
    qs = fixed["q"]
    problems = []
    for i, qi in enumerate(qs):
        seen = np.bincount(X[:, i].astype(np.int64), weights=w, minlength=qi)
        problems += [f"variable {i} never takes state {a}" for a in np.flatnonzero(seen <= 0)]
    if not problems:
        I, J = Potts.pairs(fixed)
        for i, j in zip(I.tolist(), J.tolist()):
            idx = X[:, i].astype(np.int64) * qs[j] + X[:, j].astype(np.int64)
            seen = np.bincount(idx, weights=w, minlength=qs[i] * qs[j]).reshape(qs[i], qs[j])
            problems += [f"pair ({i}, {j}) never shows ({a}, {b})" for a, b in np.argwhere(seen <= 0)]
    if problems:
        shown = ", ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise BoundaryError(f"the maximum-likelihood estimate does not exist (it lies at infinity): "
                            f"{shown}; pass l2=... to regularise")


_hooks.provide("fit_potts", fit_potts)
