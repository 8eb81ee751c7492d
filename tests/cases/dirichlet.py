"""Dirichlet cases: SciPy's frozen ``dirichlet`` is the oracle.  SciPy takes the
components on the first axis (``logpdf(x.T)``), its ``var`` gives marginal variances only
(``cov`` is the covariance matrix), and it has no ``fit``: the reference MLE maximises
SciPy's log-likelihood with L-BFGS-B over ``log alpha``."""

from types import SimpleNamespace

import numpy as np
from scipy import optimize, special, stats

import expfam

from . import Case


def _scipy_fit(x):
    mean_log = np.log(x).mean(axis=0)

    def nll(la):
        a = np.exp(la)
        return special.gammaln(a).sum() - special.gammaln(a.sum()) - np.dot(a - 1, mean_log)

    res = optimize.minimize(nll, np.zeros(x.shape[-1]), method="L-BFGS-B",
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000})
    frozen = stats.dirichlet(np.exp(res.x))
    return SimpleNamespace(logpdf=lambda y: frozen.logpdf(np.asarray(y).T))


_SETTINGS = [
    # uniform on the triangle
    ("flat3", [1.0, 1.0, 1.0], [[0.2, 0.3, 0.5], [0.01, 0.01, 0.98], [1 / 3, 1 / 3, 1 / 3]]),
    # two components (the Beta(3, 4) law of x_1)
    ("k2", [3.0, 4.0], [[0.5, 0.5], [0.1, 0.9], [0.999, 0.001]]),
    # concentrations below 1 (mass near the edges) and one above
    ("sparse", [0.3, 0.5, 2.0], [[0.1, 0.2, 0.7], [1e-4, 0.3, 0.6999], [0.45, 0.45, 0.1]]),
    # K = 5, concentrations from 0.8 to 300
    ("k5", [0.8, 5.0, 20.0, 75.0, 300.0],
     [[0.002, 0.012, 0.05, 0.186, 0.75], [0.01, 0.02, 0.04, 0.13, 0.8], [0.2] * 5]),
]

CASES = [
    Case(
        id=f"dirichlet-{name}",
        make=lambda alpha=alpha: expfam.Dirichlet(alpha=alpha),
        oracle=stats.dirichlet(alpha),
        x=x,
        logpdf=lambda y, d=stats.dirichlet(alpha): d.logpdf(np.asarray(y).T),
        mean=stats.dirichlet(alpha).mean(),
        var=stats.dirichlet(alpha).cov(),
        scipy_fit=_scipy_fit,
        has_cdf=False,
    )
    for name, alpha, x in _SETTINGS
]
