"""The compiled kernel of :mod:`._gram` (imported on first use; cached on disk)."""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def fold_gram_kernel(V, centre, folds, w, weighted, s1, s2, bad):  # pragma: no cover - compiled
    n, D = V.shape
    z = np.empty(D)
    for i in range(n):
        j = folds[i]
        wi = w[i] if weighted else 1.0
        for a in range(D):
            v = V[i, a] - centre[a]
            if not np.isfinite(v):
                bad[a] = True
                v = 0.0
            z[a] = v
        for a in range(D):
            za = wi * z[a]
            s1[j, a] += za
            for b in range(a, D):
                s2[j, a, b] += za * z[b]
