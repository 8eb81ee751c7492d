"""The command line and the demo, run for real."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import expfam
from expfam import datasets
from expfam.cli import main


def test_families_lists_all_families(capsys):
    assert main(["families"]) == 0
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) >= 22
    assert "weibull" in out and "k" in out


def test_fit_command_on_a_csv_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 0.5, size=500)
    path = tmp_path / "data.csv"
    path.write_text("x,g\n" + "\n".join(f"{float(v)!r},{'ab'[i % 2]}" for i, v in enumerate(x)))
    assert main(["fit", str(path), "--family", "gamma", "--column", "x"]) == 0
    out = capsys.readouterr().out
    a, _, scale = stats.gamma.fit(x, floc=0)
    assert f"{a:.6g}" in out
    assert main(["fit", str(path), "--family", "gamma", "--column", "x", "--by", "g"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["a", "b"]


def test_fit_command_reports_bad_rows(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("x\n1.0\n2.0\noops\n")
    assert main(["fit", str(path), "--family", "normal"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("expfam: error:") and "row 2 (line 4)" in err and "'oops'" in err
    path.write_text("x\n1.0\n-2.0\n")
    assert main(["fit", str(path), "--family", "gamma"]) == 1
    assert "row 1 (line 3): value -2.0" in capsys.readouterr().err


def test_fixed_parameters_from_the_command_line(tmp_path, capsys):
    x = expfam.Weibull(k=1.5, scale=2.0).sample(300, rng=1)
    path = tmp_path / "w.npy"
    np.save(path, x)
    assert main(["fit", str(path), "--family", "weibull", "--param", "k=1.5"]) == 0
    expected = expfam.fit(expfam.Weibull, x, k=1.5).params["scale"]
    assert f"{float(expected):.6g}" in capsys.readouterr().out


def test_demo_prints_tables_and_writes_the_plot(tmp_path):
    png = tmp_path / "demo.png"
    result = subprocess.run(
        [sys.executable, "-m", "expfam.cli", "demo", "--n", "2000", "--png", str(png)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for word in ("Rutherford", "AIC", "BIC", "converged", "cross-entropy", "KL"):
        assert word in out
    assert png.stat().st_size > 10_000
    # the demo's grid: the row of max log-likelihood is the row of min MC cross-entropy
    row = [line for line in out.splitlines() if line.rstrip().endswith(("LC", "LCK"))]
    assert row, out


def test_rutherford_geiger_poisson_fit_matches_published_mean():
    counts, freq = datasets.rutherford_geiger()
    assert freq.sum() == 2608
    r = expfam.fit(expfam.Poisson, counts, weights=freq)
    # Rutherford & Geiger report 10097 particles in 2608 intervals: 3.87 per interval
    np.testing.assert_allclose(r.params["rate"], 10097 / 2608, rtol=1e-12)


# ----------------------------------------------------------------------------------
# Mistakes: one line on stderr, a documented exit code, no traceback unless --debug
# ----------------------------------------------------------------------------------

PYTHON_KEYWORDS = re.compile(r"skip_invalid|pseudo_count|format='|column=\[|(?<!--param )(?<!--param: )\b(n_categories|n|k)=")


def run_cli(*args, cwd=None):
    """``python -m expfam.cli`` in a subprocess: (exit code, stdout, stderr)."""
    r = subprocess.run([sys.executable, "-m", "expfam.cli", *map(str, args)],
                       capture_output=True, text=True, timeout=300, cwd=cwd)
    return r.returncode, r.stdout, r.stderr


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("expfam: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def bad_inputs(tmp_path):
    """Files that a user may hand to ``expfam fit`` by mistake."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    x = expfam.Gamma(2.0, 1.0).sample(200, rng=0)
    files = {"npy": tmp_path / "x.npy", "object": tmp_path / "objects.npy",
             "parquet_named_csv": tmp_path / "table.csv", "text_npy": tmp_path / "text.npy",
             "bad_row": tmp_path / "bad.csv", "constant": tmp_path / "constant.csv",
             "counts": tmp_path / "counts.csv", "xlsx": tmp_path / "data.xlsx",
             "parquet": tmp_path / "t.parquet"}
    np.save(files["npy"], x)
    np.save(files["object"], np.array([1.0, "a", None], dtype=object), allow_pickle=True)
    pq.write_table(pa.table({"x": x}), files["parquet_named_csv"])
    pq.write_table(pa.table({"x": x}), files["parquet"])
    files["text_npy"].write_text("x\n1.0\n")
    files["bad_row"].write_text("x\n1.0\n2.0\noops\n")
    files["constant"].write_text("x\n3.0\n3.0\n")
    files["counts"].write_text("x\n0\n1\n")
    files["xlsx"].write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "dir.csv").mkdir()
    files["dir"] = tmp_path / "dir.csv"
    return files


# (arguments, exit code, what the message says); {name} is a file of bad_inputs
MISTAKES = [
    # usage errors: 2
    (["fit", "{npy}", "--family", "weibull", "--param", "k=abc"], 2, "--param: k=abc: 'abc' is not a number"),
    (["fit", "{npy}", "--family", "weibull", "--param", "k"], 2, "expected NAME=VALUE"),
    (["fit", "{npy}", "--family", "weibull", "--param", "k=nan"], 2, "must be finite"),
    (["fit", "{npy}", "--family", "weibull", "--param", "q=1"], 2, "Weibull has no fixed parameter 'q'"),
    (["fit", "{npy}", "--family", "weibull", "--param", "k=-1"], 2, "parameter 'k' must be"),
    (["fit", "{npy}", "--family", "weibull"], 2, "needs the fixed parameter k: pass --param k=VALUE"),
    (["fit", "{npy}", "--family", "nosuch"], 2, "unknown family 'nosuch'"),
    (["fit", "{npy}", "--family", "gamma", "--chunksize", "0"], 2, "--chunksize: expected an integer >= 1"),
    (["fit", "{npy}", "--family", "gamma", "--pseudo-count", "-1"], 2, "--pseudo-count: expected a finite number > 0"),
    (["fit", "{npy}", "--family", "gamma", "--column", "x"], 2, "need a table"),
    (["fit", "{npy}"], 2, "required: --family"),
    (["fit", "{npy}", "--family", "gamma", "--nope"], 2, "unrecognized arguments: --nope"),
    (["nope"], 2, "invalid choice: 'nope'"),
    (["fit", "{counts}", "--family", "categorical"], 2, "needs --param n_categories=K"),
    # data and file errors: 1
    (["fit", "{object}", "--family", "gamma"], 1, "holds Python objects (dtype object)"),
    (["fit", "{text_npy}", "--family", "gamma"], 1, "not a .npy file; the content is text: rename the file or pass --format csv"),
    (["fit", "{parquet_named_csv}", "--family", "gamma"], 1, "looks like a Parquet file: rename the file or pass --format parquet"),
    (["fit", "{bad_row}", "--family", "normal"], 1, "row 2 (line 4): 'oops' is not a number; --skip-invalid drops invalid rows"),
    (["fit", "{constant}", "--family", "normal"], 1, "Pass --pseudo-count N to regularise"),
    (["fit", "{xlsx}", "--family", "gamma"], 1, "(or pass --format parquet / csv / ipc)"),
    (["fit", "{parquet}", "--family", "dirichlet", "--column", "x"], 1, "pass --column A,B,... naming one column"),
    (["fit", "{parquet}", "--family", "gamma", "--column", "nope"], 1, "no column 'nope'"),
    (["fit", "{dir}", "--family", "gamma"], 1, "is a directory"),
    (["fit", "absent.parquet", "--family", "gamma"], 1, "absent.parquet: no such file"),
    (["fit", "absent.npy", "--family", "gamma"], 1, "absent.npy: no such file"),
]


@pytest.mark.parametrize("argv, code, message", MISTAKES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_mistakes_print_one_line_with_a_documented_exit_code(bad_inputs, capsys, argv, code, message):
    argv = [a.format(**bad_inputs) for a in argv]
    assert main(argv) == code
    line = one_line_error(capsys.readouterr().err)
    assert message in line
    assert not PYTHON_KEYWORDS.search(line), line  # the flags, not the Python keywords


def test_the_reported_mistakes_in_a_real_process(bad_inputs, tmp_path):
    """The issue's three: --param k=abc, a Parquet file named .csv, an object-dtype .npy."""
    for argv, code in [(["fit", bad_inputs["npy"], "--family", "weibull", "--param", "k=abc"], 2),
                       (["fit", bad_inputs["parquet_named_csv"], "--family", "gamma"], 1),
                       (["fit", bad_inputs["object"], "--family", "gamma"], 1)]:
        rc, out, err = run_cli(*argv, cwd=tmp_path)
        assert rc == code, err
        one_line_error(err)
        assert out == ""


def test_debug_adds_the_traceback_and_keeps_the_exit_code(bad_inputs, capsys):
    for argv in (["--debug", "fit", str(bad_inputs["object"]), "--family", "gamma"],
                 ["fit", str(bad_inputs["object"]), "--family", "gamma", "--debug"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and "FileFormatError" in err
        assert err.strip().splitlines()[-1].startswith("expfam: error: ")
    rc, _, err = run_cli("fit", bad_inputs["bad_row"], "--family", "normal", "--debug")
    assert rc == 1 and "Traceback" in err and "NonFiniteError" not in err.splitlines()[-1]


def test_a_bug_is_exit_code_3_in_one_line(monkeypatch, capsys):
    import expfam.cli as cli

    def broken(args):
        raise RuntimeError("something impossible")

    monkeypatch.setattr(cli, "_run", broken)
    assert main(["families"]) == 3
    line = one_line_error(capsys.readouterr().err)
    assert "RuntimeError: something impossible" in line and "--debug" in line
    assert main(["families", "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_run", interrupted)
    assert main(["families"]) == 130
    assert capsys.readouterr().err.strip() == "expfam: interrupted"


def test_warnings_are_one_line_naming_the_flags(monkeypatch, capsys):
    import warnings

    import expfam.cli as cli

    def warns(args):
        warnings.warn("the fit did not converge;\npass pseudo_count=... to regularise",  # noqa: B028
                      expfam.errors.ConvergenceWarning)

    monkeypatch.setattr(cli, "_run", warns)
    assert main(["families"]) == 0
    err = capsys.readouterr().err
    assert err == ("expfam: warning: the fit did not converge; pass --pseudo-count N to "
                   "regularise\n")


def test_exit_codes_are_documented_in_help_and_readme(capsys):
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert main(["fit", "--help"]) == 0
    fit_help = capsys.readouterr().out
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for text in (help_text, fit_help, readme):
        assert "--debug" in text
        for code in (0, 1, 2, 3, 130):
            assert re.search(rf"^\s*\|?\s*`?{code}`?\s", text, re.M), (code, text[-1500:])
