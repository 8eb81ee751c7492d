"""Persistent contrastive divergence (stochastic maximum likelihood) for Ising and Potts models.

One loop serves both (:func:`run_pcd`); the model enters only through a *context* (see
:class:`PCDContext`): its class, fixed parameters, the data moments ``E_data[u]`` and the
statistics of chain samples.  Every step is the seed's eq. 5, the residual
``E_data[u] - E_eta[u]`` with the model moment from persistent Gibbs chains, preconditioned
by the covariance of ``u`` over the data (the Fisher information at the MLE of a
well-specified model); a constant gain during a warm-up, then the Robbins-Monro gain
``1 / s``.

**Monte Carlo error** (:func:`chain_moments`).  At the end of each round the model is
frozen and further sweeps of the chains estimate its moments.  The chains are
independent, but the states of one chain are correlated, so the standard error comes from
*batch means*: every chain's record is cut into ``B`` consecutive batches (``B = 1``, the
whole chain, when there are at least 32 chains; more batches, each at least 20 sweeps long,
for fewer chains) and ``se_j = sd(batch means_j) / sqrt(C B)``.  With one batch per chain,
equal groups of chains (at least 100 groups where ``C`` allows) take the place of the
chains: the means of groups of independent chains are independent batch means too.
For dense ``+-1`` Ising models the statistics are Rao-Blackwellised (the conditional
means given the other spins, :meth:`~expfam.ebm.learning._Context.rao_blackwell_sums`):
the same means with less Monte Carlo variance.  It is never taken below
the value for independent states, ``sd_pooled(u_j) / sqrt(C R)``; the ratio of the two is
the effective-sample-size factor reported as ``ess`` (``C R / ess`` is the integrated
autocorrelation time of the least-mixed statistic).

**Checkpoint / resume.**  With ``checkpoint=path`` the parameters, the chains' states and
random streams, the gains and round counters, the trace and the state of ``rng`` are
written every ``checkpoint_every`` steps (and after every check) to an ``.npz`` file
(arrays and a JSON header, no pickle; written to a temporary file then renamed, so an
interruption never leaves a half-written checkpoint).  ``resume=True`` continues from it:
the resumed run is the same computation as an uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np
from scipy import stats
from scipy.linalg import cho_solve

from ..errors import ConvergenceWarning, FileFormatError, ParameterError

__all__ = ["run_pcd", "chain_moments", "PCDContext"]

#: steps per round of the averaging phase (each step records several sweeps)
STEPS_PER_ROUND = 25
#: chains from which the chain means alone give the standard error (one batch per chain)
MIN_CHAINS_ONE_BATCH = 32
#: fewest groups of chains whose means give the standard error when one batch per chain
MIN_GROUPS = 100
#: shortest batch (sweeps) of the batch means
MIN_BATCH = 20
_FORMAT = "expfam-pcd-checkpoint-1"


class PCDContext:
    """What :func:`run_pcd` needs of a model and its data (documentation of the protocol).

    Attributes: ``cls`` (the model class), ``fixed``, ``mu`` (``E_data[u]``, shape ``(k,)``),
    ``W`` (sum of the weights), ``k``, ``l1``, ``l2``, ``Xu``/``wu`` (distinct data rows and
    their weights), ``spread`` (``sd_data(u_j)``); methods ``subgradient(g, eta)``,
    ``sample_mean(x)`` (mean of ``u`` over states ``x`` of shape ``(M, n)``) and
    ``chain_sums(x)`` (sums of ``u`` over the records of ``x`` of shape ``(C, R, n)``,
    shape ``(C, k)``) and ``second_moment(mean)`` (``E[u_j^2]`` from ``E[u_j]``).
    """


def _preconditioner(ctx):
    """Cholesky factor of the data covariance of ``u`` (+ l2) up to 600 statistics, else
    its diagonal: ``(chol, None)`` or ``(None, diag)``."""
    k = ctx.k
    if k > 600 or ctx.l1 > 0:
        return None, ctx.spread**2 + ctx.l2 + 1e-10
    C = np.zeros((k, k))
    X, w, W = ctx.Xu, ctx.wu, ctx.W
    for start in range(0, X.shape[0], 8192):
        U = ctx.cls.sufficient_statistics(X[start:start + 8192], ctx.fixed) - ctx.mu
        Uw = U if w is None else U * w[start:start + 8192, None]
        C += Uw.T @ U
    C /= W
    C += (ctx.l2 + 1e-10) * np.eye(k)
    return np.linalg.cholesky(C), None


def chain_moments(ctx, sampler, eta, rounds: int, rng=None) -> dict:
    """Moments of the frozen model ``eta`` from ``rounds`` further sweeps of every chain,
    with their Monte Carlo standard errors by batch means (see the module docstring).

    Returns
    -------
    dict
        ``mean`` and ``se`` (shape ``(k,)``), ``ess`` (smallest effective sample size over
        the statistics that vary), ``n_samples`` (``C * rounds``), ``batches`` (per chain).
    """
    C = sampler.n_chains
    B = 1 if C >= MIN_CHAINS_ONE_BATCH else int(np.clip(-(-MIN_CHAINS_ONE_BATCH // C), 1,
                                                         max(1, rounds // MIN_BATCH)))
    L = rounds // B
    G = _groups(C) if B == 1 else C
    sums = np.zeros((G, B, ctx.k))
    sq: np.ndarray | None = np.zeros(ctx.k)
    for b in range(B):
        n_r = L if b < B - 1 else rounds - L * (B - 1)
        done = 0
        while done < n_r:
            r = min(256, n_r - done)
            x = sampler.run(ctx.cls, eta, ctx.fixed, r, rng)  # (C, r, n)
            # G groups of C / G independent chains: their records laid end to end
            s, q = _chain_stats(ctx, x.reshape(G, -1, x.shape[-1]), eta)
            sums[:, b] += s
            sq = None if q is None or sq is None else sq + q
            done += r
        sums[:, b] /= n_r * (C // G)  # the mean over the group's records
    lengths = np.array([L] * (B - 1) + [rounds - L * (B - 1)], dtype=np.float64)
    total = C * rounds
    mean = np.einsum("cbk,b->k", sums, lengths) / (G * rounds)
    if sq is None:  # every statistic is a spin product (u^2 = 1) or an indicator (u^2 = u)
        pooled_var = np.maximum(ctx.second_moment(mean) - mean**2, 0.0)
    else:  # Rao-Blackwellised statistics: their own second moments
        pooled_var = np.maximum(sq / total - mean**2, 0.0)
    bm = sums.reshape(G * B, ctx.k)
    se_batch = bm.std(axis=0, ddof=1) / math.sqrt(G * B) if G * B > 1 else np.full(ctx.k, np.inf)
    se_iid = np.sqrt(pooled_var / total)
    se = np.maximum(se_batch, se_iid)
    varies = pooled_var > 1e-12
    ess = float(np.min(pooled_var[varies] / se[varies] ** 2)) if np.any(varies) else float(total)
    return {"mean": mean, "se": se, "ess": ess, "n_samples": int(total), "batches": int(B)}


def _groups(C):
    """Batches of the one-batch-per-chain case: the smallest divisor of ``C`` from
    :data:`MIN_GROUPS` (``C`` when none): equal groups of independent chains, whose means
    are independent batch means, with fewer (larger) matrix products than one per chain."""
    return next((d for d in range(MIN_GROUPS, C) if C % d == 0), C)


def _chain_stats(ctx, x, eta, squares=True):
    """Per-chain sums of the statistics of ``x`` (``(C, R, n)``) and the sums of their
    squares (``None``: the context's ``second_moment`` gives them, or not ``squares``):
    Rao-Blackwellised when the context offers it (``rao_blackwell_sums``), else ``u``."""
    rb = getattr(ctx, "rao_blackwell_sums", None)
    return (ctx.chain_sums(x), None) if rb is None else rb(x, eta, squares)


def _check(ctx, sampler, eta, rng, rounds, alpha, learn_sweeps):
    """The residual at the frozen ``eta`` against its Monte Carlo error.

    ``se_j`` (batch means) is the standard error of the check's model moment.  The learned
    ``eta`` itself carries the Monte Carlo error of the ``learn_sweeps`` sweeps it averages
    (to first order a residual of variance ``se_j^2 rounds / learn_sweeps``), so
    ``z_j = r_j / sqrt(se_j^2 (1 + rounds / learn_sweeps))`` and ``chi2 = sum z_j^2`` is
    compared with the chi-square quantile at level ``alpha``.  ``mc_ratio``: the largest
    Monte Carlo error of the learned moments, ``se_j sqrt(rounds / learn_sweeps)``, in units
    of the data's sampling error ``sd_data(u_j) / sqrt(W)``."""
    m = chain_moments(ctx, sampler, eta, rounds, rng)
    se = m["se"]
    r = ctx.mu - m["mean"] - ctx.l2 * eta
    if ctx.l1 > 0:  # the l1 subgradient: zero parameters may carry |r| <= l1
        r = -ctx.subgradient(-r, eta)
    se_learn = se * math.sqrt(rounds / learn_sweeps)
    se_tot = np.sqrt(se**2 + se_learn**2)
    # a statistic constant in the chains and in the data has r = 0 = se: z = 0
    z = np.where(se_tot > 0, r / np.where(se_tot > 0, se_tot, 1.0), np.where(r == 0, 0.0, np.inf))
    data_se = ctx.spread / math.sqrt(ctx.W)
    return {"z": z, "chi2": float(z @ z), "chi2_crit": float(stats.chi2.isf(alpha, ctx.k)),
            "max_abs_z": float(np.max(np.abs(z))), "mc_ratio": float(np.max(se_learn / data_se)),
            "n_samples": m["n_samples"], "ess": m["ess"], "batches": m["batches"],
            "residual": ctx.mu - m["mean"], "se": se_tot}


def run_pcd(ctx, eta0, rng, sampler, *, mc_tol, alpha, max_rounds, warmup,
            checkpoint=None, checkpoint_every: int = 25, resume: bool = False, callback=None):
    """The PCD loop (see the module docstring); returns the learner's ``out`` dict.

    ``rng`` is a :class:`numpy.random.Generator` (its state is checkpointed); ``sampler`` a
    fresh :class:`~expfam.ebm.gibbs.GibbsSampler`.  ``callback(t, eta)`` is called after
    every step (a progress bar, or an interruption)."""
    chol, diag = _preconditioner(ctx)

    def direction(g):
        return g / diag if chol is None else cho_solve((chol, True), g)

    C = sampler.n_chains
    # model samples of the first round: their Monte Carlo error is mc_tol times the data's
    # sampling error (for independent samples); each later round doubles them.  A step
    # records `sweeps` states of every chain (about STEPS_PER_ROUND steps per round).
    per_round = max(int(math.ceil(ctx.W / mc_tol**2)), 20 * C)
    sweeps = max(1, per_round // (C * STEPS_PER_ROUND))
    st = {"eta": eta0.copy(), "t": 0, "s": 0, "rnd": 0, "i": 0,
          "steps": int(math.ceil(per_round / (C * sweeps))), "step_norms": []}
    settings = {"format": _FORMAT, "k": ctx.k, "n_chains": C, "mc_tol": mc_tol, "alpha": alpha,
                "max_rounds": max_rounds, "warmup": warmup, "sweeps": sweeps,
                "data": _fingerprint(ctx)}
    if checkpoint is not None and resume and os.path.exists(os.fspath(checkpoint)):
        st = _load(checkpoint, settings, sampler, rng)

    def step(eta, gain, n_sweeps):
        x = sampler.run(ctx.cls, eta, ctx.fixed, n_sweeps, rng)  # (C, n_sweeps, n)
        x = x.reshape(1, -1, x.shape[-1])  # only the total is needed: one matrix product
        g = ctx.mu - _chain_stats(ctx, x, eta, False)[0][0] / (C * n_sweeps) - ctx.l2 * eta
        new = eta + gain * direction(g)
        if ctx.l1 > 0:  # proximal step of l1 in the diagonal metric
            thr = gain * ctx.l1 / diag
            new = np.sign(new) * np.maximum(np.abs(new) - thr, 0.0)
        st["step_norms"].append(float(np.linalg.norm(new - eta)))
        return new

    def save():
        if checkpoint is not None:
            _save(checkpoint, settings, st, sampler, rng)

    check = st.get("check")
    while True:
        if st["t"] < warmup:  # constant gain, one sweep per step: forget the start
            st["eta"] = step(st["eta"], 0.5, 1)
            st["t"] += 1
        elif st["i"] < st["steps"]:
            # natural-gradient steps with gain 1/s: to first order in mean-parameter space
            # the iterate is the running mean of every step's samples since the warm-up (a
            # recursive MLE), so its Monte Carlo error shrinks like 1/sqrt(samples)
            st["s"] += 1
            st["eta"] = step(st["eta"], 1.0 / (st["s"] + 1), sweeps)
            st["t"] += 1
            st["i"] += 1
        else:
            check = _check(ctx, sampler, st["eta"], rng, max(st["steps"] * sweeps // 2, 10), alpha,
                           st["s"] * sweeps)
            st["rnd"] += 1
            ok = check["chi2"] <= check["chi2_crit"] and check["mc_ratio"] <= mc_tol
            if ok or st["rnd"] >= max_rounds:
                break
            st["steps"] *= 2
            st["i"] = 0
            save()
            continue
        if callback is not None:
            callback(st["t"], st["eta"])
        if checkpoint is not None and st["t"] % checkpoint_every == 0:
            save()
    out = {"eta": st["eta"], "n_iter": st["t"], "trace": {"step_norm": st["step_norms"]},
           "mc_check": check}
    if ok:
        out.update(converged=True, status="converged", message=(
            f"PCD: the residual is zero within its Monte Carlo error (chi2 = {check['chi2']:.1f} "
            f"<= {check['chi2_crit']:.1f} on {ctx.k} components, level {alpha:g}) and that error "
            f"is {check['mc_ratio']:.3g} <= mc_tol = {mc_tol:g} of the data's sampling error, "
            f"after {st['rnd']} round(s)"))
    else:
        msg = (f"PCD: after {max_rounds} round(s) the residual is not zero within its Monte Carlo "
               f"error (chi2 = {check['chi2']:.1f}, critical {check['chi2_crit']:.1f}, max |z| = "
               f"{check['max_abs_z']:.3g}; Monte Carlo error ratio {check['mc_ratio']:.3g}, "
               f"mc_tol = {mc_tol:g})")
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        out.update(converged=False, status="not_significant", message=msg)
    return out


# ----------------------------------------------------------------------------------
def _fingerprint(ctx) -> list:
    """What a checkpoint must agree on with the run that resumes it: the data's moments
    and weight, the penalty and the fixed parameters."""
    return [float(ctx.W), float(ctx.l1), float(ctx.l2), ctx.mu.round(12).tolist(),
            json.dumps(ctx.fixed, sort_keys=True, default=str)]


def _save(path, settings, st, sampler, rng) -> None:
    path = os.fspath(path)
    sam = sampler.get_state()
    header = {**settings, "t": st["t"], "s": st["s"], "rnd": st["rnd"], "i": st["i"],
              "steps": st["steps"], "sweeps_done": sam["sweeps"], "kind": sam["kind"],
              "rng": rng.bit_generator.state}
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, eta=st["eta"], states=sam["states"], streams=sam["streams"],
                 step_norms=np.asarray(st["step_norms"], dtype=np.float64),
                 header=np.array(json.dumps(header, default=int)))
    os.replace(tmp, path)  # atomic: an interruption leaves the previous checkpoint


def _load(path, settings, sampler, rng) -> dict:
    try:
        with np.load(os.fspath(path), allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            eta, states, streams = z["eta"], z["states"], z["streams"]
            norms = z["step_norms"].tolist()
    except (OSError, KeyError, ValueError) as exc:
        raise FileFormatError(f"{path}: not a PCD checkpoint ({exc})") from exc
    for key, want in settings.items():
        if json.loads(json.dumps(want)) != header.get(key):
            raise ParameterError(f"{path}: the checkpoint was written by a different run ({key}: "
                                 f"{header.get(key)!r} there, {want!r} here); resume with the same "
                                 f"data and options, or remove the file")
    sampler.set_state({"states": states, "streams": streams, "sweeps": header["sweeps_done"],
                       "kind": header["kind"]})
    rng.bit_generator.state = header["rng"]
    return {"eta": np.array(eta, dtype=np.float64), "t": header["t"], "s": header["s"],
            "rnd": header["rnd"], "i": header["i"], "steps": header["steps"], "step_norms": norms}
