from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"inverse_gaussian-{m}-{lam}",
        make=lambda m=m, lam=lam: expfam.InverseGaussian(mean=m, shape=lam),
        # SciPy's invgauss(mu, scale): mean mu * scale, shape scale
        oracle=stats.invgauss(m / lam, scale=lam),
        x=[0.01, 0.3, 1.0, 4.0, 50.0],
        scipy_fit=lambda x: stats.invgauss(*stats.invgauss.fit(x, floc=0)),
    )
    # 2 lam / m = 2, 80 (asymptotic e^z E1(z)), 0.13 (heavy tail), 200
    for m, lam in [(1.0, 1.0), (0.5, 20.0), (3.0, 0.2), (100.0, 1e4)]
]
