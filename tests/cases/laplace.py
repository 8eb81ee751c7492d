from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"laplace-{m}-{b}",
        make=lambda m=m, b=b: expfam.Laplace(loc=m, scale=b),
        oracle=stats.laplace(m, b),
        x=[m - 3 * b, m - 0.1 * b, m, m + 0.7 * b, m + 12 * b, m + 30 * b],
        fit_kwargs={"loc": m},
        scipy_fit=lambda x, m=m: stats.laplace(*stats.laplace.fit(x, floc=m)),
    )
    for m, b in [(0.0, 1.0), (-5.0, 1e-3), (1e4, 30.0)]
]
