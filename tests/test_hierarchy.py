"""The model hierarchy: registration by subclassing, finite-support families (A by
enumeration), models without a tractable log partition learned through their moment
source (enumeration or a persistent sampler).

Oracles: the Binomial's closed forms; the maximum-likelihood estimate of a 3-spin Ising
model found by SciPy's optimiser on the log-likelihood written out state by state.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import optimize, special

import expfam
from expfam.domains import FiniteSet
from expfam.errors import BoundaryError, ModelCapabilityError, UnknownFamilyError
from expfam.families import FiniteSupportFamily, SufficientStatisticModel
from expfam.moments import EnumeratedMoments, SampledMoments, Sampler

SPINS = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
PAIRS = [(0, 1), (0, 2), (1, 2)]


def spin_statistics(x):
    """u(s) = (s_1, s_2, s_3, s_1 s_2, s_1 s_3, s_2 s_3)."""
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([x, np.stack([x[..., i] * x[..., j] for i, j in PAIRS], -1)], -1)


class _SpinMath:
    """What both spin models share: the statistics, the support and the parameters."""

    event_ndim = 1
    discrete = True
    param_names = ("h", "J")
    support = FiniteSet(SPINS)

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        return spin_statistics(x)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x)[:-1])

    @classmethod
    def natural_from_params(cls, fixed, h=(0.0, 0.0, 0.0), J=(0.0, 0.0, 0.0)):
        return np.concatenate([np.asarray(h, float), np.asarray(J, float)], -1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"h": eta[..., :3], "J": eta[..., 3:]}


class SpinFamily(_SpinMath, FiniteSupportFamily):
    """The 3-spin Ising model as a finite-support family: ``A`` by enumeration."""

    name = "test_spin_family"

    @classmethod
    def states(cls, fixed):
        return SPINS

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        return np.zeros(6)


class SpinModel(_SpinMath, SufficientStatisticModel):
    """The same model declared without a log partition: its moments come from its source."""

    name = "test_spin_model"
    source = EnumeratedMoments(lambda cls, fixed: (spin_statistics(SPINS), np.zeros(8)))

    @classmethod
    def natural_dim(cls, fixed):
        return 6

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.all(np.isfinite(eta), axis=-1)

    @classmethod
    def moment_source(cls, fixed):
        return cls.source

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        return SpinFamily.draw(eta, fixed, size, rng)


class EnumBinomial(FiniteSupportFamily):
    """Binomial(n) on {0..n} defined only by its states, u and log h."""

    name = "test_enum_binomial"
    fixed_params = ("n",)
    integer_fixed = {"n": 1}
    param_names = ("natural",)

    @classmethod
    def states(cls, fixed):
        return np.arange(fixed["n"] + 1, dtype=np.float64)

    @classmethod
    def sufficient_statistics(cls, x, fixed, shift=None):
        return np.asarray(x, dtype=np.float64)[..., None]

    @classmethod
    def log_base_measure(cls, x, fixed):
        n = fixed["n"]
        return special.gammaln(n + 1.0) - special.gammaln(x + 1.0) - special.gammaln(n - x + 1.0)

    @classmethod
    def natural_from_params(cls, fixed, natural=0.0):
        return np.asarray(natural, dtype=np.float64)[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"natural": eta[..., 0]}

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        return np.array([fixed["n"] / 2])


def exact_mle(x):
    """The MLE of the 3-spin model by SciPy's optimiser on -sum log p(x) over the states."""
    U = spin_statistics(SPINS)
    counts = np.array([np.sum(np.all(x == s, axis=1)) for s in SPINS])

    def nll(eta):
        z = U @ eta
        return -(counts @ z) + counts.sum() * special.logsumexp(z)

    def grad(eta):
        z = U @ eta
        p = np.exp(z - special.logsumexp(z))
        return -(counts @ U) + counts.sum() * (p @ U)

    res = optimize.minimize(nll, np.zeros(6), jac=grad, method="BFGS",
                            options={"gtol": 1e-12, "maxiter": 1000})
    return res.x


TRUE_ETA = np.array([0.3, -0.2, 0.1, 0.5, -0.4, 0.25])


def spin_data(n=4000, seed=0):
    return SpinFamily.from_natural(TRUE_ETA).sample(n, rng=seed)


def test_subclasses_register_themselves():
    assert expfam.resolve_family("test_spin_family") is SpinFamily
    assert expfam.resolve_family("TestSpinModel") is SpinModel
    with pytest.raises(ValueError, match="registered already"):
        type("Clash", (SpinFamily,), {"name": "test_spin_family", "__module__": "elsewhere"})
    with pytest.raises(UnknownFamilyError, match="known families: .*gamma"):
        expfam.resolve_family("no such family")


def test_finite_support_family_equals_the_closed_form_binomial():
    n = 7
    for eta in (-3.0, 0.2, 4.0):
        e = EnumBinomial.from_natural([eta], n=n)
        b = expfam.Binomial(n=n, p=special.expit(eta))
        np.testing.assert_allclose(e.log_partition_value(), b.log_partition_value(), rtol=1e-14)
        np.testing.assert_allclose(e.mean_params, b.mean_params, rtol=1e-14)
        np.testing.assert_allclose(e.fisher_information(), b.fisher_information(), rtol=1e-12)
        np.testing.assert_allclose(e.entropy(), b.entropy(), rtol=1e-12)
        np.testing.assert_allclose(e.mean(), b.mean(), rtol=1e-13)
        np.testing.assert_allclose(e.var(), b.var(), rtol=1e-12)
        x = np.arange(n + 1.0)
        np.testing.assert_allclose(e.logpdf(x), b.logpdf(x), rtol=1e-12, atol=1e-13)
        q = EnumBinomial.from_natural([eta + 0.7], n=n)
        np.testing.assert_allclose(expfam.kl(e, q), expfam.kl(b, expfam.Binomial(
            n=n, p=special.expit(eta + 0.7))), rtol=1e-10)
    assert e.logpdf(np.array([2.5, 8.0, -1.0])).tolist() == [-np.inf] * 3
    x = expfam.Binomial(n=n, p=0.3).sample(3000, rng=1)
    r, ref = expfam.fit(EnumBinomial, x, n=n), expfam.fit(expfam.Binomial, x, n=n)
    assert r.converged and r.residual_norm < 1e-12  # the generic safeguarded Newton
    np.testing.assert_allclose(r.model.natural, ref.model.natural, rtol=1e-10)
    np.testing.assert_allclose(r.loglik, ref.loglik, rtol=1e-12)
    with pytest.raises(BoundaryError):  # the linear program finds mu on the hull's boundary
        expfam.fit(EnumBinomial, np.zeros(20), n=n)
    with pytest.raises(BoundaryError):
        expfam.fit(EnumBinomial, np.full(20, float(n)), n=n)


def test_finite_family_of_vector_states_fits_the_exact_mle():
    x = spin_data()
    r = expfam.fit(SpinFamily, x)
    assert r.converged
    np.testing.assert_allclose(r.model.natural, exact_mle(x), atol=1e-7)
    # sampling draws only states of the support
    assert SpinFamily.support.contains(r.model.sample(100, rng=2)).all()


def test_a_model_without_log_partition_is_learned_through_its_moment_source():
    x = spin_data()
    with pytest.raises(ModelCapabilityError, match="no tractable log partition"):
        expfam.fit(SpinModel, x)
    res = expfam.fit_sgd(SpinModel, x, batch_size=None, method="natural", lr=1.0,
                         max_steps=50)
    assert res.converged
    np.testing.assert_allclose(res.model.natural, exact_mle(x), atol=1e-7)


class PersistentGibbs(Sampler):
    """Heat-bath Gibbs chains for the 3-spin model that continue from call to call."""

    independent = False

    def __init__(self, n_chains=500, sweeps=4):
        self.n_chains, self.sweeps = n_chains, sweeps
        self.state = None
        self.calls = 0

    def sample(self, cls, eta, fixed, size, rng):
        if self.state is None:
            self.state = rng.choice([-1.0, 1.0], size=(self.n_chains, 3))
        h, J = eta[:3], np.zeros((3, 3))
        for k, (i, j) in enumerate(PAIRS):
            J[i, j] = J[j, i] = eta[3 + k]
        s = self.state
        for _ in range(self.sweeps):
            for i in range(3):
                field = h[i] + s @ J[i]
                s[:, i] = np.where(rng.random(len(s)) < special.expit(2 * field), 1.0, -1.0)
        self.calls += 1
        return s[rng.integers(0, len(s), size)].copy()


def test_persistent_sampler_keeps_its_chains_and_the_learner_reaches_the_mle():
    x = spin_data(n=20_000, seed=5)
    sampler = PersistentGibbs()
    source = SampledMoments(4000, sampler=sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = expfam.fit_sgd(SpinModel, x, batch_size=None, method="natural", lr=0.5,
                             moments=source, max_steps=200, rng=3, se_tol=0)
    assert sampler.calls >= 2 * res.n_steps  # mean and Fisher each draw from the chains
    # the sampled-moment iterate fluctuates about the MLE by the Monte Carlo error
    # (moments from 4000 draws per step: a few times 1/sqrt(4000) in eta)
    np.testing.assert_allclose(res.model.natural, exact_mle(x), atol=0.1)
