import numpy as np
from scipy import integrate, special, stats

import expfam

from . import Case


def _wrapped_variance(kappa):
    """E[y^2] for y = x - loc in [-pi, pi), by adaptive quadrature (SciPy's own var() is
    off by 4e-5 relative at kappa = 50)."""
    if kappa == 0:
        return np.pi**2 / 3
    end = min(np.pi, 40 / np.sqrt(kappa))
    quad = lambda f: integrate.quad(f, 0, end, epsabs=0, epsrel=1e-13, limit=200)[0]
    return quad(lambda y: y * y * np.exp(kappa * special.cosm1(y))) / quad(
        lambda y: np.exp(kappa * special.cosm1(y))
    )


CASES = [
    Case(
        id=f"von_mises-{loc}-{kappa}",
        make=lambda loc=loc, kappa=kappa: expfam.VonMises(loc=loc, kappa=kappa),
        oracle=stats.vonmises(kappa, loc=loc),
        x=[-3.1, -1.0, 0.0, 0.5, 3.1],
        var=_wrapped_variance(kappa),
        # SciPy's vonmises cdf is unwrapped (cdf(loc) = 1/2): it equals expfam's cdf on
        # [-pi, pi) only for loc = 0 (tested separately in test_two_parameter.py)
        has_cdf=loc == 0,
        # SciPy's vonmises logpdf is 2 pi-periodic, so it applies to data in [-pi, pi)
        scipy_fit=lambda x: stats.vonmises(*stats.vonmises.fit(x, fscale=1)),
    )
    # kappa = 0 is the uniform circle; loc = 3 with kappa = 1e4 wraps around -pi
    for loc, kappa in [(0.0, 0.0), (0.0, 2.0), (1.0, 0.5), (-2.5, 50.0), (3.0, 1e4)]
]
