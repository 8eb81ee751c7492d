from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"binomial-{n}-{p}",
        make=lambda n=n, p=p: expfam.Binomial(n=n, p=p),
        oracle=stats.binom(n, p),
        x=[v for v in [0, 1, 3, 7, 480, 730, 100_210] if v <= n],
        discrete=True,
        fit_kwargs={"n": n},
        # SciPy has no binomial fit; for known n the MLE is p = mean / n
        scipy_fit=lambda x, n=n: stats.binom(n, x.mean() / n),
    )
    for n, p in [(1, 0.4), (12, 0.05), (1000, 0.73), (200_000, 0.5)]
]
