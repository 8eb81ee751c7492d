from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"exponential-{lam}",
        make=lambda lam=lam: expfam.Exponential(rate=lam),
        oracle=stats.expon(scale=1 / lam),
        x=[0.0, 1e-3, 0.5, 3.0, 40.0],
        scipy_fit=lambda x: stats.expon(*stats.expon.fit(x, floc=0)),
    )
    for lam in [1.0, 1e-3, 250.0]
]
