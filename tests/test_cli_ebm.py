"""``expfam ising fit`` and ``expfam potts fit``, run end to end on files written here; the
fitted parameters are checked by moment matching against brute-force enumeration."""

import itertools
import json

import numpy as np
import pytest

import expfam
from expfam.cli import main


def _ising_model_moments(h, J, values):
    """E[s_i], E[s_i s_j] of p(s) ~ exp(h.s + sum_{i<j} J_ij s_i s_j), by enumeration."""
    S = np.array(list(itertools.product(values, repeat=h.size)))
    e = S @ h + 0.5 * np.einsum("ri,ij,rj->r", S, J, S)
    p = np.exp(e - e.max())
    p /= p.sum()
    return p @ S, np.einsum("r,ri,rj->ij", p, S, S)


def _samples(spins, n=5, N=3000, seed=0):
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(0, 0.4, (n, n)), 1)
    true = expfam.Ising(fields=rng.normal(0, 0.3, n), couplings=J + J.T, spins=spins)
    return true.sample(N, rng=rng)


def test_ising_fit_exact_from_npy_to_json(tmp_path, capsys):
    X = _samples("+-1")
    path = tmp_path / "s.npy"
    np.save(path, X)
    out = tmp_path / "params.json"
    assert main(["ising", "fit", str(path), "--method", "exact", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "converged=True" in text and str(out) in text
    doc = json.loads(out.read_text())
    assert doc["model"] == "ising" and doc["spins"] == "+-1" and doc["report"]["converged"]
    h, J = np.array(doc["fields"]), np.array(doc["couplings"])
    m, M = _ising_model_moments(h, J, (-1.0, 1.0))
    np.testing.assert_allclose(m, X.mean(axis=0), atol=1e-8)
    iu = np.triu_indices(5, 1)
    np.testing.assert_allclose(M[iu], (X.T @ X / X.shape[0])[iu], atol=1e-8)
    assert doc["report"]["max_abs_residual"] < 1e-8


def test_ising_fit_l2_from_csv_to_npz(tmp_path, capsys):
    X = _samples("01", seed=1)
    path = tmp_path / "s.csv"
    path.write_text("a,b,c,d,e\n" + "\n".join(",".join(f"{v:g}" for v in row) for row in X) + "\n")
    out = tmp_path / "params.npz"
    l2 = 0.05
    assert main(["ising", "fit", str(path), "--method", "exact", "--l2", str(l2), "--spins", "01",
                 "--columns", "a,b,c,d", "-o", str(out)]) == 0
    with np.load(out, allow_pickle=False) as z:
        h, J, eta = z["fields"], z["couplings"], z["natural"]
        assert str(z["spins"]) == "01" and json.loads(str(z["report"]))["method"] == "exact"
    X4 = X[:, :4]
    m, M = _ising_model_moments(h, J, (0.0, 1.0))
    iu = np.triu_indices(4, 1)
    resid = np.concatenate([X4.mean(0) - m, (X4.T @ X4 / X4.shape[0])[iu] - M[iu]])
    # penalised stationarity: E_data[u] - E_model[u] = l2 eta
    np.testing.assert_allclose(resid, l2 * eta, atol=1e-8)


def test_potts_fit_from_parquet(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.default_rng(3)
    X = np.column_stack([rng.integers(0, 3, 800), rng.integers(0, 2, 800), rng.integers(0, 3, 800)])
    X[:, 2] = np.where(rng.random(800) < 0.5, X[:, 0], X[:, 2])  # a dependence
    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"x": X[:, 0], "y": X[:, 1], "z": X[:, 2]}), path)
    out = tmp_path / "p.json"
    assert main(["potts", "fit", str(path), "--q", "3,2,3", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    H, C, q = np.array(doc["fields"]), np.array(doc["couplings"]), doc["q"]
    assert q == [3, 2, 3]
    states = np.array(list(itertools.product(*[range(v) for v in q])))
    e = sum(H[i, states[:, i]] for i in range(3)) + sum(
        C[i, j, states[:, i], states[:, j]] for i in range(3) for j in range(i + 1, 3))
    p = np.exp(e - e.max())
    p /= p.sum()
    # every single and pairwise marginal of the data is reproduced (moment matching)
    for i in range(3):
        for a in range(q[i]):
            assert p @ (states[:, i] == a) == pytest.approx(np.mean(X[:, i] == a), abs=1e-8)
    for i, j in itertools.combinations(range(3), 2):
        for a, b in itertools.product(range(q[i]), range(q[j])):
            want = np.mean((X[:, i] == a) & (X[:, j] == b))
            assert p @ ((states[:, i] == a) & (states[:, j] == b)) == pytest.approx(want, abs=1e-8)


def test_cli_errors_name_the_problem(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,0\n0,x\n")
    assert main(["ising", "fit", str(bad)]) == 1
    assert "line 3, column 'b'" in capsys.readouterr().err
    const = tmp_path / "const.npy"
    np.save(const, np.array([[0, 1], [0, 0], [0, 1]]))
    assert main(["ising", "fit", str(const)]) == 1
    assert "variable 0 (always 0)" in capsys.readouterr().err
    three = tmp_path / "three.npy"
    np.save(three, np.array([[0, 2], [1, 0], [0, 1]]))
    assert main(["ising", "fit", str(three)]) == 1
    assert "outside {0, 1}" in capsys.readouterr().err
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([[0.0, 1.0], [np.nan, 0.0]]))
    assert main(["potts", "fit", str(nan)]) == 1
    assert "nan" in capsys.readouterr().err.lower()
    assert main(["ising", "fit", str(tmp_path / "s.txt")]) == 1
    assert main(["ising", "fit", str(const), "-o", str(tmp_path / "p.pkl")]) == 2
    assert main(["potts", "fit", str(const), "--method", "gibbs"]) == 2
    assert main(["ising", "fit", str(const), "--checkpoint", str(tmp_path / "c.npz")]) == 2
    assert "apply to --method pcd" in capsys.readouterr().err


def test_demo_energy_based_section():
    from expfam.demo import energy_based_section

    text = energy_based_section(seed=3, n_spins=6, n_samples=4000)
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith(("exact ", "pcd "))}
    assert float(rows["exact"][1]) < 1e-10  # Newton on enumerated moments: the residual vanishes
    kl_exact, kl_pcd = float(rows["exact"][-2]), float(rows["pcd"][-2])
    # the exact MLE's KL to the truth is about k / (2N) = 21 / 8000; PCD within 1.5x of it
    assert 0 < kl_exact < 3 * 21 / 8000
    assert kl_pcd < 1.5 * kl_exact
