import numpy as np
from scipy import stats

import expfam

from . import Case


def _cov(sd, corr):
    sd = np.asarray(sd, dtype=float)
    return np.asarray(corr, dtype=float) * np.outer(sd, sd)


def _entropy(cov):
    # 0.5 log det(2 pi e cov), independently of expfam
    d = len(cov)
    return 0.5 * (d * np.log(2 * np.pi * np.e) + np.linalg.slogdet(cov)[1])


_SETTINGS = [
    # d = 1 (the univariate normal)
    ("1d", [0.5], [[2.0]], [[-3.0], [0.0], [0.5], [4.2]]),
    # d = 2, correlated
    ("2d", [1.0, -2.0], [[1.0, 0.6], [0.6, 2.0]], [[0.0, 0.0], [1.0, -2.0], [-1.5, 3.0]]),
    # d = 3, scales from 1e-2 to 1e2 with correlations of both signs
    ("3d-scales", [0.05, 1.0, -5.0],
     _cov([0.01, 1.0, 100.0], [[1, 0.5, -0.3], [0.5, 1, 0.2], [-0.3, 0.2, 1]]),
     [[0.05, 1.0, -5.0], [0.07, 2.0, 80.0], [0.04, -2.0, -150.0]]),
    # d = 2, mean far from the origin relative to the spread
    ("2d-far", [1e3, -500.0], _cov([50.0, 20.0], [[1, -0.8], [-0.8, 1]]),
     [[1e3, -500.0], [950.0, -480.0], [1100.0, -530.0]]),
    # d = 4, strongly correlated (condition number ~ 1e2)
    ("4d-corr", [0.0, 1.0, 2.0, 3.0],
     _cov([1.0, 2.0, 0.5, 1.0], 0.9 + 0.1 * np.eye(4)),
     [[0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 2.5, 4.0], [-2.0, 0.0, 1.0, 2.0]]),
]

CASES = [
    Case(
        id=f"multivariate_normal-{name}",
        make=lambda m=m, c=c: expfam.MultivariateNormal(mean=m, cov=c),
        oracle=stats.multivariate_normal(m, c),
        x=x,
        mean=np.asarray(m, dtype=float),
        var=np.asarray(c, dtype=float),
        entropy=_entropy(np.asarray(c, dtype=float)),
        scipy_fit=lambda x: stats.multivariate_normal(*stats.multivariate_normal.fit(x)),
        has_cdf=False,
    )
    for name, m, c, x in _SETTINGS
]
