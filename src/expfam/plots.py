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
