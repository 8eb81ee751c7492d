"""Argument values and file reading shared by the command-line modules (:mod:`expfam.cli`,
:mod:`expfam.cli_commands`), so that neither imports the other."""

from __future__ import annotations

import argparse
import math
import os

import numpy as np

from .errors import FileFormatError

__all__ = ["_family", "_param", "_positive_int", "_read_npy"]


def _family(text: str):
    from .errors import UnknownFamilyError
    from .families import resolve_family

    try:
        return resolve_family(text)
    except UnknownFamilyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{text}: the value must be finite")
    return name.strip(), number


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _read_npy(path: str) -> np.ndarray:
    """A numeric array from a ``.npy`` file, never unpickled."""
    from .io.readers import _head, _looks_like

    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    start = _head(path, 8)  # a directory, or permission denied: FileFormatError
    if not start.startswith(b"\x93NUMPY"):
        what, fmt, _ = _looks_like(_head(path))
        raise FileFormatError(f"{path}: not a .npy file; the content is {what}"
                              + (f": rename the file or pass format={fmt!r}" if fmt else ""))
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise FileFormatError(
                f"{path}: the array holds Python objects (dtype object), which load only "
                f"with pickle, never run by expfam: save numbers instead, e.g. "
                f"np.save(path, arr.astype(float))") from exc
        raise FileFormatError(f"{path}: not a readable .npy file ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise FileFormatError(f"{path}: not a readable .npy file ({exc})") from exc
    if arr.dtype.kind not in "biuf":
        raise FileFormatError(f"{path}: the array has dtype {arr.dtype}; expected numbers")
    return arr
