from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"inverse_gamma-{a}-{b}",
        make=lambda a=a, b=b: expfam.InverseGamma(shape=a, scale=b),
        oracle=stats.invgamma(a, scale=b),
        x=[1e-3, 0.05, 0.5, 1.0, 7.5],
        scipy_fit=lambda x: stats.invgamma(*stats.invgamma.fit(x, floc=0)),
    )
    # a <= 1: infinite mean and variance; a = 250: the asymptotic solver branch
    for a, b in [(0.5, 1.0), (3.0, 2.0), (250.0, 40.0)]
]
