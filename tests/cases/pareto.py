from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"pareto-{a}-{xm}",
        make=lambda a=a, xm=xm: expfam.Pareto(alpha=a, x_m=xm),
        oracle=stats.pareto(a, scale=xm),
        x=[xm, 1.01 * xm, 2 * xm, 30 * xm],
        fit_kwargs={"x_m": xm},
        scipy_fit=lambda x, xm=xm: stats.pareto(*stats.pareto.fit(x, floc=0, fscale=xm)),
    )
    for a, xm in [(3.0, 1.0), (0.7, 2.5), (60.0, 1e-3)]
]
