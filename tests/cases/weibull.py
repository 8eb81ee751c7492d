from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"weibull-{k}-{lam}",
        make=lambda k=k, lam=lam: expfam.Weibull(k=k, scale=lam),
        oracle=stats.weibull_min(k, scale=lam),
        x=[1e-3, 0.5, 1.0, 7.5],
        fit_kwargs={"k": k},
        # SciPy's MLE with the shape held fixed (f0) and loc = 0
        scipy_fit=lambda x, k=k: stats.weibull_min(*stats.weibull_min.fit(x, k, f0=k, floc=0)),
    )
    for k, lam in [(1.5, 2.0), (0.3, 1.0), (12.0, 0.05)]
]
