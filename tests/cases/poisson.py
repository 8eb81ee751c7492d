from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"poisson-{lam}",
        make=lambda lam=lam: expfam.Poisson(rate=lam),
        oracle=stats.poisson(lam),
        x=[0, 1, 3, 10, 40],
        discrete=True,
        # SciPy has no Poisson fit; its MLE is the sample mean
        scipy_fit=lambda x: stats.poisson(x.mean()),
    )
    for lam in [0.05, 3.5, 250.0]
]
