import numpy as np
from scipy import stats

import expfam

from . import Case


def _scipy_categorical(p):
    """SciPy's generic finite discrete distribution on the labels 0..K-1."""
    p = np.asarray(p, dtype=float)
    return stats.rv_discrete(values=(np.arange(p.size), p))


def _frequencies(K):
    # SciPy has no categorical fit; the MLE is the vector of relative frequencies
    return lambda x: _scipy_categorical(np.bincount(x.astype(int), minlength=K) / x.size)


_PROBS = [
    [0.3, 0.7],
    [0.2, 0.3, 0.5],
    [0.9, 0.05, 0.05],  # one dominant category
    [0.04, 0.46, 0.5],  # a rare first category
    list(np.arange(11, 31) / 410.0),  # 20 categories, probabilities 11/410 .. 30/410
]

CASES = [
    Case(
        id=f"categorical-K{len(p)}-{i}",
        make=lambda p=p: expfam.Categorical(probs=p),
        oracle=_scipy_categorical(p),
        x=[0, len(p) - 1, len(p) // 2, 1],
        discrete=True,
        has_cdf=False,
        fit_kwargs={"n_categories": len(p)},
        scipy_fit=_frequencies(len(p)),
    )
    for i, p in enumerate(_PROBS)
]
