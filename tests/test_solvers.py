"""The generic safeguarded Newton iteration on the convex dual (solvers.newton), the
fallback for a family without a specialised mean -> natural map."""

import numpy as np
import pytest

import expfam
from expfam.solvers import newton, relative_residual


@pytest.mark.parametrize(
    "family, truth, start",
    [
        (expfam.Gamma, dict(shape=[0.01, 2.0, 3e4], rate=[1.0, 5.0, 0.1]), [-1.0, 0.0]),
        (expfam.Beta, dict(a=[0.05, 2.0, 300.0], b=[4.0, 0.5, 900.0]), [0.0, 0.0]),
        (expfam.Normal, dict(loc=[-3.0, 0.0, 100.0], scale=[0.01, 1.0, 30.0]), [0.0, -0.5]),
        (expfam.InverseGaussian, dict(mean=[0.1, 1.0, 50.0], shape=[2.0, 0.3, 1e3]), None),
    ],
)
def test_generic_newton_recovers_the_natural_parameters(family, truth, start):
    target = family(**truth)
    mu = target.mean_params
    eta0 = family().natural if start is None else np.array(start)  # the reference member
    sol = newton(family, mu, target.fixed, eta0, max_iter=200)
    assert sol.converged.all(), sol
    assert relative_residual(family, sol.natural, mu, target.fixed).max() <= 1e-12
    np.testing.assert_allclose(sol.natural, target.natural, rtol=1e-7)


def test_generic_newton_reports_failure_instead_of_an_answer():
    mu = expfam.Gamma(shape=2.0, rate=1.0).mean_params
    sol = newton(expfam.Gamma, mu, {}, np.array([-1.0, 0.0]), max_iter=1)
    assert not sol.converged
