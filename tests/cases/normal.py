from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"normal-{m}-{s}",
        make=lambda m=m, s=s: expfam.Normal(loc=m, scale=s),
        oracle=stats.norm(m, s),
        x=[-3.0, -0.1, 0.0, 0.7, 12.0],
        scipy_fit=lambda x: stats.norm(*stats.norm.fit(x)),
    )
    for m, s in [(0.0, 1.0), (-3.0, 0.01), (1e3, 50.0)]
]
