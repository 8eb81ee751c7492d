"""Every family's mean -> natural map on every path: a single distribution (0-d batch), a
small batch (NumPy), a large batch (compiled iterations where the family has them), and
through ``expfam.fit`` with weights, pseudo counts and statistics (correctness item 1).

Oracle: the family's own ``grad A`` at the solution (the moment residual), the
parameters the mean parameters came from, and the 0-d result against the batched one.
"""

from __future__ import annotations

import numpy as np
import pytest

import expfam
from expfam import SufficientStats
from expfam.solvers import relative_residual

from .cases import all_cases

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_mean_to_natural_for_0d_small_and_large_batches(case):
    d = case.make()
    cls, fixed = type(d), d.fixed
    mu = d.mean_params
    single = cls.natural_from_mean(mu, fixed)  # 0-d batch
    assert np.shape(single.natural) == mu.shape and np.shape(single.converged) == ()
    assert bool(single.converged)
    assert relative_residual(cls, single.natural, mu, fixed) <= 1e-12
    for n in (3, 5000):  # 5000 >= the compiled solvers' threshold (4096)
        batch = np.broadcast_to(mu, (n,) + mu.shape).copy()
        sol = cls.natural_from_mean(batch, fixed)
        assert sol.natural.shape == batch.shape and np.all(sol.converged)
        np.testing.assert_allclose(sol.natural, np.broadcast_to(single.natural, batch.shape),
                                   rtol=1e-9, atol=1e-12)
    # and from_mean of a single distribution
    back = cls.from_mean(mu, **fixed)
    assert back.batch_shape == ()


BETA_DATA = [
    ("beta(0.1, 5)", lambda: np.random.default_rng(0).beta(0.1, 5, 2000)),
    # samples of Beta(5, 0.1) that round to 1.0 lie outside (0, 1) (a SupportError, where
    # log(1 - x) = -inf): kept inside at the largest double below 1
    ("beta(5, 0.1)", lambda: np.minimum(np.random.default_rng(0).beta(5, 0.1, 2000),
                                        1 - 2**-53)),
    ("beta(0.02, 0.02)", lambda: np.clip(np.random.default_rng(0).beta(0.02, 0.02, 2000),
                                         1e-300, 1 - 2**-53)),
    ("with 1e-8", lambda: np.concatenate([np.random.default_rng(0).beta(2, 3, 500), [1e-8]])),
]


@pytest.mark.parametrize("name, make", BETA_DATA, ids=[b[0] for b in BETA_DATA])
def test_beta_fits_of_ordinary_and_extreme_samples(name, make):
    x = make()
    r = expfam.fit("beta", x)
    assert r.converged and r.residual_norm <= 1e-12
    rw = expfam.fit("beta", x, weights=np.full(x.size, 2.0))
    np.testing.assert_allclose(rw.model.natural, r.model.natural, rtol=1e-10)
    rp = expfam.fit("beta", x, pseudo_count=1.0)
    assert rp.converged and rp.residual_norm <= 1e-12
    rs = expfam.fit("beta", SufficientStats.from_data("beta", x))
    np.testing.assert_allclose(rs.model.natural, r.model.natural, rtol=1e-12)
    rc = expfam.fit("beta", x[:, None])  # (n, 1): a batch of one
    np.testing.assert_allclose(rc.model.natural[0], r.model.natural, rtol=1e-10)
    rb = expfam.fit("beta", x, by=np.zeros(x.size, dtype=int))
    np.testing.assert_allclose(rb.model.natural[0], r.model.natural, rtol=1e-10)


def test_beta_from_mean_at_extreme_concentrations():
    for a, b in [(1e-3, 1e5), (1e5, 1e-3), (1e-3, 1e-3), (1e6, 1e6)]:
        p = expfam.Beta(a=a, b=b)
        q = expfam.Beta.from_mean(p.mean_params)
        assert relative_residual(expfam.Beta, q.natural, p.mean_params, {}) <= 1e-12
        np.testing.assert_allclose([q.a, q.b], [a, b], rtol=1e-6)
