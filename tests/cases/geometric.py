from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"geometric-{p}",
        make=lambda p=p: expfam.Geometric(p=p),
        # failures before the first success: SciPy's geom counts trials, hence loc=-1
        oracle=stats.geom(p, loc=-1),
        x=[0, 1, 3, 10, 40, 25_000],
        discrete=True,
        # SciPy has no geometric fit; the MLE is p = 1 / (1 + mean)
        scipy_fit=lambda x: stats.geom(1 / (1 + x.mean()), loc=-1),
    )
    for p in [0.5, 1e-4, 0.97]
]
