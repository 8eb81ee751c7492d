import numpy as np
from scipy import stats

import expfam

from . import Case


def _entropy_by_summation(r, p):
    """-sum pmf log pmf over the support up to the 1 - 1e-30 quantile (SciPy's own
    ``nbinom.entropy`` stops at an absolute tolerance of 1e-10 per term)."""
    d = stats.nbinom(r, p)
    k = np.arange(int(d.isf(1e-30)) + 2)
    logp = d.logpmf(k)
    return -np.sum(np.exp(logp) * logp)


CASES = [
    Case(
        id=f"negative_binomial-{r}-{p}",
        make=lambda r=r, p=p: expfam.NegativeBinomial(r=r, p=p),
        oracle=stats.nbinom(r, p),
        x=[0, 1, 3, 10, 40, 2_000],
        entropy=lambda r=r, p=p: _entropy_by_summation(r, p),
        discrete=True,
        fit_kwargs={"r": r},
        # SciPy has no nbinom fit; for known r the MLE is p = r / (r + mean)
        scipy_fit=lambda x, r=r: stats.nbinom(r, r / (r + x.mean())),
    )
    for r, p in [(1.0, 0.5), (0.3, 0.2), (5.0, 0.5), (2.5, 0.01), (250.0, 0.9)]
]
