"""Command line of the energy-based models: ``expfam ising fit`` and ``expfam potts fit``.

    expfam ising fit samples.{npy,csv,parquet} [--method pcd|exact|pseudolikelihood]
                     [--l2 X] [--l1 X] [--spins 01|pm] [--columns a,b,...] [-o params.json|.npz]
                     [--seed S] [--checkpoint run.npz [--resume]]
    expfam potts fit samples.{npy,csv,parquet} [--method exact|pcd|pseudolikelihood] [--l2 X]
                     [--q 3 | --q 3,4,2] [--columns ...] [-o params.json|.npz]
                     [--seed S] [--checkpoint run.npz [--resume]]

A samples file holds one sample per row and one variable per column: ``.npy`` (a 2-D
numeric array, read without pickle), ``.csv`` (comma-separated numbers, an optional header
line of column names) or ``.parquet`` (numeric columns; needs pyarrow).  The fit's report
(convergence, the final residual ``E_data[u] - E_model[u]`` and its Monte Carlo error, the
mean log-likelihood) is printed; ``-o`` writes the parameters and the report as JSON or
as a NumPy ``.npz`` archive (plain arrays, no pickle).  Bad files, bad values and data
without a maximum-likelihood estimate raise the typed errors of :mod:`expfam.errors`
(exit code 1), naming the line / column or the variables.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .errors import FileFormatError, ParameterError

__all__ = ["register", "run", "read_samples", "write_params"]

_SPINS = {"01": "01", "pm": "+-1"}


def register(sub, debug) -> None:
    """Add the ``ising`` and ``potts`` commands to the subparsers ``sub`` (``debug``: the
    parent parser with ``--debug``)."""
    for model, methods, default in (("ising", ("pseudolikelihood", "exact", "pcd"), "pseudolikelihood"),
                                    ("potts", ("exact", "pseudolikelihood", "pcd"), "exact")):
        p = sub.add_parser(model, parents=[debug], help=f"fit a{'n' if model == 'ising' else ''} "
                                                         f"{model.capitalize()} model to samples")
        fsub = p.add_subparsers(dest="ebm_command", required=True)
        f = fsub.add_parser("fit", parents=[debug], help=f"fit a {model.capitalize()} model")
        f.add_argument("path", help="samples: .npy, .csv or .parquet (one sample per row)")
        f.add_argument("--method", choices=methods, default=default, help=f"default {default}")
        f.add_argument("--l2", type=float, default=0.0, help="L2 penalty per sample (default 0)")
        if model == "ising":
            f.add_argument("--l1", type=float, default=0.0, help="L1 penalty per sample (default 0)")
            f.add_argument("--spins", choices=sorted(_SPINS),
                           help="spin values: 01 or pm (-1/+1); default: from the data")
        else:
            f.add_argument("--q", help="states per variable: one number, or one per column "
                                       "(default: the largest value + 1 of each column)")
        f.add_argument("--seed", type=int, default=0, help="seed of the PCD chains")
        f.add_argument("--checkpoint", help="PCD: save the run's state to this .npz file (no pickle)")
        f.add_argument("--resume", action="store_true",
                       help="PCD: continue from --checkpoint when the file exists")
        f.add_argument("--columns", help="comma-separated column names (CSV with a header, Parquet)")
        f.add_argument("-o", "--output", help="write the parameters and the report: .json or .npz")


def read_samples(path: str, columns=None) -> np.ndarray:
    """The samples in ``path`` as a float64 ``(N, n)`` matrix.

    Parameters
    ----------
    path : str
        ``.npy``, ``.csv`` or ``.parquet`` / ``.pq``.
    columns : sequence of str, optional
        Columns to read (CSV with a header, Parquet); default all.

    Raises
    ------
    FileFormatError
        Unknown suffix, unreadable file, a non-numeric entry (naming line and column), a
        ragged row, not two-dimensional.
    """
    low = path.lower()
    if not os.path.exists(path):
        raise FileFormatError(f"{path}: no such file")
    if low.endswith(".npy"):
        if columns:
            raise ParameterError("--columns needs a CSV file with a header or a Parquet file")
        try:
            X = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise FileFormatError(f"{path}: not a readable .npy array without pickle ({exc})") from None
        if X.dtype.kind not in "biuf":
            raise FileFormatError(f"{path}: expected a numeric array; got dtype {X.dtype}")
        X = X.astype(np.float64)
    elif low.endswith(".csv"):
        X = _read_csv(path, columns)
    elif low.endswith((".parquet", ".pq")):
        X = _read_parquet(path, columns)
    else:
        raise FileFormatError(f"{path}: unknown file type (expected .npy, .csv or .parquet)")
    if X.ndim != 2:
        raise FileFormatError(f"{path}: expected one sample per row (a 2-D table); got shape {X.shape}")
    return X


def _read_csv(path, columns):
    with open(path, encoding="utf-8") as fh:
        lines = [(k + 1, line.strip()) for k, line in enumerate(fh) if line.strip()]
    if not lines:
        raise FileFormatError(f"{path}: empty file")
    names = None
    first = lines[0][1].split(",")
    try:
        [float(v) for v in first]
    except ValueError:
        names = [v.strip() for v in first]
        lines = lines[1:]
    rows = []
    width = len(first)
    for lineno, line in lines:
        parts = line.split(",")
        if len(parts) != width:
            raise FileFormatError(f"{path}, line {lineno}: {len(parts)} fields; expected {width}")
        row = []
        for c, v in enumerate(parts):
            try:
                row.append(float(v))
            except ValueError:
                col = names[c] if names else c
                raise FileFormatError(f"{path}, line {lineno}, column {col!r}: {v.strip()!r} is not "
                                      f"a number") from None
        rows.append(row)
    X = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    if columns:
        if names is None:
            raise ParameterError(f"--columns: {path} has no header line")
        X = X[:, _column_index(names, columns, path)]
    return X


def _column_index(names, columns, path):
    missing = [c for c in columns if c not in names]
    if missing:
        raise ParameterError(f"--columns: {missing} not in {path} (columns: {names})")
    return [names.index(c) for c in columns]


def _read_parquet(path, columns):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise FileFormatError("reading Parquet needs pyarrow (pip install 'expfam[io]')") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure: the file is unreadable
        raise FileFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    names = table.column_names
    idx = _column_index(names, columns, path) if columns else range(len(names))
    cols = []
    for i in idx:
        col = table.column(i)
        if col.null_count:
            raise FileFormatError(f"{path}, column {names[i]!r}: {col.null_count} missing value(s)")
        arr = col.to_numpy()
        if arr.dtype.kind not in "biuf":
            raise FileFormatError(f"{path}, column {names[i]!r}: not numeric (type {col.type})")
        cols.append(arr.astype(np.float64))
    return np.column_stack(cols) if cols else np.zeros((table.num_rows, 0))


def _report(result) -> dict:
    r = result
    resid = np.asarray(r.residual, dtype=np.float64)
    finite = np.isfinite(resid)
    return {"method": r.method, "converged": bool(r.converged) if r.converged is not None else None,
            "status": r.status, "message": r.message, "n_iter": int(r.n_iter),
            "n_samples": int(r.n), "weight_sum": float(r.weight_sum),
            "max_abs_residual": float(np.max(np.abs(resid[finite]))) if finite.any() else None,
            "max_residual_se": float(np.max(r.residual_se)) if np.size(r.residual_se) else 0.0,
            "residual_norm": float(r.residual_norm) if np.isfinite(r.residual_norm) else None,
            "mean_loglik": r.mean_loglik, "regularization": r.regularization,
            "time_s": float(r.time_s)}


def write_params(path: str, model, report: dict) -> None:
    """Write a fitted Ising / Potts model and its fit report to ``path`` (``.json`` or
    ``.npz``; the arrays ``fields``, ``couplings``, ``natural`` and the model's fixed
    parameters, no pickle)."""
    kind = type(model).name
    fixed = {k: v for k, v in model.fixed.items() if k != "edges"}
    edges = model.fixed.get("edges")
    p = model.params
    low = path.lower()
    if low.endswith(".json"):
        doc = {"model": kind, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in fixed.items()},
               "edges": None if edges is None else [list(e) for e in edges],
               "fields": np.asarray(p["fields"]).tolist(),
               "couplings": np.asarray(p["couplings"]).tolist(),
               "natural": model.natural.tolist(), "report": report}
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
    elif low.endswith(".npz"):
        arrays = {"model": np.array(kind), "fields": np.asarray(p["fields"]),
                  "couplings": np.asarray(p["couplings"]), "natural": model.natural,
                  "report": np.array(json.dumps(report))}
        for k, v in fixed.items():
            arrays[k] = np.asarray(v)
        if edges is not None:
            arrays["edges"] = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        np.savez(path, **arrays)
    else:
        raise ParameterError(f"-o {path}: expected a .json or .npz file name")


def _pcd_options(args) -> dict:
    if args.method != "pcd":
        if args.checkpoint or args.resume:
            raise ParameterError("--checkpoint / --resume apply to --method pcd")
        return {}
    if args.resume and not args.checkpoint:
        raise ParameterError("--resume needs --checkpoint FILE")
    out = {"rng": args.seed}
    if args.checkpoint:
        out.update(checkpoint=args.checkpoint, resume=bool(args.resume))
    return out


def run(args) -> None:
    """Run ``expfam ising fit`` / ``expfam potts fit`` (parsed ``args``)."""
    import expfam

    if args.output and not args.output.lower().endswith((".json", ".npz")):
        raise ParameterError(f"-o {args.output}: expected a .json or .npz file name")
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    X = read_samples(args.path, columns)
    if args.command == "ising":
        options = {"method": args.method, "l2": args.l2, "l1": args.l1}
        if args.spins:
            options["spins"] = _SPINS[args.spins]
        options.update(_pcd_options(args))
        result = expfam.fit(expfam.Ising, X, **options)
    else:
        options = {"method": args.method, "l2": args.l2, **_pcd_options(args)}
        if args.q:
            try:
                qs = [int(v) for v in args.q.split(",")]
            except ValueError:
                raise ParameterError(f"--q: expected integers; got {args.q!r}") from None
            options["q"] = qs[0] if len(qs) == 1 else qs
        result = expfam.fit(expfam.Potts, X, **options)
    report = _report(result)
    print(result.summary())
    if args.output:
        write_params(args.output, result.model, report)
        print(f"parameters written to {args.output}")
