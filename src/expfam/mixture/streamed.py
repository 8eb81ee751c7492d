"""EM over data read in passes (a file larger than memory, a Dask collection).

Each EM iteration is one pass over the data (:mod:`expfam.mixture.sources`): the E-step
and the responsibility-weighted statistics of every chunk are summed, then the M-step
fits every component from the sums (:func:`~expfam.mixture.em.m_step_stats`, the same
code as in memory), so the iterates equal those in memory up to the order of the
floating-point additions.  Memory is bounded by the chunk size and the reservoir sample.

Starts: the first pass validates the data, counts them and draws a uniform reservoir
sample of at most ``sample_size`` rows; :func:`expfam.fit_mixture` runs in memory on that
sample (with ``init``, ``n_init``, ``rng``) and its best fit starts the streamed EM (a
given :class:`Mixture` is used as it is).  Standard errors (Louis' method) take one more
pass, on first access of ``result.se``.  ``result.runs`` lists the sample's starts
(``"on": "reservoir sample of m rows"``) and the streamed run, with its number of passes
and their wall time (``"passes"``, ``"seconds"``).
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import DataError, ParameterError, SupportError
from ..families import resolve_family
from .em import _groups, iterate, log_prior, m_step_stats
from .model import Mixture
from .result import MixtureResult
from .se import information_from_terms
from .specs import _distinct, _specs

__all__ = ["fit_source"]


def fit_source(family, source, K, *, init, max_iter, tol, rng, pseudo_count, sample_size,
               fixed, fit_sample) -> MixtureResult:
    """Streamed EM over ``source`` (see the module docstring); ``fit_sample(x, weights)``
    fits the starts in memory on the reservoir sample."""
    n, W, xs, ws = source.first_pass([], sample_size, rng)
    if not W > 0:
        raise DataError("data: the weights sum to 0")
    specs = _specs(family, K, xs, fixed, check=False)
    try:
        _specs(family, K, xs, fixed)
    except SupportError:
        source.scan(specs)  # raises, naming the file's / block's row
        raise
    ev = specs[0][0].event_ndim
    if xs.ndim != ev + 1:
        raise DataError(f"data: expected {'vectors' if ev else 'scalars'} for "
                        f"{specs[0][0].__name__} components; got rows of shape {xs.shape[1:]}")
    runs: list = []
    if isinstance(init, Mixture):
        if init.n_components != K:
            raise ParameterError(f"init has {init.n_components} components; n_components={K}")
        mix = init
    elif isinstance(init, str):
        keep = ws > 0
        if _distinct(xs.reshape(xs.shape[0], -1)[keep], K, rng) < K:
            raise DataError(f"data: fewer than n_components={K} distinct observations with "
                            f"positive weight in a uniform sample of {int(keep.sum())} rows: a "
                            f"mixture of {K} components is not identifiable")
        start = fit_sample(xs, ws)
        runs = [dict(r, on=f"reservoir sample of {xs.shape[0]} rows") for r in start.runs]
        mix = start.mixture
    else:
        raise ParameterError("init: a file or Dask collection takes 'k-means++', 'random' or a "
                             "Mixture (not responsibilities)")
    t0 = time.perf_counter()
    mix, sums, obj, trace, it, converged, rel = _em(specs, source, mix, W, max_iter=max_iter,
                                                   tol=tol, pseudo_count=pseudo_count)
    runs.append({"start": "streamed", "objective": obj, "loglik": sums.loglik, "n_iter": it,
                 "converged": converged, "passes": it + 1,
                 "seconds": time.perf_counter() - t0})
    # the responsibility-weighted residual of every component at the final E-step
    resid = np.empty(K)
    for (cls, fx, idx), st in zip(_groups(specs), sums.stats):
        mu_r = st.mean
        for j, i in enumerate(idx):
            c = mix.components[i]
            resid[i] = np.linalg.norm(mu_r[j] - cls.mean_from_natural(c.natural, fx)) / max(
                np.linalg.norm(mu_r[j]), 1e-300)
    p = mix.ordering()
    mix = Mixture(mix.weights[p], [mix.components[i] for i in p])
    specs_p = [specs[i] for i in p]
    n_params = sum(cls.natural_dim(fx) for cls, fx in specs) + K - 1

    def information():
        return information_from_terms(mix, source.information(mix, specs_p))

    return MixtureResult(mixture=mix, loglik=sums.loglik, objective=obj, converged=converged,
                         n_iter=it, rel_change=rel, residual_norm=resid[p], trace=np.array(trace),
                         runs=runs, n=n, weight_sum=W, n_params=n_params,
                         regularization=None if pseudo_count is None else {"pseudo_count": pseudo_count},
                         _info_fn=information)


def _em(specs, source, mix, W, *, max_iter, tol, pseudo_count):
    """The EM loop (:func:`.em.iterate`), one pass over the source per iteration."""
    def e_step(m):
        sums = source.estep(m, specs)
        return sums.loglik + log_prior(m, pseudo_count), sums

    return iterate(mix, e_step,
                   lambda sums, it: m_step_stats(specs, sums.stats, W, pseudo_count, "streamed", it),
                   W, max_iter=max_iter, tol=tol, start="streamed")


def resolve_first(family):
    """The first component's family class (column selection of a file)."""
    f = family[0] if isinstance(family, (list, tuple)) else family
    return resolve_family(f)
