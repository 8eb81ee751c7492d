"""SIMD steps of the lock-step dense Gibbs kernel: :data:`LANES` chains in the lanes of
vector registers (numba intrinsics that emit LLVM vector IR).

The lock-step kernel (:func:`._gibbs_kernels.sweep_dense_lanes`) keeps a block of
:data:`LANES` chains as arrays of shape ``(n, LANES)``: the spins ``X`` and the coupling
fields ``F = J X``, row ``i`` holding site ``i`` of every lane.  All lanes update the same
site at once; lane ``l`` reads and writes only column ``l`` and draws from its own
xoshiro256+ stream (the state ``st[:, l]``), so each lane is exactly the chain a serial
kernel would run from the same stream, whatever the other lanes hold.

Written as explicit vector IR because numba's arrays carry no ``noalias`` information:
LLVM cannot prove that ``F``, ``J`` and the lane buffers do not overlap and leaves the
equivalent Python loops scalar (or vectorises them across the wrong axis).

Two steps, for a block of :data:`BLOCK` consecutive sites ``idx[0..BLOCK-1]`` of the scan:

- :func:`heat_bath_step`: the heat-bath decision of site ``idx[m]`` for all lanes, from
  its field ``F[i] + sum_{q<m} J[idx[q], i] D[q]`` (the changes ``D`` of the block's
  earlier sites are not in ``F`` yet) and a polynomial ``exp`` whose error cannot change
  a decision it makes (a bit mask of the lanes too close to call is returned: the caller
  decides them with ``math.exp``), the spin and its change ``D[m]``;
- :func:`block_update`: ``F[j] += sum_q J[idx[q], j] D[q]`` for every row ``j``, one
  pass over ``F`` per block instead of one per site (loads and stores of ``F`` shared by
  :data:`BLOCK` sites; ``D = 0`` in the lanes where the spin did not change).

Small steps of the global flip: :func:`lanes_uniform`, :func:`lanes_dot`,
:func:`lanes_scale`.  The arrays passed are C-contiguous, their rows of :data:`LANES`
elements start on 64-byte boundaries when made by :func:`aligned_zeros` (any alignment
is correct, but split cache lines cost ~2x in :func:`block_update`).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.extending import intrinsic

__all__ = ["LANES", "BLOCK", "aligned_zeros", "heat_bath_step", "block_update", "lanes_uniform",
           "lanes_dot", "lanes_scale"]

#: chains per lock-step block (16 float32 = one 512-bit register)
LANES = 16
#: sites per pass of :func:`block_update`
BLOCK = 4

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_F64 = ir.DoubleType()


@njit(cache=True)
def aligned_zeros(rows, cols, dtype):
    """A zero ``(rows, cols)`` C-contiguous array whose data start on a 64-byte boundary
    (vector loads and stores of a row then never straddle two cache lines)."""
    buf = np.zeros(rows * cols + 64, dtype)
    off = ((-buf.ctypes.data) % 64) // buf.itemsize
    return buf[off:off + rows * cols].reshape((rows, cols))


def _c_arrays(*arrays):
    """Typing-time check: the intrinsics address rows by ``data + row * LANES``."""
    for a in arrays:
        if not isinstance(a, types.Array) or a.layout != "C":
            raise TypingError(f"expected a C-contiguous array, got {a}")


def _splat(builder, x, vty):
    undef = ir.Constant(vty, ir.Undefined)
    v = builder.insert_element(undef, x, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, undef, ir.Constant(ir.VectorType(_I32, vty.count),
                                                        [0] * vty.count))


def _fma(builder, a, b, c):
    """``a * b + c`` rounded once, elementwise (``llvm.fma`` on vectors)."""
    vty = a.type
    name = f"llvm.fma.v{vty.count}{'f32' if vty.element == ir.FloatType() else 'f64'}"
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vty, [vty] * 3), name)
    return builder.call(fn, [a, b, c])


def _const(vty, value):
    return ir.Constant(vty, [value] * vty.count)


def _row(builder, data, row, vty):
    """Pointer to the ``vty.count`` elements of row ``row`` of a ``(., LANES)`` array."""
    off = builder.mul(row, ir.Constant(_I64, vty.count))
    return builder.bitcast(builder.gep(data, [off]), vty.as_pointer())


def _xoshiro_uniform(builder, st_data):
    """One xoshiro256+ step of every lane (state rows ``st[0..3]``, stored back) and the
    uniforms ``(x >> 11) 2^-53``, as ``<LANES x double>`` (the scalar :func:`._rng.uniform`)."""
    vi = ir.VectorType(_I64, LANES)
    ptrs = [_row(builder, st_data, ir.Constant(_I64, k), vi) for k in range(4)]
    s0, s1, s2, s3 = [builder.load(p, align=8) for p in ptrs]
    res = builder.add(s0, s3)
    t = builder.shl(s1, _const(vi, 17))
    s2 = builder.xor(s2, s0)
    s3 = builder.xor(s3, s1)
    s1 = builder.xor(s1, s2)
    s0 = builder.xor(s0, s3)
    s2 = builder.xor(s2, t)
    s3 = builder.or_(builder.shl(s3, _const(vi, 45)), builder.lshr(s3, _const(vi, 19)))
    for p, s in zip(ptrs, (s0, s1, s2, s3)):
        builder.store(s, p, align=8)
    vd = ir.VectorType(_F64, LANES)
    return builder.fmul(builder.uitofp(builder.lshr(res, _const(vi, 11)), vd),
                        _const(vd, 1.0 / 9007199254740992.0))


#: the fast decision is trusted when ``|u (1 + E) - 1| >= MARGIN`` (``E``: the polynomial
#: ``exp(-2 f)``, relative error below 1e-9, so ``u (1 + E)`` is within ``2e-9 u (1 + E)``
#: of its exact value: the margin is 500 times that)
MARGIN = 2.0**-20
#: ``-2 log2(e)``: ``exp(-2 f) = 2^(f X2)``
X2 = -2.0 / np.log(2.0)
#: Taylor coefficients of ``2^r = exp(r ln 2)``, ``|r| <= 1/2``, degree 8 (remainder
#: ``< (ln(2) / 2)^9 / 9! < 2.1e-10``)
POLY = tuple(np.log(2.0) ** k / float(np.prod(np.arange(1, k + 1))) for k in range(9))


def _exp2(builder, x):
    """``2^x`` for ``|x| <= 1000``: ``2^round(x)`` from its exponent bits times a
    polynomial in ``r = x - round(x)``."""
    vd = x.type
    vi = ir.VectorType(_I64, vd.count)
    rint = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vd, [vd]),
                                          f"llvm.rint.v{vd.count}f64")
    k = builder.call(rint, [x])
    r = builder.fsub(x, k)
    p = _const(vd, POLY[-1])
    for c in POLY[-2::-1]:
        p = _fma(builder, p, r, _const(vd, c))
    bits = builder.shl(builder.add(builder.fptosi(k, vi), _const(vi, 1023)), _const(vi, 52))
    return builder.fmul(p, builder.bitcast(bits, vd))


@intrinsic
def heat_bath_step(typingctx, st, F, X, J, idx, D, m, h_i, U, G):
    """Heat-bath update of site ``i = idx[m]`` in every lane; returns the bit mask of the
    lanes left to the caller.

    ``st``: the lanes' xoshiro256+ states ``(4, LANES)`` (advanced by one draw);
    ``F``, ``X``: fields and spins ``(n, LANES)``; ``J``: couplings ``(n, n)`` (the dtype
    of ``F``); ``D``: ``(BLOCK, LANES)`` spin changes of the block, row ``m`` written.
    ``U`` and ``G`` (float64 ``(LANES,)``) receive the uniforms ``u`` and the local fields
    ``f = h_i + F[i] + sum_{q<m} J[idx[q], i] D[q]``.

    The rule is that of :func:`._gibbs_kernels.heat_bath_sign`: spin ``+1`` iff
    ``u (1 + exp(-2 f)) < 1``.  Here ``exp`` is a polynomial (:func:`_exp2`) and a lane is
    decided only when ``u (1 + E)`` is at least :data:`MARGIN` away from 1, where the
    polynomial's error cannot change the outcome; otherwise (a fraction ~1e-6 of the
    updates) or for ``|f| > 346`` its bit is set in the result and ``X[i]``, ``D[m]``
    hold spin ``-1``: the caller decides it with ``exp`` from ``U`` and ``G``.
    """
    _c_arrays(st, F, X, J, idx, D, U, G)
    sig = types.int64(st, F, X, J, idx, D, types.intp, types.float64, U, G)

    def codegen(context, builder, signature, args):
        a = [context.make_array(t)(context, builder, v) if isinstance(t, types.Array) else v
             for t, v in zip(signature.args, args)]
        st_a, F_a, X_a, J_a, idx_a, D_a, m, h_i, U_a, G_a = a
        ety = context.get_value_type(signature.args[1].dtype)
        vf = ir.VectorType(ety, LANES)
        vd = ir.VectorType(_F64, LANES)
        u = _xoshiro_uniform(builder, st_a.data)
        builder.store(u, builder.bitcast(U_a.data, vd.as_pointer()), align=8)
        i = builder.load(builder.gep(idx_a.data, [m]))
        n = builder.extract_value(J_a.shape, 1)
        # the field: F[i] plus the changes of the block's earlier sites
        f_ptr = cgutils.alloca_once_value(builder, builder.load(_row(builder, F_a.data, i, vf), align=4))
        with cgutils.for_range(builder, m) as loop:
            q = loop.index
            iq = builder.load(builder.gep(idx_a.data, [q]))
            jq = builder.load(builder.gep(J_a.data, [builder.add(builder.mul(iq, n), i)]))
            dq = builder.load(_row(builder, D_a.data, q, vf), align=4)
            builder.store(_fma(builder, _splat(builder, jq, vf), dq, builder.load(f_ptr)), f_ptr)
        f = builder.load(f_ptr)
        if ety != _F64:
            f = builder.fpext(f, vd)
        f = builder.fadd(_splat(builder, h_i, vd), f)
        builder.store(f, builder.bitcast(G_a.data, vd.as_pointer()), align=8)
        x = builder.fmul(f, _const(vd, X2))
        lim = _const(vd, 1000.0)
        xc = builder.select(builder.fcmp_ordered(">", x, lim), lim, x)
        xc = builder.select(builder.fcmp_ordered("<", xc, builder.fneg(lim)), builder.fneg(lim), xc)
        z = builder.fmul(u, builder.fadd(_const(vd, 1.0), _exp2(builder, xc)))
        plus = builder.fcmp_ordered("<", z, _const(vd, 1.0 - MARGIN))
        minus = builder.fcmp_ordered(">=", z, _const(vd, 1.0 + MARGIN))
        new = builder.select(plus, _const(vf, 1.0), _const(vf, -1.0))
        x_ptr = _row(builder, X_a.data, i, vf)
        change = builder.fsub(new, builder.load(x_ptr, align=4))
        builder.store(change, _row(builder, D_a.data, m, vf), align=4)
        builder.store(new, x_ptr, align=4)
        undecided = builder.or_(builder.icmp_unsigned("==", plus, minus),
                                builder.fcmp_unordered("!=", x, xc))
        return builder.zext(builder.bitcast(undecided, ir.IntType(LANES)), _I64)

    return sig, codegen


@intrinsic
def block_update(typingctx, F, J, idx, D):
    """``F[j] += sum_q J[idx[q], j] D[q]`` for every row ``j`` of ``F`` (``(n, LANES)``),
    ``q < BLOCK`` (fused multiply-adds; ``D`` is ``(BLOCK, LANES)``)."""
    _c_arrays(F, J, idx, D)
    sig = types.void(F, J, idx, D)

    def codegen(context, builder, signature, args):
        F_a, J_a, idx_a, D_a = [context.make_array(t)(context, builder, v)
                                for t, v in zip(signature.args, args)]
        vf = ir.VectorType(context.get_value_type(signature.args[0].dtype), LANES)
        n = builder.extract_value(J_a.shape, 1)
        d = [builder.load(_row(builder, D_a.data, ir.Constant(_I64, q), vf), align=4)
             for q in range(BLOCK)]
        rows = [builder.gep(J_a.data, [builder.mul(builder.load(
            builder.gep(idx_a.data, [ir.Constant(_I64, q)])), n)]) for q in range(BLOCK)]
        with cgutils.for_range(builder, n) as loop:
            j = loop.index
            p = _row(builder, F_a.data, j, vf)
            acc = builder.load(p, align=4)
            for q in range(BLOCK):
                acc = _fma(builder, _splat(builder, builder.load(builder.gep(rows[q], [j])), vf), d[q], acc)
            builder.store(acc, p, align=4)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def lanes_uniform(typingctx, st, U):
    """``U[l]``: one uniform draw of lane ``l``'s stream (``st``, ``(4, LANES)``)."""
    _c_arrays(st, U)
    sig = types.void(st, U)

    def codegen(context, builder, signature, args):
        st_a, U_a = [context.make_array(t)(context, builder, v) for t, v in zip(signature.args, args)]
        u = _xoshiro_uniform(builder, st_a.data)
        builder.store(u, builder.bitcast(U_a.data, u.type.as_pointer()), align=8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def lanes_dot(typingctx, w, X, out):
    """``out = sum_i w[i] X[i]`` (float64 ``(LANES,)``; ``X``: ``(n, LANES)``)."""
    _c_arrays(w, X, out)
    sig = types.void(w, X, out)

    def codegen(context, builder, signature, args):
        w_a, X_a, o_a = [context.make_array(t)(context, builder, v) for t, v in zip(signature.args, args)]
        ety = context.get_value_type(signature.args[1].dtype)
        vf = ir.VectorType(ety, LANES)
        vd = ir.VectorType(_F64, LANES)
        acc = cgutils.alloca_once_value(builder, _const(vd, 0.0))
        n = builder.extract_value(X_a.shape, 0)
        with cgutils.for_range(builder, n) as loop:
            x = builder.load(_row(builder, X_a.data, loop.index, vf), align=4)
            if ety != _F64:
                x = builder.fpext(x, vd)
            wi = _splat(builder, builder.load(builder.gep(w_a.data, [loop.index])), vd)
            builder.store(_fma(builder, wi, x, builder.load(acc)), acc)
        builder.store(builder.load(acc), builder.bitcast(o_a.data, vd.as_pointer()), align=8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def lanes_scale(typingctx, A, s):
    """``A[i] *= s`` for every row of ``A`` (``(n, LANES)``; ``s``: ``(LANES,)``, the
    dtype of ``A``)."""
    _c_arrays(A, s)
    sig = types.void(A, s)

    def codegen(context, builder, signature, args):
        A_a, s_a = [context.make_array(t)(context, builder, v) for t, v in zip(signature.args, args)]
        vf = ir.VectorType(context.get_value_type(signature.args[0].dtype), LANES)
        sv = builder.load(builder.bitcast(s_a.data, vf.as_pointer()), align=4)
        n = builder.extract_value(A_a.shape, 0)
        with cgutils.for_range(builder, n) as loop:
            p = _row(builder, A_a.data, loop.index, vf)
            builder.store(builder.fmul(builder.load(p, align=4), sv), p, align=4)
        return context.get_dummy_value()

    return sig, codegen
