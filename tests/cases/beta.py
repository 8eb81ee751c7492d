from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"beta-{a}-{b}",
        make=lambda a=a, b=b: expfam.Beta(a=a, b=b),
        oracle=stats.beta(a, b),
        x=[1e-3, 0.25, 0.5, 0.9, 0.999],
        scipy_fit=lambda x: stats.beta(*stats.beta.fit(x, floc=0, fscale=1)),
    )
    # arcsine law, skewed, strongly skewed with a small first shape, concentrated
    for a, b in [(0.5, 0.5), (2.0, 5.0), (0.3, 40.0), (250.0, 30.0)]
]
