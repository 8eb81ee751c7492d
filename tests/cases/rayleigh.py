from scipy import stats

import expfam

from . import Case

# (test_derivatives_of_log_partition uses an absolute step >= 1e-7 in eta = -1/(2 s^2),
# too coarse for s >> 10, hence no larger scale here)
CASES = [
    Case(
        id=f"rayleigh-{s}",
        make=lambda s=s: expfam.Rayleigh(scale=s),
        oracle=stats.rayleigh(scale=s),
        x=[1e-3, 0.5, 2.0, 10.0],
        scipy_fit=lambda x: stats.rayleigh(*stats.rayleigh.fit(x, floc=0)),
    )
    for s in [1.0, 0.01, 5.0]
]
