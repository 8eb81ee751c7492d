"""``expfam select``, ``gof``, ``kl`` and ``sample``, run on real files (in process and as
the ``expfam`` command in a subprocess), checked against SciPy and closed forms."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from expfam.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


def run_cli(*args, stdin=None):
    """The command in a real process (this worktree's package): (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": SRC}
    r = subprocess.run([sys.executable, "-m", "expfam.cli", *map(str, args)], input=stdin,
                       capture_output=True, timeout=300, env=env)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("expfam: error: "), err
    return lines[0]


@pytest.fixture(scope="module")
def gamma_data():
    return np.random.default_rng(11).gamma(2.0, 1 / 3.0, size=2000)


def _kl_quad(p, q, lo, hi):
    """KL(p || q) of two SciPy densities by quadrature (independent of expfam)."""
    def f(x):
        px = p.pdf(x)
        return 0.0 if px == 0 else px * (p.logpdf(x) - q.logpdf(x))
    return integrate.quad(f, lo, hi, limit=200)[0]


# ----------------------------------------------------------------------------------
# kl
# ----------------------------------------------------------------------------------


def test_kl_closed_form_within_a_family_matches_quadrature(capsys):
    assert main(["kl", "gamma(shape=2, rate=3)", "gamma(shape=2.5, rate=3)", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = _kl_quad(stats.gamma(2, scale=1 / 3), stats.gamma(2.5, scale=1 / 3), 0, np.inf)
    assert out["method"] == "closed form" and out["se"] == 0.0
    np.testing.assert_allclose(out["kl"], expected, rtol=1e-7)
    # closed form of two normals: log(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2
    assert main(["kl", "normal(loc=-1, scale=2)", "normal(loc=0.5, scale=1.5)"]) == 0
    text = capsys.readouterr().out
    exact = np.log(1.5 / 2) + (4 + 1.5 ** 2) / (2 * 1.5 ** 2) - 0.5
    assert f"{exact:.10g}" in text and "closed form" in text


def test_kl_of_vector_distributions_in_closed_form(capsys):
    assert main(["kl", "multivariate_normal(mean=[0, 0], cov=[[1, 0.5], [0.5, 1]])",
                 "multivariate_normal(mean=[1, -1], cov=[[2, 0], [0, 1]])", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    s1, s2 = np.array([[1, 0.5], [0.5, 1]]), np.diag([2.0, 1.0])
    d = np.array([1.0, -1.0])
    inv = np.linalg.inv(s2)  # 0.5 (tr(S2^-1 S1) + d' S2^-1 d - k + log det S2 / det S1)
    exact = 0.5 * (np.trace(inv @ s1) + d @ inv @ d - 2 + np.log(np.linalg.det(s2) / np.linalg.det(s1)))
    np.testing.assert_allclose(out["kl"], exact, rtol=1e-12)
    assert "\n" not in out["p"]


def test_kl_across_families_is_monte_carlo_with_a_standard_error(capsys):
    assert main(["kl", "gamma(shape=2, rate=3)", "lognormal(mu=-0.6, sigma=0.7)",
                 "-n", "40000", "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = _kl_quad(stats.gamma(2, scale=1 / 3), stats.lognorm(0.7, scale=np.exp(-0.6)),
                        0, np.inf)
    assert out["method"] == "Monte Carlo" and out["n"] == 40000
    assert 0 < out["se"] < 0.02
    assert abs(out["kl"] - expected) < 4 * out["se"]  # a 4-sigma tolerance


@pytest.mark.parametrize("dist, message", [
    ("gamma(shape=2, scale=3)", "Gamma has no parameter 'scale'; its parameters: gamma(shape, rate)"),
    ("gama(shape=2)", "unknown family 'gama'"),
    ("gamma(2, 3)", "name the parameters, as in gamma(shape, rate)"),
    ("gamma(shape=2", "expected a distribution like"),
    ("__import__('os').system('echo hi')", "expected a distribution like"),
    ("gamma(shape=__import__('os'))", "expected a number or a list of numbers"),
    ("gamma(shape=2, shape=3)", "given twice"),
    ("gamma(shape=-1)", "parameter 'shape' must be"),
    ("gamma(shape=1e999)", "must be finite"),
    ("gamma(**{'shape': 2})", "has no parameter **"),
    ("gamma(shape=[1, 2])", "a batch of (2,) distributions; give one"),
])
def test_bad_distribution_strings_are_one_line_usage_errors(capsys, dist, message):
    assert main(["kl", dist, "gamma(shape=1, rate=1)"]) == 2
    assert message in one_line_error(capsys.readouterr().err)


# ----------------------------------------------------------------------------------
# sample
# ----------------------------------------------------------------------------------


def test_sample_writes_csv_parquet_and_npy_with_the_same_values(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    dist = "gamma(shape=2, rate=3)"
    for name in ("s.csv", "s.parquet", "s.npy"):
        assert main(["sample", dist, "-n", "3000", "-o", str(tmp_path / name), "--seed", "5"]) == 0
    with open(tmp_path / "s.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["x"]
    x_csv = np.array([float(r[0]) for r in rows[1:]])
    x_pq = pq.read_table(tmp_path / "s.parquet").column("x").to_numpy()
    x_npy = np.load(tmp_path / "s.npy")
    assert x_csv.shape == (3000,)
    np.testing.assert_array_equal(x_csv, x_npy)  # repr() round-trips exactly
    np.testing.assert_array_equal(x_pq, x_npy)
    # the law: KS test against SciPy's Gamma(2, scale 1/3) at level 1e-3 (fixed seed)
    assert stats.kstest(x_npy, stats.gamma(2, scale=1 / 3).cdf).pvalue > 1e-3


def test_sample_of_a_vector_family_and_to_standard_output(capsys):
    assert main(["sample", "dirichlet(alpha=[1, 2, 3])", "-n", "500", "-o", "-", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["x0", "x1", "x2"]
    x = np.array(rows[1:], dtype=float)
    np.testing.assert_allclose(x.sum(axis=1), 1.0, atol=1e-12)
    # E[x_i] = alpha_i / sum(alpha); 5 standard errors
    se = np.sqrt(np.array([1, 2, 3]) / 6 * (1 - np.array([1, 2, 3]) / 6) / 7 / 500)
    assert np.all(np.abs(x.mean(axis=0) - np.array([1, 2, 3]) / 6) < 5 * se)


def test_sample_refuses_an_unknown_output_format(tmp_path, capsys):
    assert main(["sample", "normal(loc=0, scale=1)", "-n", "5", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert "unknown output format; known suffixes: .csv" in one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "x.xlsx").exists()


# ----------------------------------------------------------------------------------
# select
# ----------------------------------------------------------------------------------


def test_select_on_a_parquet_file_finds_gamma_and_scipys_fit(tmp_path, gamma_data, capsys):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"y": gamma_data}), path)
    argv = ["select", str(path), "--column", "y", "--families", "gamma,normal,lognormal",
            "--seed", "0"]
    assert main(argv + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 2000 and out["folds"] == 10
    best = out["ranking"][0]
    assert best["family"] == "gamma"
    a, _, scale = stats.gamma.fit(gamma_data, floc=0)
    np.testing.assert_allclose([best["params"]["shape"], best["params"]["rate"]], [a, 1 / scale],
                               rtol=1e-5)
    # AIC = 2k - 2 loglik with SciPy's log-likelihood at its fit
    np.testing.assert_allclose(best["aic"], 4 - 2 * stats.gamma.logpdf(gamma_data, a, scale=scale).sum(),
                               rtol=1e-8)
    assert main(argv + ["--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["family"] for r in rows] == [r["family"] for r in out["ranking"]]
    np.testing.assert_allclose([float(r["cross_entropy"]) for r in rows],
                               [r["cross_entropy"] for r in out["ranking"]], rtol=1e-12)
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "10-fold held-out cross-entropy" in table and table.splitlines()[2].startswith("gamma")


def test_select_per_group_with_weights_from_standard_input(gamma_data):
    rng = np.random.default_rng(2)
    normal = rng.normal(5.0, 1.0, size=1500)
    lines = (["v,g,w"] + [f"{float(v)!r},a,1" for v in gamma_data]
             + [f"{float(v)!r},b,2" for v in normal])
    rc, out, err = run_cli("select", "-", "--column", "v", "--by", "g", "--weights", "w",
                           "--families", "gamma,normal", "--json", "--seed", "1",
                           stdin="\n".join(lines).encode())
    assert rc == 0, err
    out = json.loads(out)
    assert out["groups"] == ["a", "b"]
    a, b = out["results"]
    assert a["ranking"][0]["family"] == "gamma" and b["ranking"][0]["family"] == "normal"
    assert b["n"] == 1500 and b["weight_sum"] == 3000
    # weights 2 on every row: the same MLE as unweighted (mean, sd with ddof=0)
    np.testing.assert_allclose([b["ranking"][0]["params"]["loc"], b["ranking"][0]["params"]["scale"]],
                               [normal.mean(), normal.std()], rtol=1e-9)


def _stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_select_reads_npy_from_standard_input(gamma_data, monkeypatch, capsys):
    buf = io.BytesIO()
    np.save(buf, gamma_data)
    _stdin(monkeypatch, buf.getvalue())
    assert main(["select", "-", "--families", "gamma,normal", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 2000 and out["ranking"][0]["family"] == "gamma"


# ----------------------------------------------------------------------------------
# gof
# ----------------------------------------------------------------------------------


def _anderson_darling(x, cdf):
    """A^2 = -n - (1/n) sum (2i - 1) [log F(x_(i)) + log(1 - F(x_(n+1-i)))]."""
    u = np.sort(cdf(x))
    n = u.size
    i = np.arange(1, n + 1)
    return -n - np.mean((2 * i - 1) * (np.log(u) + np.log1p(-u[::-1])))


def test_gof_on_a_csv_file_against_scipy(tmp_path, gamma_data, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x\n" + "\n".join(repr(float(v)) for v in gamma_data[:500]) + "\n")
    assert main(["gof", "gamma", str(path), "--n-bootstrap", "200", "--seed", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    x = gamma_data[:500]
    a, _, scale = stats.gamma.fit(x, floc=0)
    np.testing.assert_allclose(out["value"], _anderson_darling(x, stats.gamma(a, scale=scale).cdf),
                               rtol=1e-5)
    assert out["statistic"] == "ad" and out["n_bootstrap"] == 200
    # p = (1 + #exceed) / (B + 1), its Monte Carlo se sqrt(p (1 - p) / B); true family: not tiny
    p = out["pvalue"]
    np.testing.assert_allclose(out["pvalue_se"], np.sqrt(p * (1 - p) / 200))
    assert p > 0.001
    assert main(["gof", "normal", str(path), "--statistic", "ks", "--n-bootstrap", "200",
                 "--seed", "0"]) == 0
    text = capsys.readouterr().out
    # a skewed sample is far from normal: no bootstrap statistic reaches it, p = 1 / 201
    assert "Kolmogorov-Smirnov" in text and f"p = {1 / 201:.4g}" in text


# ----------------------------------------------------------------------------------
# Mistakes: one line, documented exit codes
# ----------------------------------------------------------------------------------


def test_input_mistakes(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n1.0\n2.0\noops\n")
    assert main(["gof", "gamma", str(bad)]) == 1
    assert "column 'x', row 2 (line 4): 'oops' is not a number" in one_line_error(capsys.readouterr().err)
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([1.0, np.nan, 2.0]))
    assert main(["gof", "gamma", str(nan)]) == 1
    assert "non-finite" in one_line_error(capsys.readouterr().err)
    assert main(["select", str(nan), "--column", "x"]) == 2
    assert "need a table" in one_line_error(capsys.readouterr().err)
    assert main(["select", str(tmp_path / "absent.csv")]) == 1
    assert "no such file" in one_line_error(capsys.readouterr().err)
    assert main(["gof", "weibull", str(bad), "--param", "q=1"]) == 2
    assert "Weibull has no fixed parameter 'q'" in one_line_error(capsys.readouterr().err)
    assert main(["gof", "poisson", str(bad), "--statistic", "ad"]) in (1, 2)
    one_line_error(capsys.readouterr().err)
    _stdin(monkeypatch, b"x\n1.0\n-2.0\n")
    assert main(["gof", "gamma", "-"]) == 1
    captured = capsys.readouterr()
    line = one_line_error(captured.err)
    assert captured.out == "" and "outside the support (0, inf); first at index 1: -2.0" in line
    _stdin(monkeypatch, b"x\n1.0\nabc\n")
    assert main(["gof", "gamma", "-"]) == 1
    line = one_line_error(capsys.readouterr().err)
    assert "<stdin>: column 'x', row 1 (line 3): 'abc' is not a number" in line
    assert "expfam-stdin" not in line  # the temporary file is never named
