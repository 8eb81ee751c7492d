"""Fits streamed from Parquet, CSV and Arrow IPC files, against the in-memory fit."""

import os
import re
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pcsv = pytest.importorskip("pyarrow.csv")
ipc = pytest.importorskip("pyarrow.ipc")

import expfam  # noqa: E402
from expfam import SufficientStats  # noqa: E402
from expfam.cli import main  # noqa: E402
from expfam.errors import (  # noqa: E402
    EmptyDataError,
    NonFiniteError,
    ShapeError,
    SupportError,
    WeightError,
)
from expfam.io import FileFormatError, fit_file, stats_from_file  # noqa: E402

N = 200_000
CHUNK = 10_000
FORMATS = ["parquet", "csv", "arrow", "arrows"]


def write(table, path, fmt=None):
    """Write ``table`` with pyarrow's writers, in several row groups / record batches."""
    fmt = fmt or str(path).rsplit(".", 1)[-1]
    if fmt == "parquet":
        pq.write_table(table, path, row_group_size=35_000)
    elif fmt == "csv":
        pcsv.write_csv(table, path)
    elif fmt == "gz":
        with pa.CompressedOutputStream(str(path), "gzip") as out:
            pcsv.write_csv(table, out)
    elif fmt == "arrow":
        with ipc.new_file(str(path), table.schema) as w:
            w.write_table(table, max_chunksize=23_000)
    elif fmt == "arrows":
        with ipc.new_stream(str(path), table.schema) as w:
            w.write_table(table, max_chunksize=23_000)
    return path


def same_fit(streamed, in_memory):
    np.testing.assert_array_equal(streamed.n, in_memory.n)
    np.testing.assert_allclose(streamed.model.natural, in_memory.model.natural, rtol=1e-12, atol=0)
    np.testing.assert_allclose(streamed.loglik, in_memory.loglik, rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.gamma(2.5, 1.5, N)
    g = rng.integers(0, 5, N)  # groups spread over every chunk
    names = np.array(["alpha", "beta", "gamma", "delta", "epsilon"], dtype=object)[g]
    w = rng.uniform(0.0, 2.0, N)
    d = rng.dirichlet([2.0, 3.0, 4.0], N)
    table = pa.table({"x": x, "g": g, "name": names.astype(str), "w": w,
                      "d0": d[:, 0], "d1": d[:, 1], "d2": d[:, 2]})
    return {"x": x, "g": g, "name": names, "w": w, "d": d, "table": table}


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    root = tmp_path_factory.mktemp("io")
    out = {fmt: write(data["table"], root / f"data.{fmt}") for fmt in FORMATS}
    out["csv.gz"] = write(data["table"], root / "data.csv.gz", "gz")
    return out


@pytest.mark.parametrize("fmt", FORMATS + ["csv.gz"])
def test_streamed_fit_equals_the_in_memory_fit(files, data, fmt):
    r = fit_file("gamma", files[fmt], column="x", chunksize=CHUNK, progress=False)
    same_fit(r, expfam.fit("gamma", data["x"]))
    assert r.skipped == {}
    st = stats_from_file(expfam.Gamma, files[fmt], column="x", chunksize=CHUNK)
    assert int(st.count) == N and st.skipped == {}


@pytest.mark.parametrize("fmt", FORMATS)
def test_groups_spread_over_chunks(files, data, fmt):
    r = fit_file("gamma", files[fmt], column="x", by="g", chunksize=CHUNK)
    ref = expfam.fit("gamma", data["x"], by=data["g"])
    np.testing.assert_array_equal(r.groups, np.arange(5))
    same_fit(r, ref)
    r = fit_file("gamma", files[fmt], column="x", by="name", chunksize=CHUNK)
    ref = expfam.fit("gamma", data["x"], by=data["name"])
    assert list(r.groups) == sorted(set(data["name"])) == list(ref.groups)
    same_fit(r, ref)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "arrow"])
def test_weights_column(files, data, fmt):
    r = fit_file("gamma", files[fmt], column="x", weights="w", chunksize=CHUNK)
    same_fit(r, expfam.fit("gamma", data["x"], weights=data["w"]))
    r = fit_file("gamma", files[fmt], column="x", weights="w", by="g", chunksize=CHUNK)
    same_fit(r, expfam.fit("gamma", data["x"], weights=data["w"], by=data["g"]))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_vector_family_from_several_columns(files, data, fmt):
    cols = ["d0", "d1", "d2"]
    r = fit_file("dirichlet", files[fmt], column=cols, chunksize=CHUNK)
    same_fit(r, expfam.fit("dirichlet", data["d"]))
    r = fit_file("multivariate_normal", files[fmt], column=cols[:2], by="g", chunksize=CHUNK)
    # the in-memory grouped path sums with np.bincount (error ~ n eps, about 1e-12 here):
    # compare each group with the in-memory fit of that group alone (pairwise sums)
    for i in range(5):
        ref = expfam.fit("multivariate_normal", data["d"][data["g"] == i, :2])
        np.testing.assert_allclose(r.model.natural[i], ref.model.natural, rtol=1e-12, atol=0)
        np.testing.assert_allclose(r.loglik[i], ref.loglik, rtol=1e-12, atol=0)


def test_multinomial_infers_n_from_the_first_row(tmp_path):
    m = np.random.default_rng(3).multinomial(12, [0.2, 0.3, 0.5], 30_000)
    path = write(pa.table({"a": m[:, 0], "b": m[:, 1], "c": m[:, 2]}), tmp_path / "m.parquet")
    r = fit_file("multinomial", path, chunksize=4_000)  # default: every column
    same_fit(r, expfam.fit("multinomial", m))
    assert r.model.fixed["n"] == 12


def bad_table(x):
    """``x`` with 3 NaN, 2 negative values and 1 null at known rows."""
    x = x.copy()
    x[[12_345, 150_001, N - 1]] = np.nan
    x[[30_000, 99_999]] = -1.0
    null = np.zeros(N, dtype=bool)
    null[77_777] = True
    valid = np.isfinite(x) & (x > 0) & ~null
    return pa.table({"x": pa.array(x, mask=null)}), valid


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_rows_are_reported_by_their_row_in_the_file(tmp_path, data, fmt):
    table, valid = bad_table(data["x"])
    path = write(table, tmp_path / f"bad.{fmt}")
    line = r" \(line 12347\)" if fmt == "csv" else ""
    with pytest.raises(NonFiniteError, match=rf"column 'x', row 12345{line}: non-finite value nan"):
        fit_file("gamma", path, chunksize=CHUNK)
    # the first bad row after dropping the NaN: a value outside the support, in a later chunk
    table = pa.table({"x": pa.array(np.where(np.arange(N) == 30_000, -1.0, data["x"]))})
    path = write(table, tmp_path / f"neg.{fmt}")
    with pytest.raises(SupportError, match=r"row 30000\b.*value -1.0 outside the support"):
        fit_file("gamma", path, chunksize=CHUNK)
    table = pa.table({"x": pa.array(data["x"], mask=np.arange(N) == 77_777)})
    path = write(table, tmp_path / f"null.{fmt}")
    with pytest.raises(NonFiniteError, match=r"row 77777\b.*missing value \(null\)"):
        fit_file("gamma", path, chunksize=CHUNK)


@pytest.mark.parametrize("fmt", FORMATS)
def test_skip_invalid_counts_and_fits_the_valid_rows(tmp_path, data, fmt):
    table, valid = bad_table(data["x"])
    path = write(table, tmp_path / f"bad.{fmt}")
    r = fit_file("gamma", path, chunksize=CHUNK, skip_invalid=True)
    assert r.skipped == {"null": 1, "non_finite": 3, "outside_support": 2}
    assert r.stats.skipped == r.skipped
    same_fit(r, expfam.fit("gamma", data["x"][valid]))


def test_csv_text_that_is_not_a_number(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,w\n1.5,1\n 2.5 ,1\noops,1\n3.0,-1\n4.0,\n0.5,2\n")
    with pytest.raises(SupportError, match=r"column 'x', row 2 \(line 4\): 'oops' is not a number"):
        fit_file("gamma", path, column="x")
    other = tmp_path / "t2.csv"
    other.write_text("x,w\n1.5,1\n2.5,1\n3.5,1\n3.0,-1\n")
    with pytest.raises(WeightError, match=r"weights column 'w', row 3 \(line 5\): weight -1.0"):
        fit_file("gamma", other, column="x", weights="w")
    r = fit_file("gamma", path, column="x", weights="w", skip_invalid=True)
    assert r.skipped == {"non_numeric": 1, "invalid_weight": 2}
    same_fit(r, expfam.fit("gamma", [1.5, 2.5, 0.5], weights=[1, 1, 2]))


def test_missing_group_labels(tmp_path):
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0], "g": ["a", None, "b", "a"]})
    path = write(table, tmp_path / "g.parquet")
    with pytest.raises(ShapeError, match=r"by column 'g', row 1: missing group label"):
        fit_file("normal", path, column="x", by="g")
    st = stats_from_file("normal", path, column="x", by="g", skip_invalid=True)
    assert st.skipped == {"invalid_label": 1}
    assert list(st.groups) == ["a", "b"] and list(st.count) == [2, 1]


def test_empty_files(tmp_path):
    empty = tmp_path / "e.parquet"
    pq.write_table(pa.table({"x": pa.array([], pa.float64())}), empty)
    with pytest.raises(EmptyDataError, match="no data rows"):
        fit_file("normal", empty)
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(EmptyDataError, match="empty file"):
        fit_file("normal", tmp_path / "e.csv")
    (tmp_path / "h.csv").write_text("x,y\n")
    with pytest.raises(EmptyDataError, match="no data rows"):
        fit_file("normal", tmp_path / "h.csv")
    (tmp_path / "nan.csv").write_text("x\nnan\n-1\n")
    with pytest.raises(EmptyDataError, match=r"no valid rows among 2 \(skipped: 1 non_finite, "
                                             r"1 outside_support\)"):
        fit_file("gamma", tmp_path / "nan.csv", skip_invalid=True)


def test_missing_columns_and_unknown_formats(files, tmp_path):
    with pytest.raises(FileFormatError, match=r"no column 'nope'; the columns are \['x', 'g', 'name'"):
        fit_file("gamma", files["parquet"], column="nope")
    with pytest.raises(FileFormatError, match=r"no column 'grp'"):
        fit_file("gamma", files["csv"], column="x", by="grp")
    with pytest.raises(ShapeError, match="vectors"):
        fit_file("dirichlet", files["parquet"], column="d0")
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"not a table")
    with pytest.raises(FileFormatError, match="cannot tell the format"):
        fit_file("gamma", path)
    with pytest.raises(FileFormatError, match="not a readable Parquet file"):
        fit_file("gamma", path, format="parquet")
    with pytest.raises(FileFormatError, match="not an Arrow IPC file"):
        fit_file("gamma", path, format="ipc")
    with pytest.raises(FileFormatError, match="unknown format"):
        fit_file("gamma", path, format="hdf5")
    with pytest.raises(FileNotFoundError):
        fit_file("gamma", tmp_path / "absent.parquet")


def test_regularised_fit_and_progress_bar(files, data, capsys):
    r = fit_file("gamma", files["parquet"], column="x", chunksize=CHUNK, pseudo_count=2.0,
                 progress=True)
    same_fit(r, expfam.fit("gamma", data["x"], pseudo_count=2.0))
    assert "data.parquet" in capsys.readouterr().err


def test_memory_stays_bounded_by_the_chunk_size(tmp_path, monkeypatch):
    """A file 20x the chunk size: peak allocations (Arrow's pool, sampled at every chunk,
    and NumPy's, traced) stay far below the decoded file."""
    n, chunk = 2_000_000, 100_000
    x = np.random.default_rng(5).gamma(2.0, 1.0, n)
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"x": x}), path, row_group_size=n)  # one row group
    del x
    decoded = n * 8
    fit_file("gamma", path, chunksize=n // 4)  # warm-up: imports, kernels
    base = pa.total_allocated_bytes()
    peak = [0]
    orig = SufficientStats.from_data.__func__

    def sampled(cls, *args, **kwargs):
        peak[0] = max(peak[0], pa.total_allocated_bytes() - base)
        return orig(cls, *args, **kwargs)

    monkeypatch.setattr(SufficientStats, "from_data", classmethod(sampled))
    tracemalloc.start()
    try:
        st = stats_from_file("gamma", path, chunksize=chunk)
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert int(st.count) == n
    # about 5 chunks' worth (two decoded chunks in flight, a read buffer, Parquet pages),
    # whatever the file size; a reader holding the row group would need >= decoded
    assert 0 < peak[0] < decoded / 3, peak[0]
    assert traced < decoded / 3, traced  # NumPy: the chunk's u(x) without the kernels


def test_command_line_streams_files(files, data, tmp_path, capsys):
    assert main(["fit", str(files["parquet"]), "--family", "gamma", "--column", "x",
                 "--chunksize", "10000", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"{float(expfam.fit('gamma', data['x']).params['shape']):.6g}" in out
    assert main(["fit", str(files["arrow"]), "--family", "gamma", "--column", "x",
                 "--by", "name"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == sorted(set(data["name"]))
    assert main(["fit", str(files["csv"]), "--family", "dirichlet", "--column", "d0,d1,d2",
                 "--by", "g"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 5
    table, _ = bad_table(data["x"])
    bad = write(table, tmp_path / "bad.parquet")
    assert main(["fit", str(bad), "--family", "gamma", "--skip-invalid",
                 "--pseudo-count", "1"]) == 0
    out = capsys.readouterr().out
    assert "skipped 6 invalid row(s): 1 null, 3 non_finite, 2 outside_support" in out
    assert main(["fit", str(bad), "--family", "gamma"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("expfam: error:") and "row 12345" in err
    assert main(["fit", str(files["parquet"]), "--family", "gamma", "--column", "nope"]) == 1
    assert "no column 'nope'" in capsys.readouterr().err


def test_a_malformed_csv_line_deep_in_the_file(tmp_path):
    lines = ["x,y"] + [f"{1 + i % 7}.5,{i}" for i in range(60_000)]
    lines[50_001] = "1.0,2,3"  # one field too many
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="Expected 2 columns, got 3"):
        fit_file("gamma", path, column="x", chunksize=5_000)


# ----------------------------------------------------------------------------------
# Files that cannot be read: FileFormatError naming the file (and the row, if known)
# ----------------------------------------------------------------------------------


def _csv_text(n=5000):
    x = np.random.default_rng(3).gamma(2.0, 1.0, n)
    return "x,y\n" + "".join(f"{float(v)!r},{i}\n" for i, v in enumerate(x))


def _raises_naming(path, match=None, **kwargs):
    with pytest.raises(FileFormatError, match=match) as info:
        fit_file("gamma", path, **kwargs)
    assert str(path) in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("codec", ["gzip", "bz2", "zstd"])
def test_truncated_compressed_csv_names_the_file_and_the_readable_rows(tmp_path, codec):
    suffix = {"gzip": ".gz", "bz2": ".bz2", "zstd": ".zst"}[codec]
    full = tmp_path / f"full.csv{suffix}"
    with pa.CompressedOutputStream(str(full), codec) as out:
        out.write(_csv_text(20_000).encode())
    raw = full.read_bytes()
    for cut in (len(raw) // 2, len(raw) - 9, 40):
        path = tmp_path / f"cut{cut}.csv{suffix}"
        path.write_bytes(raw[:cut])
        msg = _raises_naming(path, r"truncated or corrupt|cannot read", column="x")
        if cut == len(raw) // 2:  # the rows before the break are counted and located
            if codec == "bz2":  # bzip2 decodes whole 900 kB blocks: here, none
                assert "line 1: the bz2-compressed data are truncated or corrupt: not even the header" in msg
                continue
            m = re.search(r"line (\d+): .* the first (\d+) data rows are readable", msg)
            assert m and int(m.group(1)) == int(m.group(2)) + 2, msg
            assert 2000 < int(m.group(2)) < 20_000, msg


@pytest.mark.parametrize("suffix, codec", [(".gz", "gzip"), (".bz2", "bz2"), (".zst", "zstd")])
def test_compressed_csv_that_is_not_compressed(tmp_path, suffix, codec):
    path = tmp_path / f"plain.csv{suffix}"
    path.write_text(_csv_text(100))
    _raises_naming(path, f"the content is text, not {codec}-compressed")
    gz = tmp_path / "packed.csv"  # the other way round
    with pa.CompressedOutputStream(str(gz), codec) as out:
        out.write(_csv_text(100).encode())
    _raises_naming(gz, rf"content is {codec}-compressed data: name the file \.csv{suffix}")


@pytest.mark.parametrize("name", ["x.csv", "x.csv.gz", "x.parquet", "x.arrow", "x.arrows"])
def test_a_directory_named_like_a_data_file(tmp_path, name):
    (tmp_path / name).mkdir()
    _raises_naming(tmp_path / name, "is a directory, not a file")


def test_duplicate_column_names(tmp_path):
    x = np.random.default_rng(0).gamma(2.0, 1.0, 100)
    table = pa.Table.from_arrays([pa.array(x), pa.array(x + 1), pa.array(x)], names=["x", "x", "w"])
    paths = [write(table, tmp_path / "d.parquet"), write(table, tmp_path / "d.arrow"),
             write(table, tmp_path / "d.arrows")]
    (tmp_path / "d.csv").write_text("x,x,w\n" + "".join(f"{v},{v + 1},{v}\n" for v in x))
    paths.append(tmp_path / "d.csv")
    for path in paths:
        for kwargs in ({}, {"column": "x"}, {"column": "w", "weights": "x"}):
            _raises_naming(path, r"2 columns are named 'x'; cannot tell which", **kwargs)
        r = fit_file("gamma", path, column="w")  # the duplicates are not read: no ambiguity
        same_fit(r, expfam.fit("gamma", x))


def test_content_of_another_format_than_the_name_says(tmp_path):
    x = np.random.default_rng(0).gamma(2.0, 1.0, 100)
    table = pa.table({"x": x})
    write(table, tmp_path / "parquet.csv", "parquet")
    write(table, tmp_path / "arrow.csv", "arrow")
    write(table, tmp_path / "arrows.csv", "arrows")
    write(table, tmp_path / "arrow.parquet", "arrow")
    write(table, tmp_path / "parquet.arrow", "parquet")
    write(table, tmp_path / "csv.parquet", "csv")
    write(table, tmp_path / "csv.arrow", "csv")
    np.save(tmp_path / "npy.npy", x)
    (tmp_path / "npy.csv").write_bytes((tmp_path / "npy.npy").read_bytes())
    cases = {
        "parquet.csv": "looks like a Parquet file: rename the file or pass format='parquet'",
        "arrow.csv": "looks like an Arrow IPC file: rename the file or pass format='ipc'",
        "arrows.csv": "looks like an Arrow IPC stream",
        "arrow.parquet": "not a readable Parquet file .*looks like an Arrow IPC file",
        "parquet.arrow": "not an Arrow IPC file or stream .*looks like a Parquet file",
        "csv.parquet": "not a readable Parquet file .*looks like text: .*format='csv'",
        "csv.arrow": "not an Arrow IPC file or stream .*looks like text",
        "npy.csv": "the content is a NumPy .npy array, not CSV text",
    }
    for name, message in cases.items():
        _raises_naming(tmp_path / name, message)
    # and the hint is right: read as what it is
    same_fit(fit_file("gamma", tmp_path / "parquet.csv", format="parquet"), expfam.fit("gamma", x))
    for name in ("empty.parquet", "empty.arrow"):
        (tmp_path / name).write_bytes(b"")
        _raises_naming(tmp_path / name)


def test_corrupt_parquet_pages_name_the_rows_read_before(tmp_path):
    x = np.random.default_rng(0).gamma(2.0, 1.0, 50_000)
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"x": x}), path, row_group_size=10_000, compression="none",
                   write_page_checksum=True)
    col = pq.ParquetFile(path).metadata.row_group(3).column(0)
    raw = bytearray(path.read_bytes())
    for i in range(col.data_page_offset + 100, col.data_page_offset + 116):
        raw[i] ^= 0x5A  # inside the values: only the page's CRC tells
    path.write_bytes(bytes(raw))
    msg = _raises_naming(path, r"cannot read the Parquet data after its first \d+ data rows .*CRC",
                         chunksize=5_000)
    assert 0 < int(re.search(r"first (\d+)", msg).group(1)) <= 30_000


def test_malformed_csv_lines_are_located_exactly(tmp_path):
    lines = _csv_text(30_000).splitlines()
    for i, bad, expected in [
        (20_001, "1.0,2,3", r"row 20000 \(line 20002\): expected 2 field\(s\), got 3"),
        (25_001, "7", r"row 25000 \(line 25002\): expected 2 field\(s\), got 1"),
        (12_001, '"1.0,2', r"row 12000 \(line 12002\): a quoted field runs on"),
    ]:
        edited = list(lines)
        edited[i] = bad
        path = tmp_path / "m.csv"
        path.write_text("\n".join(edited) + "\n")
        _raises_naming(path, expected, column="x", chunksize=2_000)
    path = tmp_path / "latin1.csv"
    path.write_bytes("\n".join(lines[:1000]).encode() + "\n1.5,caf\xe9\n".encode("latin-1"))
    _raises_naming(path, r"row 999 \(line 1001\): not UTF-8 text", column="y")
    gz = tmp_path / "m.csv.gz"
    edited = list(lines)
    edited[20_001] = "1.0,2,3"
    with pa.CompressedOutputStream(str(gz), "gzip") as out:
        out.write(("\n".join(edited) + "\n").encode())
    _raises_naming(gz, r"row 20000 \(line 20002\): expected 2", column="x", chunksize=2_000)


def test_binary_csv_and_other_delimiters(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(bytes(range(256)) * 20)
    _raises_naming(path, "cannot read as CSV; the content is binary data, not CSV text")
    path = tmp_path / "semi.csv"
    path.write_text("x;y\n1;2\n")
    _raises_naming(path, r"no column 'x'; the columns are \['x;y'\] .*delimiter", column="x")


def test_permission_denied(tmp_path, monkeypatch):
    path = write(pa.table({"x": [1.0, 2.0]}), tmp_path / "p.parquet")
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root reads anything
        path.chmod(0)
        try:
            _raises_naming(path, "cannot open the file")
        finally:
            path.chmod(0o644)
    from expfam.io import readers

    def denied(name, *args, **kwargs):
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(readers, "open", denied, raising=False)
    _raises_naming(path, r"cannot open the file \(Permission denied\)")


def test_every_unreadable_file_raises_a_typed_error_naming_it(tmp_path):
    """A sweep: whatever the damage, a FileFormatError (or EmptyDataError) that names the
    file, never an OSError, KeyError or pyarrow error."""
    x = np.random.default_rng(0).gamma(2.0, 1.0, 3000)
    sources = {}
    for fmt in ("parquet", "arrow", "arrows", "csv", "gz"):
        p = write(pa.table({"x": x}), tmp_path / f"src.{fmt}", fmt)
        sources[fmt] = p.read_bytes()
    suffix = {"parquet": ".parquet", "arrow": ".arrow", "arrows": ".arrows", "csv": ".csv",
              "gz": ".csv.gz"}
    rng = np.random.default_rng(1)
    for fmt, raw in sources.items():
        for k in range(12):
            data = bytearray(raw)
            if k < 6:  # truncated
                data = data[: int(len(data) * k / 6)]
            else:  # a run of bytes overwritten
                i = int(rng.integers(0, len(data) - 32))
                data[i:i + 32] = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
            path = tmp_path / f"damaged{k}{suffix[fmt]}"
            path.write_bytes(bytes(data))
            try:
                fit_file("gamma", path)
            except (FileFormatError, EmptyDataError) as exc:
                assert str(path) in str(exc)
            except (NonFiniteError, SupportError) as exc:  # damage that reads as bad values
                assert str(path) in str(exc)


def test_damaged_arrow_ipc_offsets_raise_instead_of_crashing(tmp_path):
    """Arrow reads IPC files zero-copy and trusts them: a string offset past the end made
    the label encoding segfault.  Run in a subprocess, so that a crash fails one test."""
    script = r'''
import sys
import numpy as np, pyarrow as pa, pyarrow.ipc as ipc
from expfam.io import fit_file
from expfam.errors import FileFormatError
n, path = 1000, sys.argv[1]
t = pa.table({"x": np.linspace(0.5, 3.0, n),
              "s": np.array(["alpha", "beta", "gamma"])[np.arange(n) % 3]})
with ipc.new_file(path, t.schema) as w:
    w.write_table(t)
raw = bytearray(open(path, "rb").read())
i = raw.index(t.column("s").chunk(0).buffers()[1].to_pybytes())
raw[i + 400:i + 404] = (2**30).to_bytes(4, "little")  # offset 100 far beyond the data
open(path, "wb").write(bytes(raw))
try:
    fit_file("gamma", path, column="x", by="s")
except FileFormatError as exc:
    print(exc)
'''
    path = tmp_path / "damaged.arrow"
    run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"{path}: cannot read the Arrow IPC data" in run.stdout and "offset" in run.stdout
