"""Group labels (``by=``, correctness item 8): missing labels are a typed error naming the
row (or, with ``missing_labels="group"``, a group of their own labelled ``None``), labels
keep their type, labels of different types are never merged into one group.

In memory, chunked (``SufficientStats.update``), saved and loaded, and from Parquet / CSV
files; Dask: ``test_dask.py``.  The oracle of a missing group is the fit of the same rows
with a real label of their own.
"""

import datetime

import numpy as np
import pandas as pd
import pytest

import expfam
from expfam import SufficientStats
from expfam.errors import LabelError, ShapeError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pcsv = pytest.importorskip("pyarrow.csv")

RNG = np.random.default_rng(11)
X = RNG.gamma(2.0, 1.5, 12)


def stats(by, x=X, **kw):
    return SufficientStats.from_data("gamma", x, by=by, **kw)


MISSING = {
    "object-None": np.array(["a", None, "b"] * 4, dtype=object),
    "object-nan": np.array(["a", np.nan, "b"] * 4, dtype=object),
    "object-pd.NA": np.array(["a", pd.NA, "b"] * 4, dtype=object),
    "list-None": ["a", None, "b"] * 4,
    "float-nan": np.array([1.0, np.nan, 2.0] * 4),
    "category": pd.Categorical(["a", None, "b"] * 4),
    "string-dtype": pd.array(["a", None, "b"] * 4, dtype="string"),
    "Int64": pd.array([1, None, 2] * 4, dtype="Int64"),
    "datetime-NaT": pd.to_datetime(["2020-01-01", None, "2020-01-02"] * 4),
    "datetime64-NaT": np.array(["2020-01-01", "NaT", "2020-01-02"] * 4, dtype="datetime64[s]"),
    "timedelta-NaT": np.array([1, "NaT", 2] * 4, dtype="timedelta64[s]"),
    "tz-aware-NaT": pd.Series(pd.to_datetime(["2020-01-01", None, "2020-01-02"] * 4)
                              .tz_localize("UTC")),
    "masked": np.ma.array([1, 0, 2] * 4, mask=[0, 1, 0] * 4),
}


@pytest.mark.parametrize("by", MISSING.values(), ids=MISSING.keys())
def test_missing_labels_name_the_first_row(by):
    with pytest.raises(LabelError, match=r"by: 4 missing group label\(s\); first at index 1: "
                                         r".*missing_labels='group'"):
        stats(by)
    with pytest.raises(LabelError, match="first at index 1"):
        expfam.fit("gamma", X, by=by)
    with pytest.raises(LabelError, match="first at index 1"):
        SufficientStats.zeros("gamma", grouped=True).update(X, by=by)
    assert issubclass(LabelError, ShapeError)  # what label errors were before


@pytest.mark.parametrize("by", MISSING.values(), ids=MISSING.keys())
def test_missing_labels_as_a_group_of_their_own(by):
    got = stats(by, missing_labels="group")
    assert got.groups.dtype == object and got.groups[-1] is None and len(got.groups) == 3
    # the oracle: the same rows with a real label of their own
    codes = np.tile([0, 2, 1], 4)
    want = stats(codes)
    np.testing.assert_array_equal(got.count, want.count[[0, 1, 2]])
    np.testing.assert_allclose(got.sum_u, want.sum_u[[0, 1, 2]], rtol=1e-15)
    fit = expfam.fit("gamma", X, by=by, missing_labels="group")
    np.testing.assert_allclose(fit.model.natural[-1], expfam.fit("gamma", X[1::3]).model.natural,
                               rtol=1e-12)
    assert fit.groups[-1] is None


def test_labels_keep_their_type():
    cases = {
        "int": ([3, 1, 3, 1] * 3, np.int64, 1),
        "numpy-int32": (np.array([3, 1, 3, 1] * 3, dtype=np.int32), np.int32, 1),
        "uint64-large": (np.array([2**64 - 1, 1] * 6, dtype=np.uint64), np.uint64, 1),
        "list-large-uint": ([2**64 - 1, 1] * 6, np.uint64, 1),
        "str-object": (np.array(["b", "a"] * 6, dtype=object), str, "a"),
        "category-int": (pd.Categorical([3, 1] * 6), np.int64, 1),
        "Int64": (pd.array([3, 1] * 6, dtype="Int64"), np.int64, 1),
        "bool": ([True, False] * 6, np.bool_, False),
        "float": ([0.5, 1.5] * 6, np.float64, 0.5),
        "datetime": (pd.to_datetime(["2020-01-02", "2020-01-01"] * 6), np.datetime64,
                     np.datetime64("2020-01-01")),
    }
    for name, (by, typ, first) in cases.items():
        g = stats(by).groups
        assert np.issubdtype(g.dtype, typ) if typ is not str else g.dtype.kind == "U", name
        assert g[0] == first, name
    tz = stats(pd.Series(pd.to_datetime(["2020-01-01", "2020-01-02"] * 6).tz_localize("UTC")))
    assert isinstance(tz.groups[0], pd.Timestamp) and tz.groups[0].tz is not None
    # with a missing group the labels are an object array of the same values
    g = stats([3, None, 1] * 4, missing_labels="group").groups
    assert [type(v) for v in g[:-1]] == [np.int64, np.int64] and list(g) == [1, 3, None]
    d = stats(MISSING["datetime-NaT"], missing_labels="group").groups
    assert isinstance(d[0], np.datetime64) and d[-1] is None


def test_huge_and_complex_and_nested_labels():
    with pytest.raises(LabelError, match=r"the integer group label at index 1 .* does not "
                                         r"fit 64 bits"):
        stats([1, 10**30] * 6)
    with pytest.raises(LabelError, match="complex group label"):
        stats([1j, 2j] * 6)
    with pytest.raises(LabelError, match="complex group labels"):
        stats(np.array([1j, 2j] * 6))
    with pytest.raises(LabelError, match="one label per observation"):
        stats([[1, 2]] * 12)
    with pytest.raises(LabelError, match=r"expected one label per observation, shape \(12,\); "
                                         r"got shape \(3,\)"):
        stats([1, 2, 3])


@pytest.mark.parametrize("by, first, second", [
    ([1, "a"] * 6, r"1 \(int\) at index 0", r"'a' \(str\) at index 1"),
    (np.array([1, "1"] * 6, dtype=object), r"1 \(int\) at index 0", r"'1' \(str\) at index 1"),
    ([1, 2.5] * 6, r"1 \(int\) at index 0", r"2.5 \(float\) at index 1"),
    ([True, 1] * 6, r"True \(bool\) at index 0", r"1 \(int\) at index 1"),
    (pd.Series(["a", b"a"] * 6), r"'a' \(str\) at index 0", r"b'a' \(bytes\) at index 1"),
    ([datetime.date(2020, 1, 1), "2020-01-01"] * 6,
     r"datetime.date\(2020, 1, 1\) \(date\) at index 0", r"'2020-01-01' \(str\) at index 1"),
])
def test_mixed_label_types_in_one_call(by, first, second):
    with pytest.raises(LabelError, match=rf"group labels of mixed types: {first} and {second}"):
        stats(by)


@pytest.mark.parametrize("a, b", [
    (np.array([1, 1, 2, 2] * 3), np.array(["1", "1", "2", "2"] * 3)),
    (np.array([1, 1, 2, 2] * 3), np.array([1.0, 1.0, 2.0, 2.0] * 3)),
    (np.array([True, False] * 6), np.array([1, 0] * 6)),
    (np.array(["a", "b"] * 6), np.array([b"a", b"b"] * 6)),
    (pd.to_datetime(["2020-01-01"] * 12), np.array(["2020-01-01"] * 12)),
])
def test_labels_of_different_types_are_never_merged(a, b):
    sa, sb = stats(a), stats(b)
    with pytest.raises(LabelError, match="cannot merge statistics whose group labels are of "
                                         "different types"):
        sa.merge(sb)
    acc = SufficientStats.zeros("gamma", grouped=True).update(X, by=a)
    with pytest.raises(LabelError, match="different types"):
        acc.update(X, by=b)
    np.testing.assert_array_equal(acc.count, sa.count)  # the failed update changed nothing


def test_merges_of_labels():
    # a missing group on either side adds up; an empty accumulator takes any type
    a = stats(["x", None, "y"] * 4, missing_labels="group")
    b = stats([None, "z", "y"] * 4, missing_labels="group")
    both = stats(["x", None, "y"] * 4 + [None, "z", "y"] * 4, x=np.r_[X, X],
                 missing_labels="group")
    m = a.merge(b)
    assert list(m.groups) == list(both.groups) == ["x", "y", "z", None]
    np.testing.assert_array_equal(m.count, both.count)
    np.testing.assert_allclose(m.sum_u, both.sum_u, rtol=1e-14)
    acc = SufficientStats.zeros("gamma", grouped=True)
    acc.update(X, by=[None] * 12, missing_labels="group")  # only the missing group
    acc.update(X, by=[1, 2] * 6)
    assert list(acc.groups) == [1, 2, None] and list(acc.count) == [6, 6, 12]
    # int64 and uint64 labels: no detour through float64 (2**63 + 1 stays itself)
    big = stats(np.array([2**63 + 1] * 12, dtype=np.uint64))
    small = stats(np.array([1] * 12, dtype=np.int64))
    g = big.merge(small).groups
    assert g.dtype == np.uint64 and list(g) == [1, 2**63 + 1]


def test_missing_group_survives_save_and_load(tmp_path):
    s = stats([2, None, 1] * 4, missing_labels="group")
    s.save(tmp_path / "s.npz")
    t = SufficientStats.load(tmp_path / "s.npz")
    assert list(t.groups) == [1, 2, None] and t.groups[-1] is None
    np.testing.assert_array_equal(t.count, s.count)
    np.testing.assert_array_equal(t.sum_u, s.sum_u)
    # and it merges with fresh statistics as before saving
    np.testing.assert_array_equal(t.merge(s).count, s.merge(s).count)


def test_file_missing_labels(tmp_path):
    g = ["a", None, "b"] * 4
    table = pa.table({"x": X, "g": g, "k": pa.array([1, None, 2] * 4, pa.int64()),
                      "f": [1.0, np.nan, 2.0] * 4})
    paths = [tmp_path / "t.parquet", tmp_path / "t.csv"]
    pq.write_table(table, paths[0])
    pcsv.write_csv(table, paths[1])
    want = stats(g, missing_labels="group")
    for path in paths:
        line = " \\(line 3\\)" if path.suffix == ".csv" else ""
        for col in ("g", "k", "f"):
            with pytest.raises(LabelError, match=rf"by column '{col}', row 1{line}: missing "
                                                 rf"group label"):
                expfam.fit_file("gamma", path, column="x", by=col)
            st = expfam.stats_from_file("gamma", path, column="x", by=col, chunksize=5,
                                        missing_labels="group")
            assert st.groups[-1] is None and len(st.groups) == 3, (path, col)
            np.testing.assert_array_equal(st.count, want.count)
            np.testing.assert_allclose(st.sum_u, want.sum_u, rtol=1e-13)
        # labels keep their type through the file
        st = expfam.stats_from_file("gamma", path, column="x", by="k", chunksize=5,
                                    missing_labels="group")
        assert [type(v) for v in st.groups[:-1]] == [np.int64, np.int64]
        st = expfam.stats_from_file("gamma", path, column="x", by="g", chunksize=5,
                                    skip_invalid=True)
        assert st.skipped == {"invalid_label": 4} and st.groups.dtype.kind == "U"
    fit = expfam.fit_file("gamma", paths[0], column="x", by="g", missing_labels="group")
    assert fit.groups[-1] is None
    # a file's text labels merge with the same labels in memory
    st = expfam.stats_from_file("gamma", paths[0], column="x", by="g", missing_labels="group")
    assert list(st.merge(want).groups) == ["a", "b", None]
    with pytest.raises(LabelError, match="different types"):
        st.merge(stats([1, 2, 3] * 4))


def test_command_line_missing_labels(tmp_path, capsys):
    from expfam.cli import main

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": X, "g": ["a", None, "b"] * 4}), path)
    assert main(["fit", str(path), "--family", "gamma", "--column", "x", "--by", "g"]) == 1
    err = capsys.readouterr().err
    assert "row 1: missing group label" in err and "--missing-labels group" in err
    assert "missing_labels" not in err  # the flag, not the Python keyword
    assert main(["fit", str(path), "--family", "gamma", "--column", "x", "--by", "g",
                 "--missing-labels", "group"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["a", "b", "None (missing labels)"]


def test_messages_name_the_missing_group():
    x = np.r_[X[:6], 3.0]
    with pytest.raises(expfam.errors.BoundaryError, match=r"for group None \(the rows whose "
                                                          r"label is missing\)"):
        expfam.fit("gamma", x, by=["a"] * 6 + [None], missing_labels="group")
    with pytest.raises(expfam.errors.EmptyDataError, match=r"every weight of group None \(the "
                                                           r"rows whose label is missing\)"):
        expfam.fit("gamma", x, [1.0] * 6 + [0.0], by=["a"] * 6 + [None],
                   missing_labels="group")
