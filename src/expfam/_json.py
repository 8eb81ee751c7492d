"""JSON encoding of distributions and fit results (schema version 1; the format is
described in :mod:`expfam.interop.jsonio`, which also reads it back).

A leaf module (NumPy and :mod:`expfam.errors` only), so that the families and
:class:`~expfam.FitResult` can write themselves without importing the layers above them.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .errors import FileFormatError, InputTypeError

__all__ = ["SCHEMA_VERSION", "distribution_json", "fit_result_json"]

SCHEMA_VERSION = 1
_FIT_ARRAYS = ("loglik", "mean_loglik", "n", "weight_sum", "aic", "bic", "converged",
               "residual", "residual_norm")


def array_doc(a) -> dict:
    """An array as ``{"dtype", "shape", "data"}``; NaN and inf as strings (JSON has none)."""
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise InputTypeError(f"to_json: cannot store an array of dtype {a.dtype}")
    data = a.ravel().tolist()
    if a.dtype.kind == "f":
        data = [v if math.isfinite(v) else repr(v) for v in data]
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": data}


def unarray(d, where: str) -> np.ndarray:
    try:
        dtype = np.dtype(d["dtype"])
        if dtype.kind not in "biuf":
            raise ValueError(f"dtype {dtype} is not numeric")
        data = [float(v) if isinstance(v, str) else v for v in d["data"]]
        return np.array(data, dtype=dtype).reshape(tuple(d["shape"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(f"from_json: {where}: not a stored array ({exc})") from None


def _label(g):
    if g is None or isinstance(g, (str, bool)):
        return g
    if isinstance(g, (int, np.integer)):
        return int(g)
    if isinstance(g, (float, np.floating)):
        return float(g)
    raise InputTypeError(f"to_json: group label {g!r} of type {type(g).__name__} cannot be "
                         f"stored (labels must be text, integers, floats or None)")


def _distribution(model) -> dict:
    return {"family": type(model).name,
            "fixed": {k: (v.item() if isinstance(v, np.generic) else v)
                      for k, v in model.fixed.items()},
            "natural": array_doc(model.natural),
            "params": {k: np.asarray(v).tolist() for k, v in model.params.items()}}


def _stats(s) -> dict:
    out = {"count": array_doc(s.count), "shift": None if s.shift is None else array_doc(s.shift)}
    for name in s._SUMS:
        out[name] = array_doc(getattr(s, name))
        out[name + "_lo"] = array_doc(s._lo[name])
    return out



def distribution_json(model, indent: int | None = None) -> str:
    """A distribution (an :class:`~expfam.ExponentialFamily` member) as JSON text."""
    doc = {"expfam": {"schema": SCHEMA_VERSION, "kind": "distribution"}, **_distribution(model)}
    return json.dumps(doc, indent=indent, allow_nan=False)


def fit_result_json(obj, indent: int | None = None) -> str:
    """A :class:`~expfam.FitResult` as JSON text."""
    doc = {"expfam": {"schema": SCHEMA_VERSION, "kind": "fit_result"},
           "model": _distribution(obj.model),
           "n_params": obj.n_params, "n_iter": int(obj.n_iter),
           "regularization": None if obj.regularization is None else {
               k: array_doc(v) for k, v in obj.regularization.items()},
           "groups": None if obj.groups is None else [_label(g) for g in obj.groups],
           "loglik_error": None if obj.loglik_error is None else array_doc(obj.loglik_error),
           "se": {k: np.asarray(v).tolist() for k, v in obj.se.items()},
           # pivot families: the natural parameters about the pivots, for the SEs
           "centred": [None if v is None else array_doc(v) for v in obj._centred],
           "stats": None if obj.stats is None else _stats(obj.stats)}
    doc.update({k: array_doc(getattr(obj, k)) for k in _FIT_ARRAYS})
    return json.dumps(doc, indent=indent, allow_nan=False)
