from scipy import stats

import expfam

from . import Case

CASES = [
    Case(
        id=f"bernoulli-{p}",
        make=lambda p=p: expfam.Bernoulli(p=p),
        oracle=stats.bernoulli(p),
        x=[0, 1],
        discrete=True,
        # SciPy has no Bernoulli fit; its MLE is the sample mean
        scipy_fit=lambda x: stats.bernoulli(x.mean()),
    )
    for p in [0.5, 0.03, 0.97]
]
