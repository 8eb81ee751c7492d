"""Starting responsibilities for EM: k-means++ seeding with a few Lloyd steps, or random.

Both return a responsibility matrix ``R`` of shape ``(n, K)``; the first M-step turns it
into parameters.  Hard k-means labels are smoothed (``R = (1 - s) onehot + s / K``) so
that no component starts on a single point, where its MLE need not exist.
"""

from __future__ import annotations

import numpy as np

#: smoothing of hard k-means labels into responsibilities
SMOOTH = 0.02
#: Lloyd iterations after the k-means++ seeding
LLOYD_STEPS = 10


def _features(x: np.ndarray, event_ndim: int) -> np.ndarray:
    """The data as points in R^d for the distances, standardised per coordinate."""
    f = x.reshape(x.shape[0], -1) if event_ndim else x.reshape(-1, 1)
    sd = f.std(axis=0)
    return (f - f.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def kmeanspp(x: np.ndarray, K: int, rng: np.random.Generator, event_ndim: int = 0) -> np.ndarray:
    """Responsibilities from k-means++ seeding (Arthur and Vassilvitskii 2007: each new
    centre drawn with probability proportional to the squared distance to the nearest
    centre) followed by ``LLOYD_STEPS`` Lloyd iterations, smoothed by ``SMOOTH``."""
    f = _features(x, event_ndim)
    n = f.shape[0]
    centres = [f[rng.integers(n)]]
    d2 = np.sum((f - centres[0]) ** 2, axis=1)
    for _ in range(1, K):
        total = d2.sum()
        i = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        centres.append(f[i])
        d2 = np.minimum(d2, np.sum((f - f[i]) ** 2, axis=1))
    c = np.array(centres)
    for _ in range(LLOYD_STEPS):
        # squared distances |f|^2 - 2 f.c + |c|^2 (the |f|^2 term does not change argmin)
        labels = np.argmin(np.sum(c * c, axis=1) - 2 * f @ c.T, axis=1)
        for k in range(K):
            members = labels == k
            if members.any():
                c[k] = f[members].mean(axis=0)
    labels = np.argmin(np.sum(c * c, axis=1) - 2 * f @ c.T, axis=1)
    R = np.full((n, K), SMOOTH / K)
    R[np.arange(n), labels] += 1 - SMOOTH
    return R


def random_resp(n: int, K: int, rng: np.random.Generator) -> np.ndarray:
    """Random responsibilities: each row drawn from a flat Dirichlet distribution."""
    return rng.dirichlet(np.ones(K), size=n)
