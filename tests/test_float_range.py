"""Overflow and underflow are reported as such, and a NaN residual is never converged
(correctness item 6).

Oracles: closed-form MLEs (Poisson rate = mean, Geometric p = 1 / (1 + mean), ...) at
the ends of float64's range.
"""

from __future__ import annotations

import numpy as np
import pytest

import expfam
from expfam import SufficientStats
from expfam.errors import BoundaryError, FloatRangeError


@pytest.mark.parametrize("family, x, fixed, check", [
    # rate = exp(eta): the round trip through eta = log(rate) costs |log rate| ulps
    ("poisson", [1e300, 3.0], {}, lambda r: np.isclose(r.params["rate"], 5e299, rtol=1e-13)),
    ("geometric", [1e300, 3.0], {}, lambda r: np.isclose(r.params["p"], 1 / (1 + 5e299))),
    ("negative_binomial", [1e300, 3.0], {"r": 2.0},
     lambda r: np.isclose(r.params["p"], 2 / (2 + 5e299))),
    ("exponential", [1e300, 3.0], {}, lambda r: np.isclose(r.params["rate"], 1 / 5e299)),
    ("inverse_gamma", [1e-300, 3.0], {}, lambda r: r.params["shape"] > 0),
    ("gamma", [1e300, 3.0, 5.0], {}, lambda r: r.params["shape"] > 0),
])
def test_fits_at_the_ends_of_the_range_report_a_finite_residual(family, x, fixed, check):
    r = expfam.fit(family, np.array(x), **fixed)
    assert np.isfinite(r.residual_norm) and r.residual_norm <= 1e-12
    assert r.converged and check(r)


def test_a_nan_residual_is_never_converged():
    # a batch in which one element's statistics overflow to inf: that element cannot be
    # fitted (FloatRangeError names it), never converged with a NaN residual
    x = np.array([[1.0, 1e308], [2.0, 1e308], [3.0, 5.0]])
    with pytest.raises(FloatRangeError, match="batch index 1"):
        expfam.fit("exponential", x)
    rng = np.random.default_rng(0)
    for family, data in [("poisson", rng.poisson(3.0, (50, 4)).astype(float)),
                         ("gamma", rng.gamma(2.0, 1e200, (50, 4))),
                         ("beta", rng.beta(0.01, 0.01, (50, 4)).clip(1e-300, 1 - 2**-53))]:
        r = expfam.fit(family, data)
        assert np.all(np.isfinite(r.residual_norm) | ~r.converged)


@pytest.mark.parametrize("values, what", [
    (1e200 * (1 + 0.1 * np.random.default_rng(0).normal(size=100)), "overflow"),
    (1e-300 * (1 + 0.1 * np.random.default_rng(0).normal(size=100)), "underflow"),
])
def test_normal_data_beyond_the_range_of_squares(values, what):
    for data in (values, np.tile(values, 400)):  # NumPy path and fused kernel
        with pytest.raises(FloatRangeError, match="range of float64"):
            expfam.fit("normal", data)
    with pytest.raises(FloatRangeError):
        expfam.fit("normal", values, by=np.zeros(values.size, dtype=int))
    # all-equal data are a boundary, not a range problem
    with pytest.raises(BoundaryError, match="all observations are equal"):
        expfam.fit("normal", np.full(10, values[0]))


@pytest.mark.parametrize("make", [
    lambda: expfam.Normal(0.0, 1e-200),
    lambda: expfam.Normal(0.0, 1e200),
    lambda: expfam.LogNormal(0.0, 1e-170),
    lambda: expfam.Rayleigh(scale=1e-200),
])
def test_valid_parameters_with_unrepresentable_natural_parameters(make):
    with pytest.raises(FloatRangeError, match="natural parameters .* overflow or underflow"):
        make()


def test_exponential_and_rayleigh_statistics_that_overflow_or_underflow():
    with pytest.raises(FloatRangeError, match="range of float64"):
        expfam.fit("exponential", np.array([1e308, 1e308, 5.0]))
    with pytest.raises(FloatRangeError, match="range of float64"):
        expfam.fit("rayleigh", np.full(6, 1e-200))  # x^2 underflows to 0
    with pytest.raises(BoundaryError, match="all observations are zero"):
        expfam.fit("exponential", np.zeros(5))  # a real boundary, said as one
    # accumulators too
    acc = SufficientStats.zeros("exponential")
    acc.update(np.array([1e308, 1e308]))
    with pytest.raises(FloatRangeError):
        expfam.fit("exponential", acc)
