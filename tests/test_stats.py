"""The additive accumulator: chunked updates, compensated merges, saving, loading."""

import copy
import math
import pickle
import threading

import numpy as np
import pytest

import expfam
from expfam import SufficientStats
from expfam.errors import EmptyDataError, ShapeError


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
    parts = [SufficientStats.from_data("normal", rng.normal(1e3, 1.0, size=n)) for n in (5, 700, 33)]
    a, b, c = parts
    left, right, swapped = (a + b) + c, a + (b + c), c + (a + b)
    for s in (right, swapped):
        np.testing.assert_array_equal(s.count, left.count)
        np.testing.assert_array_equal(s.sum_u, left.sum_u)


def test_compensated_merges_stay_at_rounding_where_naive_accumulation_drifts():
    """20,000 chunks: the merged sum equals math.fsum to 1 ulp; adding the chunk sums in
    plain float64 drifts by many ulps."""
    rng = np.random.default_rng(2)
    chunks = 0.1 + 1e-3 * rng.random((20_000, 50))
    acc = SufficientStats.zeros("normal")
    naive = 0.0
    for chunk in chunks:
        acc.update(chunk)
        naive += chunk.sum()
    exact = math.fsum(math.fsum(c) for c in chunks)
    ulp = np.spacing(exact)
    assert abs(acc.sum_u[0] - exact) <= ulp
    assert abs(naive - exact) > 10 * ulp
    exact_sq = math.fsum(math.fsum(c * c) for c in chunks)  # x*x rounded as the code does
    assert abs(acc.sum_u[1] - exact_sq) <= 2 * np.spacing(exact_sq)


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
    with pytest.raises(ShapeError, match="different families"):
        SufficientStats.from_data("normal", [1.0, 2.0]).merge(SufficientStats.from_data("gamma", [1.0, 2.0]))
    with pytest.raises(ShapeError, match="different families or fixed"):
        SufficientStats.from_data("weibull", [1.0], k=1.0).merge(SufficientStats.from_data("weibull", [1.0], k=2.0))
    with pytest.raises(ShapeError, match="grouped"):
        SufficientStats.zeros("normal").update([1.0, 2.0], by=[0, 1])
    with pytest.raises(EmptyDataError, match="no data"):
        expfam.fit("normal", SufficientStats.zeros("normal"))


def test_fitting_statistics_of_another_family_raises():
    with pytest.raises(ShapeError, match="statistics of Normal cannot fit Gamma"):
        expfam.fit("gamma", SufficientStats.from_data("normal", [1.0, 2.0]))


def _hammer(acc, threads, updates, x, by=None):
    """``threads`` threads, released together, each doing ``updates`` updates of ``acc``."""
    start = threading.Barrier(threads)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(updates):
                acc.update(x, by=by)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("grouped", [False, True])
def test_concurrent_updates_from_8_threads_lose_no_count(grouped):
    """Before the lock, 8 threads lost 18-84% of the counts in every run (grouped updates
    also crashed on torn reads)."""
    x = np.arange(10.0)
    by = np.arange(10) % 3 if grouped else None
    threads, updates = 8, 150
    for _ in range(5):
        acc = SufficientStats.zeros("poisson", grouped=grouped)
        _hammer(acc, threads, updates, x, by)
        calls = threads * updates
        if grouped:
            assert list(acc.groups) == [0, 1, 2]
            np.testing.assert_array_equal(acc.count, [4 * calls, 3 * calls, 3 * calls])
            np.testing.assert_array_equal(acc.sum_u[:, 0], [18.0 * calls, 12.0 * calls, 15.0 * calls])
        else:
            assert int(acc.count) == 10 * calls
            assert acc.sum_u[0] == 45.0 * calls  # integers: every partial sum is exact


def test_merge_reads_a_consistent_state_while_other_threads_update():
    acc = SufficientStats.zeros("poisson", grouped=True)
    one = SufficientStats.from_data("poisson", [1.0], by=[0])
    done = threading.Event()
    seen = []

    def read():
        while not done.is_set():
            m = acc.merge(one)  # a torn read would give mismatched shapes or counts
            seen.append((m.count.sum(), m.sum_u.sum()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        _hammer(acc, 4, 100, np.ones(5), np.arange(5) % 2)
    finally:
        done.set()
        reader.join()
    assert all(c == s for c, s in seen)  # every value is 1: count == sum, always
    assert int(acc.count.sum()) == 4 * 100 * 5


def test_statistics_pickle_and_copy_without_their_lock(tmp_path):
    s = SufficientStats.from_data("gamma", [1.0, 2.0, 3.0], by=["a", "b", "a"])
    for t in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s), copy.copy(s)):
        np.testing.assert_array_equal(t.count, s.count)
        np.testing.assert_array_equal(t.sum_u, s.sum_u)
        assert t._lock is not s._lock
        t.update([4.0], by=["c"])  # the copy has a working lock of its own
        assert list(t.groups) == ["a", "b", "c"] and list(s.groups) == ["a", "b"]
