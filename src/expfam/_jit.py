"""Numba kernels behind :mod:`expfam._kernels` (imported lazily, on the first large fit).

The kernels are generic drivers: a family enters them only through its ``element``
function (``element(v, p, c) -> (u, log_h)``, written once with the array-agnostic
functions of :mod:`expfam._special`) and the bounds of its support (a
:class:`~expfam.domains.Interval`).  The element is wrapped in a :class:`Compiled` token
whose numba type carries the function, so that each driver is compiled (and cached on
disk) once per family, with the element inlined into its loop; no driver knows any family.
Newton iterations of the solvers run the same way (:func:`iterate`), from the family's
``start`` and ``step`` functions.

Elementary functions: the :mod:`expfam._special` functions ``log``, ``log1p``, ``exp``,
``cos``, ``sin`` compile (numba ``overload``) to the branch-free versions below, written
with bit manipulation of the IEEE exponent plus a series so that LLVM vectorises the
loops; libm's scalar functions run several times slower than NumPy's SIMD ones.  ``log``,
``log1p``, ``sin`` and ``cos`` are within 2 ulps of NumPy's; ``exp`` within 1 ulp (tested in
``tests/test_kernels.py``).  ``fastmath`` stays off: the compensated sums and the split
constants rely on IEEE arithmetic.  ``error_model="numpy"`` removes the division-by-zero
checks that would stop vectorisation.

Accuracy of the sums (1-D data, :func:`sums_1d`): the data are cut into blocks of
``BLOCK`` values.  Inside a block, every run of 128 values is summed in vector lanes (the additions
of the run, and only those, may be reassociated: LLVM sums it with 16 or so interleaved
accumulators, error below ``19 eps`` times the sum of the magnitudes of the run, the bound
of NumPy's pairwise sum at its leaves); the run sums are added with
Neumaier's compensated summation, and the per-chunk partials are combined with
``math.fsum`` by the caller.  The rounding error therefore does not grow with ``n``.
Batched data (:func:`sums_2d`) add runs of at most 128 rows plainly, then fold them into
compensated column sums; grouped data (:func:`grouped_sums`) are scatter-added, with
compensation when the groups are large.  The chunk partition depends only on the data's
shape, so the sums are bit-for-bit reproducible whatever the number of threads.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import threading

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import (
    NativeValue,
    intrinsic,
    models,
    overload,
    register_jitable,
    register_model,
    typeof_impl,
    unbox,
)

from . import _special, _threading  # noqa: F401 (_threading: numba's fork-safe layer)

# the fork-safe threading layer (workqueue without TBB) is not thread-safe: `run`
# serialises the launches
_LAUNCH = threading.Lock()

#: values per block (one block's buffers, 3 x 8 KiB, stay in L1)
BLOCK = 1024
_RUN = 128
#: widest column tile of 2-D data (a row segment streamed per call)
WIDE = 4096

_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)
_INF = np.inf
_NAN = np.nan


# ----------------------------------------------------------------------------------
# Bit casts between float64 and int64 (no NumPy view on scalars inside numba)
# ----------------------------------------------------------------------------------
@intrinsic
def _f2i(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def _i2f(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


# ----------------------------------------------------------------------------------
# Elementary functions, vectorisable (no calls, no data-dependent branches)
# ----------------------------------------------------------------------------------
_LN2_HI = 0.6931471803691238  # ln 2 rounded to 32 significant bits: n * _LN2_HI is exact
_LN2_LO = 1.9082149292705877e-10
_BITS_SQRT_HALF = 0x3FE6A09E667F3BCD  # IEEE bits of sqrt(1/2)
_TINY = 2.2250738585072014e-308  # smallest normal number
_TWO54 = 18014398509481984.0
# log(1 + f) = f - s (f - R(s^2)),  s = f / (2 + f),  R(z) = sum_{j>=1} 2 z^j / (2j + 1),
# replaced on z in [0, 0.1716^2] by a near-minimax polynomial of degree 7 (relative error
# 4.6e-16; derived by scripts/log_coefficients.py), evaluated with fused multiply-adds
_L1, _L2, _L3, _L4 = 0.666666666666667, 0.39999999999899505, 0.28571428625975487, \
    0.2222221113479508
_L5, _L6, _L7 = 0.18182889125261723, 0.15331721600556042, 0.14616449685043406


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``llvm.fma.f64``: one instruction on x86-64 with
    FMA, vectorised; a correct library call elsewhere)."""
    def codegen(context, builder, signature, args):
        f64 = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f64, [f64] * 3),
                                            "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


@intrinsic
def _radd(typingctx, a, b):
    """``a + b`` that LLVM may reassociate (``fadd reassoc``): on the accumulators of a
    loop, and only there, it lets the loop vectoriser sum in vector lanes."""
    def codegen(context, builder, signature, args):
        return builder.fadd(args[0], args[1], flags=("reassoc",))

    return types.float64(types.float64, types.float64), codegen


@intrinsic
def _next_task(typingctx, counter):
    """Atomically take the next task: ``counter[0] += 1``, returning the old value
    (LLVM's ``atomicrmw add``).  The lanes of a parallel loop share the tasks this way,
    each taking the next one when it is done with its own, so that a lane slowed down by
    other work on its core (a file being decoded) does not hold up the others."""
    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary,
                                       [context.get_constant(types.intp, 0)])
        one = context.get_constant(types.int64, 1)
        return builder.atomic_rmw("add", ptr, one, "monotonic")

    return types.int64(counter), codegen


@njit(inline="always", **_OPTS)
def flog(x):
    """Natural logarithm of ``0 < x < inf`` (subnormals included); NaN at every other
    ``x`` (0, negatives, inf, NaN), on which the kernels that check the support by the
    finiteness of the sums rely."""
    sub = x < _TINY
    xs = x * _TWO54 if sub else x
    ix = _f2i(xs)
    # x = 2^e m with m in [sqrt(1/2), sqrt(2))
    e = (ix - _BITS_SQRT_HALF) >> 52
    m = _i2f(ix - (e << 52))
    dk = float(e) - (54.0 if sub else 0.0)
    f = m - 1.0
    s = f / (2.0 + f)  # |s| <= 0.1716
    z = s * s
    R = z * _fma(z, _fma(z, _fma(z, _fma(z, _fma(z, _fma(z, _L7, _L6), _L5), _L4), _L3), _L2),
                 _L1)
    hfsq = 0.5 * f * f
    # log(1 + f) = f - (hfsq - s (hfsq + R)): the large terms are exact or nearly so
    r = dk * _LN2_HI - ((hfsq - _fma(s, hfsq + R, dk * _LN2_LO)) - f)
    # NaN outside (0, inf): one select, and x - x (NaN at inf and NaN); a conjunction of
    # two comparisons here would cost a third of the function
    return (r if x > 0.0 else _NAN) + (x - x)


@njit(inline="always", **_OPTS)
def flog1p(y):
    """``log(1 + y)`` for ``y > -1``, accurate for small ``|y|``."""
    u = 1.0 + y
    # log(1 + y) = log(u) - ((u - 1) - y) / u + O(rounding^2)  (u - 1 is exact)
    return flog(u) - ((u - 1.0) - y) / u


_INV_LN2 = 1.4426950408889634
_SHIFTER = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer
_BITS_SHIFTER = 0x4338000000000000  # IEEE bits of _SHIFTER
_EXP_MAX = 709.782712893384
_EXP_MIN = -745.1332191019412
_E2, _E3, _E4, _E5, _E6, _E7 = [1.0 / math.factorial(j) for j in range(2, 8)]
_E8, _E9, _E10, _E11, _E12, _E13 = [1.0 / math.factorial(j) for j in range(8, 14)]


@njit(inline="always", **_OPTS)
def fexp(y):
    """``exp(y)`` for finite ``y`` (overflow to inf, underflow to 0)."""
    yc = min(max(y, -746.0), 710.0)
    kq = yc * _INV_LN2 + _SHIFTER  # 1.5 * 2^52 + round(yc / ln 2)
    q = kq - _SHIFTER
    r = (yc - q * _LN2_HI) - q * _LN2_LO  # |r| <= ln(2) / 2
    p = 1.0 + r * (1.0 + r * (_E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * (_E6 + r * (
        _E7 + r * (_E8 + r * (_E9 + r * (_E10 + r * (_E11 + r * (_E12 + r * _E13))))))))))))
    # the integers q and floor(q / 2), read from the bits (no conversion); two halves keep
    # each power of two normal (subnormal results)
    n = _f2i(kq) - _BITS_SHIFTER
    n1 = _f2i(np.floor(q * 0.5) + _SHIFTER) - _BITS_SHIFTER
    n2 = n - n1
    out = p * _i2f((n1 + 1023) << 52) * _i2f((n2 + 1023) << 52)
    out = _INF if y > _EXP_MAX else out
    return 0.0 if y < _EXP_MIN else out


_TWO_OVER_PI = 0.6366197723675814
_PIO2_1 = 1.5707963267341256  # pi/2 in three parts of 33 bits: q * part is exact
_PIO2_2 = 6.077100506303966e-11
_PIO2_3 = 2.0222662487959506e-21
_S3, _S5, _S7, _S9, _S11, _S13, _S15, _S17 = [
    (-1.0) ** j / math.factorial(2 * j + 1) for j in range(1, 9)
]
_C4, _C6, _C8, _C10, _C12, _C14, _C16, _C18 = [
    (-1.0) ** j / math.factorial(2 * j) for j in range(2, 10)
]


@njit(inline="always", **_OPTS)
def fsincos(x):
    """``(cos x, sin x)`` for ``|x| <= 4`` (the von Mises support)."""
    kq = x * _TWO_OVER_PI + _SHIFTER
    q = kq - _SHIFTER
    r = ((x - q * _PIO2_1) - q * _PIO2_2) - q * _PIO2_3  # |r| <= pi/4 (+ rounding)
    z = r * r
    s = r + r * z * (_S3 + z * (_S5 + z * (_S7 + z * (_S9 + z * (_S11 + z * (
        _S13 + z * (_S15 + z * _S17)))))))
    c = (1.0 - 0.5 * z) + z * z * (_C4 + z * (_C6 + z * (_C8 + z * (_C10 + z * (
        _C12 + z * (_C14 + z * (_C16 + z * _C18)))))))
    iq = (_f2i(kq) - _BITS_SHIFTER) & 3
    # x = q pi/2 + r: sin x = (s, c, -s, -c)[q mod 4], cos x = (c, -s, -c, s)[q mod 4]
    sw = (iq & 1) == 1
    sin_x = c if sw else s
    cos_x = s if sw else c
    sin_x = -sin_x if (iq & 2) == 2 else sin_x
    cos_x = -cos_x if ((iq + 1) & 2) == 2 else cos_x
    return cos_x, sin_x


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


#: the per-chunk sums of the parallel 1-D kernels are rows of this many doubles (128
#: bytes): two lanes update their chunks' sums after every run of values, and rows that
#: shared a cache line made the lanes wait on each other (false sharing; the 2-thread
#: pass was slower than the 1-thread one)
_ROW = 16


# ----------------------------------------------------------------------------------
# Summation
# ----------------------------------------------------------------------------------
@njit(inline="always", **_OPTS)
def _two_sum(s, c, t):
    """Neumaier step: ``s + t`` with the rounding error accumulated in ``c``."""
    u = s + t
    if abs(s) >= abs(t):
        c += (s - u) + t
    else:
        c += (t - u) + s
    return u, c


@njit(**dict(_OPTS, fastmath={"reassoc"}))
def _runs(r, m, out):
    """Plain sums of the full runs of 128 values of ``r[:m]`` into ``out``; returns their
    number.  The additions are reassociated here (and only here), so that LLVM sums each
    run in vector lanes."""
    nr = m // _RUN
    for k in range(nr):
        a = 0.0
        for j in range(k * _RUN, (k + 1) * _RUN):
            a += r[j]
        out[k] = a
    return nr


@njit(**_OPTS)
def _run_sums(r, m, runs):
    """Sum of ``r[:m]`` as (sum, compensation): runs of 128 summed in vector lanes (into
    the scratch ``runs``, ``m // 128`` floats), the run sums added with Neumaier's
    method."""
    nr = _runs(r, m, runs)
    total = 0.0
    comp = 0.0
    for k in range(nr):
        total, comp = _two_sum(total, comp, runs[k])
    rest = 0.0
    for j in range(nr * _RUN, m):
        rest += r[j]
    total, comp = _two_sum(total, comp, rest)
    return total, comp


# every other function of expfam._special (written with the ones above) compiles as it is
_OVERLOADED = {"log", "log1p", "exp", "cos", "sin", "select", "min_", "max_", "expm1", "lookup"}
for _name, _fn in vars(_special).items():
    if inspect.isfunction(_fn) and _fn.__module__ == _special.__name__ and _name not in _OVERLOADED:
        # loop-free ones are inlined into the kernels' loops (where LLVM vectorises them);
        # numba's IR inliner does not take functions with loops
        loops = "for " in inspect.getsource(_fn).split('"""')[-1]
        register_jitable(inline="never" if loops else "always")(_fn)



# ----------------------------------------------------------------------------------
# The array-agnostic functions of expfam._special, compiled
# ----------------------------------------------------------------------------------
@overload(_special.log)
def _ol_log(x):
    return lambda x: flog(x)


@overload(_special.log1p)
def _ol_log1p(x):
    return lambda x: flog1p(x)


@overload(_special.exp)
def _ol_exp(x):
    return lambda x: fexp(x)


@overload(_special.cos)
def _ol_cos(x):
    return lambda x: fsincos(x)[0]


@overload(_special.sin)
def _ol_sin(x):
    return lambda x: fsincos(x)[1]


@overload(_special.select)
def _ol_select(cond, a, b):
    return lambda cond, a, b: a if cond else b


@overload(_special.min_)
def _ol_min(a, b):
    return lambda a, b: min(a, b)


@overload(_special.max_)
def _ol_max(a, b):
    return lambda a, b: max(a, b)


@overload(_special.expm1)
def _ol_expm1(x):
    return lambda x: math.expm1(x)


_TWO52 = 4503599627370496.0
_BITS_TWO52 = 0x4330000000000000


@overload(_special.lookup)
def _ol_lookup(table, v):
    def impl(table, v):
        top = table.shape[0] - 1.0
        # clamp to [0, top] (a NaN reads table[0]: never out of bounds), then adding 2^52
        # puts the integer in the low mantissa bits: an index without a float -> int
        # conversion
        w = v if v >= 0.0 else 0.0
        w = w if w <= top else top
        return table[np.uint64(_f2i(np.floor(w) + _TWO52) - _BITS_TWO52)]

    return impl


# ----------------------------------------------------------------------------------
# Compiled tokens: a family's array-agnostic function, carried in a numba type
# ----------------------------------------------------------------------------------
_SPECIAL_VERSION = hashlib.sha1(inspect.getsource(_special).encode()).hexdigest()[:12]


class Compiled:
    """A Python function (array-agnostic, see :mod:`expfam._special`) as an argument of the
    generic drivers.  Its numba type names the function and a hash of its code (and of
    :mod:`expfam._special`), so that the disk cache of a driver is keyed by the function
    and a changed function is compiled afresh.

    Parameters
    ----------
    fn : callable
        The function.
    n_stats : int
        For an element map, the number of statistics ``k`` it returns.
    log_h_constant : bool
        For an element map, whether its ``log h`` is constant (not summed per value).
    """

    def __init__(self, fn, n_stats: int = 0, log_h_constant: bool = False):
        self.fn = fn
        # the source of the function's module (helpers included) and of _special
        try:
            source = inspect.getsource(inspect.getmodule(fn))
        except (OSError, TypeError):  # no source file: the code object stands in
            source = repr((fn.__code__.co_code, fn.__code__.co_consts))
        digest = hashlib.sha1((source + _SPECIAL_VERSION).encode()).hexdigest()[:16]
        self.key = f"{fn.__module__}.{fn.__qualname__}@{digest}"
        self.n_stats, self.log_h_constant = int(n_stats), bool(log_h_constant)
        # a function without a source file (typed in a notebook or exec'd) compiles
        # without the disk cache, which needs a file to key on
        try:
            cacheable = os.path.exists(inspect.getsourcefile(fn) or "")
        except TypeError:
            cacheable = False
        self.dispatcher = njit(inline="always", **dict(_OPTS, cache=cacheable))(fn)


class CompiledType(types.Opaque):
    """The numba type of a :class:`Compiled` token (one per function)."""

    def __init__(self, key, n_stats, log_h_constant):
        self.fn_key, self.n_stats, self.log_h_constant = key, n_stats, log_h_constant
        super().__init__(name=f"Compiled[{key}]")

    @property
    def key(self):
        return self.fn_key, self.n_stats, self.log_h_constant


register_model(CompiledType)(models.OpaqueModel)
_DISPATCHERS: dict = {}


@unbox(CompiledType)
def _unbox_compiled(typ, obj, c):
    return NativeValue(c.context.get_dummy_value())


@typeof_impl.register(Compiled)
def _typeof_compiled(val, c):
    _DISPATCHERS[val.key] = val.dispatcher
    return CompiledType(val.key, val.n_stats, val.log_h_constant)


def call(f, args):
    """``f.fn(*args)`` inside a kernel (``f`` a :class:`Compiled` token, ``args`` a tuple)."""


@overload(call, inline="always")
def _ol_call(f, args):
    if not isinstance(f, CompiledType):
        return None
    fn = _DISPATCHERS[f.fn_key]
    n = len(args)
    # explicit arities: numba's inliner takes no *args
    if n == 1:
        return lambda f, args: fn(args[0])
    if n == 2:
        return lambda f, args: fn(args[0], args[1])
    if n == 3:
        return lambda f, args: fn(args[0], args[1], args[2])
    if n == 4:
        return lambda f, args: fn(args[0], args[1], args[2], args[3])
    if n == 5:
        return lambda f, args: fn(args[0], args[1], args[2], args[3], args[4])
    if n == 6:
        return lambda f, args: fn(args[0], args[1], args[2], args[3], args[4], args[5])
    return None


def n_sums(f):
    """Number of per-value sums of an element map: ``k``, plus one for ``log h`` unless
    it is constant."""


@overload(n_sums, inline="always")
def _ol_n_sums(f):
    if not isinstance(f, CompiledType):
        return None
    n = f.n_stats + (0 if f.log_h_constant else 1)
    return lambda f: n


def _store(buf, j, u, lh, el):
    """Write the statistics ``u`` (and ``log h`` unless the element map ``el`` declares it
    constant) to ``buf[:, j]``."""


@overload(_store, inline="always")
def _ol_store(buf, j, u, lh, el):
    if not isinstance(el, CompiledType):
        return None
    k = len(u)
    with_lh = not el.log_h_constant
    if k == 1:
        def impl(buf, j, u, lh, el):
            buf[0, j] = u[0]
            if with_lh:
                buf[1, j] = lh
    elif k == 2:
        def impl(buf, j, u, lh, el):
            buf[0, j] = u[0]
            buf[1, j] = u[1]
            if with_lh:
                buf[2, j] = lh
    elif k == 3:
        def impl(buf, j, u, lh, el):
            buf[0, j] = u[0]
            buf[1, j] = u[1]
            buf[2, j] = u[2]
            if with_lh:
                buf[3, j] = lh
    else:
        return None
    return impl


def _outside(v, dom):
    """Whether ``v`` lies outside the interval ``dom`` (bounds tuple); always false when
    ``dom`` is ``None`` (the family's statistics are non-finite outside its support, and
    the caller checks the sums instead)."""


@overload(_outside, inline="always")
def _ol_outside(v, dom):
    if isinstance(dom, types.NoneType):
        return lambda v, dom: False
    return lambda v, dom: not _special.in_interval(v, dom)


def _chunk_stats(x, w, r0, r1, el, p, c, dom, S, C):
    """Add the sums of the statistics of runs ``r0 .. r1 - 1`` (128 values each) of ``x``
    (weighted by ``w`` unless it is empty) into ``S, C`` (sums and their compensations,
    one per statistic); returns the number of values outside the support.  One chunk of
    :func:`sums_1d`."""


_TERMS = {  # (k, with log h) -> the tuple of per-value terms of the sums
    (1, False): lambda u, lh: (u[0],),
    (1, True): lambda u, lh: (u[0], lh),
    (2, False): lambda u, lh: (u[0], u[1]),
    (2, True): lambda u, lh: (u[0], u[1], lh),
    (3, False): lambda u, lh: (u[0], u[1], u[2]),
    (3, True): lambda u, lh: (u[0], u[1], u[2], lh),
}


def _fused_chunk(k, with_lh):
    """The implementation of :func:`_chunk_stats` for ``k`` statistics (and ``log h``).

    Each run's loop adds the values' statistics straight into its accumulators with
    :func:`_radd`, the one operation that may be reassociated, so that LLVM sums in
    vector lanes (the bound of :func:`_runs`); the element's own arithmetic keeps its
    IEEE semantics.  The run sums are added with Neumaier's method.  The loops over the
    runs and over their values are one function: a call per run (with the reference
    counting of its array arguments) cost more than the run's arithmetic."""
    terms = register_jitable(inline="always")(_TERMS[k, with_lh])
    zero = (0.0,) * (k + with_lh)
    ns = k + with_lh

    def impl(x, w, r0, r1, el, p, c, dom, S, C):
        n = x.shape[0]
        weighted = w.shape[0] > 0
        nbad = 0
        for r in range(r0, r1):
            i0 = r * _RUN
            i1 = min(n, i0 + _RUN)
            acc = zero
            # unsigned indices: no wraparound of negative ones, so the loads vectorise
            if weighted:
                for j in range(i0, i1):
                    v = x[np.uint64(j)]
                    u, lh = call(el, (v, p, c))
                    acc = _add_scaled(acc, terms(u, lh), w[np.uint64(j)])
                    nbad += _outside(v, dom)
            else:
                for j in range(i0, i1):
                    v = x[np.uint64(j)]
                    u, lh = call(el, (v, p, c))
                    acc = _add_scaled(acc, terms(u, lh), 1.0)
                    nbad += _outside(v, dom)
            if nbad > 0:  # the result will be discarded: stop early
                break
            for s in range(ns):
                u_s, c_s = _two_sum(S[s], C[s], acc[s])
                S[s] = u_s
                C[s] = c_s
        return nbad

    return impl


def _add_scaled(acc, t, w):
    """``acc + w * t`` for tuples of equal length."""


@overload(_add_scaled, inline="always")
def _ol_add_scaled(acc, t, w):
    n = len(acc)
    if n == 1:
        return lambda acc, t, w: (_radd(acc[0], w * t[0]),)
    if n == 2:
        return lambda acc, t, w: (_radd(acc[0], w * t[0]), _radd(acc[1], w * t[1]))
    if n == 3:
        return lambda acc, t, w: (_radd(acc[0], w * t[0]), _radd(acc[1], w * t[1]),
                                  _radd(acc[2], w * t[2]))
    return lambda acc, t, w: (_radd(acc[0], w * t[0]), _radd(acc[1], w * t[1]),
                              _radd(acc[2], w * t[2]), _radd(acc[3], w * t[3]))


@overload(_chunk_stats, jit_options=_OPTS)
def _ol_chunk_stats(x, w, r0, r1, el, p, c, dom, S, C):
    if not isinstance(el, CompiledType):
        return None
    return _fused_chunk(el.n_stats, not el.log_h_constant)


@njit(**_OPTS)
def _map_block(xs, m, el, p, dom, c, buf):
    """Statistics of ``xs[:m]`` into ``buf[:, :m]``; returns the number of values outside
    the support (NaN and inf included).  Not parallel: the element is inlined here, where
    LLVM vectorises the loop."""
    nbad = 0
    for j in range(m):
        v = xs[j]
        u, lh = call(el, (v, p, c))
        _store(buf, j, u, lh, el)
        nbad += _outside(v, dom)
    return nbad


def _block(blk, el, xs, m, p, dom, c, buf):
    """The statistics of a block: the family's own block map when it has one (``blk`` a
    :class:`Compiled` token), else the element map value by value."""


@overload(_block, inline="always")
def _ol_block(blk, el, xs, m, p, dom, c, buf):
    if isinstance(blk, types.NoneType):
        return lambda blk, el, xs, m, p, dom, c, buf: _map_block(xs, m, el, p, dom, c, buf)
    if isinstance(blk, CompiledType):
        fn = _DISPATCHERS[blk.fn_key]
        return lambda blk, el, xs, m, p, dom, c, buf: fn(xs, m, p, dom, buf)
    return None


@njit(**_OPTS)
def _map_row_segment(xs, w, el, p, dom, cs, buf):
    """Statistics of one row segment ``xs[:w]`` with per-column pivots ``cs[:w]`` into
    ``buf[:, :w]``; returns the number of values outside the support.  (The index is the
    loop's own, known non-negative: an offset added to it would make numba check for
    negative indices, turning the stores into scatters that do not vectorise.)"""
    nbad = 0
    for j in range(w):
        v = xs[j]
        u, lh = call(el, (v, p, cs[j]))
        _store(buf, j, u, lh, el)
        nbad += _outside(v, dom)
    return nbad


@njit(**_OPTS)
def _map_block_grouped(xs, gs, m, el, p, dom, cg, buf):
    """Statistics of ``xs[:m]`` with the pivot of each value's group (``cg[gs[j]]``)."""
    nbad = 0
    for j in range(m):
        v = xs[j]
        u, lh = call(el, (v, p, cg[gs[j]]))
        _store(buf, j, u, lh, el)
        nbad += _outside(v, dom)
    return nbad


@njit(parallel=True, **_OPTS)
def sums_1d(x, w, el, p, dom, c, nchunks, nlanes):
    """Raw sums of 1-D contiguous ``x`` (weighted by ``w`` unless ``w`` is empty) by the
    family's element map ``el``, in runs of 128 values (:func:`_chunk_stats`).

    The data are cut into ``nchunks`` chunks (a partition that depends on ``n`` only);
    ``nlanes`` parallel lanes take the chunks one at a time (:func:`_next_task`), so a
    lane whose core is busy with other work takes fewer of them.  Each chunk's sums are
    its own, whichever lane computes them: the result does not depend on the lanes.

    Returns ``(S, C, bad)``: per chunk the sums ``S[c, :ns]`` and their compensations
    ``C[c, :ns]`` (the total is ``fsum(S[:, s]) + fsum(C[:, s])``), and the number of
    values outside the support ``dom`` per chunk (``dom`` ``None``: not checked).  The
    ``ns`` sums are the element's statistics, then ``log h`` unless it is constant.
    """
    n = x.shape[0]
    nrun = (n + _RUN - 1) // _RUN
    ns = n_sums(el)
    S = np.zeros((nchunks, _ROW))  # a row per chunk, rows in different cache lines
    C = np.zeros((nchunks, _ROW))
    bad = np.zeros(nchunks, np.int64)
    counter = np.zeros(1, np.int64)
    for _lane in prange(nlanes):
        while True:
            ch = _next_task(counter)
            if ch >= nchunks:
                break
            bad[ch] = _chunk_stats(x, w, ch * nrun // nchunks, (ch + 1) * nrun // nchunks,
                                   el, p, c, dom, S[ch], C[ch])
    return S[:, :ns], C[:, :ns], bad


@njit(parallel=True, **_OPTS)
def sums_1d_buffered(x, w, el, blk, p, dom, c, nchunks, nlanes):
    """Like :func:`sums_1d`, in blocks of ``BLOCK`` values: each block's statistics are
    mapped into a buffer (by the family's block map ``blk`` where it has one, ``None``: its
    element map ``el``, checking the support) and the buffer's rows are then summed in runs.
    Faster than the fused loop where every value is checked (the check's comparisons and
    the reassociated sums do not share one vectorised loop well).

    Returns ``(S, C, bad)``: per chunk the sums ``S[c, :ns]`` and their compensations
    ``C[c, :ns]`` (the total is ``fsum(S[:, s]) + fsum(C[:, s])``), and the number of
    values outside the support per chunk.  The ``ns`` sums are the element's statistics,
    then ``log h`` unless it is constant.
    """
    n = x.shape[0]
    nblk = (n + BLOCK - 1) // BLOCK
    ns = n_sums(el)
    weighted = w.shape[0] > 0
    S = np.zeros((nchunks, _ROW))  # as in sums_1d
    C = np.zeros((nchunks, _ROW))
    bad = np.zeros(nchunks, np.int64)
    counter = np.zeros(1, np.int64)
    for _lane in prange(nlanes):  # the lanes take the chunks one at a time (see sums_1d)
        buf = np.empty((ns, BLOCK))
        runs = np.empty(BLOCK // _RUN)
        while True:
            ch = _next_task(counter)
            if ch >= nchunks:
                break
            nbad = 0
            for b in range(ch * nblk // nchunks, (ch + 1) * nblk // nchunks):
                i0 = b * BLOCK
                m = min(BLOCK, n - i0)
                nbad += _block(blk, el, x[i0:i0 + m], m, p, dom, c, buf)
                if nbad > 0:  # the result will be discarded: stop early
                    break
                if weighted:
                    ws = w[i0:i0 + m]
                    for s in range(ns):
                        row = buf[s]
                        for j in range(m):  # vectorised
                            row[j] *= ws[j]
                for s in range(ns):
                    t, tc = _run_sums(buf[s], m, runs)
                    u, cc = _two_sum(S[ch, s], C[ch, s], t)
                    S[ch, s] = u
                    C[ch, s] = cc + tc
            bad[ch] = nbad
    return S[:, :ns], C[:, :ns], bad


@njit(parallel=True, **_OPTS)
def sums_2d(x, el, p, dom, c, nchunks):
    """Raw column sums of 2-D C-contiguous ``x`` (shape ``(n, M)``), with the pivot
    ``c[j]`` of each column.

    Rows are split into ``nchunks`` chunks and columns into tiles of at most ``WIDE``
    (one task per chunk and tile).  A task maps ``R`` rows of its tile at a time, adds the
    statistics elementwise into a plain accumulator of the same layout, and every 128
    calls folds the accumulator into its column sums with Neumaier's method.  Returns
    ``(S, C, bad)`` with ``S, C`` of shape ``(nchunks, ns, M)``.
    """
    n, M = x.shape
    flat = x.reshape(n * M)
    ns = n_sums(el)
    W = min(M, WIDE)
    ntiles = (M + W - 1) // W
    R = max(1, min(_RUN, BLOCK // W))  # rows per call
    L = R * W
    S = np.zeros((nchunks, ns, M))
    C = np.zeros((nchunks, ns, M))
    bad = np.zeros(nchunks * ntiles, np.int64)
    for t in prange(nchunks * ntiles):
        rc = t // ntiles
        c0 = (t - rc * ntiles) * W
        w = min(W, M - c0)
        r0 = rc * n // nchunks
        r1 = (rc + 1) * n // nchunks
        buf = np.empty((R, ns, W))
        acc = np.zeros((ns, L))
        cs = c[c0:c0 + w]
        nbad = 0
        calls = 0
        for rb in range(r0, r1, R):
            nr = min(R, r1 - rb)
            for r in range(nr):
                start = (rb + r) * M + c0
                nbad += _map_row_segment(flat[start:start + w], w, el, p, dom, cs, buf[r])
            if nbad != 0:
                break
            for s in range(ns):
                for r in range(nr):
                    av = acc[s, r * w:(r + 1) * w]
                    bv = buf[r, s]
                    for i in range(w):  # vectorised
                        av[i] += bv[i]
            calls += 1
            if calls == _RUN or rb + R >= r1:
                for s in range(ns):
                    sv = S[rc, s, c0:c0 + w]
                    cv = C[rc, s, c0:c0 + w]
                    for r in range(R):
                        av = acc[s, r * w:(r + 1) * w]
                        for j in range(w):
                            u, cc = _two_sum(sv[j], cv[j], av[j])
                            sv[j] = u
                            cv[j] = cc
                            av[j] = 0.0
                calls = 0
        bad[t] = nbad
    return S, C, bad


@njit(parallel=True, **_OPTS)
def grouped_sums(x, w, inv, G, el, p, dom, cg, nchunks, compensated):
    """Raw sums of 1-D contiguous ``x`` (weighted by ``w`` unless ``w`` is empty) per
    group ``inv`` (codes ``0..G-1``), with the pivot ``cg[g]`` of each group.

    Each chunk of the data scatter-adds into its own accumulator: ``A[c, g, 2 s]`` is the
    sum and, when ``compensated``, ``A[c, g, 2 s + 1]`` its Neumaier compensation (plain
    sums are used for small groups, where the sequential error is small and the scatter
    is memory-bound); ``A[c, g, 2 ns]`` counts the observations (with positive weight)
    and ``A[c, g, 2 ns + 1]`` sums the weights (``A[c, g, 2 ns + 2]``: its compensation).
    Returns ``(A, bad)``.
    """
    n = x.shape[0]
    nblk = (n + BLOCK - 1) // BLOCK
    ns = n_sums(el)
    weighted = w.shape[0] > 0
    A = np.zeros((nchunks, G, 2 * ns + 3))
    bad = np.zeros(nchunks, np.int64)
    for ch in prange(nchunks):
        buf = np.empty((ns, BLOCK))
        acc = A[ch]
        nbad = 0
        for b in range(ch * nblk // nchunks, (ch + 1) * nblk // nchunks):
            i0 = b * BLOCK
            m = min(BLOCK, n - i0)
            gs = inv[i0:i0 + m]
            nb = _map_block_grouped(x[i0:i0 + m], gs, m, el, p, dom, cg, buf)
            if nb != 0:
                nbad = nb
                break
            if weighted:
                ws = w[i0:i0 + m]
                for s in range(ns):
                    row = buf[s]
                    for j in range(m):  # vectorised
                        row[j] *= ws[j]
            if compensated:
                for j in range(m):
                    g = gs[j]
                    for s in range(ns):
                        u, cc = _two_sum(acc[g, 2 * s], acc[g, 2 * s + 1], buf[s, j])
                        acc[g, 2 * s] = u
                        acc[g, 2 * s + 1] = cc
                    wj = w[i0 + j] if weighted else 1.0
                    acc[g, 2 * ns] += 1.0 if wj > 0.0 else 0.0
                    u, cc = _two_sum(acc[g, 2 * ns + 1], acc[g, 2 * ns + 2], wj)
                    acc[g, 2 * ns + 1] = u
                    acc[g, 2 * ns + 2] = cc
            else:
                for j in range(m):
                    g = gs[j]
                    for s in range(ns):
                        acc[g, 2 * s] += buf[s, j]
                    wj = w[i0 + j] if weighted else 1.0
                    acc[g, 2 * ns] += 1.0 if wj > 0.0 else 0.0
                    acc[g, 2 * ns + 1] += wj
        bad[ch] = nbad
    return A, bad


@njit(**_OPTS)
def _row_block(rows_el, xs, nr, K, p, out, scratch):
    """The family's block map on ``nr`` rows of ``K`` values (not parallel: inlined here,
    where LLVM vectorises its loops); returns the number of rows outside the support."""
    return call(rows_el, (xs, nr, K, p, out, scratch))


@njit(parallel=True, **_OPTS)
def row_sums(x, rows_el, p, nchunks):
    """Sums of the statistics of the rows of C-contiguous ``x`` (n, K) for a family of
    vector observations.  Its ``rows_element(xs, nr, K, p, out, scratch) -> n_bad`` maps
    a block of ``nr`` rows (``xs``: ``nr * K`` contiguous values) to their ``k``
    statistics in ``out[:, :nr]``, using ``scratch`` (``BLOCK + BLOCK // K`` floats) as
    it likes, and counts the rows outside the support.  Rows are taken in blocks of
    ``BLOCK // K``; each block's sums are added with Neumaier's method.  Returns
    ``(S, C, bad)``, ``S, C`` of shape ``(nchunks, k)``."""
    n, K = x.shape
    flat = x.reshape(n * K)
    k = n_sums(rows_el)
    R = max(1, BLOCK // K)
    nblk = (n + R - 1) // R
    S = np.zeros((nchunks, k))
    C = np.zeros((nchunks, k))
    bad = np.zeros(nchunks, np.int64)
    for ch in prange(nchunks):
        out = np.empty((k, R))
        scratch = np.empty(R * K + R)
        runs = np.empty(BLOCK // _RUN)
        nbad = 0
        for b in range(ch * nblk // nchunks, (ch + 1) * nblk // nchunks):
            r0 = b * R
            nr = min(R, n - r0)
            nbad += _row_block(rows_el, flat[r0 * K:(r0 + nr) * K], nr, K, p, out, scratch)
            if nbad > 0:
                break
            for s in range(k):
                t, tc = _run_sums(out[s], nr, runs)
                u, cc = _two_sum(S[ch, s], C[ch, s], t)
                S[ch, s] = u
                C[ch, s] = cc + tc
        bad[ch] = nbad
    return S, C, bad


# ----------------------------------------------------------------------------------
# Elementwise iterations (the solvers' Newton steps), one element per task
# ----------------------------------------------------------------------------------
def _row(inputs, i):
    """``(inputs[0][i], inputs[1][i], ...)`` for a tuple of 1-D arrays."""


@overload(_row, inline="always")
def _ol_row(inputs, i):
    q = len(inputs)
    if q == 1:
        return lambda inputs, i: (inputs[0][i],)
    if q == 2:
        return lambda inputs, i: (inputs[0][i], inputs[1][i])
    if q == 3:
        return lambda inputs, i: (inputs[0][i], inputs[1][i], inputs[2][i])
    return None


@njit(**_OPTS)
def _iterate_one(start, step, row, max_iter):
    state = call(start, row)
    done = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is read after the loop)
        state, done = call(step, (state,) + row)
        if done:
            break
    return state, done, it


@njit(parallel=True, **_OPTS)
def iterate(start, step, inputs, max_iter):
    """For every element ``i``, with ``row = (inputs[0][i], inputs[1][i], ...)``: run
    ``state = start(*row)``, then ``state, done = step(state, *row)`` until ``done`` or
    ``max_iter`` steps.  The functions are the family's array-agnostic ones, which
    :func:`expfam.solvers.iterate` runs on whole arrays.  Returns
    ``(states (n, m), done (n,), iterations (n,))``."""
    n = inputs[0].shape[0]
    m = len(call(start, _row(inputs, 0)))
    out = np.empty((n, m))
    done = np.zeros(n, dtype=np.bool_)
    iters = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        state, d, it = _iterate_one(start, step, _row(inputs, i), max_iter)
        for j in range(m):
            out[i, j] = state[j]
        done[i] = d
        iters[i] = it
    return out, done, iters


def run(kernel, *args):
    """Call a parallel kernel, one launch at a time (the threading layer may not be
    thread-safe).  Static scheduling: numba's chunked dynamic scheduling
    (``numba.parallel_chunksize``) was ten times slower here."""
    with _LAUNCH:
        return kernel(*args)
