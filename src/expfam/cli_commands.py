"""The commands ``expfam select``, ``gof``, ``kl`` and ``sample`` (registered by :mod:`.cli`).

Inputs are CSV, Parquet, Arrow IPC or NPY files, or standard input (``-``), read by the
readers of :mod:`expfam.io`; outputs are a readable table by default, ``--json`` or
``--csv`` for programs.  Distributions are written like ``gamma(shape=2, rate=3)`` and
parsed strictly with :mod:`ast` (never evaluated).
"""

from __future__ import annotations

import argparse
import ast
import csv
import inspect
import io
import json
import math
import os
import sys
import tempfile
from typing import Any

import numpy as np

from .errors import ExpfamError, ParameterError, UnknownFamilyError

COMMANDS = ("select", "gof", "kl", "sample")
#: magic bytes of the binary inputs accepted on standard input (else: CSV text)
_MAGIC = ((b"\x93NUMPY", ".npy"), (b"PAR1", ".parquet"), (b"ARROW1", ".arrow"),
          (b"\xff\xff\xff\xff", ".arrows"))
_OUTPUTS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".npy": "npy"}


class _UsageError(ParameterError):
    """A mistake on the command line in these commands (exit code 2, like a ParameterError)."""


# ----------------------------------------------------------------------------------
# Distribution strings: ``family(name=number, ...)``, parsed with ast, never evaluated
# ----------------------------------------------------------------------------------


def _number(node, where: str) -> float | list:
    """A literal number (signed), or a (nested) list of them."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_number(e, where) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(node.operand, where)
        if isinstance(value, list):
            raise _UsageError(f"{where}: a sign applies to a number, not a list")
        return -value if isinstance(node.op, ast.USub) else value
    if (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)):
        value = float(node.value)
        if not math.isfinite(value):
            raise _UsageError(f"{where}: the value must be finite")
        return value
    raise _UsageError(f"{where}: expected a number or a list of numbers, got "
                      f"{ast.unparse(node)!r}")


def _keywords(cls) -> list[str]:
    """The parameter names a family's constructor takes."""
    sig = inspect.signature(cls.__init__)
    names = [p.name for p in list(sig.parameters.values())[1:]
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        names += [n for n in (*cls.param_names, *cls.fixed_params) if n not in names]
    return names


def _signature_hint(text: str) -> str:
    """``"; its parameters: gamma(shape, rate)"`` when ``text`` starts with a family's
    name, else ``""`` (for the message about malformed text)."""
    import re

    from .families import resolve_family

    match = re.match(r"\s*([A-Za-z_]\w*)\s*\(", text)
    if match is None:
        return ""
    try:
        cls = resolve_family(match.group(1))
    except UnknownFamilyError:
        return ""
    return f"; its parameters: {match.group(1)}({', '.join(_keywords(cls))})"


def parse_distribution(text: str):
    """A family member from a string such as ``"gamma(shape=2, rate=3)"``.

    Parameters
    ----------
    text : str
        ``family(name=value, ...)``: a registered family's name and its parameters as
        keywords; values are numbers or lists of numbers (``mean=[0, 1]``).  Nothing is
        evaluated: the string is parsed with :func:`ast.parse` and anything but this
        form is refused.

    Returns
    -------
    ExponentialFamily
        The member (its parameters checked by the family).

    Raises
    ------
    expfam.errors.ParameterError
        Malformed text, an unknown family, an unknown or missing parameter (the message
        names the family's parameters), or a value outside its domain.
    """
    from .families import resolve_family

    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise _UsageError(f"{text!r}: expected a distribution like 'gamma(shape=2, rate=3)'"
                          f"{_signature_hint(text)}") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise _UsageError(f"{text!r}: expected a distribution like 'gamma(shape=2, rate=3)'")
    try:
        cls = resolve_family(call.func.id)
    except UnknownFamilyError as exc:
        raise _UsageError(f"{text!r}: {exc}") from None
    allowed = _keywords(cls)
    signature = f"{call.func.id}({', '.join(allowed)})"
    if call.args:
        raise _UsageError(f"{text!r}: name the parameters, as in {signature}")
    kwargs = {}
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in allowed:
            name = "**" if kw.arg is None else repr(kw.arg)
            raise _UsageError(f"{text!r}: {cls.__name__} has no parameter {name}; "
                              f"its parameters: {signature}")
        if kw.arg in kwargs:
            raise _UsageError(f"{text!r}: parameter {kw.arg!r} given twice")
        kwargs[kw.arg] = _number(kw.value, f"{text!r}: {kw.arg}")
    try:
        member = cls(**kwargs)
    except (ExpfamError, TypeError, ValueError) as exc:
        raise _UsageError(f"{text!r}: {exc} (the parameters of {signature})") from None
    if member.batch_shape:
        raise _UsageError(f"{text!r}: a batch of {member.batch_shape} distributions; give one")
    return member


# ----------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------


def _with_header(data: bytes) -> bytes:
    """Plain numbers on standard input (no header row: the first line is all numbers)
    get one: ``x`` for one column, ``x0, x1, ...`` for several."""
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    fields = first.split(b",")
    try:
        [float(f) for f in fields]
    except ValueError:
        return data  # a header row (or text that the CSV reader will report)
    names = ["x"] if len(fields) == 1 else [f"x{i}" for i in range(len(fields))]
    return (",".join(names) + "\n").encode() + data


class _Input:
    """A path to read: the file itself, or standard input saved to a temporary file
    (whose name is replaced by ``<stdin>`` in error messages)."""

    def __init__(self, path: str):
        self.path, self._tmp = path, None
        if path == "-":
            data = sys.stdin.buffer.read()
            suffix = next((s for magic, s in _MAGIC if data.startswith(magic)), ".csv")
            if suffix == ".csv":
                data = _with_header(data)
            self._tmp = tempfile.TemporaryDirectory(prefix="expfam-stdin-")
            self.path = os.path.join(self._tmp.name, "stdin" + suffix)
            with open(self.path, "wb") as f:
                f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if self._tmp is not None:
            if exc is not None and exc.args and isinstance(exc.args[0], str):
                exc.args = (exc.args[0].replace(self.path, "<stdin>"),) + exc.args[1:]
            self._tmp.cleanup()
        return False

    @property
    def npy(self) -> bool:
        return self.path.lower().endswith(".npy")


def _npy(path: str, column: str | None) -> np.ndarray:
    from ._cli_args import _read_npy

    if column is not None:
        raise _UsageError("--column, --by and --weights need a table (Parquet, CSV, Arrow), "
                          "not a .npy array")
    return _read_npy(path)


def read_column(path: str, column: str | None = None) -> np.ndarray:
    """One numeric column of a Parquet, CSV or Arrow file (or a ``.npy`` array) in memory.

    Raises :class:`~expfam.errors.DataError` naming the file, column and row of the first
    missing or non-numeric value, and :class:`~expfam.errors.NonFiniteError` for NaN/inf.
    """
    return read_table(path, column)[0]


def read_table(path: str, column: str | None = None, by: str | None = None,
               weights: str | None = None):
    """``(x, w, labels)``: one numeric column of a Parquet, CSV or Arrow file (or a
    ``.npy`` array) in memory, with its weights and group labels (``None`` when not
    asked for).

    Raises :class:`~expfam.errors.DataError` naming the file, column and row of the first
    missing or non-numeric value (a missing label: :class:`~expfam.errors.LabelError`),
    and :class:`~expfam.errors.NonFiniteError` for NaN/inf.
    """
    from ._validation import check_finite, check_weights
    from .errors import EmptyDataError, LabelError
    from .io.chunks import _Chunk
    from .io.readers import _Csv, _format, _head, _Ipc, _Parquet
    from .io.selection import _select
    from .selection.sources import check_cells

    if path.lower().endswith(".npy"):
        if by or weights:
            _npy(path, "by/weights")
        x = _npy(path, column)
        if x.size == 0:
            raise EmptyDataError(f"{path}: no values")
        check_finite(x.astype(float), name=path)
        return x.astype(float), None, None
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    _head(path)
    source: Any = {"parquet": _Parquet, "csv": _Csv, "ipc": _Ipc}[_format(path, None)](path, 262_144)
    parts, wparts, labels, offset = [], [], [], 0
    csv_rows = isinstance(source, _Csv)
    try:
        shape = argparse.Namespace(event_ndim=0, __name__="scalar family")
        columns, by, weights = _select(shape, source, column, by, weights)
        numeric = columns + ([weights] if weights else [])
        for batch in source.batches(numeric + ([by] if by else []), numeric):
            chunk = _Chunk(batch, columns, weights, by)
            check_cells(path, [*chunk.cols, chunk.w], offset, csv_rows)
            values = chunk.cols[0]
            check_finite(values.values, name=f"{path}: column {columns[0]!r} (data rows from {offset})")
            parts.append(values.values)
            if chunk.w is not None:
                wparts.append(check_weights(chunk.w.values, (values.values.shape[0],),
                                            name=f"{path}: column {weights!r} (data rows from "
                                                 f"{offset})", allow_zero=True))
            if chunk.lab is not None:
                if chunk.lab.bad is not None and chunk.lab.bad.any():
                    row = offset + int(np.flatnonzero(chunk.lab.bad)[0])
                    where = f"row {row} (line {row + 2})" if csv_rows else f"row {row}"
                    raise LabelError(f"{path}: column {by!r}, {where}: missing group label")
                lab = chunk.lab.values
                labels.append(chunk.lab.names[lab] if chunk.lab.names is not None else lab)
            offset += values.values.shape[0]
    finally:
        source.close()
    if offset == 0:
        raise EmptyDataError(f"{path}: no rows")
    return (np.concatenate(parts), np.concatenate(wparts) if weights else None,
            np.concatenate(labels) if by else None)


# ----------------------------------------------------------------------------------
# Outputs
# ----------------------------------------------------------------------------------


def _plain(value):
    """JSON-ready: NumPy scalars and arrays as Python numbers and lists; NaN/inf as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_json(obj) -> None:
    print(json.dumps(_plain(obj), indent=2, allow_nan=False))


_CSV_FIELDS = ["family", "cross_entropy", "cross_entropy_se", "delta", "delta_se", "aic", "bic",
               "n_params", "loglik", "converged", "params", "se"]


def _print_selection_csv(result) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    grouped = hasattr(result, "groups")
    out.writerow((["group"] if grouped else []) + _CSV_FIELDS)
    pairs = list(result) if grouped else [(None, result)]
    for group, res in pairs:
        for row in res.ranking:
            d = _plain(row.to_dict())
            cells = [d[f] if f not in ("params", "se") else json.dumps(d[f]) for f in _CSV_FIELDS]
            out.writerow(([group] if grouped else []) + cells)


def fit_rows(result) -> list[dict]:
    """A :class:`~expfam.FitResult` as one plain dict per group (one for an ungrouped fit):
    group, n, parameters and their standard errors, log-likelihood, AIC, BIC, convergence."""
    groups = [None] if result.groups is None else list(result.groups)
    rows = []
    for i, group in enumerate(groups):
        def at(v, i=i):
            v = np.asarray(v)
            return v if result.groups is None else v[i]
        row = {"family": type(result.model).name} if result.groups is None else \
            {"group": group, "family": type(result.model).name}
        row.update(n=at(result.n), weight_sum=at(result.weight_sum),
                   params={k: at(v) for k, v in result.params.items()},
                   se={k: at(v) for k, v in result.se.items()},
                   fixed=dict(result.model.fixed), loglik=at(result.loglik), aic=at(result.aic),
                   bic=at(result.bic), converged=at(result.converged),
                   residual_norm=at(result.residual_norm))
        rows.append(_plain(row))
    return rows


def print_fit(result, how: str) -> None:
    """``expfam fit --json`` (a list of groups with ``--by``) or ``--csv`` (one row per
    group; vector parameters as JSON cells)."""
    rows = fit_rows(result)
    if how == "json":
        _print_json(rows if result.groups is not None else rows[0])
        return
    names = list(rows[0]["params"])
    head = [k for k in ("group", "family", "n", "weight_sum") if k in rows[0]]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(head + names + [f"se_{k}" for k in names]
                 + ["loglik", "aic", "bic", "converged", "residual_norm"])
    for r in rows:
        cells = [r["params"][k] for k in names] + [r["se"][k] for k in names]
        cells = [json.dumps(c) if isinstance(c, list) else c for c in cells]
        out.writerow([r[k] for k in head] + cells
                     + [r["loglik"], r["aic"], r["bic"], r["converged"], r["residual_norm"]])


# ----------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------


def _check_plot_path(path: str) -> None:
    if not path.lower().endswith((".png", ".svg")):
        raise _UsageError(f"--plot {path}: plots are written as .png or .svg")


def _select_command(args) -> None:
    from .selection import select

    if args.plot:
        _check_plot_path(args.plot)
    families: Any = "auto"
    if args.families:
        families = [f.strip() for f in args.families.split(",") if f.strip()]
        if len(families) == 1 and families[0] in ("auto", "all"):
            families = families[0]
    with _Input(args.path) as source:
        if source.npy:
            if args.by or args.weights:
                _npy(source.path, "by/weights")
            data = _npy(source.path, args.column)
        else:
            data = source.path
        result = select(data, families, weights=args.weights, by=args.by, folds=args.folds,
                        rng=args.seed, column=args.column)
    if args.plot:
        from .plots import plot_ranking, save

        first = result.results[0] if hasattr(result, "results") else result
        save(plot_ranking(first), args.plot)
    if args.json:
        _print_json(result.to_dict())
    elif args.csv:
        _print_selection_csv(result)
    else:
        print(result.table())


def _frequencies(x, w, name: str):
    """Observations repeated by integer frequency weights (the bootstrap resamples whole
    observations: other weights have no such meaning)."""
    from .errors import WeightError

    if w is None:
        return x
    if not np.all(w == np.round(w)):
        i = int(np.flatnonzero(w != np.round(w))[0])
        raise WeightError(f"--weights {name}: row {i}: weight {float(w[i])!r} is not an integer; "
                          "gof takes frequency weights (counts of each row)")
    return np.repeat(x, w.astype(np.int64))


_GOF_CSV = ["family", "statistic", "value", "pvalue", "pvalue_se", "n", "n_bootstrap",
            "parameter", "estimate", "se", "wald_low", "wald_high", "profile_low",
            "profile_high", "bootstrap_low", "bootstrap_high"]


def _print_gof_csv(results) -> None:
    out = csv.writer(sys.stdout, lineterminator="\n")
    grouped = results[0][0] is not None
    out.writerow((["group"] if grouped else []) + _GOF_CSV)
    for group, res in results:
        d = _plain(res.to_dict())
        for name, row in d["intervals"].items():
            cells = [d[k] for k in _GOF_CSV[:7]] + [name, row["estimate"], row["se"]]
            for kind in ("wald", "profile", "bootstrap"):
                cells += row.get(kind) or ["", ""]
            out.writerow(([group] if grouped else []) + cells)


def _gof_command(args) -> None:
    from .goodness import gof

    if args.plot:
        _check_plot_path(args.plot)
        if args.by:
            raise _UsageError("--plot shows one fit: without --by (select the group's rows)")
    fixed = dict(args.param or [])
    for name in fixed:
        if name not in args.family.fixed_params:
            known = ", ".join(args.family.fixed_params) or "none"
            raise _UsageError(f"--param {name}: {args.family.__name__} has no fixed parameter "
                              f"{name!r} (its fixed parameters: {known})")
    with _Input(args.path) as source:
        x, w, labels = read_table(source.path, args.column, args.by, args.weights)
    if labels is None:
        parts = [(None, _frequencies(x, w, args.weights))]
    else:
        keys = np.unique(labels)
        parts = [(k.item() if hasattr(k, "item") else k,
                  _frequencies(x[labels == k], None if w is None else w[labels == k], args.weights))
                 for k in keys]
    results = []
    for group, xs in parts:
        try:
            results.append((group, gof(args.family, xs, args.statistic,
                                       n_bootstrap=args.n_bootstrap, rng=args.seed,
                                       level=args.level, intervals=args.intervals,
                                       progress=args.progress, **fixed)))
        except ExpfamError as exc:
            if group is None:
                raise
            raise type(exc)(f"group {group!r}: {exc}") from exc
    if args.plot:
        from . import plots

        model, xs = results[0][1].fit.model, parts[0][1]
        kind = args.plot_kind or ("fit" if model.discrete else "qq")
        draw = {"fit": lambda: plots.plot_fit(model, xs),
                "qq": lambda: plots.plot_qq(model, xs, rng=args.seed),
                "pp": lambda: plots.plot_pp(model, xs, rng=args.seed),
                "cdf": lambda: plots.plot_cdf(model, xs)}[kind]
        plots.save(draw(), args.plot)
    if args.json:
        docs = [dict(({"group": g} if g is not None else {}), **r.to_dict()) for g, r in results]
        _print_json(docs if args.by else docs[0])
    elif args.csv:
        _print_gof_csv(results)
    else:
        print("\n\n".join((f"group {g}:\n" if g is not None else "") + r.table()
                          for g, r in results))


def kl_between(p, q, n: int = 100_000, rng=None) -> dict:
    """``KL(p || q)``: closed form within a family, else Monte Carlo with a standard error.

    Returns a dict ``{"kl", "se", "method", "n"}`` (``se`` 0 and ``n`` None in closed form).
    """
    from .divergence import kl, mc_kl
    from .errors import FamilyMismatchError

    try:
        value = float(np.asarray(kl(p, q)))
        return {"kl": value, "se": 0.0, "method": "closed form", "n": None}
    except FamilyMismatchError:
        est = mc_kl(p, q, n=n, rng=rng)
        return {"kl": float(est.estimate), "se": float(est.se), "method": "Monte Carlo", "n": n}


def _kl_command(args) -> None:
    p, q = parse_distribution(args.p), parse_distribution(args.q)
    out = kl_between(p, q, n=args.n, rng=args.seed)
    out = {"p": " ".join(repr(p).split()), "q": " ".join(repr(q).split()), **out}
    if args.json:
        _print_json(out)
    elif out["method"] == "closed form":
        print(f"KL({out['p']} || {out['q']}) = {out['kl']:.10g} nats (closed form)")
    else:
        print(f"KL({out['p']} || {out['q']}) = {out['kl']:.6g} nats, standard error "
              f"{out['se']:.2g} (Monte Carlo, {out['n']} samples of p)")


def _sample_command(args) -> None:
    dist = parse_distribution(args.distribution)
    fmt: str | None = "csv"
    if args.output != "-":
        name = args.output.lower()
        fmt = next((f for s, f in _OUTPUTS.items() if name.endswith(s)), None)
        if fmt is None:
            raise _UsageError(f"-o {args.output}: unknown output format; known suffixes: "
                              f"{', '.join(_OUTPUTS)} (or '-' for CSV on standard output)")
    x = np.asarray(dist.sample(args.n, rng=args.seed), dtype=float)
    if fmt == "npy":
        np.save(args.output, x)
        return
    names = [args.column] if x.ndim == 1 else [f"{args.column}{i}" for i in range(x.shape[1])]
    columns = x.reshape(x.shape[0], -1).T
    if fmt == "parquet":
        from .io.readers import _pa

        pa = _pa()
        import pyarrow.parquet as pq

        pq.write_table(pa.table({c: v for c, v in zip(names, columns)}), args.output)
        return
    text = io.StringIO()
    text.write(",".join(names) + "\n")
    for row in x.reshape(x.shape[0], -1):
        text.write(",".join(repr(float(v)) for v in row) + "\n")  # repr: exact round trip
    if args.output == "-":
        sys.stdout.write(text.getvalue())
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text.getvalue())


def run(args) -> None:
    """Run one of :data:`COMMANDS` from its parsed arguments."""
    {"select": _select_command, "gof": _gof_command, "kl": _kl_command,
     "sample": _sample_command}[args.command](args)


# ----------------------------------------------------------------------------------
# Parsers
# ----------------------------------------------------------------------------------


def add_parsers(sub, parents, epilog: str) -> None:
    """Register the commands' parsers on ``sub`` (the ``expfam`` subparsers)."""
    from ._cli_args import _family, _param, _positive_int

    common = {"parents": parents, "epilog": epilog,
              "formatter_class": argparse.RawDescriptionHelpFormatter}
    data = ".parquet/.pq, .csv, .arrow/.feather/.ipc, .npy, or - for standard input"

    p = sub.add_parser("select", help="rank families by k-fold held-out cross-entropy", **common)
    p.add_argument("path", help=data)
    p.add_argument("--column", help="the observations' column (default: the first)")
    p.add_argument("--by", help="column of group labels: one ranking per group")
    p.add_argument("--weights", help="column of non-negative weights")
    p.add_argument("--families", help="'auto' (default), 'all' or a comma-separated list")
    p.add_argument("--folds", type=_positive_int, default=10, help="k of the k-fold (>= 2)")
    p.add_argument("--seed", type=int, help="seed of the fold assignment")
    p.add_argument("--plot", metavar="FILE", help="the ranking with error bars (first group "
                                                  "with --by) as .png or .svg")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="JSON output")
    out.add_argument("--csv", action="store_true", help="CSV output: one row per family")

    p = sub.add_parser("gof", help="goodness of fit with a parametric-bootstrap p-value",
                       **common)
    p.add_argument("family", type=_family, help="a family name ('expfam families')")
    p.add_argument("path", help=data)
    p.add_argument("--column", help="the observations' column (default: the first)")
    p.add_argument("--statistic", choices=["ad", "ks", "cvm", "chi2"],
                   help="default: ad (continuous), chi2 (discrete)")
    p.add_argument("--n-bootstrap", type=_positive_int, default=999, help="bootstrap samples")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", type=_param,
                   help="a fixed parameter, e.g. --param k=1.5 for Weibull")
    p.add_argument("--by", help="column of group labels: one test per group")
    p.add_argument("--weights", help="column of integer frequency weights (row counts)")
    p.add_argument("--intervals", choices=["profile", "wald", "bootstrap"], default="profile",
                   help="parameter intervals besides Wald: profile likelihood (default) or "
                        "percentile intervals of the bootstrap refits")
    p.add_argument("--level", type=float, default=0.95, help="confidence level of the intervals")
    p.add_argument("--seed", type=int)
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on a terminal, for long runs)")
    gout = p.add_mutually_exclusive_group()
    gout.add_argument("--json", action="store_true", help="JSON output")
    gout.add_argument("--csv", action="store_true", help="CSV output: one row per parameter")
    p.add_argument("--plot", metavar="FILE", help="QQ plot with a simulation envelope "
                                                  "(discrete: frequencies and the fit), .png or .svg")
    p.add_argument("--plot-kind", choices=["qq", "pp", "cdf", "fit"],
                   help="the plot: qq (default, continuous), pp (with an envelope), cdf "
                        "(empirical vs fitted), fit (histogram or bars; default, discrete)")

    p = sub.add_parser("kl", help="KL(p || q) between two distributions, e.g. "
                                  "'gamma(shape=2, rate=3)'", **common)
    p.add_argument("p", help="a distribution: family(name=value, ...)")
    p.add_argument("q", help="a distribution: family(name=value, ...)")
    p.add_argument("-n", type=_positive_int, default=100_000,
                   help="Monte Carlo samples (different families)")
    p.add_argument("--seed", type=int)
    p.add_argument("--json", action="store_true", help="JSON output")

    p = sub.add_parser("sample", help="draw samples of a distribution to CSV, Parquet or NPY",
                       **common)
    p.add_argument("distribution", help="family(name=value, ...), e.g. 'normal(loc=0, scale=1)'")
    p.add_argument("-n", type=_positive_int, required=True, help="number of samples")
    p.add_argument("-o", "--output", required=True,
                   help="out.csv, out.parquet or out.npy ('-': CSV on standard output)")
    p.add_argument("--column", default="x", help="column name (vectors: x0, x1, ...)")
    p.add_argument("--seed", type=int)
