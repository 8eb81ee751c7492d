"""The command line and the demo, run for real."""

import subprocess
import sys

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
