"""Small data take the path without JIT and without pyarrow (issue 11: small data).

- Below ``expfam._kernels.MIN_SIZE`` values the sums are NumPy's (no numba); at and above
  it the compiled kernels.  Both agree with ``math.fsum`` of the family's statistics (the
  oracle) to 1e-12 on either side of the threshold, for every family the kernels serve.
- Small plain CSV files (``expfam.io.small_csv``) are read with the csv module; the same
  statistics, the same skipped-row counts and the same error messages as the Arrow reader
  (forced by setting the size limit to 0), and sums equal to NumPy's of the same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import expfam
from expfam import _kernels
from expfam.errors import ExpfamError, FileFormatError, NonFiniteError, SupportError, WeightError
from expfam.families import FAMILIES
from expfam.io import small_csv

from .test_kernels import FIXED, KERNEL_FAMILIES, _data

N = _kernels.MIN_SIZE


def _fsum_oracle(cls, x, fixed):
    u = cls.sufficient_statistics(x, fixed).reshape(len(x), -1)
    lh = np.broadcast_to(cls.log_base_measure(x, fixed), (len(x),))
    return [math.fsum(u[:, j]) for j in range(u.shape[1])], math.fsum(lh)


#: compiling the kernels of every family costs minutes on a cold cache (the new tests must
#: stay fast); tests/test_kernels.py checks the compiled sums of every family against the
#: same oracle, and Gamma (the kernels' test family there) is compiled there anyway
THRESHOLD_FAMILIES = [name for name in ("gamma",) if name in KERNEL_FAMILIES]


@pytest.mark.parametrize("name", THRESHOLD_FAMILIES)
def test_numpy_and_compiled_sums_agree_across_the_threshold(name):
    cls = FAMILIES[name]
    fixed = cls.check_fixed(dict(FIXED.get(name, {})))
    x = _data(name, np.random.default_rng(sum(map(ord, name))), N + 1)
    for n in (N - 1, N):  # the NumPy path, then the compiled one
        xs = np.ascontiguousarray(x[:n])
        st = expfam.SufficientStats.from_data(cls, xs, **FIXED.get(name, {}))
        sum_u, sum_lh = _fsum_oracle(cls, xs, fixed)
        scale = max(1.0, *np.abs(sum_u))
        np.testing.assert_allclose(np.ravel(st.sum_u), sum_u, rtol=1e-12, atol=1e-12 * scale)
        assert float(st.sum_log_h) == pytest.approx(sum_lh, rel=1e-12, abs=1e-12 * n)
        assert st.count == n


def test_the_threshold_is_where_the_compiled_pass_starts(monkeypatch):
    calls = []
    real = _kernels.fused_sums

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr("expfam.stats.fused_sums", spy)
    x = np.random.default_rng(1).gamma(2.0, 1.0, N)
    expfam.SufficientStats.from_data("gamma", x[:N - 1])
    expfam.SufficientStats.from_data("gamma", x)
    assert calls == [False, True]


# ----------------------------------------------------------------------------------
# Small CSV files without pyarrow
# ----------------------------------------------------------------------------------


def _both(monkeypatch, fn):
    """``fn()`` read by the small reader, then by the Arrow reader: (result or error text)."""
    out = []
    for limit in (small_csv.SMALL_CSV_BYTES, 0):
        monkeypatch.setattr(small_csv, "SMALL_CSV_BYTES", limit)
        try:
            out.append(fn())
        except ExpfamError as exc:
            out.append((type(exc).__name__, str(exc)))
    return out


def _write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return str(path)


def test_small_csv_takes_the_small_reader(tmp_path, monkeypatch):
    path = _write(tmp_path, "x\n1.5\n2.5\n")
    assert small_csv._SmallCsv.open(path) is not None
    st = expfam.stats_from_file("gamma", path, progress=True)  # a bar asked for: Arrow
    assert list(st.sum_u) == [4.0, math.log(1.5) + math.log(2.5)]
    monkeypatch.setattr(small_csv._SmallCsv, "chunks", None)  # the Arrow path never calls it
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)  # a terminal: still no bar
    with pytest.raises(TypeError):
        expfam.stats_from_file("gamma", path)


def test_small_csv_statistics_equal_numpy_and_arrow(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    x, w = rng.gamma(2.0, 0.5, 100), rng.uniform(0.0, 3.0, 100)
    lines = [f"{float(a)!r},{float(b)!r}, {i}" for i, (a, b) in enumerate(zip(x, w))]
    lines[7] = f"\"{float(x[7])!r}\",{float(w[7])!r},7"  # a quoted number is a number
    lines[8] = f" {float(x[8])!r} ,{float(w[8])!r},8"  # blanks around a number are trimmed
    path = _write(tmp_path, "x,w,i\r\n" + "\r\n".join(lines) + "\r\n")
    small, arrow = _both(monkeypatch, lambda: expfam.stats_from_file("gamma", path, weights="w"))
    # oracle: the weighted sums of (x, log x), computed here
    assert small.count == arrow.count == 100
    np.testing.assert_allclose(small.sum_u, [math.fsum(w * x), math.fsum(w * np.log(x))],
                               rtol=1e-14)
    np.testing.assert_array_equal(small.sum_u, arrow.sum_u)
    assert small.weight_sum == arrow.weight_sum == pytest.approx(math.fsum(w), rel=1e-15)
    fit_small, fit_arrow = _both(monkeypatch, lambda: expfam.fit_file("gamma", path, column="x"))
    assert fit_small.params["shape"] == fit_arrow.params["shape"]


@pytest.mark.parametrize("cell, error", [
    ("oops", SupportError), ("", NonFiniteError), ("NA", NonFiniteError),
    ("nan", NonFiniteError), ("-inf", NonFiniteError), ("-1.0", SupportError),
    ("1,5", FileFormatError),  # two fields in a one-column file
])
def test_small_csv_errors_match_the_arrow_reader(tmp_path, monkeypatch, cell, error):
    body = ["1.0", "2.0", "3.0", cell, "4.0"]
    path = _write(tmp_path, "x\n" + "\n".join(body) + "\n")
    small, arrow = _both(monkeypatch, lambda: expfam.stats_from_file("gamma", path))
    assert small == arrow
    assert small[0] == error.__name__
    if error is not FileFormatError:
        assert "row 3 (line 5)" in small[1] and "'x'" in small[1]


def test_small_csv_weight_errors_and_skipped_rows_match(tmp_path, monkeypatch):
    path = _write(tmp_path, "x,w\n1.0,1\n2.0,-1\nabc,2\n,1\n3.0,x\n4.0,0.5\n")
    small, arrow = _both(monkeypatch, lambda: expfam.stats_from_file("gamma", path, weights="w"))
    assert small == arrow and small[0] == WeightError.__name__ and "row 1 (line 3)" in small[1]
    small, arrow = _both(monkeypatch, lambda: expfam.stats_from_file(
        "gamma", path, weights="w", skip_invalid=True))
    assert small.skipped == arrow.skipped == {"null": 1, "non_numeric": 1, "invalid_weight": 2}
    np.testing.assert_array_equal(small.sum_u, arrow.sum_u)
    assert small.sum_u[0] == 1.0 * 1 + 4.0 * 0.5  # the two valid rows


def test_small_csv_vector_family_and_missing_column(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    p = rng.dirichlet([2.0, 3.0, 4.0], 50)
    path = _write(tmp_path, "a,b,c\n" + "".join(",".join(map(repr, map(float, r))) + "\n" for r in p))
    small, arrow = _both(monkeypatch, lambda: expfam.stats_from_file("dirichlet", path))
    np.testing.assert_allclose(small.sum_u, np.log(p).sum(axis=0), rtol=1e-13)
    np.testing.assert_array_equal(small.sum_u, arrow.sum_u)
    small, arrow = _both(monkeypatch, lambda: expfam.stats_from_file("gamma", path, column="z"))
    assert small == arrow and "no column 'z'" in small[1]


@pytest.mark.parametrize("text", [
    "x\n1.0\n\n2.0\n",  # an empty line
    "x\n\"1.0\n2.0\"\n3.0\n",  # a quoted field over two lines
    "x\n1.0\n\xff\n",  # not UTF-8 (written as Latin-1 below)
])
def test_unusual_files_are_left_to_the_arrow_reader(tmp_path, monkeypatch, text):
    path = tmp_path / "u.csv"
    path.write_bytes(text.encode("latin-1"))
    assert small_csv._SmallCsv.open(str(path)) is None
    small, arrow = _both(monkeypatch, lambda: expfam.stats_from_file("gamma", str(path)))
    if isinstance(small, tuple):
        assert small == arrow
    else:
        np.testing.assert_array_equal(small.sum_u, arrow.sum_u)


def test_large_and_compressed_files_take_the_arrow_reader(tmp_path):
    path = _write(tmp_path, "x\n" + "1.0\n" * (small_csv.SMALL_CSV_BYTES // 4 + 1))
    assert small_csv._SmallCsv.open(path) is None
    assert small_csv._SmallCsv.open(_write(tmp_path, "x\n1.0\n", "d.csv.gz")) is None
    assert small_csv._SmallCsv.open(_write(tmp_path, "", "e.csv")) is None
