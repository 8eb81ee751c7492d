"""Online EM for finite mixtures (Cappe and Moulines 2009): the seed's residual step on the
expected sufficient statistics, one minibatch at a time.

The state is ``s``, per component the responsibility-weighted statistics per unit weight
(``E[r_k]`` and ``E[r_k u(x)]``, held as :class:`~expfam.stats.SufficientStats`).  Step
``t`` on a minibatch ``B``:

    s_t = s_{t-1} + gamma_t (s_hat_B(theta_{t-1}) - s_{t-1}),   gamma_t = t^-a, 1/2 < a <= 1,

with ``s_hat_B`` the E-step's statistics of the minibatch at the current parameters, and
``theta_t = M(s_t)`` the exact M-step (moment matching, the same code as batch EM).  The
step is a Robbins-Monro step on the residual ``s_hat - s``; its fixed points are those of
batch EM.  Polyak-Ruppert averaging: the reported mixture is ``M(s_bar)`` with ``s_bar``
the running mean of ``s_t`` over the steps after ``average_from`` (the statistics are
averaged, where the average is linear).

The per-step record is the stochastic learner's :class:`~expfam.learn.trace.SGDTrace`
(one entry per component where it holds per-distribution values).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, as_rng, check_finite, check_int, check_nonempty, check_weights
from ..errors import ParameterError, ShapeError
from ..learn.trace import SGDTrace, TraceRecorder
from ..stats import SufficientStats
from .em import _groups, _Terms, estep, m_step_stats, resp_stats
from .model import Mixture

__all__ = ["OnlineMixture"]


def _scaled(st: SufficientStats, c: float) -> SufficientStats:
    """``c`` times the weighted sums (about the same pivots)."""
    return SufficientStats(st.family, st.fixed, st.count, c * st.weight_sum, c * st.sum_u,
                           c * st.sum_log_h, st.groups, st.shift)


def _blend(a, b, gamma):
    """``(1 - gamma) a + gamma b`` of two lists of statistics."""
    if gamma >= 1.0:
        return list(b)
    return [_scaled(x, 1.0 - gamma).merge(_scaled(y, gamma)) for x, y in zip(a, b)]


class OnlineMixture:
    """A mixture fitted by online EM (see the module docstring); ``partial_fit`` per
    minibatch, or ``fit`` for minibatches drawn from an array.

    Parameters
    ----------
    family : family (class, instance or name)
        The components' family (one family; its fixed parameters in ``**fixed``).
    n_components : int
    step_exponent : float
        ``a`` in ``gamma_t = t^-a``; ``1/2 < a <= 1`` (Robbins-Monro conditions).
    average_from : int
        Polyak-Ruppert averaging of the statistics over steps ``t > average_from``
        (0 averages from the first step; before it the current iterate is reported).
    init : Mixture, optional
        Start.  Default: batch EM (:func:`expfam.fit_mixture`, k-means++ start, at most
        ``init_iter`` iterations) on the first minibatch.
    init_iter : int
    rng : numpy.random.Generator or int, optional
    trace_every : int
        Record every ``trace_every``-th step in ``trace_``.
    **fixed
        The family's fixed parameters.

    Attributes
    ----------
    mixture_ : Mixture
        The averaged estimate ``M(s_bar)`` (the current one before averaging starts),
        components ordered as :meth:`Mixture.ordered`.
    current_mixture_ : Mixture
        The last iterate ``M(s_t)``.
    n_steps_ : int
    trace_ : SGDTrace
        ``lr`` is ``gamma_t``; ``residual_norm`` per component is
        ``|E_B[r u] / E_B[r] - E_theta[u]| / |E_B[r u] / E_B[r]|`` at the iterate the step
        started from; ``cross_entropy`` the minibatch's ``-mean log p(x)`` with its standard
        error; ``natural`` the reported components' natural parameters ``(K, k)``;
        ``moment_se`` 0 (exact component moments); ``distance_se`` NaN (not computed).
    """

    def __init__(self, family, n_components: int = 2, *, step_exponent: float = 0.6,
                 average_from: int = 0, init: Mixture | None = None, init_iter: int = 50,
                 rng=None, trace_every: int = 1, **fixed):
        if isinstance(family, (list, tuple)):
            raise ParameterError("OnlineMixture takes one family for all components")
        self.family = family
        self.K = check_int(n_components, "n_components", 1)
        a = step_exponent
        if not (isinstance(a, (int, float, np.floating)) and 0.5 < a <= 1):
            raise ParameterError(f"step_exponent must be in (1/2, 1]; got {a!r}")
        self.a = float(a)
        self.average_from = check_int(average_from, "average_from", 0)
        if init is not None and (not isinstance(init, Mixture) or init.n_components != self.K):
            raise ParameterError(f"init must be a Mixture of {self.K} components; got {init!r}")
        self.init_iter = check_int(init_iter, "init_iter", 1)
        self.trace_every = check_int(trace_every, "trace_every", 1)
        self.rng = as_rng(rng)
        self.fixed = fixed
        self.current_mixture_ = init
        self.specs = None
        self.n_steps_ = 0
        self._s = self._s_bar = None
        self._n_avg = 0
        self._rec = TraceRecorder(holdout=False)

    # ------------------------------------------------------------------
    def _batch(self, batch, weights):
        from .specs import _specs

        x = as_float_array(batch, name="batch")
        check_nonempty(x, name="batch")
        check_finite(x, name="batch")
        n = x.shape[0]
        wt = np.ones(n) if weights is None else np.array(check_weights(weights, (n,)), dtype=float)
        if self.specs is None:
            self.specs = _specs(self.family, self.K, x, self.fixed)
        else:
            from ..families._base import check_support
            for i, (cls, fx) in enumerate(self.specs):
                check_support(cls, x, fx, name=f"batch (support of component {i}, {cls.__name__})")
        ev = self.specs[0][0].event_ndim
        if x.ndim != ev + 1:
            raise ShapeError(f"batch: expected shape (n,{' d' if ev else ''}); got {x.shape}")
        return x, wt

    def partial_fit(self, batch, weights=None) -> "OnlineMixture":
        """One online-EM step on a minibatch (``weights``: optional, shape ``(n,)``)."""
        x, wt = self._batch(batch, weights)
        if self.current_mixture_ is None:
            from .fit import fit_mixture

            self.current_mixture_ = fit_mixture(self.family, x, self.K, weights=wt,
                                                max_iter=self.init_iter, rng=self.rng,
                                                **self.fixed).mixture
        mix = self.current_mixture_
        t = self.n_steps_ + 1
        gamma = float(t) ** -self.a
        Wb = float(wt.sum())
        terms = _Terms(self.specs, x)
        R, lse = estep(mix, self.specs, x, wt, terms)
        s_hat = resp_stats(self.specs, x, wt / Wb, R, terms)  # per unit weight
        resid = np.empty(self.K)
        for (cls, fx, idx), st in zip(_groups(self.specs), s_hat):
            mu = st.mean
            for jj, i in enumerate(idx):
                m = cls.mean_from_natural(mix.components[i].natural, fx)
                resid[i] = np.linalg.norm(mu[jj] - m) / max(np.linalg.norm(mu[jj]), 1e-300)
        self._s = s_hat if self._s is None else _blend(self._s, s_hat, gamma)
        self.current_mixture_ = m_step_stats(self.specs, self._s, 1.0, None, "online", t)
        if t > self.average_from:
            self._n_avg += 1
            self._s_bar = _blend(self._s_bar, self._s, 1.0 / self._n_avg) if self._s_bar else self._s
        self.n_steps_ = t
        self._reported = None
        if t % self.trace_every == 0:
            ce = -np.dot(wt, lse) / Wb
            sd = np.sqrt(np.dot(wt, (-lse - ce) ** 2) / Wb)
            rep = self._report()
            self._rec.add(step=t, lr=gamma, residual_norm=resid, moment_se=np.zeros(self.K),
                          distance_se=np.full(self.K, np.nan), backtracks=np.zeros(self.K, dtype=int),
                          cross_entropy=ce, cross_entropy_se=sd / np.sqrt(x.shape[0]),
                          natural=np.stack([c.natural for c in rep.components]))
        return self

    def _report(self) -> Mixture:
        if getattr(self, "_reported", None) is None:
            self._reported = (self.current_mixture_ if self._s_bar is None else
                              m_step_stats(self.specs, self._s_bar, 1.0, None, "online (average)",
                                           self.n_steps_)).ordered()
        return self._reported

    @property
    def mixture_(self) -> Mixture:
        if self.n_steps_ == 0:
            raise ParameterError("OnlineMixture: no step yet; call partial_fit first")
        return self._report()

    @property
    def trace_(self) -> SGDTrace:
        return self._rec.freeze()

    def fit(self, data, weights=None, *, batch_size: int = 1000, n_epochs: int = 10) -> "OnlineMixture":
        """Online EM over ``n_epochs`` passes of ``data`` in shuffled minibatches of
        ``batch_size`` rows (each pass a new permutation drawn from ``rng``)."""
        x = as_float_array(data, name="data")
        check_nonempty(x, name="data")
        n = x.shape[0]
        wt = None if weights is None else np.asarray(check_weights(weights, (n,)), dtype=float)
        b = check_int(batch_size, "batch_size", 1)
        for _ in range(check_int(n_epochs, "n_epochs", 1)):
            perm = self.rng.permutation(n)
            for lo in range(0, n, b):
                idx = perm[lo:lo + b]
                self.partial_fit(x[idx], None if wt is None else wt[idx])
        return self
