"""Command line of mixtures: ``expfam mixture``.

    expfam mixture FILE --family gamma -k 2 [--column x] [--weights w] [--n-init 3]
                   [--seed 0] [--max-iter 1000] [--tol 1e-8] [--chunksize N]
                   [--format parquet|csv|ipc] [--json] [--plot out.png]

FILE is a Parquet, CSV (header row) or Arrow IPC file, read in chunks: one streamed pass
per EM iteration (:func:`expfam.fit_mixture` on a path), so it may be larger than memory.
Vector families (``multivariate_normal``) take ``--column a,b``.  The report is a table of
the components (ordered by their mean: labels are not identifiable otherwise), each
weight and parameter with its standard error (Louis' method, one more pass), the
log-likelihood, AIC, BIC and the convergence; ``--json`` prints the same as JSON.
``--plot`` draws the fit (:func:`expfam.plots.plot_mixture`) over a uniform sample of at
most 100,000 rows.  Exit codes are those of ``expfam --help``: 1 for a data or file error
(a bad value, no such file, a component that collapsed), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ._cli_args import _family, _positive_int

__all__ = ["register", "run"]

#: rows of the sample drawn for --plot
PLOT_ROWS = 100_000


def _tol(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (np.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return v


def register(sub, debug, epilog: str = "") -> None:
    """Add the ``mixture`` command to the subparsers ``sub`` (``debug``: the parent parser
    with ``--debug``)."""
    p = sub.add_parser("mixture", parents=[debug], epilog=epilog,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       help="fit a finite mixture by EM to a column of a Parquet, CSV or "
                            "Arrow file (streamed)")
    p.add_argument("path", help=".parquet/.pq, .csv/.csv.gz, .arrow/.feather/.ipc")
    p.add_argument("--family", required=True, type=_family,
                   help="the components' family ('expfam families' lists them)")
    p.add_argument("-k", "--components", type=_positive_int, default=2,
                   help="number of components (default 2)")
    p.add_argument("--column", help="observation column (comma-separated for vector families; "
                                    "default: the first column)")
    p.add_argument("--weights", help="column of non-negative weights")
    p.add_argument("--n-init", type=_positive_int, default=3, help="starts (default 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starts (default 0)")
    p.add_argument("--max-iter", type=_positive_int, default=1000, help="EM iterations (default 1000)")
    p.add_argument("--tol", type=_tol, default=1e-8,
                   help="relative change of the log-likelihood that stops EM (default 1e-8)")
    p.add_argument("--chunksize", type=_positive_int, default=262_144, help="rows per chunk")
    p.add_argument("--format", choices=["parquet", "csv", "ipc"], help="default: from the suffix")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--plot", metavar="OUT.png", help="write a plot of the fit (.png or .svg)")


def _columns(text):
    if text is None:
        return None
    cols = [c.strip() for c in text.split(",") if c.strip()]
    return cols[0] if len(cols) == 1 else cols


def _fmt(v, se) -> str:
    v, se = np.asarray(v, dtype=float), np.asarray(se, dtype=float)
    if v.ndim == 0:
        return f"{float(v):.6g} ± {float(se):.2g}"
    return (np.array2string(v, precision=5, separator=", ") + " ± "
            + np.array2string(se, precision=2, separator=", "))


def result_dict(r, path) -> dict:
    """The report as a JSON-compatible dict."""
    se = r.se
    comps = []
    for k, c in enumerate(r.components):
        comps.append({"family": c.name, "weight": float(r.weights[k]),
                      "weight_se": float(se["weights"][k]),
                      "params": {n: np.asarray(v).tolist() for n, v in c.params.items()},
                      "params_se": {n: np.asarray(v).tolist() for n, v in se["params"][k].items()}})
    return {"file": str(path), "n": int(r.n), "weight_sum": float(r.weight_sum),
            "n_components": r.mixture.n_components, "components": comps,
            "loglik": float(r.loglik), "aic": float(r.aic), "bic": float(r.bic),
            "n_params": int(r.n_params), "converged": bool(r.converged), "n_iter": int(r.n_iter),
            "rel_change": float(r.rel_change),
            "residual_norm": np.asarray(r.residual_norm).tolist(),
            "order": "components sorted by the first coordinate of their mean",
            "mixture": r.mixture.to_dict()}


def table(r, path, column) -> str:
    """A readable table: weights and parameters with standard errors, loglik, BIC..."""
    se = r.se
    lines = [f"{r.mixture.n_components}-component {type(r.components[0]).__name__} mixture of "
             f"{path}" + (f", column {column!r}" if column else "") + f": n = {r.n:,}",
             "components ordered by their mean; value ± standard error (Louis' method)", ""]
    names = list(r.components[0].params)
    head = ["k", "weight"] + names
    rows = []
    for k, c in enumerate(r.components):
        rows.append([str(k), _fmt(r.weights[k], se["weights"][k])]
                    + [_fmt(c.params[n], se["params"][k][n]) for n in c.params])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
    lines += ["", f"log-likelihood = {r.loglik:.8g}   AIC = {r.aic:.8g}   BIC = {r.bic:.8g}   "
                  f"({r.n_params} parameters)",
              f"converged = {r.converged} after {r.n_iter} iterations (relative change "
              f"{r.rel_change:.2g}); residual |E_r[u] - E[u]| / |E_r[u]| per component: "
              + ", ".join(f"{v:.2g}" for v in np.atleast_1d(r.residual_norm))]
    return "\n".join(lines)


def run(args) -> None:
    """Run ``expfam mixture`` (parsed ``args``)."""
    from .mixture import fit_mixture

    column = _columns(args.column)
    r = fit_mixture(args.family, args.path, args.components, weights=args.weights,
                    column=column, n_init=args.n_init, max_iter=args.max_iter, tol=args.tol,
                    rng=args.seed, chunksize=args.chunksize, format=args.format)
    if args.plot:
        from .errors import ParameterError

        if not str(args.plot).lower().endswith((".png", ".svg")):
            raise ParameterError(f"--plot {args.plot}: plots are written as .png or .svg")
        from .mixture.sources import FileSource
        from .plots import plot_mixture, save

        src = FileSource(type(r.components[0]), args.path, column, args.weights,
                         args.chunksize, args.format)
        specs = [(type(c), c.fixed) for c in r.components]
        _, _, xs, _ = src.first_pass(specs, PLOT_ROWS, np.random.default_rng(args.seed))
        lab = src.columns if len(src.columns) > 1 else src.columns[:1]
        save(plot_mixture(r, xs, labels=lab), args.plot)
    if args.json:
        print(json.dumps(result_dict(r, args.path), indent=2))
    else:
        print(table(r, args.path, column))
        if args.plot:
            print(f"plot written to {args.plot}")
