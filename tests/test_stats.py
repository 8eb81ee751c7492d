"""The additive accumulator: chunked updates, compensated merges, saving, loading."""

import math
from fractions import Fraction

import numpy as np
import pytest

import expfam
from expfam import SufficientStats
from expfam.errors import EmptyDataError, FamilyMismatchError, ShapeError


def test_chunked_updates_equal_one_pass():
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 3.0, size=10_000)
    acc = SufficientStats.zeros("gamma")
    for chunk in np.array_split(x, 37):
        acc.update(chunk)
    whole = SufficientStats.from_data("gamma", x)
    assert acc.count == 10_000
    np.testing.assert_allclose(acc.sum_u, whole.sum_u, rtol=1e-14)
    r1, r2 = expfam.fit("gamma", acc), expfam.fit("gamma", x)
    np.testing.assert_allclose(r1.model.natural, r2.model.natural, rtol=1e-12)


def test_merge_is_associative_and_commutative():
    rng = np.random.default_rng(1)
    parts = [SufficientStats.from_data("gamma", rng.gamma(3.0, 1e3, size=n)) for n in (5, 700, 33)]
    a, b, c = parts
    left, right, swapped = (a + b) + c, a + (b + c), c + (a + b)
    for s in (right, swapped):
        np.testing.assert_array_equal(s.count, left.count)
        np.testing.assert_array_equal(s.sum_u, left.sum_u)


def test_pivoted_merges_in_any_order_agree_with_two_pass_variance():
    """Normal statistics about different pivots (each part's first value), merged in any
    order: the variance matches a two-pass computation (math.fsum) to a few ulps even
    at an offset of 1e12, where raw sums of x and x^2 keep no digit of it."""
    rng = np.random.default_rng(1)
    x = 1e12 + rng.normal(0.0, 1.0, size=738)
    a, b, c = (SufficientStats.from_data("normal", part) for part in np.split(x, [5, 705]))
    exact = [Fraction(v) for v in x]  # the two-pass variance in exact arithmetic
    m = sum(exact) / len(exact)
    var = float(sum((v - m) ** 2 for v in exact) / len(exact))
    for s in ((a + b) + c, a + (b + c), c + (a + b), b + (c + a)):
        mu = s.centred_mean
        got = mu[1] - mu[0] ** 2
        assert abs(got - var) <= 8 * np.spacing(var)


def test_compensated_merges_stay_at_rounding_where_naive_accumulation_drifts():
    """20,000 chunks: the merged sum equals math.fsum to 1 ulp; adding the chunk sums in
    plain float64 drifts by many ulps."""
    rng = np.random.default_rng(2)
    chunks = 0.1 + 1e-3 * rng.random((20_000, 50))
    acc = SufficientStats.zeros("gamma")
    acc2 = SufficientStats.zeros("rayleigh")
    naive = 0.0
    for chunk in chunks:
        acc.update(chunk)
        acc2.update(chunk)
        naive += chunk.sum()
    exact = math.fsum(math.fsum(c) for c in chunks)
    ulp = np.spacing(exact)
    assert abs(acc.sum_u[0] - exact) <= ulp
    assert abs(naive - exact) > 10 * ulp
    exact_sq = math.fsum(math.fsum(c * c) for c in chunks)  # x*x rounded as the code does
    assert abs(acc2.sum_u[0] - exact_sq) <= 2 * np.spacing(exact_sq)


def test_grouped_accumulator_collects_new_groups():
    acc = SufficientStats.zeros("poisson", grouped=True)
    acc.update([1.0, 2.0, 3.0], by=["b", "a", "b"])
    acc.update([4.0, 0.0], by=["c", "a"])
    assert list(acc.groups) == ["a", "b", "c"]
    np.testing.assert_array_equal(acc.count, [2, 2, 1])
    np.testing.assert_allclose(acc.sum_u[:, 0], [2.0, 4.0, 4.0])
    r = expfam.fit("poisson", acc)
    np.testing.assert_allclose(r.params["rate"], [1.0, 2.0, 4.0])


@pytest.mark.parametrize("labels", [None, ["x", "y", "x", "z"], [3, 1, 3, 1]])
def test_save_and_load_round_trip(tmp_path, labels):
    x = np.array([1.0, 2.5, 0.7, 3.2])
    s = SufficientStats.from_data("weibull", x, by=labels, k=1.5)
    s = s + s
    path = tmp_path / "stats.npz"
    s.save(path)
    t = SufficientStats.load(path)
    assert t.family is expfam.Weibull and t.fixed == {"k": 1.5}
    np.testing.assert_array_equal(t.count, s.count)
    np.testing.assert_array_equal(t.sum_u, s.sum_u)
    np.testing.assert_array_equal(t._lo["sum_u"], s._lo["sum_u"])
    if labels is not None:
        np.testing.assert_array_equal(t.groups, s.groups)
    np.testing.assert_allclose(expfam.fit("weibull", t).params["scale"],
                               expfam.fit("weibull", np.tile(x, 2), by=None if labels is None
                                          else np.tile(labels, 2), k=1.5).params["scale"])


def test_bad_files_and_merges(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ShapeError, match="not a readable expfam statistics file"):
        SufficientStats.load(bad)
    with pytest.raises(FamilyMismatchError, match="different families"):
        SufficientStats.from_data("normal", [1.0, 2.0]).merge(SufficientStats.from_data("gamma", [1.0, 2.0]))
    with pytest.raises(FamilyMismatchError, match="different families or fixed"):
        SufficientStats.from_data("weibull", [1.0], k=1.0).merge(SufficientStats.from_data("weibull", [1.0], k=2.0))
    with pytest.raises(ShapeError, match="grouped"):
        SufficientStats.zeros("normal").update([1.0, 2.0], by=[0, 1])
    with pytest.raises(EmptyDataError, match="no data"):
        expfam.fit("normal", SufficientStats.zeros("normal"))


def test_fitting_statistics_of_another_family_raises():
    with pytest.raises(FamilyMismatchError, match="statistics of Normal cannot fit Gamma"):
        expfam.fit("gamma", SufficientStats.from_data("normal", [1.0, 2.0]))
