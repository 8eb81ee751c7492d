"""Fits of dask collections (``expfam.distributed``) against the same fits in memory.

A real ``LocalCluster`` (2 worker processes) runs the statistics; the in-memory fit of the
same values is the oracle: the statistics only add up in another order, so natural
parameters and log-likelihoods agree to 1e-12 relative.
"""

from __future__ import annotations

import subprocess
import sys

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import get_task_stream

import expfam
from expfam.distributed import dask_stats
from expfam.errors import (
    EmptyDataError,
    LabelError,
    NonFiniteError,
    ParameterError,
    ShapeError,
    SupportError,
    WeightError,
)

RTOL = 1e-12


def assert_same_fit(got, want):
    np.testing.assert_allclose(got.model.natural, want.model.natural, rtol=RTOL, atol=0)
    np.testing.assert_allclose(got.loglik, want.loglik, rtol=RTOL, atol=0)
    np.testing.assert_array_equal(got.n, want.n)
    np.testing.assert_allclose(got.weight_sum, want.weight_sum, rtol=RTOL, atol=0)
    if want.groups is None:
        assert got.groups is None
    else:
        np.testing.assert_array_equal(got.groups, want.groups)


def block_tasks(stream):
    keys = [t["key"][0] if isinstance(t["key"], tuple) else t["key"] for t in stream.data]
    return [k for k in keys if k.startswith("_block_stats")]


# ----------------------------------------------------------------------------------
# Dask arrays on the cluster
# ----------------------------------------------------------------------------------

def test_gamma_array_on_cluster(client):
    rng = np.random.default_rng(1)
    # 4 x 50,000 values: each block is large enough for the fused kernel on the workers
    x = rng.gamma(2.5, 1.5, 200_000)
    with get_task_stream(client) as ts:
        got = expfam.fit("gamma", da.from_array(x, chunks=50_000))
    assert len(block_tasks(ts)) == 4  # the blocks ran on the cluster
    assert_same_fit(got, expfam.fit("gamma", x))


def test_gamma_many_small_chunks_tree(client):
    rng = np.random.default_rng(2)
    x = rng.gamma(0.7, 2.0, 5_000)
    dx = da.from_array(x, chunks=97)  # 52 blocks: a tree of depth 2 with split_every=8
    want = expfam.fit("gamma", x)
    assert_same_fit(expfam.fit("gamma", dx), want)
    stats = dask_stats("gamma", dx, split_every=3)
    assert_same_fit(expfam.fit("gamma", stats), want)


def test_normal_batched_columns(client):
    rng = np.random.default_rng(3)
    x = rng.normal([0.0, 1.0, -2.0, 5.0], [1.0, 0.5, 2.0, 3.0], size=(6_000, 4))
    # chunked along the columns too: rechunked so that each block holds whole rows
    got = expfam.fit("normal", da.from_array(x, chunks=(1_000, 3)))
    assert got.model.natural.shape == (4, 2)
    assert_same_fit(got, expfam.fit("normal", x))


def test_dirichlet_vector_observations(client):
    rng = np.random.default_rng(4)
    x = rng.dirichlet([0.8, 2.0, 3.5, 1.2], 5_000)
    got = expfam.fit("dirichlet", da.from_array(x, chunks=(700, 2)))
    assert_same_fit(got, expfam.fit("dirichlet", x))


def test_array_weights(client):
    rng = np.random.default_rng(5)
    x = rng.gamma(3.0, 0.5, 4_000)
    w = rng.uniform(0, 2, 4_000)
    w[1_000:2_000] = 0.0  # a whole block of zero weights is fine when others carry weight
    dx = da.from_array(x, chunks=1_000)
    want = expfam.fit("gamma", x, w)
    # dask weights chunked differently from the data, and NumPy weights
    assert_same_fit(expfam.fit("gamma", dx, da.from_array(w, chunks=700)), want)
    assert_same_fit(expfam.fit("gamma", dx, w), want)
    # batched data, weights per row
    X = rng.normal(size=(4_000, 3))
    assert_same_fit(expfam.fit("normal", da.from_array(X, chunks=(1_000, 3)), w),
                    expfam.fit("normal", X, w))


def test_array_empty_block(client):
    rng = np.random.default_rng(6)
    x = rng.gamma(2.0, 1.0, 3_000)
    dx = da.from_array(x, chunks=((1_000, 0, 2_000),))
    assert_same_fit(expfam.fit("gamma", dx), expfam.fit("gamma", x))
    with pytest.raises(EmptyDataError):
        expfam.fit("gamma", da.zeros(0, chunks=5))


def test_array_nan_names_block_and_global_row(client):
    x = np.random.default_rng(7).gamma(2.0, 1.0, 4_000)
    x[2_345] = np.nan
    with pytest.raises(NonFiniteError, match=r"block 2 \(global rows 2000 to 2999\).*"
                                              r"index 345.*global row 2345"):
        expfam.fit("gamma", da.from_array(x, chunks=1_000))
    x[2_345] = -1.0
    with pytest.raises(SupportError, match=r"block 2 .*global row 2345"):
        expfam.fit("gamma", da.from_array(x, chunks=1_000))


# ----------------------------------------------------------------------------------
# Dask DataFrames on the cluster
# ----------------------------------------------------------------------------------

def grouped_frame(seed):
    """12,000 rows, ragged groups (3 to 4,000 rows) shuffled so that each spans partitions."""
    rng = np.random.default_rng(seed)
    sizes = [4_000, 2_500, 1_500, 1_000, 800, 600, 400, 300, 300, 297, 300, 3]
    code = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(code)
    return pd.DataFrame({
        "x": rng.gamma(1.0 + 0.3 * code, 1.5),
        "g": np.array([f"g{i:02d}" for i in range(len(sizes))])[code],
        "code": 2 * code,  # integer labels, some values unused
        "w": rng.uniform(0.1, 3.0, code.size),
    })


def test_grouped_frame(client):
    pdf = grouped_frame(seed=8)
    df = dd.from_pandas(pdf, npartitions=6)
    want = expfam.fit("gamma", pdf, by="g", column="x")
    assert want.groups.size == 12
    assert_same_fit(expfam.fit("gamma", df, by="g", column="x"), want)
    # labels as a dask Series aligned with the frame, integer codes
    assert_same_fit(expfam.fit("gamma", df.x, by=df.code),
                    expfam.fit("gamma", pdf.x, by=pdf.code))


def test_grouped_frame_weights(client):
    pdf = grouped_frame(seed=9)
    pdf.loc[:2_999, "w"] = 0.0  # partition 0 has only zero weights: groups there are empty
    df = dd.from_pandas(pdf, npartitions=4)
    want = expfam.fit("gamma", pdf, pdf.w, by="g", column="x")
    assert_same_fit(expfam.fit("gamma", df, df.w, by="g", column="x"), want)
    # series with weights, no groups
    assert_same_fit(expfam.fit("gamma", df.x, df.w), expfam.fit("gamma", pdf.x, pdf.w))


def test_frame_empty_partition(client):
    pdf = grouped_frame(seed=10)
    df = dd.from_pandas(pdf, npartitions=5)
    kept = pdf.index.to_series().between(2_400, 4_799)  # partition 1 (rows 2400-4799)
    filtered = df[~df.index.to_series().between(2_400, 4_799)]
    lengths = filtered.map_partitions(len).compute()
    assert list(lengths).count(0) == 1
    assert_same_fit(expfam.fit("gamma", filtered, column="x"),
                    expfam.fit("gamma", pdf[~kept], column="x"))
    assert_same_fit(expfam.fit("gamma", filtered, by="g", column="x"),
                    expfam.fit("gamma", pdf[~kept], by="g", column="x"))


def test_frame_nan_in_partition_2(client):
    pdf = grouped_frame(seed=11)
    pdf.loc[6_417, "x"] = np.nan
    df = dd.from_pandas(pdf, npartitions=4)  # 3,000 rows each
    with pytest.raises(NonFiniteError, match=r"partition 2: .*index 417.*"
                                              r"row 417 of the partition, index label 6417"):
        expfam.fit("gamma", df, by="g", column="x")
    with pytest.raises(NonFiniteError, match=r"partition 2: "):
        expfam.fit("gamma", df.x)


def test_inferred_fixed_parameter_must_agree(client):
    labels = np.r_[np.zeros(50), np.arange(50) % 3, np.arange(50) % 4].astype(float)
    dx = da.from_array(labels, chunks=50)  # blocks infer 1 (error), 3 and 4 categories
    with pytest.raises(ParameterError):
        expfam.fit("categorical", dx)
    assert_same_fit(expfam.fit("categorical", dx, n_categories=4),
                    expfam.fit("categorical", labels, n_categories=4))


# ----------------------------------------------------------------------------------
# Input refused as in memory (correctness items 7-9)
# ----------------------------------------------------------------------------------

def test_array_complex_and_masked_values(client):
    x = np.random.default_rng(13).gamma(2.0, 1.0, 3_000)
    c = x.astype(complex)
    c[2_100] += 1j
    with pytest.raises(SupportError, match=r"dask array block \d .*complex values"):
        expfam.fit("gamma", da.from_array(c, chunks=1_000))
    with pytest.raises(WeightError, match=r"complex values"):
        expfam.fit("gamma", da.from_array(x, chunks=1_000), np.ones(3_000) + 0j)
    mask = np.zeros(3_000, dtype=bool)
    mask[1_234] = True
    m = da.ma.masked_array(da.from_array(x, chunks=1_000), mask=mask)
    with pytest.raises(NonFiniteError, match=r"block 1 .*1 masked value\(s\).*global row 1234"):
        expfam.fit("gamma", m)


def test_array_integer_column_is_a_column(client):
    A = np.random.default_rng(14).gamma(2.0, 1.0, size=(3_000, 3))
    dA = da.from_array(A, chunks=(1_000, 3))
    assert_same_fit(expfam.fit("gamma", dA, column=2), expfam.fit("gamma", A[:, 2]))
    with pytest.raises(ShapeError, match=r"column=3 is out of range"):
        expfam.fit("gamma", dA, column=3)
    with pytest.raises(ShapeError, match=r"column=0 selects a column of a 2-D array"):
        expfam.fit("gamma", da.from_array(A[:, 0], chunks=1_000), column=0)
    with pytest.raises(ParameterError, match=r"split_every must be an integer >= 2; got 2.5"):
        dask_stats("gamma", dA[:, 0], split_every=2.5)


def test_frame_missing_labels(client):
    pdf = grouped_frame(seed=9)
    pdf["g"] = pdf["g"].astype(object)
    pdf.loc[[3_100, 3_205, 3_999], "g"] = [None, np.nan, None]
    df = dd.from_pandas(pdf, npartitions=4)  # 3,000 rows each: the first in partition 1
    with pytest.raises(LabelError, match=r"partition 1: by: 3 missing group label\(s\); first "
                                         r"at index 100.*row 100 of the partition, index "
                                         r"label 3100"):
        expfam.fit("gamma", df, by="g", column="x")
    want = expfam.fit("gamma", pdf, by="g", column="x", missing_labels="group")
    assert want.groups[-1] is None and want.n[-1] == 3
    assert_same_fit(expfam.fit("gamma", df, by="g", column="x", missing_labels="group"), want)
    # a nullable integer column, and weights
    pdf["k"] = pd.array(np.where(pdf.g.isna(), pd.NA, pdf.code), dtype="Int64")
    df = dd.from_pandas(pdf, npartitions=4)
    want = expfam.fit("gamma", pdf, pdf.w, by="k", column="x", missing_labels="group")
    assert [type(v) for v in want.groups[:2]] == [np.int64, np.int64]
    assert_same_fit(expfam.fit("gamma", df, df.w, by="k", column="x", missing_labels="group"),
                    want)


def test_array_missing_labels_and_mixed_types_across_blocks(client):
    x = np.random.default_rng(16).gamma(2.0, 1.0, 3_000)
    labels = (np.arange(3_000) % 3).astype(float)
    labels[2_500:2_510] = np.nan
    dx = da.from_array(x, chunks=1_000)
    with pytest.raises(LabelError, match=r"block 2 .*first at index 500.*global row 2500"):
        expfam.fit("gamma", dx, by=labels)
    assert_same_fit(expfam.fit("gamma", dx, by=labels, missing_labels="group"),
                    expfam.fit("gamma", x, by=labels, missing_labels="group"))
    # integer labels in one block, text in another: never merged (1 and "1")
    mixed = np.array([1, 2] * 750 + ["1", "2"] * 750, dtype=object)
    with pytest.raises(LabelError, match="different types"):
        expfam.fit("gamma", da.from_array(x, chunks=1_500), by=mixed)


# ----------------------------------------------------------------------------------
# Without a client
# ----------------------------------------------------------------------------------

def test_threaded_scheduler_without_client(client):
    rng = np.random.default_rng(12)
    x = rng.gamma(2.0, 3.0, 6_000)
    pdf = grouped_frame(seed=12)
    with dask.config.set(scheduler="threads"), get_task_stream(client) as ts:
        got = expfam.fit("gamma", da.from_array(x, chunks=1_000))
        got_g = expfam.fit("gamma", dd.from_pandas(pdf, npartitions=3), by="g", column="x")
    assert ts.data == []  # nothing ran on the cluster
    assert_same_fit(got, expfam.fit("gamma", x))
    assert_same_fit(got_g, expfam.fit("gamma", pdf, by="g", column="x"))


def test_dask_not_imported_for_numpy_data():
    code = ("import sys, numpy as np, expfam; expfam.fit('gamma', np.arange(1.0, 50.0)); "
            "print('dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("offset", [0.0, 1e8, 1e12])
def test_normal_far_from_the_origin_on_the_cluster(client, offset):
    """Each block accumulates about its own pivot; the tree of merges re-centres them:
    the variance equals the two-pass one to a few ulps (correctness item 2)."""
    import math

    rng = np.random.default_rng(11)
    x = offset + rng.normal(0.0, 1.0, 40_000)
    labels = rng.integers(0, 3, x.size)
    r = expfam.fit("normal", da.from_array(x, chunks=3_000))
    y = x - x[0]  # exact
    d = y - math.fsum(y) / y.size
    var = math.fsum(d * d) / y.size
    assert abs(float(r.params["scale"]) ** 2 - var) <= 8 * np.finfo(float).eps * var
    frame = dd.from_pandas(pd.DataFrame({"x": x, "g": labels}), npartitions=7)
    rg = expfam.fit("normal", frame, column="x", by="g")
    for k in range(3):
        yk = x[labels == k] - x[labels == k][0]
        dk = yk - math.fsum(yk) / yk.size
        vk = math.fsum(dk * dk) / yk.size
        assert abs(float(rg.params["scale"][k]) ** 2 - vk) <= 8 * np.finfo(float).eps * vk
