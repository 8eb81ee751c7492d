"""The ``expfam`` command line: ``expfam demo``, ``families``, ``fit``, ``select``, ``gof``,
``kl``, ``sample`` (the last four in :mod:`.cli_commands`)."""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import traceback
import warnings

import numpy as np

from ._cli_args import _family, _param, _positive_int, _read_npy
from .errors import ExpfamError, ParameterError

#: exit codes (documented in ``expfam --help`` and the README)
EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 3, 130, 141

_EPILOG = """\
exit codes:
  0    success
  1    a data or file error: the file cannot be read, a value is invalid, no valid
       rows, the maximum-likelihood estimate does not exist...
  2    a usage error: an unknown option or family, a malformed value (--param k=abc),
       a fixed parameter missing or outside its domain
  3    an internal error (a bug): please report it with the output of --debug
  130  interrupted
  141  the output pipe was closed early (e.g. | head)

Errors print one line, "expfam: error: ...", to stderr; --debug adds the traceback."""


class _UsageError(Exception):
    """A mistake on the command line (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like the others."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"expfam: error: {message} (see '{self.prog} --help')\n")


# ----------------------------------------------------------------------------------
# Argument values
# ----------------------------------------------------------------------------------


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _fixed(family, items) -> dict:
    fixed = dict(items or [])
    for name in fixed:
        if name not in family.fixed_params:
            known = ", ".join(family.fixed_params) or "none"
            raise _UsageError(f"--param {name}: {family.__name__} has no fixed parameter "
                              f"{name!r} (its fixed parameters: {known})")
    return fixed


def _columns(text: str | None):
    """``--column a`` -> ``"a"``; ``--column a,b,c`` -> ``["a", "b", "c"]``."""
    if text is None:
        return None
    names = [c.strip() for c in text.split(",")]
    return names[0] if len(names) == 1 else names


# ----------------------------------------------------------------------------------
# Messages: one line, naming the command-line flags rather than the Python keywords
# ----------------------------------------------------------------------------------


def _fixed_names() -> str:
    from .families import FAMILIES

    names = {n for cls in FAMILIES.values() for n in cls.fixed_params}
    return "|".join(sorted(map(re.escape, names), key=len, reverse=True))


def _for_the_command_line(message: str) -> str:
    """A library message as a command-line message: the flags for the keywords, one line."""
    rules = [
        (r"skip_invalid=True", "--skip-invalid"),
        (r"missing_labels='group'", "--missing-labels group"),
        (r"\bpseudo_count=\.\.\.", "--pseudo-count N"),
        (r"\bpseudo_count\b", "--pseudo-count"),
        (r"\bformat='(\w+)' / '(\w+)' / '(\w+)'", r"--format \1 / \2 / \3"),
        (r"\bformat='(\w+)'", r"--format \1"),
        (r"\bcolumn=\[\.\.\.\]", "--column A,B,..."),
        (r"(?<![\w.-])(by|weights|column)=", r"--\1"),
        (rf"(?<![\w.'-])({_fixed_names()})=", r"--param \1="),
        (r"needs the fixed parameter\(s\) \['(\w+)'\]",
         r"needs the fixed parameter \1: pass --param \1=VALUE"),
        (r"pass them explicitly", "pass them with --param NAME=VALUE"),
    ]
    for pattern, replacement in rules:
        message = re.sub(pattern, replacement, message)
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


def _report(exc: BaseException, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    text = str(exc) if str(exc) else type(exc).__name__
    if isinstance(exc, KeyError) and exc.args:  # str() of a KeyError is its repr
        text = str(exc.args[0])
    if code == EXIT_INTERNAL:
        text = (f"{type(exc).__name__}: {text} (a bug: please report it; run with --debug "
                "for the traceback)")
    print(f"expfam: error: {_for_the_command_line(text)}", file=sys.stderr)
    return code


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"expfam: warning: {_for_the_command_line(str(message))}", file=sys.stderr)


# ----------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------


def _fmt(value) -> str:
    v = np.asarray(value)
    return f"{float(v):.6g}" if v.ndim == 0 else np.array2string(v, precision=6, threshold=8)


def _fit_command(args) -> None:
    """``expfam fit``: .npy in memory; Parquet, CSV and Arrow IPC streamed in chunks."""
    from .cli_commands import _check_plot_path, _Input

    if args.plot:
        _check_plot_path(args.plot)
        if args.by:
            raise _UsageError("--plot shows one fit: without --by (select the group's rows)")
    with _Input(args.path) as source:
        _fit_source(args, source.path)


def _fit_source(args, path) -> None:
    fixed = _fixed(args.family, args.param)
    args.path = path
    x = None
    if args.format is None and args.path.lower().endswith(".npy"):
        from .fitting import fit

        if (args.by or args.weights or args.column or args.skip_invalid
                or args.missing_labels != "error"):
            raise _UsageError("--column, --by, --weights, --missing-labels and --skip-invalid "
                              "need a table (Parquet, CSV, Arrow), not a .npy array")
        x = _read_npy(args.path)
        result = fit(args.family, x, pseudo_count=args.pseudo_count, **fixed)
    else:
        from .io import fit_file

        result = fit_file(args.family, args.path, column=_columns(args.column), by=args.by,
                          weights=args.weights, chunksize=args.chunksize, format=args.format,
                          skip_invalid=args.skip_invalid, progress=args.progress,
                          pseudo_count=args.pseudo_count, missing_labels=args.missing_labels,
                          **fixed)
    if args.plot:
        from .cli_commands import read_column
        from .plots import plot_fit, save

        if x is None:
            x = read_column(args.path, args.column)
        save(plot_fit(result.model, x), args.plot)
    if args.json or args.csv:
        from .cli_commands import print_fit

        print_fit(result, "json" if args.json else "csv")
    elif result.groups is None:
        print(result.summary())
    else:
        for i, g in enumerate(result.groups):
            params = ", ".join(f"{k}={_fmt(np.asarray(v)[i])}" for k, v in result.params.items())
            label = "None (missing labels)" if g is None else g
            print(f"{label}: n={result.n[i]}  {params}  loglik={result.loglik[i]:.6g}  "
                  f"converged={bool(result.converged[i])}")
    skipped = getattr(result, "skipped", None)
    if args.skip_invalid:
        total = sum(skipped.values()) if skipped else 0
        detail = ", ".join(f"{v} {k}" for k, v in skipped.items()) if skipped else "none"
        print(f"skipped {total} invalid row(s): {detail}",
              file=sys.stderr if args.json or args.csv else sys.stdout)


#: commands defined in this module; the others' parsers live in cli_commands / cli_ebm
_LOCAL_COMMANDS = ("demo", "families", "fit")


def _command_of(argv) -> str | None:
    """The command named on the command line (the first word after the global options),
    or ``None`` (``--help``, an unknown option, no command)."""
    for token in argv:
        if token != "--debug":
            return None if token.startswith("-") else token
    return None


def _parser(command: str | None = None) -> _Parser:
    """The argument parser; for a command of this module (``command``) the other
    commands' modules are not imported (start-up time: ``expfam fit`` of a small file)."""
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="on an error, also print the Python traceback")
    parser = _Parser(prog="expfam", description=__doc__, epilog=_EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true",
                        help="on an error, also print the Python traceback")
    sub = parser.add_subparsers(dest="command", required=True)

    p_demo = sub.add_parser("demo", parents=[debug],
                            help="fit known and real data; show ML = min KL in numbers")
    p_demo.add_argument("--seed", type=int, default=2026)
    p_demo.add_argument("--n", type=_positive_int, default=5000,
                        help="samples per synthetic data set")
    p_demo.add_argument("--png", default="expfam_demo.png", help="plot file ('' for none)")

    sub.add_parser("families", parents=[debug], help="list the families")

    p_fit = sub.add_parser(
        "fit", parents=[debug], epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        help="fit a family to columns of a Parquet, CSV or Arrow file (streamed) or a .npy")
    p_fit.add_argument("path", help=".parquet/.pq, .csv/.csv.gz, .arrow/.feather/.ipc, .npy, "
                                    "or - for standard input (CSV or plain numbers)")
    p_fit.add_argument("--family", required=True, type=_family,
                       help="a family name ('expfam families' lists them)")
    p_fit.add_argument("--column", help="observation column(s), comma-separated for vector "
                                        "families (default: the first column / all columns)")
    p_fit.add_argument("--by", help="column of group labels: one fit per group")
    p_fit.add_argument("--missing-labels", choices=["error", "group"], default="error",
                       help="rows with a missing --by label: stop at the first (error, the "
                            "default) or fit them as a group of their own (group)")
    p_fit.add_argument("--weights", help="column of non-negative weights")
    p_fit.add_argument("--param", action="append", metavar="NAME=VALUE", type=_param,
                       help="a fixed parameter, e.g. --param k=1.5 for Weibull")
    p_fit.add_argument("--pseudo-count", type=_positive_float, help="conjugate-prior strength")
    p_fit.add_argument("--chunksize", type=_positive_int, default=262_144, help="rows per chunk")
    p_fit.add_argument("--format", choices=["parquet", "csv", "ipc"],
                       help="file format (default: from the suffix)")
    p_fit.add_argument("--skip-invalid", action="store_true",
                       help="drop invalid rows (null, non-numeric, NaN/inf, outside the "
                            "support) and report how many, instead of stopping at the first")
    p_fit.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar (default: when stderr is a terminal)")
    p_fit.add_argument("--plot", metavar="FILE", help="histogram (bars for counts) with the "
                                                      "fitted density, as .png or .svg")
    fit_out = p_fit.add_mutually_exclusive_group()
    fit_out.add_argument("--json", action="store_true", help="JSON output")
    fit_out.add_argument("--csv", action="store_true", help="CSV output: one row per group")
    if command in _LOCAL_COMMANDS:  # the other sub-parsers cannot be reached
        return parser
    from .cli_commands import add_parsers
    from .cli_ebm import register as _register_ebm

    add_parsers(sub, [debug], _EPILOG)
    _register_ebm(sub, debug)  # expfam ising fit / expfam potts fit
    from .cli_mixture import register as _register_mixture

    _register_mixture(sub, debug, _EPILOG)  # expfam mixture
    return parser


def _run(args) -> None:
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
    elif args.command == "mixture":
        from .cli_mixture import run as _run_mixture

        _run_mixture(args)
    elif args.command in ("ising", "potts"):
        from .cli_ebm import run as _run_ebm

        _run_ebm(args)
    else:
        from .cli_commands import run

        run(args)


def main(argv=None) -> int:
    """Run the command line; returns the exit code (see ``expfam --help``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser(_command_of(argv)).parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    debug = args.debug
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            _run(args)
            sys.stdout.flush()
    except BrokenPipeError:  # e.g. `expfam families | head -1`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except (_UsageError, ParameterError) as exc:
        return _report(exc, EXIT_USAGE, debug)
    except (ExpfamError, OSError) as exc:
        return _report(exc, EXIT_DATA, debug)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("expfam: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback with --debug
        return _report(exc, EXIT_INTERNAL, debug)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
