"""Streamed EM of a Gamma mixture over a Parquet file of 10^8 values: seconds per EM
iteration and peak memory.

The file (``--n`` values, default 10^8, 800 MB decoded; a 0.6 / 0.4 mixture of
Gamma(2, 1) and Gamma(20, rate 2)) is written row group by row group (10^6 rows) into a
temporary folder, never held in memory, and deleted at the end (``--keep`` keeps it).

(a) baseline, in a fresh process: a bare pyarrow scan of the column in chunks of
    ``chunksize`` rows (``iter_batches`` + ``to_numpy`` + ``np.log``): the least one pass
    of EM must do;
(b) in another fresh process: ``expfam.fit_mixture("gamma", path, 2, column="x",
    init=<a fixed start>, max_iter=ITERS)``: one validating pass (count, reservoir sample),
    then ``ITERS + 1`` E-step passes (responsibilities and the responsibility-weighted
    statistics of every chunk) with an exact M-step between them.

Printed: seconds per EM pass of (b), the ratio to the bare scan (a), and the peak RSS of
(b)'s process (``resource.getrusage``; floor: <= 300 MB), with its RSS before the fit.

    .venv/bin/python benchmarks/bench_mixture_stream.py [--n 100000000] [--iters 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

RSS_FLOOR_MB = 300
ROW_GROUP = 1_000_000
CHUNK = 262_144


def make_file(path: str, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with pq.ParquetWriter(path, pa.schema([("x", pa.float64())])) as writer:
        for start in range(0, n, ROW_GROUP):
            m = min(ROW_GROUP, n - start)
            z = rng.random(m) < 0.6
            x = np.where(z, rng.gamma(2.0, 1.0, m), rng.gamma(20.0, 0.5, m))
            writer.write_table(pa.table({"x": x}), row_group_size=m)
    print(f"wrote {n:,} values to {path} ({os.path.getsize(path) / 2**20:.0f} MB) in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)


CHILD_SCAN = """
import sys, time, resource
import numpy as np, pyarrow.parquet as pq
t0 = time.perf_counter()
s = 0.0
for b in pq.ParquetFile(sys.argv[1]).iter_batches(batch_size={chunk}, columns=["x"]):
    s += float(np.log(b.column(0).to_numpy()).sum())
print(time.perf_counter() - t0)
"""

CHILD_FIT = """
import sys, time, json, resource
import expfam
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = expfam.Mixture([0.5, 0.5], [expfam.Gamma(shape=1.5, rate=1.0), expfam.Gamma(shape=10.0, rate=1.0)])
t0 = time.perf_counter()
r = expfam.fit_mixture("gamma", sys.argv[1], 2, column="x", init=start, max_iter={iters},
                       tol=1e-300, chunksize={chunk})
total = time.perf_counter() - t0
run = r.runs[-1]
print(json.dumps({{"total": total, "passes": run["passes"], "em_seconds": run["seconds"],
                  "rss0": rss0, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "weights": r.weights.tolist(),
                  "params": [{{k: float(v) for k, v in c.params.items()}} for c in r.components],
                  "loglik": r.loglik, "n": r.n}}))
"""


def child(code: str, path: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code), path], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000_000)
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the file (printed path)")
    a = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="expfam_bench_mixture_")
    path = os.path.join(folder, "gamma_mixture.parquet")
    try:
        make_file(path, a.n, a.seed)
        child(CHILD_SCAN.format(chunk=CHUNK), path)  # warm the page cache
        scan = float(child(CHILD_SCAN.format(chunk=CHUNK), path))
        fit = json.loads(child(CHILD_FIT.format(iters=a.iters, chunk=CHUNK), path))
    finally:
        if not a.keep:
            shutil.rmtree(folder, ignore_errors=True)
    per_pass = fit["em_seconds"] / fit["passes"]
    print(f"n = {fit['n']:,} values, chunks of {CHUNK:,} rows, {a.iters} EM iterations "
          f"({fit['passes']} E-step passes) + 1 validating / sampling pass")
    print(f"(a) bare pyarrow scan + log:        {scan:8.2f} s per pass "
          f"({a.n / scan / 1e6:.1f} M values/s)")
    print(f"(b) streamed EM (E-step + M-step):  {per_pass:8.2f} s per iteration "
          f"({a.n / per_pass / 1e6:.1f} M values/s); whole fit {fit['total']:.1f} s")
    print(f"    ratio b/a = {per_pass / scan:.1f}")
    print(f"peak RSS of (b): {fit['rss']:.0f} MB (before the fit: {fit['rss0']:.0f} MB); "
          f"floor <= {RSS_FLOOR_MB} MB: {'OK' if fit['rss'] <= RSS_FLOOR_MB else 'MISSED'}")
    print(f"fit after {a.iters} iterations: weights {np.round(fit['weights'], 4).tolist()}, "
          f"components {fit['params']}, loglik {fit['loglik']:.6g}")


if __name__ == "__main__":
    main()
