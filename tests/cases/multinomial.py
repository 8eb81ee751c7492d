from scipy import stats

import expfam

from . import Case


def _mle(n):
    # SciPy has no multinomial fit; the MLE is p_j = (total count j) / (rows * n)
    return lambda x: stats.multinomial(n, x.reshape(-1, x.shape[-1]).sum(0) / (x.shape[0] * n))


_SETTINGS = [
    (1, [0.3, 0.7], [[1, 0], [0, 1]]),
    (10, [0.2, 0.3, 0.5], [[2, 3, 5], [0, 0, 10], [10, 0, 0], [1, 8, 1]]),
    (50, [0.02, 0.18, 0.3, 0.5], [[1, 9, 15, 25], [0, 0, 0, 50], [50, 0, 0, 0], [3, 7, 20, 20]]),
    (400, [0.001, 0.009, 0.99], [[0, 4, 396], [1, 1, 398], [400, 0, 0], [10, 30, 360]]),
]

CASES = [
    Case(
        id=f"multinomial-n{n}-K{len(p)}",
        make=lambda n=n, p=p: expfam.Multinomial(n=n, probs=p),
        oracle=stats.multinomial(n, p),
        x=x,
        var=lambda n=n, p=p: stats.multinomial(n, p).cov(),
        discrete=True,
        has_cdf=False,
        fit_kwargs={"n": n},
        scipy_fit=_mle(n),
    )
    for n, p, x in _SETTINGS
]
