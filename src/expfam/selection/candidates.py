"""Which families take part in a selection, and the columns each contributes.

A candidate is a family with its fixed parameters.  Its log density is linear in the
columns ``[log h(x), u(x)]`` given the natural parameters:
``log p(x) = log h(x) + eta . u(x) - A(eta)``, so per-fold sums of the columns (and of
their products, for the standard errors) are all a selection needs (DESIGN.md).

A fixed parameter that shapes the family (Weibull's ``k``, the negative binomial's ``r``)
is *profiled*: the columns are computed on a grid of its values around an estimate from
the first observations (the head), the profile likelihood is maximised on the grid and
refined by a quartic, and the columns at the refined value are the 6-point Lagrange
interpolation (in ``log theta``) of the grid's columns -- a linear map, so every sum
needed is still a linear map of the grid's sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from ..errors import DataError, ParameterError, UnknownFamilyError
from ..families import resolve_family
from ..families._base import registered
from ..stats import _pivots_of_head

__all__ = ["Candidate", "resolve_candidates", "GRID_STEP", "GRID_MAX"]

#: grid of a profiled parameter: uniform in log theta over eight standard errors of the
#: head's estimate either side (the training sets' estimates fall well inside), spaced
#: at most two standard errors and at most ``GRID_STEP`` (the 6-point interpolation of
#: the columns is then accurate to about 1e-10 relative), at most ``GRID_MAX`` points
GRID_STEP = 0.025
GRID_MAX = 25
#: the modules of the built-in families ("auto" and "all" range over these)
_BUILT_IN = ("expfam.families.", "expfam.ebm.")
#: families left out of ``families="auto"`` (with the reason): a saturated model of labels
_NOT_AUTO = {"categorical": "a nominal model of labels (one probability per value): "
                            "pass families='all' to include it"}


@dataclass
class Candidate:
    """A family (with its fixed parameters) in a selection.

    Attributes
    ----------
    label : str
        Its name in the result (``"weibull"``, ``"binomial(n=10)"``).
    family : type
        The family class.
    fixed : dict
        Its fixed parameters (a profiled one excluded until it is set).
    profile : str or None
        The fixed parameter estimated by profile likelihood, if any.
    grid : ndarray or None
        Grid of the profiled parameter (set from the head).
    shift : ndarray or None
        Location pivot (pivot families), set from the head.
    """

    label: str
    family: type
    fixed: dict
    profile: str | None = None
    grid: np.ndarray | None = None
    shift: np.ndarray | None = None
    n_stats: int = 0
    #: offset of its first column in the joint column block
    offset: int = 0
    width: int = 0
    notes: list = field(default_factory=list)

    @property
    def n_params(self) -> int:
        """Free parameters (the profiled one included)."""
        return self.n_stats + (self.profile is not None)

    def fixed_at(self, theta=None) -> dict:
        """The fixed parameters, the profiled one at ``theta`` (left out when ``None``)."""
        if self.profile is None or theta is None:
            return dict(self.fixed)
        return {**self.fixed, self.profile: float(theta)}

    def resolve_fixed(self, head: np.ndarray) -> None:
        """Fixed parameters that the data determine (``infer_fixed``: a Categorical's
        number of categories, a vector's dimension).  Raises :class:`ParameterError`
        naming a fixed parameter that must be given."""
        fam = self.family
        fixed = fam.infer_fixed(head, self.fixed_at(None))
        if self.profile is not None:
            fixed[self.profile] = 1.0  # validated with a placeholder; set by the grid
        try:
            fixed = fam.check_fixed(fixed)
        except ParameterError as exc:
            raise ParameterError(f"{exc}; pass families=[..., ({fam.name!r}, {{name: value}})]"
                                 ) from None
        self.fixed = {k: v for k, v in fixed.items() if k != self.profile}

    def setup(self, head: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Set the grid of a profiled parameter, the pivot and the number of columns from
        the head (validated data in the support).  Raises :class:`DataError` when the head
        shows that the family cannot be fitted (no overdispersion for the negative
        binomial, equal values)."""
        fam = self.family
        if self.profile is not None:
            w = np.ones(head.shape[0]) if weights is None else weights
            if not w.sum() > 0:
                raise DataError("the first observations have zero weight")
            theta0, se_log = _PILOTS[fam.name](head, w)
            step = min(2.0 * se_log, GRID_STEP)
            half = min(max(int(np.ceil(8.0 * se_log / step)), 4), GRID_MAX // 2)
            self.grid = theta0 * np.exp(step * np.arange(-half, half + 1))
        first = self.fixed_at(None if self.grid is None else self.grid[0])
        self.n_stats = fam.natural_dim(first)
        if fam.pivot:
            self.shift = np.asarray(_pivots_of_head(fam, self.fixed, head), dtype=np.float64)
        copies = 1 if self.grid is None else self.grid.size
        self.width = copies * (1 + self.n_stats)

    def columns(self, x: np.ndarray) -> np.ndarray:
        """The columns ``[log h, u_1..u_k]`` (once per grid value), shape ``(n, width)``."""
        values = [self.grid[i] for i in range(self.grid.size)] if self.grid is not None else [None]
        out = np.empty((x.shape[0], self.width))
        w = 1 + self.n_stats
        for i, theta in enumerate(values):
            fixed = self.fixed_at(theta)
            u, log_h = _stats_and_log_h(self.family, x, fixed, self.shift)
            out[:, i * w] = log_h
            out[:, i * w + 1:(i + 1) * w] = u
        return out

    def in_support(self, x: np.ndarray) -> np.ndarray:
        # a profiled parameter does not move the support (Weibull's k, the r of counts)
        return np.asarray(self.family.in_support(x, self.fixed_at(None)))

    def support(self) -> str:
        return str(self.family.support_of(self.fixed_at(None)))


def _stats_and_log_h(cls, x, fixed, shift):
    if cls.element is not None:
        u, lh = cls._element_arrays(x, fixed, shift)
        n = x.shape[0]
        return (np.stack([np.broadcast_to(np.asarray(c, dtype=np.float64), (n,)) for c in u], -1),
                np.broadcast_to(np.asarray(lh, dtype=np.float64), (n,)))
    with np.errstate(all="ignore"):
        return cls.sufficient_statistics(x, fixed, shift=shift), cls.log_base_measure(x, fixed)


# ----------------------------------------------------------------------
# Pilot estimates of profiled parameters from the head: (theta0, se of log theta)
# ----------------------------------------------------------------------
def _weibull_pilot(x, w):
    """MLE of Weibull's shape from the head (weights ``w``): the root in ``k`` of
    ``E_q[log x] - 1/k - mean(log x)`` with ``q ~ w x^k`` (increasing in ``k``);
    ``se(log k) ~ 0.78 / sqrt(n)`` (inverse Fisher information of the shape)."""
    z = np.log(x)
    z = z - np.average(z, weights=w)
    if not np.ptp(z[w > 0]) > 0:
        raise DataError("all values are equal: the Weibull shape k cannot be estimated")

    def g(log_k):
        k = np.exp(log_k)
        a = k * z
        q = w * np.exp(a - a.max())
        return np.sum(q * z) / np.sum(q) - 1.0 / k

    lo, hi = np.log(1e-3), np.log(1e3)
    if g(lo) * g(hi) > 0:
        raise DataError("the Weibull shape k of the head sample lies outside [1e-3, 1e3]")
    k0 = np.exp(optimize.brentq(g, lo, hi, xtol=1e-10))
    return k0, 0.78 / np.sqrt(w.sum())


def _nb_profile(log_r, W, ux, cx, mean):
    r = np.exp(log_r)
    p = r / (r + mean)  # the MLE of p for this r
    ll = (special.gammaln(ux + r) - special.gammaln(r) - special.gammaln(ux + 1)) @ cx
    return -(ll + W * (r * np.log(p) + mean * np.log1p(-p)))


#: the 5% critical value of the boundary likelihood-ratio test of r = inf (the Poisson)
#: for the negative binomial: the 90% quantile of chi2_1 (Self and Liang 1987)
OVERDISPERSION_LR = 2.706


def _nb_pilot(x, w):
    """MLE of the negative binomial's ``r`` from the head (weights ``w``; profile over
    ``log r``), and the standard error of ``log r`` from the profile's curvature."""
    W = w.sum()
    mean = np.sum(w * x) / W
    if not mean > 0:
        raise DataError("every count is 0: the negative binomial cannot be fitted")
    ux, inv = np.unique(x, return_inverse=True)
    cx = np.bincount(inv.ravel(), weights=w, minlength=ux.size)
    lo, hi = np.log(1e-3), np.log(1e7)
    res = optimize.minimize_scalar(_nb_profile, bounds=(lo, hi), args=(W, ux, cx, mean),
                                   method="bounded", options={"xatol": 1e-6})
    t = float(res.x)
    # likelihood ratio against the Poisson limit (r = 1e7 is within 1e-7 of it per count):
    # on the boundary of r, 2 LR is 0.5 chi2_0 + 0.5 chi2_1 under the Poisson
    lr = 2.0 * (_nb_profile(hi, W, ux, cx, mean) - float(res.fun))
    if t > hi - 0.5 or lr < OVERDISPERSION_LR:
        raise DataError(f"the head sample shows no significant overdispersion (2 log LR = {lr:.3g} "
                        f"against the Poisson limit r -> inf, below {OVERDISPERSION_LR} = the "
                        f"5% boundary test): the negative binomial is the Poisson")
    h = 1e-3
    f = [_nb_profile(t + d, W, ux, cx, mean) for d in (-h, 0.0, h)]
    curv = (f[0] - 2 * f[1] + f[2]) / h**2
    se = 1.0 / np.sqrt(curv) if curv > 0 else 1.0
    return np.exp(t), float(se)


_PILOTS = {"weibull": _weibull_pilot, "negative_binomial": _nb_pilot}


# ----------------------------------------------------------------------
# Which families
# ----------------------------------------------------------------------
def _label(cls, fixed):
    if not fixed:
        return cls.name
    return f"{cls.name}(" + ", ".join(f"{k}={v:g}" if np.ndim(v) == 0 else f"{k}={v}"
                                     for k, v in fixed.items()) + ")"


def _entries(families):
    """``(cls, fixed, given)`` for each requested family."""
    if isinstance(families, str):
        key = families.lower()
        if key not in ("auto", "all"):
            raise UnknownFamilyError(f"families must be 'auto', 'all' or a list of families; "
                                     f"got {families!r}")
        out = []
        for name, cls in registered().items():
            if not cls.__module__.startswith(_BUILT_IN):
                # user-defined families (define_family) and families of other packages
                # join when listed: the candidates must not depend on what was defined
                # earlier in the process
                continue
            if key == "auto" and name in _NOT_AUTO:
                out.append((cls, {}, _NOT_AUTO[name]))
            else:
                out.append((cls, {}, None))
        return out
    try:
        items = list(families)
    except TypeError:
        raise UnknownFamilyError(f"families must be 'auto', 'all' or a list of families; "
                                 f"got {families!r}") from None
    if not items:
        raise ParameterError("families: an empty list")
    out = []
    for item in items:
        fixed = {}
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], dict):
                raise UnknownFamilyError(f"families: expected a family or (family, {{fixed}}); "
                                         f"got {item!r}")
            item, fixed = item
        cls = resolve_family(item)
        if hasattr(item, "fixed") and not isinstance(item, (str, type)):
            fixed = {**item.fixed, **fixed}
        out.append((cls, dict(fixed), None))
    return out


def resolve_candidates(families, event_ndim: int) -> tuple[list[Candidate], dict]:
    """The candidates for data with ``event_ndim`` event axes, and ``{label: reason}`` for
    the families left out before any data is read."""
    candidates, skipped = [], {}
    for cls, fixed, reason in _entries(families):
        label = _label(cls, fixed)
        if reason is not None:
            skipped[label] = reason
            continue
        if not cls.has_log_partition:
            skipped[label] = ("no tractable log partition (an energy-based model): no exact "
                              "fits to rank; use expfam.fit_sgd")
            continue
        if cls.event_ndim != event_ndim:
            skipped[label] = (f"observations with {cls.event_ndim} event axis/axes; the data "
                              f"have {event_ndim}")
            continue
        missing = [p for p in cls.fixed_params if p not in fixed]
        profile = missing[0] if missing and _PROFILED.get(cls.name) == missing[0] else None
        try:
            if fixed:  # validate what was given (the others: from the data, at set-up)
                given = cls.check_fixed({**{p: 1.0 for p in missing}, **fixed})
                fixed = {k: given[k] for k in fixed}
        except (ParameterError, DataError) as exc:
            skipped[label] = f"{type(exc).__name__}: {exc}"
            continue
        candidates.append(Candidate(label=label, family=cls, fixed=fixed, profile=profile))
    return candidates, skipped


#: the fixed parameter that selection estimates by profile likelihood, per family
_PROFILED = {"weibull": "k", "negative_binomial": "r"}


def support_reason(cand: Candidate, x: np.ndarray) -> str | None:
    """Why ``x`` is outside the candidate's support (the first value), or ``None``."""
    inside = cand.in_support(x)
    if inside.all():
        return None
    i = int(np.flatnonzero(~inside)[0])
    shown = x[i] if x.ndim == 1 else np.array2string(x[i], precision=6, threshold=8)
    n_bad = int(np.count_nonzero(~inside))
    return (f"{n_bad} value(s) outside the support {cand.support()}; first at index {i}: "
            f"{float(shown) if np.ndim(shown) == 0 else shown}")
