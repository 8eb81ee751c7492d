"""The data commands' inputs and outputs: every format and standard input (CSV or plain
numbers), ``expfam fit --json / --csv``, non-number cells named by row and column, and
strictly parsed distribution strings; fitted values checked against SciPy and NumPy."""

import csv
import io
import json
import sys

import numpy as np
import pytest
from scipy import stats

import expfam
from expfam.cli import main
from expfam.errors import NonFiniteError, SupportError

pa = pytest.importorskip("pyarrow")
import pyarrow.feather as feather  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


def call(capsys, monkeypatch, *args, stdin: bytes | None = None):
    """Run ``expfam`` in this process; (exit code, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def gamma_data():
    return expfam.Gamma(2.5, 1.5).sample(400, rng=11)


def scipy_gamma(x):
    shape, _, scale = stats.gamma.fit(x, floc=0)
    return shape, 1 / scale


def test_fit_json_matches_scipy_in_every_format(gamma_data, tmp_path, capsys, monkeypatch):
    x = gamma_data
    table = pa.table({"x": x})
    paths = {"npy": tmp_path / "x.npy", "parquet": tmp_path / "x.parquet",
             "feather": tmp_path / "x.feather", "csv": tmp_path / "x.csv"}
    np.save(paths["npy"], x)
    pq.write_table(table, paths["parquet"])
    feather.write_feather(table, paths["feather"])
    paths["csv"].write_text("x\n" + "".join(f"{float(v)!r}\n" for v in x))
    shape, rate = scipy_gamma(x)
    for fmt, path in paths.items():
        code, out, err = call(capsys, monkeypatch, "fit", path, "--family", "gamma", "--json")
        assert code == 0, (fmt, err)
        doc = json.loads(out)
        assert doc["n"] == x.size and doc["converged"] is True
        assert doc["params"]["shape"] == pytest.approx(shape, rel=1e-5), fmt
        assert doc["params"]["rate"] == pytest.approx(rate, rel=1e-5), fmt
        # Fisher-information standard error of the rate at known shape is rate / sqrt(n a);
        # with the shape estimated it is larger
        assert doc["se"]["rate"] > rate / np.sqrt(x.size * shape)


def test_standard_input_plain_numbers_csv_and_npy(gamma_data, tmp_path, capsys, monkeypatch):
    x = gamma_data
    shape, rate = scipy_gamma(x)
    plain = "".join(f"{float(v)!r}\n" for v in x).encode()
    for data in (plain, b"value\n" + plain):  # no header (plain numbers), and a header
        code, out, err = call(capsys, monkeypatch, "fit", "-", "--family", "gamma", "--json",
                              stdin=data)
        assert code == 0, err
        doc = json.loads(out)
        assert doc["n"] == x.size  # the first number is not taken for a header
        assert doc["params"]["shape"] == pytest.approx(shape, rel=1e-5)
        code, out, err = call(capsys, monkeypatch, "select", "-", "--families", "gamma,normal",
                              "--json", stdin=data)
        assert code == 0, err
        assert json.loads(out)["n"] == x.size
    buf = io.BytesIO()
    np.save(buf, x)
    code, out, err = call(capsys, monkeypatch, "fit", "-", "--family", "gamma", "--json",
                          stdin=buf.getvalue())
    assert code == 0, err
    assert json.loads(out)["params"]["rate"] == pytest.approx(rate, rel=1e-5)


def test_fit_csv_output_per_group_matches_numpy(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(3)
    counts = rng.poisson(4.0, 300)
    groups = np.array(["a", "b", "c"])[rng.integers(0, 3, 300)]
    path = tmp_path / "c.csv"
    path.write_text("k,g\n" + "".join(f"{k},{g}\n" for k, g in zip(counts, groups)))
    code, out, err = call(capsys, monkeypatch, "fit", path, "--family", "poisson", "--by", "g",
                          "--csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["group"] for r in rows] == ["a", "b", "c"]
    for r in rows:
        k = counts[groups == r["group"]]
        assert int(r["n"]) == k.size
        assert float(r["rate"]) == pytest.approx(k.mean(), rel=1e-12)
        assert float(r["se_rate"]) == pytest.approx(np.sqrt(k.mean() / k.size), rel=1e-9)
        assert float(r["loglik"]) == pytest.approx(stats.poisson(k.mean()).logpmf(k).sum())
    code, out, err = call(capsys, monkeypatch, "fit", path, "--family", "poisson", "--by", "g",
                          "--json")
    assert [d["group"] for d in json.loads(out)] == ["a", "b", "c"]


def test_non_number_cells_are_named_by_row_and_column(tmp_path, capsys, monkeypatch):
    path = tmp_path / "bad.csv"
    path.write_text("x,w\n1.5,1\n2.0,1\nabc,1\n3.1,\n")
    for args in (["select", path, "--column", "x"], ["gof", "gamma", path, "--column", "x"]):
        code, _, err = call(capsys, monkeypatch, *args)
        assert code == 1
        assert err.count("\n") == 1 and "Traceback" not in err
        assert "column 'x', row 2 (line 4): 'abc' is not a number" in err
    with pytest.raises(SupportError, match="column 'x', row 2"):
        expfam.select(str(path), ["gamma"], column="x")
    good = tmp_path / "w.csv"
    good.write_text("x,w\n1.5,1\n2.0,1\n2.5,1\n3.1,\n")
    with pytest.raises(NonFiniteError, match="column 'w', row 3 \\(line 5\\): missing"):
        expfam.select(str(good), ["gamma"], column="x", weights="w", folds=2)
    # with --debug the traceback follows
    code, _, err = call(capsys, monkeypatch, "select", path, "--column", "x", "--debug")
    assert code == 1 and "Traceback" in err


@pytest.mark.parametrize("text, expected", [
    ("gamma(shape=2, rate=)", "its parameters: gamma(shape, rate)"),
    ("gamma(shpe=2)", "has no parameter 'shpe'; its parameters: gamma(shape, rate)"),
    ("__import__('os')", "unknown family '__import__'; known families: "),
    ("gamma(shape=2, rate=os.system('x'))", "expected a number or a list of numbers"),
])
def test_distribution_strings_are_parsed_strictly(text, expected, capsys, monkeypatch):
    code, out, err = call(capsys, monkeypatch, "kl", text, "gamma(shape=1, rate=1)")
    assert code == 2 and out == ""
    assert expected in err and err.count("\n") == 1


def test_exit_codes_documented_in_help(capsys, monkeypatch):
    code, out, _ = call(capsys, monkeypatch, "--help")
    assert code == 0
    for line in ("0    success", "1    a data or file error", "2    a usage error",
                 "3    an internal error"):
        assert line in out


def test_gof_per_group_with_frequency_weights_csv_and_bootstrap_intervals(tmp_path, capsys,
                                                                          monkeypatch):
    rng = np.random.default_rng(8)
    x = np.r_[rng.gamma(2.0, 1.0, 250), rng.gamma(4.0, 0.5, 250)]
    g = np.repeat(["a", "b"], 250)
    path = tmp_path / "g.csv"
    path.write_text("x,g\n" + "".join(f"{float(v)!r},{k}\n" for v, k in zip(x, g)))
    code, out, err = call(capsys, monkeypatch, "gof", "gamma", path, "--column", "x", "--by", "g",
                          "--n-bootstrap", "200", "--seed", "1", "--intervals", "bootstrap",
                          "--csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["group"], r["parameter"]) for r in rows] == [
        ("a", "shape"), ("a", "rate"), ("b", "shape"), ("b", "rate")]
    for r in rows:
        shape, rate = scipy_gamma(x[g == r["group"]])
        est = {"shape": shape, "rate": rate}[r["parameter"]]
        assert float(r["estimate"]) == pytest.approx(est, rel=1e-5)
        assert int(r["n"]) == 250 and 0 < float(r["pvalue"]) <= 1
        lo, hi = float(r["bootstrap_low"]), float(r["bootstrap_high"])
        wlo, whi = float(r["wald_low"]), float(r["wald_high"])
        # percentile and Wald intervals agree to first order at n = 250
        assert lo < est < hi and abs((hi - lo) / (whi - wlo) - 1) < 0.35
    # integer frequency weights are counts of rows: the same as the repeated data
    counts = tmp_path / "w.csv"
    counts.write_text("k,w\n0,2\n1,3\n2,5\n3,2\n4,1\n")
    code, out, err = call(capsys, monkeypatch, "gof", "poisson", counts, "--column", "k",
                          "--weights", "w", "--n-bootstrap", "50", "--json")
    assert code == 0, err
    doc = json.loads(out)
    k = np.repeat([0, 1, 2, 3, 4], [2, 3, 5, 2, 1])
    assert doc["n"] == 13 and doc["intervals"]["rate"]["estimate"] == pytest.approx(k.mean())
    counts.write_text("k,w\n0,2.5\n1,3\n")
    code, _, err = call(capsys, monkeypatch, "gof", "poisson", counts, "--column", "k",
                        "--weights", "w")
    assert code == 1 and "row 0: weight 2.5 is not an integer" in err
