"""Property tests generated from the families' domains, for every registered family.

Each family declares its support and the domains of its familiar parameters as
:mod:`expfam.domains` objects; values and parameters drawn inside them must be accepted
(finite log-density, valid distributions, the same parameters back) and those drawn
just outside them rejected with a typed error that quotes the domain.  Batch shapes of
parameters broadcast.  The cases of ``tests/cases`` give each family's fixed parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

import expfam
from expfam.domains import Interval
from expfam.errors import ParameterError, SupportError
from expfam.families import FAMILIES

from .cases import all_cases

# one case (distribution) per family: its fixed parameters, its constructor
FIRST = {}
for _case in all_cases():
    FIRST.setdefault(type(_case.make()).name, _case)


def test_every_registered_family_has_its_oracle_cases():
    """A family without a case file in tests/cases has no independent oracle."""
    missing = sorted(set(FAMILIES) - set(FIRST))
    assert not missing, f"families without tests/cases/<family>.py: {missing}"


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_values_inside_the_support_are_accepted_and_outside_rejected(name):
    d = FIRST[name].make()
    cls, fixed = type(d), d.fixed
    support = cls.support_of(fixed)
    rng = np.random.default_rng(0)
    inside = support.draw(rng, 50)
    assert np.all(cls.in_support(inside, fixed))
    logp = d.logpdf(inside)
    assert np.all(np.isfinite(logp))
    outside = support.draw_outside(rng, 20)
    if outside is None:  # the whole real line (or R^d)
        return
    assert not np.any(cls.in_support(outside, fixed))
    assert np.all(d.logpdf(outside) == -np.inf)
    data = np.concatenate([inside[:10], outside[:1]])
    with pytest.raises(SupportError) as info:
        expfam.fit(cls, data, **FIRST[name].fit_kwargs)
    # the message quotes the support and the index of the value
    assert str(support) in str(info.value) and "index 10" in str(info.value)


def _scalar_param_families():
    out = []
    for name in sorted(FAMILIES):
        cls = FAMILIES[name]
        if cls.param_names and set(cls.param_names) <= set(cls.param_domains) \
                and cls.event_ndim == 0 and all(isinstance(cls.param_domains[p], Interval)
                                                for p in cls.param_names):
            out.append(name)
    return out


SCALAR_PARAMS = _scalar_param_families()


def test_scalar_parameter_families_are_covered():
    assert len(SCALAR_PARAMS) >= 16


def _bounded(domain, rng, size):
    """Draws inside a parameter domain, kept to a range where every family's natural
    parameters are representable (float range problems are tested elsewhere)."""
    x = domain.draw(rng, size)
    lo = domain.lo if np.isfinite(domain.lo) else -1e3
    hi = domain.hi if np.isfinite(domain.hi) else 1e3
    x = np.clip(x, lo, hi)
    if not domain.closed_lo:
        x = np.where(x == domain.lo, domain.lo + 1e-3 * (1 + abs(domain.lo)), x)
    if not domain.closed_hi:
        x = np.where(x == domain.hi, domain.hi - 1e-3 * (1 + abs(domain.hi)), x)
    x = np.where(np.abs(x) < 1e-6, 1e-6 * np.sign(x + 1e-300), x) if domain.lo >= 0 else x
    return x


@pytest.mark.parametrize("name", SCALAR_PARAMS)
def test_parameters_inside_their_domains_round_trip_and_broadcast(name):
    cls = FAMILIES[name]
    case = FIRST[name]
    fixed = case.make().fixed
    rng = np.random.default_rng(1)
    params = {}
    for j, p in enumerate(cls.param_names):
        shape = (3, 1) if j == 0 else (4,)
        params[p] = _bounded(cls.param_domains[p], rng, shape)
    d = cls(**fixed, **params) if fixed else cls(**params)
    expected_shape = np.broadcast_shapes(*(np.shape(v) for v in params.values()))
    assert d.batch_shape == expected_shape
    back = d.params
    for p, v in params.items():
        got = back[p]
        if name == "von_mises" and p == "loc":  # an angle: compare on the circle
            got, v = np.cos(got), np.cos(v)
        np.testing.assert_allclose(got, np.broadcast_to(v, expected_shape), rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("name", SCALAR_PARAMS)
def test_parameters_outside_their_domains_are_rejected_naming_the_domain(name):
    cls = FAMILIES[name]
    fixed = FIRST[name].make().fixed
    rng = np.random.default_rng(2)
    for p in cls.param_names:
        domain = cls.param_domains[p]
        bad = domain.draw_outside(rng, 1)
        if bad is None:
            continue
        params = {q: _bounded(cls.param_domains[q], rng, ()) for q in cls.param_names}
        params[p] = np.array([float(params[p]), float(bad[0])])
        with pytest.raises(ParameterError) as info:
            cls(**fixed, **params) if fixed else cls(**params)
        assert f"'{p}'" in str(info.value) and str(domain) in str(info.value)
        assert "batch index 1" in str(info.value)
