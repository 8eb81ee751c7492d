"""Plots (matplotlib, an optional extra): a fitted law over the data, QQ plots with a
simulation envelope, and the cross-entropy ranking with error bars.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no GUI
backend, no global state); save it with ``fig.savefig("out.png")`` or :func:`save`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputTypeError, ModelCapabilityError, ShapeError

__all__ = ["plot_fit", "plot_qq", "plot_ranking", "plot_mixture", "save"]


def _figure(size):
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError("plots need matplotlib: pip install 'expfam[plot]'") from exc
    return Figure(figsize=size, dpi=100)


def _scalar(model, data) -> np.ndarray:
    from ._validation import as_float_array, check_finite, check_nonempty

    if not hasattr(model, "logpdf") or not hasattr(model, "event_ndim"):
        raise InputTypeError(f"expected a fitted expfam distribution; got {type(model).__name__}")
    if model.event_ndim or getattr(model, "batch_shape", ()):
        raise ModelCapabilityError("plots show one distribution of scalar observations")
    x = as_float_array(data)
    check_nonempty(x)
    if x.ndim != 1:
        raise ShapeError(f"data: expected shape (n,); got {x.shape}")
    check_finite(x)
    return x


def plot_fit(model: Any, data: Any, *, bins: int | str = "auto", size=(6.4, 4.0)):
    """Histogram of the data (bars of the frequencies for discrete families) with the
    fitted density (mass function).

    Parameters
    ----------
    model : ExponentialFamily
        A single fitted distribution of scalar observations.
    data : array_like, shape (n,)
    bins : int or str
        Histogram bins (continuous families), as :func:`numpy.histogram_bin_edges`.
    size : (float, float)
        Figure size in inches (100 dpi).

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = _scalar(model, data)
    fig = _figure(size)
    ax = fig.add_subplot()
    name = type(model).__name__
    if model.discrete:
        values, counts = np.unique(x, return_counts=True)
        ax.bar(values, counts / x.size, width=0.8, alpha=0.5, label="data (frequency)")
        k = np.arange(max(0.0, values.min()), values.max() + 1)
        ax.plot(k, model.pdf(k), "o-", color="C3", label=f"{name} fit (mass)")
    else:
        edges = np.histogram_bin_edges(x, bins=bins)
        ax.hist(x, bins=edges, density=True, alpha=0.5, label="data (density)")
        grid = np.linspace(edges[0], edges[-1], 400)
        ax.plot(grid, model.pdf(grid), color="C3", label=f"{name} fit")
    ax.set_xlabel("x")
    ax.legend()
    ax.set_title(repr(model))
    return fig


def plot_qq(model: Any, data: Any, *, n_envelope: int = 99, level: float = 0.95, rng: Any = None,
            size=(5.0, 5.0)):
    """QQ plot of the data against the fitted law, with a pointwise simulation envelope.

    The envelope holds the central ``level`` of the sorted samples of ``n_envelope``
    data sets of the same size drawn from the model (not refitted: a plot, not a test;
    use :func:`expfam.gof` for the p-value).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ._validation import as_rng, check_int

    x = np.sort(_scalar(model, data))
    if model.discrete:
        raise ModelCapabilityError("a QQ plot needs a continuous family")
    m = check_int(n_envelope, "n_envelope", 2)
    n = x.size
    p = (np.arange(1, n + 1) - 0.5) / n  # plotting positions
    theory = model.to_scipy().ppf(p)
    sims = np.sort(model.sample((m, n), rng=as_rng(rng)), axis=1)
    lo, hi = np.quantile(sims, [(1 - level) / 2, (1 + level) / 2], axis=0)
    fig = _figure(size)
    ax = fig.add_subplot()
    ax.fill_between(theory, lo, hi, color="0.85", label=f"{100 * level:g}% envelope ({m} simulations)")
    ax.plot(theory, x, ".", ms=3, label="data")
    ax.plot(theory[[0, -1]], theory[[0, -1]], color="C3", lw=1)
    ax.set_xlabel(f"{type(model).__name__} quantiles")
    ax.set_ylabel("sample quantiles")
    ax.legend()
    return fig


def plot_ranking(selection: Any, *, size=(6.4, 4.0)):
    """Held-out cross-entropy of each family with error bars of 2 standard errors
    (:func:`expfam.select`'s result), best at the top."""
    rows = getattr(selection, "ranking", None)
    if rows is None:
        raise InputTypeError("expected a SelectionResult (one per group: pass result[label])")
    if not rows:
        raise ShapeError("no family was fitted: nothing to plot")
    fig = _figure(size)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    ax.errorbar([r.cross_entropy for r in rows], y, xerr=[2 * r.cross_entropy_se for r in rows],
                fmt="o", capsize=3)
    ax.set_yticks(y, [r.family for r in rows])
    ax.set_xlabel("held-out cross-entropy (nats/observation), +- 2 se")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------
# PP plot, empirical vs fitted CDF, the KL-vs-parameter curve, learning curves
# ----------------------------------------------------------------------------------

__all__ += ["plot_pp", "plot_cdf", "kl_curve", "plot_kl_curve", "plot_learning_curve"]


def plot_pp(model: Any, data: Any, *, n_envelope: int = 99, level: float = 0.95, rng: Any = None,
            size=(5.0, 5.0)):
    """PP plot: the fitted CDF at the sorted data against the plotting positions
    ``(i - 1/2) / n``, with a pointwise simulation envelope.

    The envelope holds the central ``level`` of ``F(x_(i))`` over ``n_envelope`` data sets
    of the same size drawn from the model (not refitted: a picture, not a test; use
    :func:`expfam.gof` for a p-value).  Under the model ``F(x_(i))`` is the ``i``-th
    uniform order statistic, so the points scatter about the diagonal.

    Parameters
    ----------
    model : ExponentialFamily
        A single fitted distribution of scalar observations.
    data : array_like, shape (n,)
    n_envelope : int
        Simulated data sets for the envelope.
    level : float
        Coverage of the pointwise envelope, in (0, 1).
    rng : numpy.random.Generator or int, optional
    size : (float, float)
        Figure size in inches (100 dpi).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ._validation import as_rng, check_int

    x = np.sort(_scalar(model, data))
    m = check_int(n_envelope, "n_envelope", 2)
    level = _level(level)
    n = x.size
    p = (np.arange(1, n + 1) - 0.5) / n
    fitted = model.cdf(x)
    sims = np.sort(model.cdf(model.sample((m, n), rng=as_rng(rng))), axis=1)
    lo, hi = np.quantile(sims, [(1 - level) / 2, (1 + level) / 2], axis=0)
    fig = _figure(size)
    ax = fig.add_subplot()
    ax.fill_between(p, lo, hi, color="0.85", label=f"{100 * level:g}% envelope ({m} simulations)")
    ax.plot(p, fitted, ".", ms=3, label="data")
    ax.plot([0, 1], [0, 1], color="C3", lw=1)
    ax.set_xlabel("plotting position (i - 1/2) / n")
    ax.set_ylabel(f"fitted {type(model).__name__} CDF at x_(i)")
    ax.legend()
    return fig


def plot_cdf(model: Any, data: Any, *, level: float = 0.95, size=(6.4, 4.0)):
    """Empirical CDF of the data (a step function) with the fitted CDF, and the
    Dvoretzky-Kiefer-Wolfowitz band ``F_n +- sqrt(log(2 / alpha) / (2 n))`` of level
    ``1 - alpha`` around the empirical CDF.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = np.sort(_scalar(model, data))
    level = _level(level)
    n = x.size
    values, counts = np.unique(x, return_counts=True)
    ecdf = np.cumsum(counts) / n
    eps = np.sqrt(np.log(2 / (1 - level)) / (2 * n))  # DKW
    fig = _figure(size)
    ax = fig.add_subplot()
    ax.step(values, ecdf, where="post", label="empirical CDF")
    ax.fill_between(values, np.clip(ecdf - eps, 0, 1), np.clip(ecdf + eps, 0, 1), step="post",
                    color="0.85", label=f"{100 * level:g}% DKW band")
    if model.discrete:
        grid = np.arange(max(0.0, values[0] - 1), values[-1] + 2)
        ax.step(grid, model.cdf(grid), where="post", color="C3", label=f"{type(model).__name__} fit")
    else:
        pad = 0.05 * (values[-1] - values[0] or 1.0)
        grid = np.linspace(values[0] - pad, values[-1] + pad, 400)
        ax.plot(grid, model.cdf(grid), color="C3", label=f"{type(model).__name__} fit")
    ax.set_xlabel("x")
    ax.set_ylabel("P(X <= x)")
    ax.legend()
    return fig


def kl_curve(result: Any, data: Any, param: str, *, values: Any = None, span: float = 4.0,
             n_points: int = 61) -> dict:
    """The seed's curve: ``KL(p_data || p_w) - KL(p_data || p_w_hat)`` along one parameter.

    The entropy of ``p_data`` cancels (seed, eq. 2), so the difference is the difference
    of cross-entropies, estimated by the Monte Carlo average (eq. 3) of
    ``d_n = log p(x_n | w_hat) - log p(x_n | w)`` with the paired standard error
    ``sd(d) / sqrt(N)``.  The other parameters stay at their fitted values.

    Parameters
    ----------
    result : FitResult
        A single fit of scalar observations (:func:`expfam.fit`).
    data : array_like, shape (n,)
        The data ``result`` was fitted to (or held-out data from the same source).
    param : str
        One of ``result.params``.
    values : array_like, optional
        Parameter values; default ``n_points`` values over ``fitted +- span * se``
        (for a positive parameter, not below a quarter of its fitted value).

    Returns
    -------
    dict
        ``values``, ``kl`` and ``se`` (arrays), ``mle`` (the fitted value) and
        ``cross_entropy`` / ``cross_entropy_se`` at the fit (nats per observation).
    """
    from ._validation import check_int
    from .errors import ParameterError

    model = getattr(result, "model", None)
    if model is None or not hasattr(result, "se"):
        raise InputTypeError(f"expected a FitResult (expfam.fit); got {type(result).__name__}")
    x = _scalar(model, data)
    if param not in model.params:
        raise ParameterError(f"param: {type(model).__name__} has no fitted parameter {param!r}; "
                             f"its parameters: {', '.join(model.params)}")
    mle = float(np.asarray(model.params[param]))
    if values is None:
        se = float(np.asarray(result.se[param]))
        lo, hi = mle - span * se, mle + span * se
        if mle > 0 and lo <= 0:
            lo = mle / 4
        values = np.linspace(lo, hi, check_int(n_points, "n_points", 2))
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ParameterError("values: expected finite parameter values")
    base = model.logpdf(x)
    kl, se = np.empty(values.size), np.empty(values.size)
    kwargs = {k: float(np.asarray(v)) for k, v in model.params.items()}
    for i, v in enumerate(values):
        try:
            other = type(model)(**{**kwargs, param: float(v)}, **model.fixed)
        except (ParameterError, ValueError) as exc:
            raise ParameterError(f"values[{i}] = {v!r}: not a valid {param} ({exc})") from None
        d = base - other.logpdf(x)
        kl[i] = d.mean()
        se[i] = d.std(ddof=1) / np.sqrt(x.size) if np.all(np.isfinite(d)) else np.nan
    return {"values": values, "kl": kl, "se": se, "mle": mle,
            "cross_entropy": float(-base.mean()),
            "cross_entropy_se": float(base.std(ddof=1) / np.sqrt(x.size))}


def plot_kl_curve(result: Any, data: Any, param: str, *, values: Any = None, span: float = 4.0,
                  n_points: int = 61, size=(6.4, 4.0)):
    """Plot :func:`kl_curve`: ``KL(p_data || p_w)`` up to its value at the MLE, along one
    parameter, with a band of 2 paired standard errors and the MLE marked (where the
    curve is 0: maximum likelihood is minimum KL).

    Returns
    -------
    matplotlib.figure.Figure
    """
    c = kl_curve(result, data, param, values=values, span=span, n_points=n_points)
    fig = _figure(size)
    ax = fig.add_subplot()
    finite = np.isfinite(c["kl"])
    ax.fill_between(c["values"], c["kl"] - 2 * c["se"], c["kl"] + 2 * c["se"], where=finite,
                    color="0.85", label="+- 2 paired se")
    ax.plot(c["values"], np.where(finite, c["kl"], np.nan), color="C0",
            label="KL(p_data || p_w) - KL(p_data || p_mle)")
    ax.axvline(c["mle"], color="C3", ls="--", lw=1)
    ax.plot([c["mle"]], [0.0], "o", color="C3",
            label=f"MLE {param} = {c['mle']:.4g} (cross-entropy {c['cross_entropy']:.4g} "
                  f"+- {c['cross_entropy_se']:.2g})")
    ax.set_xlabel(param)
    ax.set_ylabel("nats per observation")
    ax.legend(fontsize="small")
    return fig


def plot_learning_curve(trace: Any, *, size=(6.4, 5.0)):
    """Learning curve of an iterative (stochastic) fit, from its :class:`~expfam.learn.trace.
    SGDTrace` (``fit_sgd(...).trace`` or a :class:`~expfam.StochasticFitter`'s ``trace``).

    Top: the minibatch cross-entropy (and the held-out one when traced) with bands of 2
    standard errors.  Bottom (log scale): the relative residual ``|E_batch[u] - E_eta[u]|
    / |E_batch[u]|`` that drove each step (eq. 5), the Monte Carlo error of the model
    moment, and the distance to the maximum-likelihood estimate in standard errors.

    Returns
    -------
    matplotlib.figure.Figure
    """
    trace = getattr(trace, "trace", trace)
    if not hasattr(trace, "residual_norm") or not hasattr(trace, "step"):
        raise InputTypeError(f"expected an SGDTrace (fit_sgd(...).trace); got {type(trace).__name__}")
    if len(trace) == 0:
        raise ShapeError("the trace has no recorded step: nothing to plot")
    if np.ndim(trace.residual_norm) != 1:
        raise ModelCapabilityError("a learning curve shows one distribution: the trace is of a "
                                   f"batch of shape {np.shape(trace.residual_norm)[1:]}")
    step = np.asarray(trace.step)
    fig = _figure(size)
    top, bottom = fig.subplots(2, 1, sharex=True)
    pairs = [("minibatch", trace.cross_entropy, trace.cross_entropy_se),
             ("held-out", trace.holdout_cross_entropy, trace.holdout_cross_entropy_se)]
    for label, ce, se in pairs:
        if ce is None or not np.any(np.isfinite(ce)):
            continue
        line, = top.plot(step, ce, label=f"{label} cross-entropy")
        top.fill_between(step, ce - 2 * se, ce + 2 * se, color=line.get_color(), alpha=0.2)
    top.set_ylabel("nats / observation")
    if top.lines:
        top.legend(fontsize="small")
    bottom.semilogy(step, np.maximum(trace.residual_norm, 1e-300), label="relative residual")
    if np.any(trace.moment_se > 0):
        bottom.semilogy(step, trace.moment_se, label="moment Monte Carlo se")
    bottom.semilogy(step, np.maximum(trace.distance_se, 1e-300), label="distance to MLE (se)")
    bottom.set_xlabel("step")
    bottom.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _level(level) -> float:
    from .errors import ParameterError

    level = float(level)
    if not 0 < level < 1:
        raise ParameterError(f"level: expected a number in (0, 1); got {level!r}")
    return level


def plot_mixture(result: Any, data: Any, *, bins: int | str = "auto", size=(6.4, 4.0),
                 labels=None):
    """A fitted mixture over its data.

    Scalar observations: a histogram (density) of the data, each weighted component density
    ``w_k p_k(x)`` and the mixture density.  Two-dimensional observations: a scatter plot of
    the data coloured by hard label and, per component, the ellipses of 1 and 2 standard
    deviations (Mahalanobis radius) of its mean and covariance.

    Parameters
    ----------
    result : MixtureResult or Mixture
    data : array_like, shape (n,) or (n, 2)
    bins : int or str
        Histogram bins (scalar data), as :func:`numpy.histogram_bin_edges`.
    size : (float, float)
        Figure size in inches (100 dpi).
    labels : sequence of str, optional
        Axis labels (one for scalar data, two for 2-D data).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ._validation import as_float_array, check_finite, check_nonempty

    mix = getattr(result, "mixture", result)
    if not hasattr(mix, "components") or not hasattr(mix, "weights"):
        raise InputTypeError(f"expected a MixtureResult or Mixture; got {type(result).__name__}")
    x = as_float_array(data)
    check_nonempty(x)
    check_finite(x)
    fig = _figure(size)
    ax = fig.add_subplot()
    if mix.event_ndim == 0:
        if x.ndim != 1:
            raise ShapeError(f"data: expected shape (n,) for a mixture of scalar laws; got {x.shape}")
        edges = np.histogram_bin_edges(x, bins=bins)
        ax.hist(x, bins=edges, density=True, alpha=0.4, color="0.6", label="data (density)")
        grid = np.linspace(edges[0], edges[-1], 500)
        if all(c.discrete for c in mix.components):
            grid = np.unique(np.round(grid))
        comp = np.exp(mix.joint_logpdf(grid))
        ax.plot(grid, comp.sum(axis=1), color="C3", lw=3, alpha=0.5, label="mixture")
        for k, c in enumerate(mix.components):  # on top: where they do not overlap, they
            ax.plot(grid, comp[:, k], "--", lw=1.5, color=f"C{k}",  # equal the mixture
                    label=f"{mix.weights[k]:.3f} x {type(c).__name__}")
        ax.set_xlabel(labels[0] if labels else "x")
        ax.set_ylabel("density")
    else:
        if x.ndim != 2 or x.shape[1] != 2:
            raise ShapeError(f"data: 2-D plots need shape (n, 2); got {x.shape}")
        z = mix.predict(x)
        for k, c in enumerate(mix.components):
            ax.scatter(x[z == k, 0], x[z == k, 1], s=8, alpha=0.6, color=f"C{k}",
                       label=f"component {k} (w = {mix.weights[k]:.3f})")
            mean = np.asarray(c.mean(), dtype=float)
            cov = np.asarray(c.params.get("cov")) if "cov" in c.params else None
            if cov is None or cov.shape != (2, 2):
                continue
            vals, vecs = np.linalg.eigh(cov)
            t = np.linspace(0, 2 * np.pi, 200)
            circle = np.stack([np.cos(t), np.sin(t)])
            for r in (1.0, 2.0):  # points at Mahalanobis distance r from the mean
                pts = mean[:, None] + r * vecs @ (np.sqrt(vals)[:, None] * circle)
                ax.plot(pts[0], pts[1], color=f"C{k}", lw=1.5 if r == 1 else 0.8)
            ax.plot(*mean, "x", color="k")
        ax.set_xlabel(labels[0] if labels else "x[0]")
        ax.set_ylabel(labels[1] if labels else "x[1]")
    ax.legend(fontsize=8)
    ax.set_title(f"mixture of {mix.n_components} components")
    fig.tight_layout()
    return fig


def save(fig, path: str) -> None:
    """Write a figure to ``path`` (``.png`` or ``.svg``)."""
    from .errors import ParameterError

    if not str(path).lower().endswith((".png", ".svg")):
        raise ParameterError(f"{path}: plots are written as .png or .svg")
    fig.savefig(path)
