"""Goodness of fit: the statistics against SciPy, bootstrap p-values uniform under the
null (KS test at a stated level) and small under an alternative, agreement with
scipy.stats.goodness_of_fit within Monte Carlo error, chi-square with pooled cells,
interval coverage, typed errors."""

import numpy as np
import pytest
import scipy.stats as st

import expfam
from expfam import datasets
from expfam.errors import ModelCapabilityError, NonFiniteError, ParameterError, SupportError
from expfam.goodness.intervals import profile_interval


def test_statistics_equal_scipy_at_the_fitted_parameters():
    x = np.random.default_rng(0).gamma(2.0, 1.5, 400)
    a, _, s = st.gamma.fit(x, floc=0)  # the MLE (SciPy's closed-form score equation)
    F = np.sort(st.gamma.cdf(x, a, scale=s))
    n, i = x.size, np.arange(1, x.size + 1)
    ks = np.max(np.maximum(i / n - F, F - (i - 1) / n))
    cvm = 1 / (12 * n) + np.sum((F - (2 * i - 1) / (2 * n)) ** 2)
    ad = -n - np.mean((2 * i - 1) * (np.log(F) + np.log1p(-F[::-1])))
    for stat, ref in (("ks", ks), ("cvm", cvm), ("ad", ad)):
        r = expfam.gof("gamma", x, stat, n_bootstrap=9, rng=0, intervals="wald")
        assert r.value == pytest.approx(ref, rel=1e-6)
    # the compiled Beta and Weibull CDFs, and SciPy's for the inverse Gaussian
    y = np.random.default_rng(1).beta(2.0, 3.0, 300)
    rb = expfam.gof("beta", y, "ad", n_bootstrap=9, rng=0, intervals="wald")
    ab, bb, _, _ = st.beta.fit(y, floc=0, fscale=1)
    Fb = np.sort(st.beta.cdf(y, ab, bb))
    i = np.arange(1, y.size + 1)
    ref = -y.size - np.mean((2 * i - 1) * (np.log(Fb) + np.log1p(-Fb[::-1])))
    assert rb.value == pytest.approx(ref, rel=1e-5)
    z = np.random.default_rng(2).weibull(1.5, 300)
    rw = expfam.gof("weibull", z, "ks", n_bootstrap=9, rng=0, k=1.5, intervals="wald")
    scale = np.mean(z**1.5) ** (1 / 1.5)
    assert rw.value == pytest.approx(st.kstest(z, st.weibull_min(1.5, scale=scale).cdf).statistic,
                                     rel=1e-9)
    ig = np.random.default_rng(3).wald(1.0, 2.0, 300)
    ri = expfam.gof("inverse_gaussian", ig, "cvm", n_bootstrap=9, rng=0, intervals="wald")
    m = ig.mean()
    lam = 1 / np.mean(1 / ig - 1 / m)
    ref = st.cramervonmises(ig, st.invgauss(m / lam, scale=lam).cdf).statistic
    assert ri.value == pytest.approx(ref, rel=1e-6)


def test_pvalues_uniform_under_the_null_and_small_under_an_alternative():
    # 150 data sets from Gamma(2, 1) of n = 40, each tested with 99 refitted bootstrap
    # samples: the p-values (on the grid k/100) are uniform; KS test at level 0.001
    p = [expfam.gof("gamma", np.random.default_rng(s).gamma(2.0, 1.0, 40), "ad", n_bootstrap=99,
                    rng=s, intervals="wald").pvalue for s in range(150)]
    assert st.kstest(p, "uniform").pvalue > 1e-3
    # LogNormal(0, 1) data tested as Gamma, n = 300: the power is about 1
    for s in range(3):
        x = np.random.default_rng(100 + s).lognormal(0.0, 1.0, 300)
        r = expfam.gof("gamma", x, "ad", n_bootstrap=199, rng=s, intervals="wald")
        assert r.pvalue <= 0.01
        assert r.pvalue_se == pytest.approx(np.sqrt(r.pvalue * (1 - r.pvalue) / 199))


@pytest.mark.parametrize("stat", ["ad", "ks", "cvm"])
def test_agrees_with_scipy_goodness_of_fit(stat):
    # (SciPy fits the Normal with the unbiased variance, not the MLE: its statistic then
    # differs by design; the Gamma is fitted by maximum likelihood in both)
    x = np.random.default_rng(11).weibull(1.3, 200)  # near a Gamma: p-values mid-range
    B, Bs = 999, 199
    ours = expfam.gof("gamma", x, stat, n_bootstrap=B, rng=1, intervals="wald")
    ref = st.goodness_of_fit(st.gamma, x, known_params={"loc": 0}, statistic=stat,
                             n_mc_samples=Bs, rng=2)
    assert ours.value == pytest.approx(ref.statistic, rel=1e-5)
    p = (ours.pvalue + ref.pvalue) / 2
    assert abs(ours.pvalue - ref.pvalue) <= 4 * np.sqrt(p * (1 - p) * (1 / B + 1 / Bs)) + 1e-3


def test_chi_square_pooled_cells_against_scipy():
    values, freq = datasets.rutherford_geiger()
    x = np.repeat(values, freq.astype(int))
    r = expfam.gof("poisson", x, n_bootstrap=199, rng=0, intervals="wald")
    assert r.statistic == "chi2"
    lam = x.mean()
    # the cells, rebuilt independently: expected counts >= 5, tails open
    dist = st.poisson(lam)
    observed, expected = [], []
    for j, (a, b) in enumerate(r.cells):
        lo = -np.inf if j == 0 else a
        hi = np.inf if j == len(r.cells) - 1 else b
        observed.append(np.sum((x >= lo) & (x <= hi)))
        expected.append(x.size * (dist.cdf(hi) - dist.cdf(lo - 1)))
    expected = np.array(expected)
    assert expected.min() >= 5 and expected.sum() == pytest.approx(x.size)
    ref = st.chisquare(observed, expected, ddof=1)
    assert r.value == pytest.approx(ref.statistic, rel=1e-9)
    # the parametric bootstrap and the chi-square approximation (df = cells - 2) agree
    assert abs(r.pvalue - ref.pvalue) < 0.12
    assert r.pvalue > 0.05  # Rutherford and Geiger's counts are Poisson


def test_interval_coverage():
    # Gamma(shape 2, rate 1), n = 30: 95% intervals of the shape cover 2 in 95% of data
    # sets within 3.3 binomial standard deviations (80 data sets)
    R = 80
    wald = prof = 0
    for s in range(R):
        x = np.random.default_rng(1000 + s).gamma(2.0, 1.0, 30)
        f = expfam.fit("gamma", x)
        lo, hi = profile_interval(f, "shape", 0.95)
        prof += lo <= 2.0 <= hi
        se = float(f.se["shape"])
        wald += abs(float(f.params["shape"]) - 2.0) <= 1.959964 * se
    tol = 3.3 * np.sqrt(0.95 * 0.05 / R)
    assert abs(prof / R - 0.95) <= tol
    assert wald / R <= 0.95 + tol  # Wald under-covers a skewed likelihood, never over
    # the profile interval is where the likelihood-ratio statistic equals chi2_1(0.95)
    x = np.random.default_rng(5).gamma(2.0, 1.0, 30)
    f = expfam.fit("gamma", x)
    lo, hi = profile_interval(f, "shape", 0.95)
    for a in (lo, hi):
        rate = st.gamma.fit(x, f0=a, floc=0)[2]
        ll = st.gamma.logpdf(x, a, scale=rate).sum()
        assert 2 * (float(f.loglik) - ll) == pytest.approx(st.chi2.ppf(0.95, 1), rel=1e-4)
    r = expfam.gof("gamma", x, n_bootstrap=400, rng=0, intervals="bootstrap")
    b_lo, b_hi = r.intervals["shape"]["bootstrap"]
    assert b_lo < float(f.params["shape"]) < b_hi
    assert (b_hi - b_lo) == pytest.approx(hi - lo, rel=0.35)
    assert r.to_dict()["intervals"]["shape"]["profile"] == [lo, hi]


def test_bad_input_raises_typed_errors():
    x = np.random.default_rng(0).gamma(2.0, 1.0, 50)
    with pytest.raises(NonFiniteError):
        expfam.gof("gamma", np.r_[x, np.inf])
    with pytest.raises(SupportError):
        expfam.gof("gamma", np.r_[x, -1.0])
    with pytest.raises(ParameterError):
        expfam.gof("gamma", x, "xx")
    with pytest.raises(ParameterError):
        expfam.gof("poisson", np.arange(10.0), "ks")
    with pytest.raises(ParameterError):
        expfam.gof("gamma", x, "chi2")
    with pytest.raises(ParameterError):
        expfam.gof("gamma", x, n_bootstrap=0)
    with pytest.raises(ParameterError):
        expfam.gof("gamma", x, level=1.5)
    with pytest.raises(ModelCapabilityError):
        expfam.gof("dirichlet", np.full((5, 3), 1 / 3))
