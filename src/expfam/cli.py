"""The ``expfam`` command line: ``expfam demo``, ``expfam families``, ``expfam fit``."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from .errors import ExpfamError


def _parse_fixed(items: list[str]) -> dict:
    fixed = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param expects NAME=VALUE, got {item!r}")
        fixed[key] = float(value)
    return fixed


def _read_table(path: str, column: str | None, by: str | None):
    """Read a CSV (header row) or .npy file; returns (values, labels or None)."""
    if path.endswith(".npy"):
        if by:
            raise SystemExit("--by needs a CSV file with a header row")
        return np.load(path, allow_pickle=False), None
    import csv

    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            raise SystemExit(f"{path}: empty file")
        col = column or reader.fieldnames[0]
        for name in (col, by):
            if name and name not in reader.fieldnames:
                raise SystemExit(f"{path}: no column {name!r}; columns are {reader.fieldnames}")
        values, labels = [], []
        for row_no, row in enumerate(reader, start=2):
            try:
                values.append(float(row[col]))
            except (TypeError, ValueError):
                raise SystemExit(f"{path}, line {row_no}: column {col!r} is not a number: {row[col]!r}")
            if by:
                labels.append(row[by])
    return np.asarray(values), (np.asarray(labels) if by else None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="expfam", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_demo = sub.add_parser("demo", help="fit known and real data; show ML = min KL in numbers")
    p_demo.add_argument("--seed", type=int, default=2026)
    p_demo.add_argument("--n", type=int, default=5000, help="samples per synthetic data set")
    p_demo.add_argument("--png", default="expfam_demo.png", help="plot file ('' for none)")

    sub.add_parser("families", help="list the families")

    p_fit = sub.add_parser("fit", help="fit a family to a column of a CSV or .npy file")
    p_fit.add_argument("path")
    p_fit.add_argument("--family", required=True)
    p_fit.add_argument("--column", help="CSV column (default: the first)")
    p_fit.add_argument("--by", help="CSV column of group labels: one fit per group")
    p_fit.add_argument("--param", action="append", metavar="NAME=VALUE",
                       help="a fixed parameter, e.g. --param k=1.5 for Weibull")
    p_fit.add_argument("--pseudo-count", type=float, help="conjugate-prior strength")

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
            from .fit import fit

            values, labels = _read_table(args.path, args.column, args.by)
            result = fit(args.family, values, by=labels, pseudo_count=args.pseudo_count,
                         **_parse_fixed(args.param))
            if labels is None:
                print(result.summary())
            else:
                for i, g in enumerate(result.groups):
                    params = ", ".join(f"{k}={np.asarray(v)[i]:.6g}" for k, v in result.params.items())
                    print(f"{g}: n={result.n[i]}  {params}  loglik={result.loglik[i]:.6g}  "
                          f"converged={bool(result.converged[i])}")
    except (ExpfamError, KeyError, OSError) as exc:
        print(f"expfam: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
