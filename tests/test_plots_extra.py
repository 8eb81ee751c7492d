"""PP plot, empirical vs fitted CDF, the seed's KL-vs-parameter curve and learning curves:
the drawn numbers checked against SciPy, closed forms and order statistics, and each
figure written as a valid PNG or SVG of the stated size."""

import numpy as np
import pytest
from scipy import stats

import expfam
from expfam.cli import main
from expfam.errors import ConvergenceWarning, InputTypeError, ModelCapabilityError, ParameterError, ShapeError

pytest.importorskip("matplotlib")
from expfam import plots  # noqa: E402
from tests.test_plots import png_size, svg_size  # noqa: E402


@pytest.fixture(scope="module")
def gamma_fit():
    x = expfam.Gamma(2.0, 3.0).sample(300, rng=0)
    result = expfam.fit(expfam.Gamma, x)
    shape, rate = (float(result.params[k]) for k in ("shape", "rate"))
    return x, result, stats.gamma(shape, scale=1 / rate)


def test_pp_plot_points_and_order_statistic_envelope(gamma_fit, tmp_path):
    x, result, law = gamma_fit
    fig = plots.plot_pp(result.model, x, n_envelope=999, rng=3, size=(4.0, 4.0))
    ax = fig.axes[0]
    n = x.size
    p = (np.arange(1, n + 1) - 0.5) / n
    np.testing.assert_allclose(ax.lines[0].get_xdata(), p)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), law.cdf(np.sort(x)), rtol=1e-10)
    # the envelope: quantiles of F(X_(i)) under the model, i.e. of the uniform order
    # statistic Beta(i, n + 1 - i); 999 simulations estimate them to about 0.01
    verts = ax.collections[0].get_paths()[0].vertices
    lo = np.array([verts[np.isclose(verts[:, 0], v, rtol=0, atol=1e-12), 1].min() for v in p])
    hi = np.array([verts[np.isclose(verts[:, 0], v, rtol=0, atol=1e-12), 1].max() for v in p])
    i = np.arange(1, n + 1)
    np.testing.assert_allclose(lo, stats.beta.ppf(0.025, i, n + 1 - i), atol=0.015)
    np.testing.assert_allclose(hi, stats.beta.ppf(0.975, i, n + 1 - i), atol=0.015)
    path = tmp_path / "pp.png"
    plots.save(fig, path)
    assert png_size(path) == (400, 400)


def test_cdf_plot_empirical_steps_fitted_law_and_dkw_band(gamma_fit, tmp_path):
    x, result, law = gamma_fit
    fig = plots.plot_cdf(result.model, x, level=0.9)
    ax = fig.axes[0]
    xs = np.sort(x)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), xs)
    ecdf = np.searchsorted(xs, xs, side="right") / xs.size  # independent ECDF
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ecdf)
    grid = ax.lines[1].get_xdata()
    np.testing.assert_allclose(ax.lines[1].get_ydata(), law.cdf(grid), rtol=1e-10)
    # DKW: P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2) = 0.1
    eps = np.sqrt(np.log(20.0) / (2 * xs.size))
    verts = ax.collections[0].get_paths()[0].vertices
    assert verts[:, 1].max() == pytest.approx(1.0)
    top = verts[np.isclose(verts[:, 0], xs[150])][:, 1]
    # a step band: at x_(i) its edges jump from the previous level to this one
    for level in (ecdf[150] + eps, ecdf[150] - eps, ecdf[149] + eps, ecdf[149] - eps):
        assert np.any(np.isclose(top, level, rtol=0, atol=1e-12)), level
    assert np.isclose(top.max(), ecdf[150] + eps) and np.isclose(top.min(), ecdf[149] - eps)
    path = tmp_path / "cdf.svg"
    plots.save(fig, path)
    assert svg_size(path) == (460.8, 288.0)


def test_cdf_and_pp_plots_of_counts(tmp_path):
    c = expfam.Poisson(3.0).sample(200, rng=4)
    model = expfam.fit(expfam.Poisson, c).model
    ax = plots.plot_cdf(model, c).axes[0]
    k = ax.lines[1].get_xdata()
    np.testing.assert_allclose(ax.lines[1].get_ydata(), stats.poisson(c.mean()).cdf(k), rtol=1e-10)
    fig = plots.plot_pp(model, c, n_envelope=20, rng=0)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(),
                               stats.poisson(c.mean()).cdf(np.sort(c)), rtol=1e-10)


def test_kl_curve_normal_location_closed_form(tmp_path):
    # along the location with the scale at its MLE, the sample cross-entropy difference
    # is exactly (mu - mu_hat)^2 / (2 sigma_hat^2): the mean of x is mu_hat
    x = expfam.Normal(1.0, 2.0).sample(500, rng=5)
    result = expfam.fit(expfam.Normal, x)
    mu, sigma = x.mean(), x.std()
    c = plots.kl_curve(result, x, "loc", n_points=21)
    np.testing.assert_allclose(c["kl"], (c["values"] - mu) ** 2 / (2 * sigma**2), atol=1e-12)
    assert c["mle"] == pytest.approx(mu)
    se = result.se["loc"]
    np.testing.assert_allclose(c["values"][[0, -1]], [mu - 4 * se, mu + 4 * se])
    logp = stats.norm(mu, sigma).logpdf(x)
    assert c["cross_entropy"] == pytest.approx(-logp.mean())
    assert c["cross_entropy_se"] == pytest.approx(logp.std(ddof=1) / np.sqrt(x.size))
    fig = plots.plot_kl_curve(result, x, "loc", size=(5.0, 4.0))
    path = tmp_path / "kl.png"
    plots.save(fig, path)
    assert png_size(path) == (500, 400)


def test_kl_curve_gamma_shape_against_scipy(gamma_fit):
    x, result, law = gamma_fit
    values = np.array([1.5, 2.0, float(result.params["shape"]), 2.5])
    c = plots.kl_curve(result, x, "shape", values=values)
    rate = float(result.params["rate"])
    for v, kl, se in zip(values, c["kl"], c["se"]):
        d = law.logpdf(x) - stats.gamma(v, scale=1 / rate).logpdf(x)
        assert kl == pytest.approx(d.mean(), abs=1e-12)
        assert se == pytest.approx(d.std(ddof=1) / np.sqrt(x.size), abs=1e-12)
    assert np.all(c["kl"] >= -1e-12) and c["kl"][2] == pytest.approx(0.0, abs=1e-12)
    # the default grid stays inside the domain of a positive parameter
    c = plots.kl_curve(result, x, "shape", span=1e3)
    assert c["values"][0] == pytest.approx(float(result.params["shape"]) / 4)
    with pytest.raises(ParameterError, match="its parameters: shape, rate"):
        plots.kl_curve(result, x, "scale")
    with pytest.raises(ParameterError, match="values"):
        plots.kl_curve(result, x, "shape", values=[1.0, -1.0])
    with pytest.raises(InputTypeError):
        plots.kl_curve(result.model, x, "shape")


def test_learning_curve_draws_the_trace(tmp_path):
    x = expfam.Gamma(2.0, 3.0).sample(400, rng=6)
    # full batch: the traced cross-entropy at step t is that of the iterate after step t-1
    res = expfam.fit_sgd(expfam.Gamma, x, batch_size=x.size, max_steps=8, rng=0)
    tr = res.trace
    fig = plots.plot_learning_curve(res)
    top, bottom = fig.axes
    np.testing.assert_array_equal(top.lines[0].get_xdata(), tr.step)
    params = expfam.Gamma.params_from_natural(tr.natural[:-1], {})
    want = [-stats.gamma(a, scale=1 / b).logpdf(x).mean()
            for a, b in zip(params["shape"], params["rate"])]
    np.testing.assert_allclose(top.lines[0].get_ydata()[1:], want, rtol=1e-9)
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), np.maximum(tr.residual_norm, 1e-300))
    path = tmp_path / "learn.svg"
    plots.save(fig, path)
    assert svg_size(path) == (460.8, 360.0)
    with pytest.raises(InputTypeError):
        plots.plot_learning_curve(x)
    with pytest.warns(ConvergenceWarning):
        batch = expfam.fit_sgd(expfam.Gamma, np.c_[x, x], batch_size=50, max_steps=3, rng=0)
    with pytest.raises(ModelCapabilityError, match="batch"):
        plots.plot_learning_curve(batch)


def test_empty_trace_and_bad_level(gamma_fit):
    from expfam.learn.trace import TraceRecorder

    with pytest.raises(ShapeError, match="no recorded step"):
        plots.plot_learning_curve(TraceRecorder(False).freeze())
    x, result, _ = gamma_fit
    with pytest.raises(ParameterError, match="level"):
        plots.plot_cdf(result.model, x, level=1.5)


def test_fit_command_writes_the_plot(gamma_fit, tmp_path):
    x, _, law = gamma_fit
    data = tmp_path / "x.npy"
    np.save(data, x)
    out = tmp_path / "fit.svg"
    assert main(["fit", str(data), "--family", "gamma", "--plot", str(out)]) == 0
    assert svg_size(out) == (460.8, 288.0)
    assert main(["fit", str(data), "--family", "gamma", "--plot", str(tmp_path / "f.gif")]) == 2
