"""Markov chain diagnostics: integrated autocorrelation time, effective sample size, R-hat.

Input: the recorded values of one quantity, shape ``(C, T)`` (``C`` chains of ``T`` steps)
or ``(T,)`` (one chain); a trailing axis ``(C, T, d)`` gives one value per component.

- :func:`integrated_autocorrelation_time`: ``tau = 1 + 2 sum_{t >= 1} rho(t)``, with the
  autocorrelation ``rho`` averaged over the chains (FFT) and Sokal's automatic window: the
  sum stops at the smallest ``M >= c tau(M)`` (``c = 5``).  An AR(1) chain with
  coefficient ``phi`` has ``tau = (1 + phi) / (1 - phi)``.
- :func:`effective_sample_size`: ``C T / tau``.
- :func:`rhat`: the split potential scale reduction factor (Gelman et al., BDA3): each
  chain is cut in halves; ``sqrt(((T'-1)/T' W + B/T') / W)`` with ``W`` the mean
  within-half variance and ``B / T'`` the variance of the half means.  Near 1 for mixed
  chains; above about 1.01 the chains disagree.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError

__all__ = ["autocorrelation", "integrated_autocorrelation_time", "effective_sample_size", "rhat"]


def _as_chains(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ShapeError(f"chains: expected shape (T,), (C, T) or (C, T, d); got {x.shape}")
    if x.shape[1] < 4:
        raise ShapeError(f"chains: need at least 4 steps per chain; got {x.shape[1]}")
    if not np.all(np.isfinite(x)):
        raise ShapeError("chains: non-finite values")
    return x


def autocorrelation(x) -> np.ndarray:
    """Autocorrelation ``rho(t)``, ``t = 0..T-1``, averaged over the chains: shape
    ``(T, d)`` (``(T,)`` for scalar input).  Constant components give ``rho = 1`` at 0 and 0
    elsewhere."""
    scalar = np.ndim(x) <= 2
    x = _as_chains(x)
    C, T, d = x.shape
    y = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(2 * T - 1).bit_length()
    f = np.fft.rfft(y, n=size, axis=1)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=1)[:, :T].real.mean(axis=0) / T
    var = acov[0]
    rho = np.where(var > 0, acov / np.where(var > 0, var, 1.0), 0.0)
    rho[0] = 1.0
    return rho[:, 0] if scalar else rho


def integrated_autocorrelation_time(x, c: float = 5.0) -> np.ndarray:
    """``tau`` per component (a float for scalar input); see the module docstring."""
    scalar = np.ndim(x) <= 2
    rho = autocorrelation(_as_chains(x))
    taus = 2.0 * np.cumsum(rho, axis=0) - 1.0
    T = rho.shape[0]
    out = np.empty(rho.shape[1])
    m = np.arange(T)[:, None]
    for k in range(rho.shape[1]):
        ok = np.flatnonzero(m[:, 0] >= c * taus[:, k])
        out[k] = taus[ok[0], k] if ok.size else taus[-1, k]
    out = np.maximum(out, 1.0 / (2 * T))
    return float(out[0]) if scalar else out


def effective_sample_size(x, c: float = 5.0):
    """``C T / tau`` per component."""
    chains = _as_chains(x)
    return chains.shape[0] * chains.shape[1] / integrated_autocorrelation_time(x, c)


def rhat(x):
    """Split R-hat per component (a float for scalar input); needs at least 2 steps per
    half-chain."""
    scalar = np.ndim(x) <= 2
    x = _as_chains(x)
    C, T, d = x.shape
    half = T // 2
    parts = np.concatenate([x[:, :half], x[:, T - half:]], axis=0)
    means = parts.mean(axis=1)
    W = parts.var(axis=1, ddof=1).mean(axis=0)
    B_over_n = means.var(axis=0, ddof=1)
    var_plus = (half - 1) / half * W + B_over_n
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(W > 0, np.sqrt(var_plus / np.where(W > 0, W, 1.0)), 1.0)
    return float(r[0]) if scalar else r
