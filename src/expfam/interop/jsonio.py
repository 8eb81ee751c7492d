"""Distributions and fit results as JSON: a versioned schema, plain numbers, no pickle.

A distribution is stored by its family, fixed parameters and natural parameters (which
define it exactly: floats are written with ``repr`` precision, so a round trip is exact),
with the familiar parameters alongside for readers.  A :class:`~expfam.FitResult` adds its
criteria, convergence, residual, group labels and sufficient statistics.

Schema (version 1)::

    {"expfam": {"schema": 1, "kind": "distribution" | "fit_result"}, ...}
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .._json import _FIT_ARRAYS, SCHEMA_VERSION, distribution_json, fit_result_json, unarray
from ..errors import FileFormatError, InputTypeError

__all__ = ["SCHEMA_VERSION", "to_json", "from_json"]

_unarray = unarray


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """A distribution or a :class:`~expfam.FitResult` as JSON text (schema version 1).

    Parameters
    ----------
    obj : ExponentialFamily or FitResult
    indent : int, optional
        Passed to :func:`json.dumps`.

    Returns
    -------
    str

    Raises
    ------
    expfam.errors.InputTypeError
        Another kind of object, or group labels that are not text or numbers.
    """
    from ..families import ExponentialFamily
    from ..fitting import FitResult

    if isinstance(obj, ExponentialFamily):
        return distribution_json(obj, indent)
    if isinstance(obj, FitResult):
        return fit_result_json(obj, indent)
    raise InputTypeError(f"to_json: expected a distribution or a FitResult; got "
                         f"{type(obj).__name__}")


def _get(d, key, where):
    if not isinstance(d, dict) or key not in d:
        raise FileFormatError(f"from_json: {where}: the key {key!r} is missing")
    return d[key]


def _load_distribution(d, where):
    from ..errors import ExpfamError, UnknownFamilyError
    from ..families import resolve_family

    try:
        cls = resolve_family(_get(d, "family", where))
    except UnknownFamilyError as exc:
        raise FileFormatError(f"from_json: {where}: {exc}") from None
    fixed = _get(d, "fixed", where)
    if not isinstance(fixed, dict):
        raise FileFormatError(f"from_json: {where}: 'fixed' must be an object")
    eta = _unarray(_get(d, "natural", where), f"{where}.natural")
    try:
        return cls.from_natural(eta, **fixed)
    except (ExpfamError, TypeError) as exc:
        raise FileFormatError(f"from_json: {where}: not a valid {cls.__name__} ({exc})") from None


def from_json(text: str | bytes) -> Any:
    """A distribution or :class:`~expfam.FitResult` from :func:`to_json`'s text.

    Raises
    ------
    expfam.errors.FileFormatError
        Not JSON, not an expfam document, another schema version, a missing key, an
        unknown family or parameters outside its domain.
    """
    from ..fitting import FitResult
    from ..stats import SufficientStats

    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise FileFormatError(f"from_json: not JSON text ({exc})") from None
    head = _get(doc, "expfam", "document")
    version = _get(head, "schema", "expfam")
    if version != SCHEMA_VERSION:
        raise FileFormatError(f"from_json: schema version {version!r}; this expfam reads "
                              f"version {SCHEMA_VERSION}")
    kind = _get(head, "kind", "expfam")
    if kind == "distribution":
        return _load_distribution(doc, "distribution")
    if kind != "fit_result":
        raise FileFormatError(f"from_json: unknown kind {kind!r} (distribution, fit_result)")
    model = _load_distribution(_get(doc, "model", "fit_result"), "fit_result.model")
    arrays = {k: _unarray(_get(doc, k, "fit_result"), f"fit_result.{k}") for k in _FIT_ARRAYS}
    reg = _get(doc, "regularization", "fit_result")
    groups = _get(doc, "groups", "fit_result")
    err = _get(doc, "loglik_error", "fit_result")
    stats = _get(doc, "stats", "fit_result")
    if stats is not None:
        s = {k: _unarray(_get(stats, k, "fit_result.stats"), f"fit_result.stats.{k}")
             for k in ("count", *[n + lo for n in SufficientStats._SUMS for lo in ("", "_lo")])}
        shift = _get(stats, "shift", "fit_result.stats")
        stats = SufficientStats(type(model), model.fixed, s["count"], s["weight_sum"], s["sum_u"],
                                s["sum_log_h"], groups=None if groups is None else
                                np.array(groups, dtype=object),
                                shift=None if shift is None else _unarray(shift, "stats.shift"))
        for name in SufficientStats._SUMS:
            stats._lo[name] = s[name + "_lo"]
    centred = doc.get("centred") or [None, None]
    if not isinstance(centred, list) or len(centred) != 2:
        raise FileFormatError("from_json: fit_result.centred: expected a list of two entries")
    return FitResult(
        _centred=tuple(None if v is None else _unarray(v, "fit_result.centred") for v in centred),
        model=model, n_params=int(_get(doc, "n_params", "fit_result")),
        n_iter=int(_get(doc, "n_iter", "fit_result")),
        regularization=None if reg is None else {k: _unarray(v, f"regularization.{k}")[()]
                                                 for k, v in reg.items()},
        groups=None if groups is None else np.array(groups, dtype=object),
        loglik_error=None if err is None else _unarray(err, "fit_result.loglik_error"),
        stats=stats, **arrays)
