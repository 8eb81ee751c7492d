"""Cancellation-free pieces for entropies, log densities and divergences (NumPy/SciPy).

Closed forms of an entropy or a KL divergence are often differences of large, nearly
equal terms (``lgamma(k) + (1 - k) psi(k) + k``, ``x log lam - lam - log x!``).  The
functions here return such differences directly, from asymptotic series or
``log1p``-style rearrangements, so that the result keeps float64's *relative* accuracy.
They are evaluated in NumPy (not compiled); nothing here imports a family.

Each function states its accuracy; ``tests/precision`` checks it against mpmath.
One module per group: :mod:`.shared` (primitives), :mod:`.discrete`, :mod:`.gamma`,
:mod:`.gaussian`; their public functions are re-exported here.
"""

from .discrete import (  # noqa: F401
    binomial_entropy,
    binomial_log_pmf,
    expm1mx,
    lattice_entropy_series,
    log_softmax,
    log_softmax_and_partition,
    logit_kl,
    multinomial_entropy,
    multinomial_log_pmf,
    negative_binomial_entropy,
    negative_binomial_log_pmf,
    poisson_entropy,
    poisson_kl,
    poisson_log_pmf,
    softmax_kl,
)
from .gamma import (  # noqa: F401
    bd0_pair,
    dd_sum,
    digamma_increment,
    dirichlet_entropy,
    dirichlet_kl,
    dirichlet_log_density,
    gamma_entropy,
    gamma_kl,
    gamma_log_density,
    gamma_shape_divergence,
    lgamma1p,
    lgamma_bregman,
    lgamma_increment,
    lmd_scaled,
    lmd_tail,
    log_pair,
    neg_log1pmx_over_sq,
    one_plus,
    product_pair,
    rest_sums,
    stirling_bregman,
)
from .gaussian import (  # noqa: F401
    dd_add,
    dd_div,
    dd_mul,
    dd_neg,
    dd_sqrt,
    det2,
    exp1_scaled,
    exp1_scaled_plus_log,
    gaussian_entropy,
    gaussian_kl,
    gaussian_location,
    gaussian_log_density,
    gaussian_mean_gap,
    half_neg_log1pmx,
    inverse_gaussian_entropy,
    inverse_gaussian_kl,
    inverse_gaussian_log_density,
    log_sum,
    mvn_kl,
    mvn_log_density,
    mvn_logdet_entropy,
    quotient_dd,
    von_mises_entropy,
    von_mises_kl,
    von_mises_log_density,
)
from .shared import (  # noqa: F401
    bd0,
    log1pmx,
    log_ratio,
    stirling_remainder,
    two_prod,
    two_sum,
)
