"""``expfam.DistributionEstimator``: the scikit-learn estimator interface, checked against
SciPy fits and hand-made folds."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import expfam
from expfam.errors import NotFittedError, ShapeError

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(7).gamma(2.0, 0.5, size=600)


def test_fit_score_and_sample_against_scipy(x):
    est = expfam.DistributionEstimator("gamma")
    assert est.fit(x) is est
    a, _, scale = stats.gamma.fit(x, floc=0)
    np.testing.assert_allclose([est.params_["shape"], est.params_["rate"]], [a, 1 / scale], rtol=1e-5)
    assert est.converged_ and est.n_features_in_ == 1
    for name, value in expfam.fit(expfam.Gamma, x).se.items():
        np.testing.assert_allclose(est.se_[name], value, rtol=1e-12)
    law = stats.gamma(est.params_["shape"], scale=1 / est.params_["rate"])
    np.testing.assert_allclose(est.score_samples(x[:, None]), law.logpdf(x), rtol=1e-10)
    np.testing.assert_allclose(est.score(x), law.logpdf(x).mean(), rtol=1e-10)
    w = np.arange(1.0, 601.0)
    np.testing.assert_allclose(est.score(x, sample_weight=w), np.average(law.logpdf(x), weights=w),
                               rtol=1e-10)
    draws = est.sample(4000, random_state=1)
    assert draws.shape == (4000,)
    assert stats.kstest(draws, law.cdf).pvalue > 1e-3  # level 1e-3, fixed seed


def test_cross_val_score_is_the_held_out_log_likelihood(x):
    folds = KFold(5)
    scores = cross_val_score(expfam.DistributionEstimator("normal"), x, cv=folds)
    expected = []
    for train, test in folds.split(x):  # the normal MLE: mean and sd (ddof 0)
        law = stats.norm(x[train].mean(), x[train].std())
        expected.append(law.logpdf(x[test]).mean())
    np.testing.assert_allclose(scores, expected, rtol=1e-10)


def test_grid_search_picks_the_family_by_held_out_log_likelihood(x):
    grid = GridSearchCV(expfam.DistributionEstimator(), {"family": ["normal", "gamma", "lognormal"]},
                        cv=KFold(5)).fit(x)
    assert grid.best_params_ == {"family": "gamma"}
    held_out = []
    for train, test in KFold(5).split(x):
        a, _, scale = stats.gamma.fit(x[train], floc=0)
        held_out.append(stats.gamma.logpdf(x[test], a, scale=scale).mean())
    np.testing.assert_allclose(grid.best_score_, np.mean(held_out), rtol=1e-6)
    assert isinstance(grid.best_estimator_.model_, expfam.Gamma)


def test_fixed_parameters_are_estimator_parameters(x):
    est = expfam.DistributionEstimator("weibull", k=1.5)
    assert est.get_params() == {"family": "weibull", "pseudo_count": None, "k": 1.5}
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    assert est.set_params(k=2.0) is est and est.k == 2.0
    grid = GridSearchCV(expfam.DistributionEstimator("weibull", k=1.0), {"k": [0.7, 1.5, 3.0]},
                        cv=KFold(4)).fit(x)
    # the oracle: SciPy's Weibull log-likelihood with k fixed, scale by its closed form
    def cv_score(k):
        out = []
        for train, test in KFold(4).split(x):
            scale = np.mean(x[train] ** k) ** (1 / k)
            out.append(stats.weibull_min.logpdf(x[test], k, scale=scale).mean())
        return np.mean(out)
    best = max([0.7, 1.5, 3.0], key=cv_score)
    assert grid.best_params_ == {"k": best}
    np.testing.assert_allclose(grid.best_score_, cv_score(best), rtol=1e-10)


def test_mistakes_raise_typed_errors(x):
    est = expfam.DistributionEstimator("gamma")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        est.score(x)
    with pytest.raises(ShapeError, match="expected shape \\(n,\\) or \\(n, 1\\); got \\(300, 2\\)"):
        est.fit(x.reshape(300, 2))
    with pytest.raises(expfam.errors.SupportError):
        est.fit(-x)
    est.fit(x)
    assert est.score_samples(np.array([-1.0, 1.0]))[0] == -np.inf  # outside the support


#: the scikit-learn checks that apply to a density estimator of vectors (see the report)
APPLICABLE = [
    "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_estimators_unfitted",
    "check_do_not_raise_errors_in_init_or_set_params", "check_estimators_dtypes",
    "check_sample_weights_pandas_series", "check_sample_weights_not_an_array",
    "check_sample_weights_list", "check_all_zero_sample_weights_error", "check_sample_weights_shape",
    "check_sample_weights_not_overwritten", "check_pipeline_consistency", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_parameters_default_constructible",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_get_params_invariance", "check_set_params", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_fit1d", "check_fit2d_predict1d",
]


def test_scikit_learn_checks_that_apply():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(expfam.DistributionEstimator("multivariate_normal"), on_fail=None)
    status = {}
    for r in results:
        status.setdefault(r["check_name"], []).append(r["status"])
    failed = {name: s for name, s in status.items() if name in APPLICABLE and s != ["passed"] * len(s)}
    assert not failed, failed
    assert set(APPLICABLE) <= set(status)


def test_import_expfam_does_not_import_sklearn_or_scipy_stats():
    code = ("import sys, expfam; expfam.DistributionEstimator; expfam.from_json; expfam.from_scipy; "
            "bad = [m for m in ('sklearn', 'scipy.stats', 'matplotlib') if m in sys.modules]; "
            "assert not bad, bad")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
