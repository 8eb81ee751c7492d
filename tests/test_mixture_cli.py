"""``expfam mixture`` end to end (the installed ``expfam`` entry point in a subprocess) and
:func:`expfam.plots.plot_mixture`.

Oracles: the same fit through the Python API on the same values (the table's and the
JSON's numbers), the documented exit codes, and the PNG format (signature and the IHDR
size of a figure of the stated inches at 100 dpi).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import expfam
from expfam.datasets import old_faithful
from tests.test_plots import png_size

pytest.importorskip("matplotlib")

SRC = str(Path(expfam.__file__).resolve().parents[1])
EXE = Path(sys.executable).with_name("expfam")


def run_expfam(*args):
    """The installed console script when present (else ``python -c``), with this checkout
    first on the path: (exit code, stdout, stderr)."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [str(EXE)] if EXE.exists() else [sys.executable, "-c",
                                             "import sys; from expfam.cli import main; sys.exit(main())"]
    r = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, env=env,
                       timeout=300)
    return r.returncode, r.stdout, r.stderr



@pytest.fixture(scope="module")
def faithful_csv(tmp_path_factory):
    e, w = old_faithful()
    path = tmp_path_factory.mktemp("cli") / "faithful.csv"
    pd.DataFrame({"eruptions": e, "waiting": w}).to_csv(path, index=False)
    return path, e, w


def test_cli_json_and_table_match_the_api(faithful_csv, tmp_path):
    path, e, _ = faithful_csv
    want = expfam.fit_mixture("gamma", path, 2, column="eruptions", n_init=2, rng=0)
    png = tmp_path / "fit.png"
    code, out, err = run_expfam("mixture", path, "--family", "gamma", "-k", "2",
                                "--column", "eruptions", "--n-init", "2", "--json", "--plot", png)
    assert code == 0, err
    d = json.loads(out)
    assert d["n"] == 272 and d["converged"] is True
    np.testing.assert_allclose([c["weight"] for c in d["components"]], want.weights, rtol=1e-12)
    np.testing.assert_allclose([c["params"]["shape"] for c in d["components"]],
                               [c.params["shape"] for c in want.components], rtol=1e-12)
    np.testing.assert_allclose([c["weight_se"] for c in d["components"]], want.se["weights"], rtol=1e-8)
    np.testing.assert_allclose(d["loglik"], want.loglik, rtol=1e-12)
    np.testing.assert_allclose(d["bic"], 5 * np.log(272) - 2 * want.loglik, rtol=1e-12)
    # the mixture in the JSON is the fitted law: its density on the data gives the loglik
    m = expfam.Mixture.from_json(json.dumps(d["mixture"]))
    np.testing.assert_allclose(m.logpdf(e).sum(), want.loglik, rtol=1e-9)

    assert png_size(Path(png)) == (640, 400)


def test_cli_table_in_process(faithful_csv, capsys):
    from expfam.cli import main

    path, _, _ = faithful_csv
    want = expfam.fit_mixture("gamma", path, 2, column="eruptions", n_init=2, rng=0)
    assert main(["mixture", str(path), "--family", "gamma", "-k", "2", "--column", "eruptions",
                 "--n-init", "2"]) == 0
    out = capsys.readouterr().out
    assert "weight" in out and "shape" in out and "BIC" in out and "converged = True" in out
    assert f"{want.weights[0]:.6g} ± {want.se['weights'][0]:.2g}" in out
    assert f"BIC = {want.bic:.8g}" in out


def test_cli_bad_input_exit_codes(faithful_csv, tmp_path, capsys):
    from expfam.cli import main

    path, _, _ = faithful_csv
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n1.0\n2.0\n-3.0\n")
    assert main(["mixture", str(bad), "--family", "gamma", "-k", "2"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("expfam: error:")
    assert "row 2 (line 4)" in err and "outside the support" in err
    assert main(["mixture", str(path), "--family", "nosuchfamily"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["mixture", str(tmp_path / "none.csv"), "--family", "gamma"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["mixture", str(path), "--family", "gamma", "-k", "0"]) == 2
    capsys.readouterr()
    assert main(["mixture", str(path), "--family", "gamma", "--column", "nope"]) == 1
    assert "no column 'nope'" in capsys.readouterr().err
    assert main(["mixture", str(path), "--family", "gamma", "--column", "eruptions",
                 "--plot", str(tmp_path / "x.jpg")]) == 2
    assert ".png or .svg" in capsys.readouterr().err


def test_plot_mixture_scalar_and_2d(tmp_path):
    from expfam.plots import plot_mixture, save

    e, w = old_faithful()
    r1 = expfam.fit_mixture("normal", e, 2, rng=0)
    fig = plot_mixture(r1, e, size=(5.0, 3.0))
    ax = fig.axes[0]
    # the mixture curve is the sum of the weighted component curves, and integrates to ~1
    curves = [ln.get_ydata() for ln in ax.get_lines()]
    np.testing.assert_allclose(curves[0], curves[1] + curves[2], rtol=1e-12)
    grid = ax.get_lines()[0].get_xdata()
    dens = np.exp(r1.mixture.logpdf(grid))
    np.testing.assert_allclose(curves[0], dens, rtol=1e-10)
    save(fig, tmp_path / "a.png")
    assert png_size(tmp_path / "a.png") == (500, 300)
    X = np.column_stack([e, w])
    r2 = expfam.fit_mixture("multivariate_normal", X, 2, rng=0)
    fig = plot_mixture(r2, X, labels=["eruptions", "waiting"])
    save(fig, tmp_path / "b.png")
    assert png_size(tmp_path / "b.png") == (640, 400)
    with pytest.raises(expfam.errors.ShapeError):
        plot_mixture(r2, e)
    with pytest.raises(expfam.errors.InputTypeError):
        plot_mixture(object(), e)
