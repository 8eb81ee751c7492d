from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"chi_square-{k}",
        make=lambda k=k: expfam.ChiSquare(df=k),
        oracle=stats.chi2(k),
        x=[1e-3, 0.5, 3.0, 40.0],
        # SciPy's numerical MLE of df with loc = 0 and scale = 1 held fixed
        scipy_fit=lambda x: stats.chi2(*stats.chi2.fit(x, floc=0, fscale=1)),
    )
    for k in [0.3, 3.0, 2e4]
]
