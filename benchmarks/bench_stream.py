"""Streaming a Parquet file through ``expfam.fit_file``, against a bare pyarrow scan.

The file holds ``--n`` Gamma(2.5, scale 1.5) values (default 10^8, 800 MB decoded) in one
float64 column, written row group by row group (``--row-group`` rows each), so it is
never in memory as a whole.  It is kept in ``--dir`` (default: a folder in the system
temp dir) and reused when it exists.

(a) bare scan: ``ParquetFile(path).iter_batches(batch_size=chunksize, columns=["x"])`` and
    ``to_numpy`` of every batch, no arithmetic -- the least any reader can do;
(b) ``expfam.fit_file("gamma", path, column="x", chunksize=chunksize)``: the same scan,
    validation of every value, the sufficient statistics of every chunk
    (``SufficientStats.from_data``), the merges and the fit.

(a) and (b) are timed in turn (a, b, a, b, ...) after a warm-up of each (which also
brings the file into the page cache), so that both see the same machine load; the
medians are compared.  Prints the throughput of both (values/s), the ratio b/a (floor:
expfam >= 70% of the bare scan), the spread of the runs, and the peak RSS of a fresh
process that runs (b) once (floor: <= 300 MB), with the RSS of the same process before
reading as a reference.  With ``--profile`` it also prints where (b) spends its time.

Run: ``.venv/bin/python benchmarks/bench_stream.py [--n 10000000]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import expfam
from _timing import timed_alternating

SHAPE, SCALE = 2.5, 1.5
FLOOR = 0.70  # throughput of fit_file / throughput of the bare scan


def _load() -> str:
    """The 1-minute load average (other programs on the machine skew the timings)."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # pragma: no cover - not every system has one
        return "?"


def make_file(path: str, n: int, row_group: int, seed: int) -> None:
    if os.path.exists(path):
        try:
            if pq.ParquetFile(path).metadata.num_rows == n:
                print(f"reusing {path}")
                return
        except Exception:  # noqa: BLE001 - a broken file is rewritten
            pass
    print(f"writing {n:,} values to {path} ...", flush=True)
    rng = np.random.default_rng(seed)
    tmp = path + ".part"
    schema = pa.schema([("x", pa.float64())])
    t0 = time.perf_counter()
    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, n, row_group):
            m = min(row_group, n - start)
            writer.write_table(pa.table({"x": rng.gamma(SHAPE, SCALE, m)}), row_group_size=m)
    os.replace(tmp, path)
    print(f"  written in {time.perf_counter() - t0:.1f} s, {os.path.getsize(path) / 1e6:.0f} MB")


def bare_scan(path: str, chunksize: int) -> int:
    n = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize, columns=["x"]):
        n += batch.column(0).to_numpy(zero_copy_only=False).shape[0]
    return n




def peak_rss(path: str, chunksize: int, small: str) -> tuple[float, float, float]:
    """Peak RSS (VmHWM, MB) of a fresh process that fits the file once, with two marks:
    after the imports and the kernels' compilation, and after fitting a small file (the
    one-off cost of Arrow's readers, thread pools and allocator)."""
    code = textwrap.dedent(f"""
        import numpy as np, expfam, pyarrow.parquet, tqdm.auto
        def hwm():
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        expfam.fit("gamma", np.random.default_rng(0).gamma(2.0, size=1 << 16))
        a = hwm()
        expfam.fit_file("gamma", {small!r}, column="x", progress=False)
        b = hwm()
        expfam.fit_file("gamma", {path!r}, column="x", chunksize={chunksize}, progress=False)
        print(a, b, hwm())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    a, b, c = map(float, out.stdout.split())
    return a, b, c


def profile(path: str, chunksize: int) -> None:
    """Split (b) into reading (pyarrow), from_data and the rest, by wrapping from_data."""
    from expfam.stats import SufficientStats

    orig = SufficientStats.from_data.__func__
    spent = [0.0, 0]

    def timed_from_data(cls, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return orig(cls, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - t0
            spent[1] += 1

    SufficientStats.from_data = classmethod(timed_from_data)
    try:
        t0 = time.perf_counter()
        expfam.fit_file("gamma", path, column="x", chunksize=chunksize, progress=False)
        total = time.perf_counter() - t0
    finally:
        SufficientStats.from_data = classmethod(orig)
    print(f"profile of (b), one run: total {total:.3f} s = SufficientStats.from_data "
          f"{spent[0]:.3f} s ({spent[1]} calls, {100 * spent[0] / total:.0f}%) + the rest "
          f"{total - spent[0]:.3f} s (waiting for the read-ahead thread, which reads and "
          f"converts the next chunk meanwhile; conversion checks, merges, the fit)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10**8, help="values in the file")
    ap.add_argument("--row-group", type=int, default=1 << 20, help="rows per row group")
    ap.add_argument("--chunksize", type=int, default=262_144)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "expfam_bench"))
    ap.add_argument("--profile", action="store_true", help="split the time of (b)")
    args = ap.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    path = os.path.join(args.dir, f"gamma_{args.n}_{args.row_group}_{args.seed}.parquet")
    make_file(path, args.n, args.row_group, args.seed)
    n = args.n
    load0 = _load()
    print(f"N = {n:,} float64 values ({n * 8 / 1e6:.0f} MB decoded), chunksize "
          f"{args.chunksize:,}, {os.cpu_count()} CPUs, pyarrow {pa.__version__}")

    result = [None]

    def run_fit():
        result[0] = expfam.fit_file("gamma", path, column="x", chunksize=args.chunksize,
                                    progress=False)

    times = timed_alternating({"scan": lambda: bare_scan(path, args.chunksize),
                               "fit": run_fit}, args.repeat)
    t_scan, t_fit = times["scan"][0], times["fit"][0]
    r = result[0]
    assert int(r.n) == n, (r.n, n)
    shape, rate = float(r.params["shape"]), float(r.params["rate"])
    print(f"  fit: shape {shape:.5f} (true {SHAPE}), rate {rate:.5f} (true {1 / SCALE:.5f}), "
          f"converged {bool(np.all(r.converged))}")
    ratio = t_scan / t_fit
    print(f"(a) bare pyarrow scan : {t_scan:8.3f} s  {n / t_scan / 1e6:8.1f} M values/s")
    print(f"(b) expfam.fit_file   : {t_fit:8.3f} s  {n / t_fit / 1e6:8.1f} M values/s")
    print(f"ratio b/a (throughput): {100 * ratio:.0f}%   floor >= {100 * FLOOR:.0f}%: "
          f"{'ok' if ratio >= FLOOR else 'MISSED'}")
    print(f"  spread of the {args.repeat} alternating runs: (a) {times['scan'][1]:.3f}-"
          f"{times['scan'][2]:.3f} s, (b) {times['fit'][1]:.3f}-{times['fit'][2]:.3f} s; "
          f"load average before/after: {load0} / {_load()}")
    small = os.path.join(args.dir, "small.parquet")
    pq.write_table(pa.table({"x": np.random.default_rng(1).gamma(SHAPE, SCALE, 10_000)}), small)
    imports, warm, peak = peak_rss(path, args.chunksize, small)
    print(f"peak RSS of (b) in a fresh process: {peak:.0f} MB   floor <= 300 MB: "
          f"{'ok' if peak <= 300 else 'MISSED'}")
    print(f"  = {imports:.0f} MB imports + kernels (before any file), +{warm - imports:.0f} MB "
          f"Arrow's one-off reader machinery (a 10^4-row file), +{peak - warm:.0f} MB the "
          f"stream itself ({pa.default_memory_pool().backend_name} allocator)")
    if args.profile or ratio < FLOOR:
        profile(path, args.chunksize)


if __name__ == "__main__":
    main()
