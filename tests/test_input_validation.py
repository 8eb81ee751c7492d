"""Input that used to be silently wrong, or to raise generic exceptions (correctness items
7 and 9): every path refuses it with a typed error that says what was expected and where.

Paths: ``fit`` in memory, ``SufficientStats.update`` (chunks), ``by=``, the stochastic
learner (``fit_sgd``, ``StochasticFitter.partial_fit``), ``mc_cross_entropy``, ``logpdf``
and the parameters of distributions.  Files and Dask: ``test_io.py``, ``test_dask.py``.
"""

import numpy as np
import pandas as pd
import pytest

import expfam
from expfam import SufficientStats
from expfam.errors import (
    ExpfamError,
    InputTypeError,
    NonFiniteError,
    ParameterError,
    ShapeError,
    SupportError,
    UnknownFamilyError,
    WeightError,
)

X = np.array([1.0, 2.0, 3.0, 4.5])
G = expfam.Gamma(shape=2.0, rate=1.0)


def no_warnings(recwarn):
    assert not [w for w in recwarn if issubclass(w.category, Warning)], \
        [str(w.message) for w in recwarn]


# every way observations enter: (name, function of the data)
DATA_PATHS = {
    "fit": lambda x: expfam.fit("gamma", x),
    "update": lambda x: SufficientStats.zeros("gamma").update(x),
    "by": lambda x: expfam.fit("gamma", x, by=np.zeros(len(x), dtype=int)),
    "fit_sgd": lambda x: expfam.fit_sgd("gamma", x, max_steps=2),
    "partial_fit": lambda x: expfam.StochasticFitter("gamma").partial_fit(x),
    "mc_cross_entropy": lambda x: expfam.mc_cross_entropy(G, x),
    "logpdf": lambda x: G.logpdf(x),
}


# ----------------------------------------------------------------------------------
# Item 7: complex values, masked arrays, missing values, text
# ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", DATA_PATHS)
@pytest.mark.parametrize("data", [X + 1j, X + 0j, np.array([1.0, 2 + 3j, 4.0], dtype=object)],
                         ids=["complex", "zero-imaginary", "complex-object"])
def test_complex_data_is_a_typed_error_never_a_warning(path, data, recwarn):
    with pytest.raises(SupportError, match=r"complex value.*real numbers"):
        DATA_PATHS[path](data)
    no_warnings(recwarn)


def test_complex_data_names_the_first_non_real_entry():
    with pytest.raises(SupportError, match=r"first non-real at index 2: \(3\+1j\)"):
        expfam.fit("gamma", np.array([1, 2, 3 + 1j, 4 + 1j]))


@pytest.mark.parametrize("call", [
    lambda w: expfam.fit("gamma", X, weights=w),
    lambda w: expfam.fit("gamma", X, weights=w, by=[1, 1, 2, 2]),
    lambda w: SufficientStats.zeros("gamma").update(X, weights=w),
    lambda w: expfam.StochasticFitter("gamma").partial_fit(X, weights=w),
    lambda w: expfam.mc_cross_entropy(G, X, weights=w),
], ids=["fit", "by", "update", "partial_fit", "mc_cross_entropy"])
def test_complex_weights_are_a_weight_error(call, recwarn):
    with pytest.raises(WeightError, match="weights: complex values"):
        call(np.ones(4) + 1j)
    no_warnings(recwarn)


@pytest.mark.parametrize("make", [
    lambda: expfam.Gamma(shape=1 + 2j, rate=1.0),
    lambda: expfam.Gamma(shape=2.0, rate=np.array([1.0 + 0j])),
    lambda: expfam.Gamma.from_natural([1.0 + 1j, -1.0]),
    lambda: expfam.Gamma.from_mean([2.0 + 0j, 0.5]),
    lambda: expfam.MultivariateNormal(mean=[1j, 0.0]),
    lambda: expfam.MultivariateNormal(mean=[0.0, 0.0], cov=np.eye(2) + 0j),
    lambda: expfam.fit("gamma", X, pseudo_count=1.0, prior_mean=[2.0 + 1j, 0.5]),
    lambda: expfam.fit_sgd("gamma", X, init=[1.0 + 0j, -1.0], max_steps=2),
], ids=["Gamma-shape", "Gamma-rate", "from_natural", "from_mean", "MVN-mean", "MVN-cov",
        "prior_mean", "init"])
def test_complex_parameters_are_a_parameter_error(make, recwarn):
    with pytest.raises(ParameterError, match="complex values"):
        make()
    no_warnings(recwarn)


BAD = np.ma.array([1.0, 2.0, -1.0, 3.0], mask=[0, 0, 1, 0])  # a masked-out bad value
GOOD = np.ma.array([1.0, 2.0, 1e6, 3.0], mask=[0, 0, 1, 0])  # a masked-out good value


@pytest.mark.parametrize("path", DATA_PATHS)
@pytest.mark.parametrize("data", [BAD, GOOD], ids=["masked-bad", "masked-good"])
def test_masked_values_are_never_used_nor_raise_for_their_value(path, data):
    # the masked value raises neither a SupportError (-1) nor is it used (1e6): the
    # error is about the mask, names the entry and says how to drop it
    with pytest.raises(NonFiniteError, match=r"1 masked value\(s\); first at index 2.*"
                                             r"compressed"):
        DATA_PATHS[path](data)


def test_masked_arrays_without_masked_entries_are_plain_data():
    m = np.ma.array(X, mask=False)
    np.testing.assert_allclose(expfam.fit("gamma", m).model.natural,
                               expfam.fit("gamma", X).model.natural, rtol=0, atol=0)


def test_masked_weights_are_a_weight_error():
    w = np.ma.array([1.0, 1.0, 5.0, 1.0], mask=[0, 0, 1, 0])
    with pytest.raises(WeightError, match=r"weights: 1 masked value\(s\); first at index 2"):
        expfam.fit("gamma", X, weights=w)


@pytest.mark.parametrize("data, match", [
    (pd.Series([1.0, None, 2.0], dtype="Float64"), r"missing value\(s\) \(NA\); first at index 1"),
    (pd.Series([1, None, 2], dtype="Int64"), r"missing value\(s\) \(NA\); first at index 1"),
    (np.array([1.0, None, 2.0], dtype=object), r"missing value \(None\) at index 1"),
    ([1.0, 2.0, None], r"missing value \(None\) at index 2"),
])
def test_missing_values_are_named(data, match):
    with pytest.raises(NonFiniteError, match=match):
        expfam.fit("gamma", data)


@pytest.mark.parametrize("data, what", [
    (np.array(["1.5", "2.0"]), "text"),
    ([1.0, "2.0", 3.0], "text"),
    (np.array([1.0, "x"], dtype=object), r"'x' \(str\) at index 1"),
    (pd.to_datetime(["2020-01-01", "2020-01-02"]), "datetimes"),
    (np.array([1, 2], dtype="timedelta64[s]"), "time differences"),
])
def test_text_and_datetimes_are_not_parsed_as_numbers(data, what):
    with pytest.raises(SupportError, match=f"numeric.*{what}"):
        expfam.fit("gamma", data)


def test_real_number_objects_and_booleans_still_convert():
    obj = np.array([1, 2.5, np.float32(3.0), True], dtype=object)
    np.testing.assert_allclose(expfam.fit("gamma", obj).stats.sum_u[0], 7.5)
    assert expfam.fit("bernoulli", [True, False, True]).n == 3


# ----------------------------------------------------------------------------------
# Item 7: column= on arrays
# ----------------------------------------------------------------------------------

def test_integer_column_of_a_2d_array_is_the_column_not_the_row():
    rng = np.random.default_rng(3)
    A = rng.gamma(2.0, 1.0, size=(50, 3))
    for j in (0, 2, -1):
        got = expfam.fit("gamma", A, column=j)
        want = expfam.fit("gamma", A[:, j])
        np.testing.assert_array_equal(got.model.natural, want.model.natural)
        assert got.n == 50
    # the same through update, by= and a list of rows
    st = SufficientStats.zeros("gamma").update(A, column=1)
    np.testing.assert_array_equal(st.sum_u, SufficientStats.from_data("gamma", A[:, 1]).sum_u)
    g = expfam.fit("gamma", A, column=1, by=np.arange(50) % 2)
    np.testing.assert_array_equal(g.n, [25, 25])
    assert expfam.fit("gamma", A.tolist(), column=2).n == 50


@pytest.mark.parametrize("data, column, match", [
    (np.ones((4, 3)), 3, r"column=3 is out of range for an array with 3 column"),
    (np.ones(4), 0, r"column=0 selects a column of a 2-D array .*shape \(4,\)"),
    (np.ones((4, 3, 2)), 0, r"shape \(4, 3, 2\)"),
    (np.ones((4, 3)), "a", r"index of a column \(an integer\); got 'a'"),
    (np.ones((4, 3)), True, r"index of a column"),
    (np.ones((4, 3)), 1.0, r"index of a column"),
    (pd.Series(np.ones(4)), 0, r"the data are a Series"),
    (pd.DataFrame({"x": np.ones(4)}), "y", r"no column 'y' in the data; the columns are \['x'\]"),
])
def test_bad_columns_are_shape_errors(data, column, match):
    with pytest.raises(ShapeError, match=match):
        expfam.fit("gamma", data, column=column)


# ----------------------------------------------------------------------------------
# Item 7: exactly one weight per observation
# ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda w: expfam.fit("gamma", X, weights=w),
    lambda w: expfam.fit("gamma", X, weights=w, by=[1, 1, 2, 2]),
    lambda w: SufficientStats.zeros("gamma").update(X, weights=w),
    lambda w: expfam.StochasticFitter("gamma").partial_fit(X, weights=w),
    lambda w: expfam.mc_cross_entropy(G, X, weights=w),
], ids=["fit", "by", "update", "partial_fit", "mc_cross_entropy"])
def test_a_single_weight_is_not_broadcast(call):
    with pytest.raises(ShapeError, match=r"shape \(1,\) does not match the observations' "
                                         r"shape \(4,\): expected one weight per observation"):
        call([2.0])


def test_weights_of_a_batch_have_shape_n_or_n_batch():
    x = np.abs(np.random.default_rng(0).normal(size=(6, 3))) + 0.5
    w = np.arange(1.0, 7.0)
    r1 = expfam.fit("gamma", x, weights=w)
    r2 = expfam.fit("gamma", x, weights=np.repeat(w[:, None], 3, axis=1))
    np.testing.assert_allclose(r1.model.natural, r2.model.natural, rtol=1e-15)
    for bad in (np.ones((6, 1)), np.ones((1, 3)), np.ones((6, 3, 1))):
        with pytest.raises(ShapeError, match=r"expected one weight per observation, shape "
                                             r"\(6,\) or \(6, 3\)"):
            expfam.fit("gamma", x, weights=bad)
    assert SufficientStats.from_data("gamma", [2.0], weights=[3.0]).weight_sum == 3.0  # n == 1


# ----------------------------------------------------------------------------------
# Item 7: integer arguments given as floats
# ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: expfam.mc_kl(G, G, n=2.7), "n"),
    (lambda: expfam.mc_kl(G, G, n=1000.0), "n"),
    (lambda: G.sample(2.5), "size"),
    (lambda: G.sample((2, 1.5)), "size"),
    (lambda: expfam.fit_sgd("gamma", X, max_steps=10.5), "max_steps"),
    (lambda: expfam.fit_sgd("gamma", X, batch_size=2.5), "batch_size"),
    (lambda: expfam.fit_sgd("gamma", X, n_model_samples=2.5), "n_model_samples"),
    (lambda: expfam.fit_sgd("gamma", X, window=3.5), "window"),
    (lambda: expfam.StochasticFitter("gamma", trace_every=1.5), "trace_every"),
    (lambda: expfam.fit_file("gamma", "absent.csv", chunksize=2.5), "chunksize"),
])
def test_integer_arguments_refuse_floats(call, name):
    with pytest.raises(ParameterError, match=rf"{name} must be an integer >= \d+; got"):
        call()


def test_mc_kl_runs_with_exactly_n_samples():
    assert expfam.mc_kl(G, expfam.Gamma(shape=3.0, rate=1.0), n=3, rng=0).n == 3
    assert expfam.mc_kl(G, G, n=np.int64(5), rng=0).n == 5


# ----------------------------------------------------------------------------------
# Item 9: typed errors for user mistakes
# ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: expfam.fit("gamm", X),
    lambda: SufficientStats.from_data("gamm", X),
    lambda: SufficientStats.zeros("gamm"),
    lambda: expfam.fit_sgd("gamm", X),
    lambda: expfam.StochasticFitter("gamm"),
    lambda: expfam.fit_file("gamm", "absent.csv"),
])
def test_unknown_family_names(call):
    with pytest.raises(UnknownFamilyError, match="unknown family 'gamm'; known families: "):
        call()


def test_by_names_a_missing_column():
    df = pd.DataFrame({"x": X, "g": [1, 1, 2, 2]})
    with pytest.raises(ShapeError, match=r"by: no column 'missing' in the data; the columns "
                                         r"are \['x', 'g'\]"):
        expfam.fit("gamma", df, column="x", by="missing")
    with pytest.raises(ShapeError, match=r"by='g' names a column, but the data are a ndarray"):
        expfam.fit("gamma", X, by="g")
    with pytest.raises(ShapeError, match="by: no column 'missing'"):
        SufficientStats.zeros("gamma", grouped=True).update(df, column="x", by="missing")


@pytest.mark.parametrize("call", [
    lambda v: expfam.fit("gamma", X, pseudo_count=v),
    lambda v: expfam.fit("gamma", SufficientStats.from_data("gamma", X), pseudo_count=v),
    lambda v: expfam.fit_sgd("gamma", X, pseudo_count=v),
    lambda v: expfam.StochasticFitter("gamma", pseudo_count=v),
    lambda v: expfam.fit_file("gamma", "absent.csv", pseudo_count=v),
], ids=["fit", "fit-stats", "fit_sgd", "StochasticFitter", "fit_file"])
@pytest.mark.parametrize("value", ["a", 1 + 1j, True, -1.0, np.nan, [1.0]])
def test_pseudo_count_has_one_validator(call, value):
    with pytest.raises(ParameterError, match="pseudo_count must be a finite number > 0"):
        call(value)


def test_prior_mean_without_pseudo_count_is_not_ignored():
    with pytest.raises(ParameterError, match="prior_mean is used only with pseudo_count"):
        expfam.fit("gamma", X, prior_mean=[2.0, 0.5])
    with pytest.raises(ParameterError, match="prior_mean is used only with pseudo_count"):
        expfam.fit_sgd("gamma", X, prior_mean=[2.0, 0.5])


def test_kl_of_batch_shapes_that_do_not_broadcast():
    p = expfam.Gamma(shape=[1.0, 2.0], rate=1.0)
    q = expfam.Gamma(shape=[1.0, 2.0, 3.0], rate=1.0)
    for call in (expfam.kl, expfam.cross_entropy, lambda a, b: a.kl(b),
                 lambda a, b: expfam.mc_kl(a, b, n=10)):
        with pytest.raises(ShapeError, match=r"batch shapes \(2,\) and \(3,\)"):
            call(p, q)
    # shapes that broadcast still do
    assert expfam.kl(p, expfam.Gamma(shape=[[1.0], [2.0]], rate=1.0)).shape == (2, 2)


def test_mc_cross_entropy_samples_must_match_the_batch():
    q = expfam.Gamma(shape=[2.0, 3.0], rate=1.0)
    for samples in (np.ones(3), np.ones(2), np.ones((5, 3)), np.ones((5, 2, 2))):
        with pytest.raises(ShapeError, match=rf"samples: shape \({samples.shape[0]},.*batch "
                                             r"shape \(2,\); expected \(N, 2\)"):
            expfam.mc_cross_entropy(q, samples)
    # (N, 1): the same samples under each distribution; (N, 2): one column each
    x = np.random.default_rng(1).gamma(2.0, 1.0, 500)
    shared = expfam.mc_cross_entropy(q, x[:, None])
    want = [expfam.mc_cross_entropy(expfam.Gamma(shape=s, rate=1.0), x).estimate for s in (2, 3)]
    np.testing.assert_allclose(shared.estimate, want, rtol=1e-13)
    assert expfam.mc_cross_entropy(q, np.c_[x, x]).estimate.shape == (2,)


def test_mc_kl_aligns_a_scalar_p_with_a_batched_q():
    q = expfam.Gamma(shape=[2.0, 3.0], rate=1.0)
    est = expfam.mc_kl(G, q, n=20_000, rng=0)
    np.testing.assert_allclose(est.estimate, expfam.kl(G, q), atol=5 * est.se.max() + 1e-12)


def test_logpdf_of_values_that_do_not_broadcast_against_the_batch():
    q = expfam.Gamma(shape=[2.0, 3.0], rate=1.0)
    with pytest.raises(ShapeError, match=r"x: observations of shape \(3,\) do not broadcast "
                                         r"against the batch shape \(2,\)"):
        q.logpdf([1.0, 2.0, 3.0])
    assert q.logpdf(np.ones((3, 1))).shape == (3, 2)


@pytest.mark.parametrize("call", [
    lambda: expfam.fit("gamma", [10**400, 1.0, 2.0]),
    lambda: expfam.fit("gamma", np.array([1, 2, -10**400], dtype=object)),
    lambda: SufficientStats.zeros("gamma").update([1.0, 10**400]),
    lambda: expfam.StochasticFitter("gamma").partial_fit([1.0, 10**400]),
    lambda: expfam.mc_cross_entropy(G, [1.0, 10**400]),
    lambda: G.logpdf([10**400]),
])
def test_integers_too_large_for_float64_name_the_index(call):
    with pytest.raises(NonFiniteError, match=r"the integer at index \d \(1000000000\d\d\.\.\. "
                                             r"with 401 digits\) is too large for float64"):
        call()


def test_too_large_weights_and_parameters():
    with pytest.raises(WeightError, match=r"weights: the integer at index 1 .* too large"):
        expfam.fit("gamma", X, weights=[1, 10**400, 1, 1])
    with pytest.raises(ParameterError, match=r"parameter 'shape': the integer at index 0"):
        expfam.Gamma(shape=10**400, rate=1.0)


@pytest.mark.parametrize("call, role", [
    (lambda: expfam.entropy(3.0), "entropy"),
    (lambda: expfam.entropy(expfam.Gamma), "entropy"),
    (lambda: expfam.kl(3.0, G), "KL: p"),
    (lambda: expfam.kl(G, "gamma"), "KL: q"),
    (lambda: expfam.cross_entropy(G, None), "the cross-entropy: q"),
    (lambda: expfam.mc_kl([1.0, 2.0], G), "mc_kl: p"),
    (lambda: expfam.mc_kl(G, 3), "mc_kl: q"),
    (lambda: expfam.mc_cross_entropy(3.0, X), "mc_cross_entropy: q"),
])
def test_a_distribution_was_expected(call, role):
    with pytest.raises(InputTypeError, match=rf"{role}: expected a distribution") as info:
        call()
    assert isinstance(info.value, TypeError) and isinstance(info.value, ExpfamError)


def test_merging_stats_with_something_else():
    with pytest.raises(InputTypeError, match="expected another SufficientStats"):
        SufficientStats.from_data("gamma", X).merge(3)


def test_level_and_missing_labels_are_validated():
    with pytest.raises(ParameterError, match=r"level must be a number in \(0, 1\)"):
        expfam.mc_cross_entropy(G, X, level="a")
    with pytest.raises(ParameterError, match="missing_labels must be 'error' or 'group'"):
        expfam.fit("gamma", X, by=[1, 1, 2, 2], missing_labels="drop")


@pytest.mark.parametrize("family, fixed, match", [
    ("laplace", {"loc": 1 + 0j}, "fixed parameter 'loc': complex values"),
    ("pareto", {"x_m": 0.5 + 0.5j}, "fixed parameter 'x_m': complex values"),
    ("weibull", {"k": 1.5 + 0j}, "fixed parameter 'k': complex values"),
    ("laplace", {"loc": 10**400}, "fixed parameter 'loc': the integer at index 0"),
    ("laplace", {"loc": "1.5"}, "fixed parameter 'loc' must be a number; got '1.5'"),
    ("binomial", {"n": 5 + 0j}, "fixed parameter 'n' must be an integer"),
    ("negative_binomial", {"r": 2 + 0j}, "fixed parameter 'r' must be a finite number"),
])
def test_fixed_parameters_are_real_numbers(family, fixed, match, recwarn):
    with pytest.raises(ParameterError, match=match):
        expfam.fit(family, X, **fixed)
    no_warnings(recwarn)


def test_long_double_values_beyond_float64(recwarn):
    a = np.array([1.0, 2.0, 3.0], dtype=np.longdouble)
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("long double is float64 on this platform")
    a[1] = np.longdouble("1e400")
    with pytest.raises(NonFiniteError, match=r"value at index 1 \(1e\+400\) is too large for "
                                             r"float64"):
        expfam.fit("gamma", a)
    no_warnings(recwarn)


@pytest.mark.parametrize("call", [
    lambda r: G.sample(3, rng=r),
    lambda r: expfam.mc_kl(G, G, n=10, rng=r),
    lambda r: expfam.fit_sgd("gamma", X, rng=r, max_steps=2),
    lambda r: expfam.StochasticFitter("gamma", rng=r),
], ids=["sample", "mc_kl", "fit_sgd", "StochasticFitter"])
@pytest.mark.parametrize("rng", ["a", 1.5, -1, True])
def test_rng_must_be_a_generator_or_an_integer_seed(call, rng):
    with pytest.raises(ParameterError, match="rng must be a numpy.random.Generator or an "
                                             "integer seed"):
        call(rng)


def test_batch_shape_of_empty_statistics():
    assert SufficientStats.zeros("gamma", batch_shape=3).batch_shape == (3,)
    for bad in (2.5, (-1,), (2, 1.0)):
        with pytest.raises(ParameterError, match="batch_shape: each axis must be an integer"):
            SufficientStats.zeros("gamma", batch_shape=bad)
