"""Plots: valid images of the stated size, whose drawn data are checked against SciPy."""

import struct
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy import stats

import expfam
from expfam.cli import main
from expfam.errors import ModelCapabilityError, ParameterError

pytest.importorskip("matplotlib")
from expfam import plots  # noqa: E402


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def svg_size(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return tuple(float(root.get(k).rstrip("pt")) for k in ("width", "height"))


@pytest.fixture(scope="module")
def fitted():
    x = expfam.Gamma(2.0, 3.0).sample(400, rng=0)
    return x, expfam.fit(expfam.Gamma, x).model


def test_fit_plot_draws_scipys_density(fitted, tmp_path):
    x, model = fitted
    fig = plots.plot_fit(model, x, size=(5.0, 3.0))
    line = fig.axes[0].lines[0]
    law = stats.gamma(float(model.params["shape"]), scale=1 / float(model.params["rate"]))
    np.testing.assert_allclose(line.get_ydata(), law.pdf(line.get_xdata()), rtol=1e-10)
    path = tmp_path / "fit.png"
    plots.save(fig, path)
    assert png_size(path) == (500, 300)  # 100 dpi


def test_discrete_fit_plot_draws_frequencies_and_mass(tmp_path):
    c = expfam.Poisson(3.0).sample(300, rng=1)
    model = expfam.fit(expfam.Poisson, c).model
    fig = plots.plot_fit(model, c)
    ax = fig.axes[0]
    values, counts = np.unique(c, return_counts=True)
    np.testing.assert_allclose([b.get_height() for b in ax.patches], counts / c.size)
    k = ax.lines[0].get_xdata()
    np.testing.assert_allclose(ax.lines[0].get_ydata(), stats.poisson(c.mean()).pmf(k), rtol=1e-10)
    path = tmp_path / "counts.svg"
    plots.save(fig, path)
    assert svg_size(path) == (460.8, 288.0)  # 6.4 x 4.0 inches at 72 pt per inch


def test_qq_plot_quantiles_and_envelope(fitted):
    x, model = fitted
    fig = plots.plot_qq(model, x, n_envelope=200, rng=2)
    ax = fig.axes[0]
    theory, sample = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    law = stats.gamma(float(model.params["shape"]), scale=1 / float(model.params["rate"]))
    np.testing.assert_allclose(theory, law.ppf((np.arange(1, 401) - 0.5) / 400), rtol=1e-9)
    np.testing.assert_array_equal(sample, np.sort(x))
    # the data come from (nearly) the fitted law: most points inside the 95% pointwise band
    inside = ax.collections[0].get_paths()[0].contains_points(np.c_[theory, sample])
    assert inside.mean() > 0.8, inside.mean()
    with pytest.raises(ModelCapabilityError):
        plots.plot_qq(expfam.Poisson(3.0), [1.0, 2.0])


def test_ranking_plot_and_the_command_line(fitted, tmp_path, capsys):
    x, _ = fitted
    result = expfam.select(x, ["gamma", "normal", "lognormal"], rng=0)
    fig = plots.plot_ranking(result)
    ax = fig.axes[0]
    np.testing.assert_allclose(np.asarray(ax.lines[0].get_xdata(), dtype=float),
                               [r.cross_entropy for r in result.ranking])
    ticks = {round(y): t.get_text() for y, t in zip(ax.get_yticks(), ax.get_yticklabels())}
    assert [ticks[y] for y in sorted(ticks, reverse=True)] == [r.family for r in result.ranking]
    data = tmp_path / "x.npy"
    np.save(data, x)
    png = tmp_path / "rank.png"
    assert main(["select", str(data), "--families", "gamma,normal", "--plot", str(png)]) == 0
    assert png_size(png) == (640, 400)
    svg = tmp_path / "qq.svg"
    assert main(["gof", "gamma", str(data), "--n-bootstrap", "20", "--plot", str(svg)]) == 0
    assert svg_size(svg) == (360.0, 360.0)
    capsys.readouterr()
    assert main(["gof", "gamma", str(data), "--plot", str(tmp_path / "q.jpg")]) == 2
    assert "plots are written as .png or .svg" in capsys.readouterr().err
    with pytest.raises(ParameterError):
        plots.save(fig, tmp_path / "x.pdf")
