"""The 1-D kernels' lanes (chunks shared out at run time) and the streamed fit on two
kernel threads, against exact sums (math.fsum) and against one lane / one thread."""

import math

import numpy as np
import pytest

import expfam
from expfam import _kernels
from expfam.errors import SupportError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

EPS = np.finfo(float).eps


def _launch(family, x, lanes, w=None, checked=False):
    """The raw per-chunk sums of ``x`` on ``lanes`` lanes, as ``fused_sums`` launches them."""
    jit, tok, p, bounds, element = _kernels._plan(family, {})
    nchunks = _kernels._n_chunks(-(-x.size // jit.BLOCK))
    w = np.zeros(0) if w is None else w
    if checked:
        return jit.run(jit.sums_1d_buffered, x, w, tok, None, p, bounds, 0.0, nchunks, lanes)
    return jit.run(jit.sums_1d, x, w, tok, p, None, 0.0, nchunks, lanes)


@pytest.mark.parametrize("checked", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_lanes_give_the_same_chunk_sums_as_one_lane(checked, weighted):
    """Every chunk's partial sums are its own, whichever lane takes it: bit for bit the
    same on 1, 2 or 7 lanes; the totals match math.fsum of NumPy's statistics."""
    rng = np.random.default_rng(11)
    x = rng.gamma(2.0, 3.0, 100_001)  # not a multiple of the block or of the run
    w = rng.uniform(0.0, 2.0, x.size) if weighted else None
    one = _launch(expfam.Gamma, x, 1, w, checked)
    for lanes in (2, 7):
        many = _launch(expfam.Gamma, x, lanes, w, checked)
        for a, b in zip(one, many):
            np.testing.assert_array_equal(a, b)
    S, C, bad = one
    assert bad.sum() == 0
    wv = np.ones(x.size) if w is None else w
    for s, u in enumerate((x, np.log(x))):
        exact = math.fsum(u * wv)  # the products are the kernel's too (one rounding each)
        total = math.fsum(np.concatenate([S[:, s], C[:, s]]))
        # log: within 2 ulps of NumPy's per value, so the sums agree to a few eps
        assert abs(total - exact) <= 8 * EPS * math.fsum(np.abs(u) * wv)


def test_lanes_count_values_outside_the_support():
    x = np.random.default_rng(2).gamma(2.0, 1.0, 50_000)
    x[37_777] = -1.0
    for lanes in (1, 2, 3):
        *_, bad = _launch(expfam.Gamma, x, lanes, checked=True)
        assert bad.sum() == 1
        S, C, _ = _launch(expfam.Gamma, x, lanes)  # unchecked: log(-1) makes a sum NaN
        assert np.isnan(S[:, 1]).sum() == 1 and np.isfinite(S[:, 0]).all()


def _write(tmp_path, x, row_group):
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"x": x}), path, row_group_size=row_group)
    return path


@pytest.mark.parametrize("threads", [1, 2])
def test_streamed_sums_on_one_or_two_kernel_threads(tmp_path, threads, monkeypatch):
    """fit_file's statistics, read in chunks large enough for the kernels, against the
    exact sums of the whole column, on one and on two kernel threads."""
    import expfam.io as eio

    x = np.random.default_rng(5).gamma(3.0, 0.5, 100_000)
    path = _write(tmp_path, x, 50_000)
    monkeypatch.setattr(eio, "_STREAM_THREADS", threads)
    st = expfam.stats_from_file("gamma", path, column="x", chunksize=40_000, progress=False)
    assert int(st.count) == x.size
    exact = [math.fsum(x), math.fsum(np.log(x))]
    np.testing.assert_allclose(st.sum_u, exact, rtol=1e-13)
    r = expfam.fit_file("gamma", path, column="x", chunksize=40_000, progress=False)
    ref = expfam.fit("gamma", x)
    np.testing.assert_allclose(r.model.natural, ref.model.natural, rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
def test_bad_value_in_the_second_chunk_is_named_by_its_row(tmp_path, threads, monkeypatch):
    import expfam.io as eio

    x = np.random.default_rng(6).gamma(3.0, 0.5, 90_000)
    row = 40_000 + 12_345  # in the second chunk of 40,000 rows
    x[row] = -2.5
    path = _write(tmp_path, x, 45_000)
    monkeypatch.setattr(eio, "_STREAM_THREADS", threads)
    with pytest.raises(SupportError, match=rf"column 'x', row {row}\b.*-2\.5"):
        expfam.fit_file("gamma", path, column="x", chunksize=40_000, progress=False)
