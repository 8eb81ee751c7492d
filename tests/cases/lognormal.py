import numpy as np
from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"lognormal-{m}-{s}",
        make=lambda m=m, s=s: expfam.LogNormal(mu=m, sigma=s),
        oracle=stats.lognorm(s, scale=np.exp(m)),
        x=[1e-3, 0.05, 1.0, 7.5, 300.0],
        scipy_fit=lambda x: stats.lognorm(*stats.lognorm.fit(x, floc=0)),
    )
    for m, s in [(0.0, 1.0), (-3.0, 0.01), (5.0, 2.5)]
]
