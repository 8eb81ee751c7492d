"""SciPy interop (``to_scipy`` / ``from_scipy``) and JSON (``to_json`` / ``from_json``)."""

import json

import numpy as np
import pytest
from scipy import stats

import expfam
from expfam.errors import FileFormatError, InputTypeError, ParameterError, UnknownFamilyError

#: one frozen SciPy distribution per family with a SciPy counterpart
FROZEN = [
    stats.norm(1.0, 2.0), stats.gamma(2.0, scale=3.0), stats.expon(scale=2.0),
    stats.beta(2.0, 3.5), stats.lognorm(0.5, scale=2.0), stats.weibull_min(1.5, scale=2.0),
    stats.invgamma(3.0, scale=2.0), stats.invgauss(0.5, scale=2.0), stats.laplace(1.0, 2.0),
    stats.pareto(3.0, scale=2.0), stats.rayleigh(scale=2.0), stats.chi2(4.0),
    stats.vonmises(2.0, loc=1.0), stats.poisson(3.0), stats.bernoulli(0.3),
    stats.binom(10, 0.3), stats.nbinom(3.0, 0.4), stats.geom(0.3, loc=-1),
    stats.multivariate_normal([0.5, 1.0], [[2.0, 0.5], [0.5, 1.0]]),
    stats.dirichlet([1.0, 2.0, 3.0]), stats.multinomial(5, [0.2, 0.3, 0.5]),
]


def _log_density(frozen, x):
    return frozen.logpmf(x) if hasattr(frozen, "logpmf") else frozen.logpdf(x)


def test_every_family_with_a_scipy_counterpart_is_covered():
    covered = {type(expfam.from_scipy(f)).name for f in FROZEN}
    # Categorical has no SciPy distribution; every other registered family has one
    assert covered == set(expfam.FAMILIES) - {"categorical"}


def _name(frozen) -> str:
    """A test id that is the same in every process (pytest-xdist compares them)."""
    return getattr(getattr(frozen, "dist", None), "name", type(frozen).__name__)


@pytest.mark.parametrize("frozen", FROZEN, ids=_name)
def test_from_scipy_has_scipys_log_density_and_round_trips(frozen):
    model = expfam.from_scipy(frozen)
    x = frozen.rvs(size=200, random_state=np.random.default_rng(0))
    if type(frozen).__name__ == "dirichlet_frozen":
        x = np.clip(x, 1e-300, None)
        np.testing.assert_allclose(model.logpdf(x), frozen.logpdf(x.T), rtol=1e-10)
    else:
        np.testing.assert_allclose(model.logpdf(x), _log_density(frozen, x), rtol=1e-10, atol=1e-12)
    back = model.to_scipy()  # the round trip: SciPy -> expfam -> SciPy, the same law
    y = back.rvs(size=50, random_state=np.random.default_rng(1))
    if type(frozen).__name__ == "dirichlet_frozen":
        np.testing.assert_allclose(back.logpdf(y.T), frozen.logpdf(y.T), rtol=1e-10)
    else:
        np.testing.assert_allclose(_log_density(back, y), _log_density(frozen, y), rtol=1e-10,
                                   atol=1e-12)


def test_from_scipy_refuses_what_the_family_lacks():
    with pytest.raises(ParameterError, match="loc=1.0: the expfam family has no location"):
        expfam.from_scipy(stats.gamma(2.0, loc=1.0))
    with pytest.raises(ParameterError, match="scale=2.0"):
        expfam.from_scipy(stats.beta(2.0, 3.0, scale=2.0))
    with pytest.raises(ParameterError, match="geom\\(p, loc=-1\\)"):
        expfam.from_scipy(stats.geom(0.3))
    with pytest.raises(ParameterError, match="a batch of SciPy distributions"):
        expfam.from_scipy(stats.gamma([1.0, 2.0]))
    with pytest.raises(ParameterError):
        expfam.from_scipy(stats.gamma(-1.0))  # outside the domain (SciPy accepts it frozen)
    with pytest.raises(UnknownFamilyError, match="scipy.stats.t is not an exponential family"):
        expfam.from_scipy(stats.t(3))
    with pytest.raises(InputTypeError, match="expected a frozen scipy.stats distribution"):
        expfam.from_scipy(stats.gamma)


# ----------------------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------------------


@pytest.mark.parametrize("frozen", FROZEN[:3] + FROZEN[13:], ids=_name)
def test_distribution_json_round_trip_is_exact(frozen):
    model = expfam.from_scipy(frozen)
    text = model.to_json()
    doc = json.loads(text)
    assert doc["expfam"] == {"schema": 1, "kind": "distribution"}
    back = expfam.from_json(text)
    assert type(back) is type(model) and back.fixed == model.fixed
    np.testing.assert_array_equal(back.natural, model.natural)  # repr floats: exact
    for name, value in model.params.items():
        np.testing.assert_array_equal(back.params[name], value)


def test_fit_result_json_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    x = rng.gamma(2.0, 0.5, size=300)
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, size=300)]
    for result in (expfam.fit(expfam.Gamma, x), expfam.fit(expfam.Gamma, x, by=labels),
                   expfam.fit(expfam.Normal, x, weights=rng.uniform(0.5, 2, size=300))):
        path = tmp_path / "fit.json"
        path.write_text(result.to_json(indent=1))
        back = expfam.from_json(path.read_text())
        for name in ("loglik", "mean_loglik", "n", "weight_sum", "aic", "bic", "converged",
                     "residual", "residual_norm"):
            np.testing.assert_array_equal(getattr(back, name), getattr(result, name), err_msg=name)
        assert back.n_params == result.n_params and back.n_iter == result.n_iter
        np.testing.assert_array_equal(back.model.natural, result.model.natural)
        for name in result.se:
            np.testing.assert_allclose(back.se[name], result.se[name], rtol=1e-12)
        if result.groups is not None:
            assert list(back.groups) == list(result.groups)
        # the stored sufficient statistics refit to the same parameters
        refit = expfam.fit(type(result.model), back.stats)
        for name, value in result.params.items():
            np.testing.assert_allclose(refit.params[name], value, rtol=1e-12)
    # an independent oracle for what was stored: SciPy's MLE of the Gamma fit
    a, _, scale = stats.gamma.fit(x, floc=0)
    stored = json.loads(expfam.fit(expfam.Gamma, x).to_json())
    np.testing.assert_allclose([stored["model"]["params"]["shape"], stored["model"]["params"]["rate"]],
                               [a, 1 / scale], rtol=1e-5)


def test_malformed_json_gives_a_typed_error():
    good = json.loads(expfam.Gamma(shape=2.0, rate=3.0).to_json())
    cases = {
        "not json {": "not JSON text",
        json.dumps({"family": "gamma"}): "the key 'expfam' is missing",
        json.dumps({**good, "expfam": {"schema": 2, "kind": "distribution"}}): "schema version 2",
        json.dumps({**good, "expfam": {"schema": 1, "kind": "pickle"}}): "unknown kind 'pickle'",
        json.dumps({**good, "family": "gama"}): "unknown family 'gama'",
        json.dumps({**good, "natural": {**good["natural"], "data": [1.0, 1.0]}}):
            "not a valid Gamma",
        json.dumps({**good, "natural": {**good["natural"], "dtype": "|O"}}): "not a stored array",
        json.dumps({k: v for k, v in good.items() if k != "natural"}): "the key 'natural' is missing",
    }
    for text, message in cases.items():
        with pytest.raises(FileFormatError, match=message.replace("(", "\\(")):
            expfam.from_json(text)
    with pytest.raises(InputTypeError, match="expected a distribution or a FitResult"):
        expfam.interop.to_json(3.0)
