"""Multivariate normal distribution of dimension ``d`` (the fixed parameter ``dim``).

With precision ``Lambda = cov^-1`` and the pairs ``i <= j`` of the upper triangle (in
``numpy.triu_indices`` order):
``u(x) = (x, [x_i x_j]_{i<=j})``, ``eta = (Lambda m, theta)`` with
``theta_ii = -Lambda_ii / 2`` and ``theta_ij = -Lambda_ij`` (``i < j``), so that
``eta . u(x) = m' Lambda x - x' Lambda x / 2``; ``k = d + d (d + 1) / 2``;
``log h = -d log(2 pi) / 2`` (so ``E[log h]`` is exact);
``A(eta) = m' Lambda m / 2 - log det(Lambda) / 2``;
``grad A = (m, [cov_ij + m_i m_j]_{i<=j})``.
As for the Normal, the statistics are accumulated about a location pivot ``c`` (the first
observation: ``u = (x - c, [(x - c)_i (x - c)_j])``, re-centred exactly on merges), so that
data far from the origin keep their covariance (:mod:`expfam.families._gaussian`).
Matrix inverses and determinants are computed on the correlation-scaled matrix
(``D^-1 S D^-1`` with ``D = sqrt(diag S)``), which makes them insensitive to the scales of
the coordinates.  Entropy, log density and KL use a double-float Cholesky factor of the
precision matrix (after an exact power-of-two scaling) and the whitened, exact difference
of the precisions, so that they keep float64's relative accuracy for ill-conditioned
covariances and nearby laws (:mod:`expfam._precise`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .._lazy import stats
from .._precise import mvn_kl, mvn_log_density, mvn_logdet_entropy
from .._validation import as_float_array, check_finite, format_index
from ..domains import RealVectors
from ..errors import ParameterError, ShapeError
from ..solvers import closed_form
from ._base import ExponentialFamily

_LOG_2PI = np.log(2 * np.pi)
_EPS = np.finfo(float).eps


@lru_cache(maxsize=None)
def _pairs(d):
    """Row and column indices of the packed pairs ``i <= j``, and the diagonal flags."""
    i, j = np.triu_indices(d)
    return i, j, i == j


def _split(eta, d):
    """``(h, Lambda)`` from ``eta = (Lambda m, theta)``: ``Lambda = -(T + T')``, T upper."""
    i, j, _ = _pairs(d)
    T = np.zeros(eta.shape[:-1] + (d, d))
    T[..., i, j] = eta[..., d:]
    return eta[..., :d], -(T + np.swapaxes(T, -1, -2))


def _unpack_sym(packed, d):
    i, j, _ = _pairs(d)
    M = np.empty(packed.shape[:-1] + (d, d))
    M[..., i, j] = packed
    M[..., j, i] = packed
    return M


def _scaled(A):
    """``A = D R D`` with ``D = sqrt(diag A)``: returns ``(R, 1 / sqrt(diag A))``."""
    s = 1.0 / np.sqrt(np.diagonal(A, axis1=-2, axis2=-1))
    return A * s[..., :, None] * s[..., None, :], s


def _spd_inv(A):
    """Inverse of symmetric positive definite matrices, ``D^-1 R^-1 D^-1``."""
    R, s = _scaled(A)
    X = np.linalg.inv(R) * s[..., :, None] * s[..., None, :]
    return 0.5 * (X + np.swapaxes(X, -1, -2))


def _spd_logdet(A):
    R, s = _scaled(A)
    L = np.linalg.cholesky(R)
    return 2 * np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)) - np.log(s), axis=-1)


def _pd_mask(A):
    """Per batch element: finite, symmetric positive definite (Cholesky succeeds)."""
    A = np.asarray(A)
    ok = np.isfinite(A).all(axis=(-2, -1)) & (np.diagonal(A, axis1=-2, axis2=-1) > 0).all(-1)
    safe = np.where(ok[..., None, None], A, np.eye(A.shape[-1]))
    try:
        np.linalg.cholesky(_scaled(safe)[0])
        return ok
    except np.linalg.LinAlgError:  # only then one factorisation per element
        flat, out = safe.reshape((-1,) + A.shape[-2:]), ok.reshape(-1).copy()
        for n in np.flatnonzero(out):
            try:
                np.linalg.cholesky(_scaled(flat[n])[0])
            except np.linalg.LinAlgError:
                out[n] = False
        return out.reshape(ok.shape)


class MultivariateNormal(ExponentialFamily):
    """Multivariate normal distribution ``N(mean, cov)`` on ``R^d``.

    Parameters
    ----------
    mean : array_like, shape (..., d)
        Mean vector; its last axis fixes the dimension ``d`` (the fixed parameter ``dim``).
    cov : array_like, shape (..., d, d), optional
        Covariance matrix, symmetric positive definite.  Default: the identity.
    """

    name = "multivariate_normal"
    event_ndim = 1
    fixed_params = ("dim",)
    param_names = ("mean", "cov")
    integer_fixed = {"dim": 1}
    pivot = True
    boundary_hint = (
        "singular sample covariance: fewer than d + 1 distinct points, or points on a line "
        "/ hyperplane (collinear data)"
    )

    def __init__(self, mean, cov=None):
        mean = as_float_array(mean, name="mean", invalid=ParameterError, nonfinite=ParameterError)
        if cov is None and mean.ndim >= 1:
            cov = np.eye(mean.shape[-1])
        eta = self.natural_from_params({}, mean=mean, cov=cov)
        self._init_natural(eta, {"dim": mean.shape[-1]})

    @classmethod
    def infer_fixed(cls, x, fixed):
        d = x.shape[-1]
        if "dim" in fixed and fixed["dim"] != d:
            raise ShapeError(f"data: observations have length {d}, but dim={fixed['dim']!r}")
        return {**fixed, "dim": d}

    @classmethod
    def natural_dim(cls, fixed):
        d = fixed["dim"]
        return d + d * (d + 1) // 2

    @classmethod
    def natural_from_params(cls, fixed, mean=None, cov=None):
        m = as_float_array(mean, name="mean", invalid=ParameterError, nonfinite=ParameterError)
        if cov is None and m.ndim >= 1:
            cov = np.eye(m.shape[-1])
        S = as_float_array(cov, name="cov", invalid=ParameterError, nonfinite=ParameterError)
        check_finite(m, name="parameter 'mean'")
        check_finite(S, name="parameter 'cov'")
        if m.ndim < 1:
            raise ShapeError(f"parameter 'mean' must have shape (..., d); got shape {m.shape}")
        d = m.shape[-1]
        if S.ndim < 2 or S.shape[-2:] != (d, d):
            raise ShapeError(f"parameter 'cov' must have shape (..., {d}, {d}); got {S.shape}")
        if fixed.get("dim", d) != d:
            raise ShapeError(f"parameter 'mean' has length {d}, but dim={fixed['dim']!r}")
        try:
            batch = np.broadcast_shapes(m.shape[:-1], S.shape[:-2])
        except ValueError as exc:
            raise ShapeError(f"mean {m.shape} and cov {S.shape} do not broadcast") from exc
        m, S = np.broadcast_to(m, batch + (d,)), np.broadcast_to(S, batch + (d, d))
        scale = np.sqrt(np.abs(np.diagonal(S, axis1=-2, axis2=-1)))
        asym = np.abs(S - np.swapaxes(S, -1, -2)) > 1e-12 * scale[..., :, None] * scale[..., None, :]
        pd = _pd_mask(S) & ~asym.any(axis=(-2, -1))
        if not pd.all():
            n = np.flatnonzero(~pd)[0]
            bad = S.reshape(-1, d, d)[n]
            what = "not symmetric" if asym.reshape(-1, d, d)[n].any() else (
                f"not positive definite (smallest eigenvalue {np.linalg.eigvalsh(bad)[0]:.6g})")
            raise ParameterError(
                f"parameter 'cov' must be symmetric positive definite; at batch index "
                f"{format_index(n, batch)} it is {what}: {np.array2string(bad, precision=6)}"
            )
        S = 0.5 * (S + np.swapaxes(S, -1, -2))
        return cls._natural(m, _spd_inv(S))

    @classmethod
    def _natural(cls, m, Lam):
        i, j, diag = _pairs(m.shape[-1])
        theta = -Lam[..., i, j] * np.where(diag, 0.5, 1.0)
        return np.concatenate([np.einsum("...ij,...j->...i", Lam, m), theta], axis=-1)

    @classmethod
    def _mean_cov(cls, eta, fixed):
        h, Lam = _split(eta, fixed["dim"])
        S = _spd_inv(Lam)
        return np.einsum("...ij,...j->...i", S, h), S, h, Lam

    @classmethod
    def params_from_natural(cls, eta, fixed):
        m, S, _, _ = cls._mean_cov(eta, fixed)
        return {"mean": m, "cov": S}

    @classmethod
    def _check_event(cls, x, fixed):
        if x.shape[-1] != fixed["dim"]:
            raise ShapeError(
                f"x: observations must have length dim={fixed['dim']}; got shape {x.shape}")

    @classmethod
    def support_of(cls, fixed):
        return RealVectors(fixed["dim"])

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        cls._check_event(x, fixed)
        y = x if shift is None else x - shift
        i, j, _ = _pairs(fixed["dim"])
        return np.concatenate([y, y[..., i] * y[..., j]], axis=-1)

    # -- location pivot ------------------------------------------------------------
    @classmethod
    def pivot_of(cls, x, fixed):
        return np.asarray(x, dtype=np.float64)

    @classmethod
    def location(cls, eta, fixed):
        return cls._mean_cov(eta, fixed)[0]

    @classmethod
    def shift_natural(cls, eta, c, fixed):
        m, _, _, Lam = cls._mean_cov(eta, fixed)
        return cls._natural(m - c, Lam)

    @classmethod
    def unshift_natural(cls, eta_c, c, fixed):
        m, _, _, Lam = cls._mean_cov(eta_c, fixed)
        return cls._natural(m + c, Lam)

    @classmethod
    def shift_sums(cls, sum_u, weight_sum, d, fixed):
        # sums of (y, y_i y_j) -> sums of (y - d, (y - d)_i (y - d)_j)
        dim = fixed["dim"]
        i, j, _ = _pairs(dim)
        s1, s2 = sum_u[..., :dim], sum_u[..., dim:]
        W = np.asarray(weight_sum)[..., None]
        new1 = s1 - W * d
        new2 = s2 - d[..., j] * s1[..., i] - d[..., i] * s1[..., j] + W * d[..., i] * d[..., j]
        return np.concatenate([new1, new2], axis=-1)

    @classmethod
    def log_base_measure(cls, x, fixed):
        cls._check_event(x, fixed)
        return np.full(x.shape[:-1], -0.5 * fixed["dim"] * _LOG_2PI)

    @classmethod
    def log_partition(cls, eta, fixed):
        m, _, h, Lam = cls._mean_cov(eta, fixed)
        return 0.5 * np.sum(h * m, axis=-1) - 0.5 * _spd_logdet(Lam)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        m, S, _, _ = cls._mean_cov(eta, fixed)
        i, j, _ = _pairs(fixed["dim"])
        return np.concatenate([m, S[..., i, j] + m[..., i] * m[..., j]], axis=-1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        # Isserlis: Cov(x_i, x_k) = S_ik, Cov(x_i, x_k x_l) = m_k S_il + m_l S_ik,
        # Cov(x_i x_j, x_k x_l) = S_ik S_jl + S_il S_jk + m_i m_k S_jl + m_i m_l S_jk
        #                         + m_j m_k S_il + m_j m_l S_ik
        m, S, _, _ = cls._mean_cov(eta, fixed)
        i, j, _ = _pairs(fixed["dim"])
        mi, mj = m[..., i], m[..., j]
        xq = mi[..., None, :] * S[..., :, j] + mj[..., None, :] * S[..., :, i]
        Sii, Sjj = S[..., i[:, None], i], S[..., j[:, None], j]
        Sij, Sji = S[..., i[:, None], j], S[..., j[:, None], i]
        qq = (Sii * Sjj + Sij * Sji
              + mi[..., :, None] * (mi[..., None, :] * Sjj + mj[..., None, :] * Sji)
              + mj[..., :, None] * (mi[..., None, :] * Sij + mj[..., None, :] * Sii))
        top = np.concatenate([S, xq], axis=-1)
        bottom = np.concatenate([np.swapaxes(xq, -1, -2), qq], axis=-1)
        return np.concatenate([top, bottom], axis=-2)

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        d = fixed["dim"]
        m = mu[..., :d]
        S = _unpack_sym(mu[..., d:], d) - m[..., :, None] * m[..., None, :]
        return closed_form(cls._natural(m, _spd_inv(S)))

    @classmethod
    def in_support(cls, x, fixed):
        cls._check_event(x, fixed)
        return cls.support_of(fixed).contains(x)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return _pd_mask(_split(eta, fixed["dim"])[1])

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        d = fixed["dim"]
        m = mu[..., :d]
        M = _unpack_sym(mu[..., d:], d)
        with np.errstate(all="ignore"):
            S = M - m[..., :, None] * m[..., None, :]
            Md, Sd = np.diagonal(M, axis1=-2, axis2=-1), np.diagonal(S, axis1=-2, axis2=-1)
            # each variance clearly above rounding (as for Normal) ...
            ok = np.isfinite(S).all(axis=(-2, -1)) & (Sd > 64 * _EPS * np.abs(Md)).all(-1)
            # ... and the correlation matrix clearly non-singular: rounding in M - m m'
            # moves its entries by about eps * M_ii / S_ii
            noise = np.max(np.where(ok[..., None], Md / np.where(ok[..., None], Sd, 1.0), 1.0), -1)
        R = _scaled(np.where(ok[..., None, None], S, np.eye(d)))[0]
        return ok & (np.linalg.eigvalsh(R)[..., 0] > 64 * d * _EPS * noise)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.full(eta.shape[:-1], -0.5 * fixed["dim"] * _LOG_2PI)

    @classmethod
    def moments(cls, eta, fixed):
        m, S, _, _ = cls._mean_cov(eta, fixed)
        return m, S

    # expfam._divergence_jit: a float64 Cholesky per element with a rounding bound; the
    # elements it declines (ill-conditioned, nearby laws, far means) by the forms below
    entropy_kernel = "mvn_entropy"
    kl_kernel = "mvn_kl"

    @classmethod
    def divergence_params(cls, fixed):
        """``p = [d]`` for the compiled KL and entropy."""
        return np.array([float(fixed["dim"])])

    @classmethod
    def entropy_params(cls, fixed):
        return cls.divergence_params(fixed)

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """Differential entropy ``log det(2 pi e cov) / 2`` in nats (closed form, free of the
        cancellation of ``A - eta . mu`` when the mean is far from the origin)."""
        _, Lam = _split(eta, fixed["dim"])
        return mvn_logdet_entropy(Lam)[1]

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``-d log(2 pi) / 2 + log det(Lam) / 2 - (x - m)' Lam (x - m) / 2`` with the
        Cholesky factor, the mean and ``x - m`` in double-floats
        (:func:`expfam._precise.mvn_log_density`)."""
        h, Lam = _split(eta, fixed["dim"])
        return mvn_log_density(x, h, Lam)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        m, S, _, _ = cls._mean_cov(eta, fixed)
        z = rng.standard_normal(tuple(size) + m.shape)
        R, s = _scaled(S)
        L = np.linalg.cholesky(R) / s[..., :, None]  # cov = L L'
        return m + (L @ z[..., None])[..., 0]

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        """``scipy.stats.multivariate_normal`` for a single distribution; ``None`` for a
        batch (SciPy's multivariate normal takes one mean and one covariance)."""
        if eta.ndim != 1:
            return None
        m, S, _, _ = cls._mean_cov(eta, fixed)
        return stats.multivariate_normal(m, S)

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The standard normal ``N(0, I_d)``: ``mu0 = (0, packed I)``."""
        d = fixed["dim"]
        return np.concatenate([np.zeros(d), _pairs(d)[2].astype(float)])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        # KL = (tr(Lq Sp) - d - log det(Lq Sp)) / 2 + (mq - mp)' Lq (mq - mp) / 2, the first
        # part from the eigenvalues t of the whitened difference Cp^-1 (Lq - Lp) Cp^-T as
        # sum (t - log1p t) / 2 (expfam._precise.mvn_kl)
        d = fixed["dim"]
        hp, Lp = _split(eta_p, d)
        hq, Lq = _split(eta_q, d)
        return mvn_kl(hp, Lp, hq, Lq)
