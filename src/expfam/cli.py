"""The ``expfam`` command line: ``expfam demo``, ``expfam families``, ``expfam fit``."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .errors import ExpfamError, ShapeError


def _parse_fixed(items: list[str]) -> dict:
    fixed = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param expects NAME=VALUE, got {item!r}")
        fixed[key] = float(value)
    return fixed


def _columns(text: str | None):
    """``--column a`` -> ``"a"``; ``--column a,b,c`` -> ``["a", "b", "c"]``."""
    if text is None:
        return None
    names = [c.strip() for c in text.split(",")]
    return names[0] if len(names) == 1 else names


def _fmt(value) -> str:
    v = np.asarray(value)
    return f"{float(v):.6g}" if v.ndim == 0 else np.array2string(v, precision=6, threshold=8)


def _fit_command(args) -> None:
    """``expfam fit``: .npy in memory; Parquet, CSV and Arrow IPC streamed in chunks."""
    fixed = _parse_fixed(args.param)
    if args.path.endswith(".npy"):
        from .fitting import fit

        if args.by or args.weights or args.column or args.skip_invalid:
            raise ShapeError("--column, --by, --weights and --skip-invalid need a table "
                             "(Parquet, CSV, Arrow)")
        result = fit(args.family, np.load(args.path, allow_pickle=False),
                     pseudo_count=args.pseudo_count, **fixed)
    else:
        from .io import fit_file

        result = fit_file(args.family, args.path, column=_columns(args.column), by=args.by,
                          weights=args.weights, chunksize=args.chunksize, format=args.format,
                          skip_invalid=args.skip_invalid, progress=args.progress,
                          pseudo_count=args.pseudo_count, **fixed)
    if result.groups is None:
        print(result.summary())
    else:
        for i, g in enumerate(result.groups):
            params = ", ".join(f"{k}={_fmt(np.asarray(v)[i])}" for k, v in result.params.items())
            print(f"{g}: n={result.n[i]}  {params}  loglik={result.loglik[i]:.6g}  "
                  f"converged={bool(result.converged[i])}")
    skipped = getattr(result, "skipped", None)
    if args.skip_invalid:
        total = sum(skipped.values()) if skipped else 0
        detail = ", ".join(f"{v} {k}" for k, v in skipped.items()) if skipped else "none"
        print(f"skipped {total} invalid row(s): {detail}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="expfam", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_demo = sub.add_parser("demo", help="fit known and real data; show ML = min KL in numbers")
    p_demo.add_argument("--seed", type=int, default=2026)
    p_demo.add_argument("--n", type=int, default=5000, help="samples per synthetic data set")
    p_demo.add_argument("--png", default="expfam_demo.png", help="plot file ('' for none)")

    sub.add_parser("families", help="list the families")

    p_fit = sub.add_parser(
        "fit", help="fit a family to columns of a Parquet, CSV or Arrow file (streamed) or a .npy")
    p_fit.add_argument("path", help=".parquet/.pq, .csv/.csv.gz, .arrow/.feather/.ipc or .npy")
    p_fit.add_argument("--family", required=True)
    p_fit.add_argument("--column", help="observation column(s), comma-separated for vector "
                                        "families (default: the first column / all columns)")
    p_fit.add_argument("--by", help="column of group labels: one fit per group")
    p_fit.add_argument("--weights", help="column of non-negative weights")
    p_fit.add_argument("--param", action="append", metavar="NAME=VALUE",
                       help="a fixed parameter, e.g. --param k=1.5 for Weibull")
    p_fit.add_argument("--pseudo-count", type=float, help="conjugate-prior strength")
    p_fit.add_argument("--chunksize", type=int, default=262_144, help="rows per chunk")
    p_fit.add_argument("--format", choices=["parquet", "csv", "ipc"],
                       help="file format (default: from the suffix)")
    p_fit.add_argument("--skip-invalid", action="store_true",
                       help="drop invalid rows (null, non-numeric, NaN/inf, outside the "
                            "support) and report how many, instead of stopping at the first")
    p_fit.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar (default: when stderr is a terminal)")

    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            from .demo import run

            print(run(seed=args.seed, n=args.n, png=args.png or None))
        elif args.command == "families":
            from .families import FAMILIES

            for name, cls in sorted(FAMILIES.items()):
                fixed = f" (fixed: {', '.join(cls.fixed_params)})" if cls.fixed_params else ""
                print(f"{name:20s} {cls.__name__}({', '.join(cls.param_names)}){fixed}  support {cls.support}")
        elif args.command == "fit":
            _fit_command(args)
    except (ExpfamError, KeyError, OSError) as exc:
        print(f"expfam: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
