"""Online EM (Cappe and Moulines 2009) against exact batch EM on the same 10^5 points.

Oracle: batch EM to a relative change of 1e-12, with Louis' standard errors.  Online EM's
averaged estimate is a stochastic approximation of the same fixed point; after a few
passes its distance from the batch optimum is a fraction of the batch estimate's standard
error.  Tolerance: 0.5 standard errors for every parameter and weight (observed: at most
0.11 with this seed).
"""

from __future__ import annotations

import numpy as np
import pytest

import expfam
from expfam.errors import ParameterError, SupportError
from expfam.learn.trace import SGDTrace
from expfam.mixture import OnlineMixture

TOL = 0.5  # in standard errors of the batch estimate


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.gamma(2.0, 1.0, 60_000), rng.gamma(20.0, 0.5, 40_000)])
    truth = expfam.Mixture([0.6, 0.4], [expfam.Gamma(shape=2.0, rate=1.0),
                                         expfam.Gamma(shape=20.0, rate=2.0)])
    exact = expfam.fit_mixture("gamma", x, 2, init=truth, tol=1e-12)
    assert exact.converged
    return x, exact


def test_online_em_reaches_batch_em(data):
    x, exact = data
    om = OnlineMixture("gamma", 2, step_exponent=0.6, average_from=10, rng=2, trace_every=20)
    om.fit(x, batch_size=2000, n_epochs=4)
    assert om.n_steps_ == 200 and len(om.trace_) == 10
    got = om.mixture_
    se = exact.se
    z_w = (got.weights - exact.weights) / se["weights"]
    assert np.all(np.abs(z_w) < TOL), z_w
    for c, e, s in zip(got.components, exact.components, se["params"]):
        for name in ("shape", "rate"):
            z = (c.params[name] - e.params[name]) / s[name]
            assert abs(z) < TOL, (name, z)
    # far closer than a single minibatch EM fit would be: the averaging works
    one = expfam.fit_mixture("gamma", x[::20], 2, init=exact.mixture, tol=1e-10)
    d_one = abs(one.components[1].params["shape"] - exact.components[1].params["shape"])
    d_online = abs(got.components[1].params["shape"] - exact.components[1].params["shape"])
    assert d_online < d_one


def test_trace_and_steps(data):
    x, exact = data
    om = OnlineMixture("gamma", 2, step_exponent=0.75, init=exact.mixture, rng=0)
    for lo in range(0, 20_000, 2000):
        om.partial_fit(x[lo:lo + 2000])
    tr = om.trace_
    assert isinstance(tr, SGDTrace) and len(tr) == 10
    np.testing.assert_allclose(tr.lr, np.arange(1, 11) ** -0.75)
    assert tr.natural.shape == (10, 2, 2)
    # minibatch cross-entropy against the mixture's own log density (first step: the start)
    np.testing.assert_allclose(tr.cross_entropy[0], -np.mean(exact.mixture.logpdf(x[:2000])), rtol=1e-10)
    assert np.all(tr.cross_entropy_se > 0)


def test_bad_input():
    with pytest.raises(ParameterError, match="step_exponent"):
        OnlineMixture("gamma", 2, step_exponent=0.5)
    om = OnlineMixture("gamma", 2, rng=0)
    with pytest.raises(ParameterError, match="no step yet"):
        _ = om.mixture_
    om.partial_fit(np.random.default_rng(0).gamma(2.0, 1.0, 200) + np.repeat([0.0, 10.0], 100))
    with pytest.raises(SupportError, match="index 1"):
        om.partial_fit([1.0, -1.0])
    with pytest.raises(expfam.errors.NonFiniteError):
        om.partial_fit([1.0, np.nan])
