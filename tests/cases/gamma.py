from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"gamma-{a}-{b}",
        make=lambda a=a, b=b: expfam.Gamma(shape=a, rate=b),
        oracle=stats.gamma(a, scale=1 / b),
        x=[1e-3, 0.5, 1.0, 7.5],
        scipy_fit=lambda x: stats.gamma(*stats.gamma.fit(x, floc=0)),
    )
    for a, b in [(0.5, 1.0), (2.0, 3.0), (150.0, 0.2)]
]
