"""Mixtures fitted out of core (Parquet / CSV files read in chunks) and on a Dask cluster.

Oracle: the exact EM in memory on the same values from the same start.  Streamed EM sums
the same per-chunk statistics in another order, so after the same number of iterations the
parameters, log-likelihood and standard errors agree to 1e-10 (relative).
"""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import expfam
from expfam.errors import FileFormatError, NonFiniteError, ParameterError, SupportError, WeightError
from expfam.mixture.sources import _Reservoir

RTOL = 1e-10
N_ITER = 12


@pytest.fixture(scope="module")
def gamma_data():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.gamma(2.0, 1.0, 2400), rng.gamma(25.0, 0.4, 1600)])
    rng.shuffle(x)
    w = rng.uniform(0.5, 2.0, x.size)
    start = expfam.Mixture([0.5, 0.5], [expfam.Gamma(shape=1.5, rate=1.0),
                                         expfam.Gamma(shape=10.0, rate=1.0)])
    return x, w, start


def assert_same(got, want, n_iter=N_ITER):
    assert got.n_iter == want.n_iter == n_iter
    np.testing.assert_allclose(got.weights, want.weights, rtol=RTOL)
    for a, b in zip(got.components, want.components):
        np.testing.assert_allclose(a.natural, b.natural, rtol=RTOL)
    np.testing.assert_allclose(got.loglik, want.loglik, rtol=RTOL)
    np.testing.assert_allclose(got.trace, want.trace, rtol=RTOL)
    assert got.n == want.n


def fixed_iters(data, family="gamma", start=None, n_iter=N_ITER, **kw):
    # tol far below the changes of the first iterations: exactly n_iter iterations
    return expfam.fit_mixture(family, data, 2, init=start, max_iter=n_iter, tol=1e-300, **kw)


def test_parquet_and_csv_equal_in_memory(tmp_path, gamma_data):
    x, w, start = gamma_data
    want = fixed_iters(x, start=start, weights=w)
    pq, csv = tmp_path / "d.parquet", tmp_path / "d.csv"
    frame = pd.DataFrame({"other": np.arange(x.size), "x": x, "w": w})
    frame.to_parquet(pq, row_group_size=999)
    frame.to_csv(csv, index=False, float_format="%.17g")
    for path in (pq, csv):
        got = fixed_iters(str(path), start=start, column="x", weights="w", chunksize=700)
        assert_same(got, want)
        # Louis' standard errors from a streamed pass equal those in memory
        np.testing.assert_allclose(got.se["weights"], want.se["weights"], rtol=1e-8)
        for a, b in zip(got.se["params"], want.se["params"]):
            for name in b:
                np.testing.assert_allclose(a[name], b[name], rtol=1e-8)
        np.testing.assert_allclose(got.residual_norm, want.residual_norm, rtol=1e-6, atol=1e-12)


def test_file_default_start_reaches_the_in_memory_optimum(tmp_path, gamma_data):
    x, _, _ = gamma_data
    path = tmp_path / "x.parquet"
    pd.DataFrame({"x": x}).to_parquet(path, row_group_size=1000)
    got = expfam.fit_mixture("gamma", path, 2, column="x", rng=3, tol=1e-14, sample_size=1500)
    want = expfam.fit_mixture("gamma", x, 2, rng=3, tol=1e-14)
    assert got.converged and want.converged
    assert got.runs[0]["on"] == "reservoir sample of 1500 rows"
    # both at the unique well-separated optimum: the log-likelihood to rounding, the
    # parameters to sqrt(tol) (the objective is flat to second order at the optimum)
    np.testing.assert_allclose(got.loglik, want.loglik, rtol=1e-12)
    np.testing.assert_allclose(got.weights, want.weights, rtol=1e-5)
    # trace non-decreasing (EM is monotone)
    assert np.all(np.diff(got.trace) >= -1e-9 * abs(got.trace[-1]))


def test_normal_mixture_vectors_from_parquet(tmp_path):
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], 700),
                        rng.multivariate_normal([4, 1], [[0.5, 0], [0, 2]], 500)])
    path = tmp_path / "v.parquet"
    pd.DataFrame(x, columns=["a", "b"]).to_parquet(path, row_group_size=300)
    start = expfam.fit_mixture("multivariate_normal", x, 2, rng=0, max_iter=2).mixture
    # in memory: the fused compiled pass; streamed: the generic responsibility statistics
    # of every chunk and the closed-form M-step. The same EM map, so the same iterates.
    want = fixed_iters(x, "multivariate_normal", start)
    got = fixed_iters(path, "multivariate_normal", start, column=["a", "b"])
    assert_same(got, want)
    for a, b in zip(got.components, want.components):
        np.testing.assert_allclose(a.params["cov"], b.params["cov"], rtol=RTOL)


def test_reservoir_is_uniform():
    # 400 rows kept out of 4000 offered in chunks: the count kept from each tenth of the
    # rows is hypergeometric (mean 40, sd ~5.7); a chi-square test at level 1e-6
    rng = np.random.default_rng(11)
    res = _Reservoir(400)
    for lo in range(0, 4000, 333):
        rows = np.arange(lo, min(lo + 333, 4000), dtype=float)
        res.add(rng.random(rows.size), rows, np.ones(rows.size))
    assert res.x.size == 400 and np.unique(res.x).size == 400
    counts = np.bincount((res.x // 400).astype(int), minlength=10)
    chi2 = np.sum((counts - 40.0) ** 2 / 40.0)
    from scipy.stats import chi2 as chi2_dist
    assert chi2_dist.sf(chi2, 9) > 1e-6


# ----------------------------------------------------------------------------------
# Bad files
# ----------------------------------------------------------------------------------

def test_bad_values_in_files_name_the_row(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("x\n1.5\n2.5\n-1.0\n3.0\n")
    with pytest.raises(SupportError, match=r"column 'x', row 2 \(line 4\).*outside the support"):
        expfam.fit_mixture("gamma", csv, 2, column="x")
    csv.write_text("x\n1.5\n2.5\nnan\n3.0\n")
    with pytest.raises(NonFiniteError, match=r"row 2 \(line 4\): non-finite"):
        expfam.fit_mixture("gamma", csv, 2, column="x")
    csv.write_text("x\n1.5\n2.5\nabc\n3.0\n")
    with pytest.raises(SupportError, match=r"row 2 \(line 4\): 'abc' is not a number"):
        expfam.fit_mixture("gamma", csv, 2, column="x")
    csv.write_text("x\n1.5\nNA\n2.5\n")
    with pytest.raises(NonFiniteError, match=r"row 1 \(line 3\): missing value \(null\)"):
        expfam.fit_mixture("gamma", csv, 2, column="x")
    csv.write_text("x,w\n1.5,1\n2.5,-2\n3.0,1\n")
    with pytest.raises(WeightError, match=r"row 1"):
        expfam.fit_mixture("gamma", csv, 2, column="x", weights="w")
    with pytest.raises(FileFormatError, match="no column 'y'"):
        expfam.fit_mixture("gamma", csv, 2, column="y")
    pq = tmp_path / "one.parquet"
    pd.DataFrame({"x": [2.0] * 50}).to_parquet(pq)
    with pytest.raises(expfam.errors.DataError, match="fewer than n_components=2 distinct"):
        expfam.fit_mixture("gamma", pq, 2, column="x")
    with pytest.raises(ParameterError, match="not responsibilities"):
        expfam.fit_mixture("gamma", pq, 2, column="x", init=np.ones((50, 2)))
    with pytest.raises(FileNotFoundError):
        expfam.fit_mixture("gamma", tmp_path / "missing.parquet", 2)


# ----------------------------------------------------------------------------------
# Dask on a real LocalCluster
# ----------------------------------------------------------------------------------

def test_dask_array_and_frame_equal_in_memory(client, gamma_data):
    x, w, start = gamma_data
    want = fixed_iters(x, start=start, weights=w, n_iter=4)
    got = fixed_iters(da.from_array(x, chunks=1500), start=start, n_iter=4,
                      weights=da.from_array(w, chunks=1500))
    assert_same(got, want, 4)
    np.testing.assert_allclose(got.se["weights"], want.se["weights"], rtol=1e-8)
    frame = dd.from_pandas(pd.DataFrame({"x": x, "w": w}), npartitions=2)
    got = fixed_iters(frame, start=start, column="x", weights=frame["w"], n_iter=4)
    assert_same(got, want, 4)


def test_dask_bad_value_names_the_block(client):
    x = np.concatenate([np.linspace(0.5, 9, 300), [-2.0], np.linspace(1, 3, 99)])
    with pytest.raises(SupportError, match=r"block 1, row 0.*outside the support"):
        expfam.fit_mixture("gamma", da.from_array(x, chunks=300), 2)
