"""Plots (matplotlib, an optional extra): a fitted law over the data, QQ plots with a
simulation envelope, and the cross-entropy ranking with error bars.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no GUI
backend, no global state); save it with ``fig.savefig("out.png")`` or :func:`save`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputTypeError, ModelCapabilityError, ShapeError

__all__ = ["plot_fit", "plot_qq", "plot_ranking", "save"]


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


def save(fig, path: str) -> None:
    """Write a figure to ``path`` (``.png`` or ``.svg``)."""
    from .errors import ParameterError

    if not str(path).lower().endswith((".png", ".svg")):
        raise ParameterError(f"{path}: plots are written as .png or .svg")
    fig.savefig(path)
