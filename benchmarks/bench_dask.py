"""In-memory ``expfam.fit`` versus ``expfam.fit`` of a dask array on a 2-worker LocalCluster.

Data: ``--n`` Gamma(2.5, scale 1.5) values (default 10^8, 800 MB), made in chunks of
``--chunk`` values, chunk ``i`` drawn from ``numpy.random.default_rng([seed, i])``.  The
same chunks are made twice: in this process into one NumPy array, and on the workers
(``dask.delayed`` per chunk, then ``persist``) as a dask array, so both fits see
bit-identical values and no data travel from this process to the workers.

Measured (median of ``--repeat`` runs, after one warm-up run of each that absorbs numba
compilation / cache loading in every process):

- **in memory**: ``expfam.fit(Gamma, x)`` on the NumPy array (the fused numba kernel,
  parallel over this machine's cores);
- **dask**: ``expfam.fit(Gamma, dx)`` on the persisted dask array: graph construction, one
  statistics task per chunk on the workers (each worker one thread, numba limited to one
  thread per worker so that 2 workers use 2 cores), the tree of merges, the transfer of
  the small statistics back, and the same solver.  Data generation is not timed.

Printed: both times, the overhead ratio dask / in memory, and whether the natural
parameters and log-likelihoods agree to 1e-12 relative.

Run: ``.venv/bin/python benchmarks/bench_dask.py [--n N] [--chunk C] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import expfam
from _timing import timed

SHAPE, SCALE = 2.5, 1.5


def make_chunk(seed: int, i: int, size: int) -> np.ndarray:
    return np.random.default_rng([seed, i]).gamma(SHAPE, SCALE, size)


def chunk_sizes(n: int, chunk: int) -> list[int]:
    return [min(chunk, n - start) for start in range(0, n, chunk)]




def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=float, default=1e8, help="number of values (default 1e8)")
    ap.add_argument("--chunk", type=float, default=1e7, help="values per chunk (default 1e7)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20240611)
    args = ap.parse_args(argv)
    n, chunk = int(args.n), int(args.chunk)
    sizes = chunk_sizes(n, chunk)

    import dask
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    print(f"expfam dask benchmark: Gamma, n = {n:.3g} ({n * 8 / 1e6:.0f} MB), "
          f"{len(sizes)} chunks of <= {chunk:.3g}, {os.cpu_count()} CPUs, seed {args.seed}")

    # in memory: the same chunks, written into one array
    x = np.empty(n)
    start = 0
    for i, size in enumerate(sizes):
        x[start:start + size] = make_chunk(args.seed, i, size)
        start += size

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           host="127.0.0.1", dashboard_address=None,
                           env={"NUMBA_NUM_THREADS": "1"})
    client = Client(cluster)
    try:
        # on the workers: each chunk made where it is stored
        make = dask.delayed(make_chunk, pure=True)
        dx = da.concatenate([
            da.from_delayed(make(args.seed, i, size), shape=(size,), dtype=np.float64)
            for i, size in enumerate(sizes)
        ])
        dx = client.persist(dx)
        wait(dx)

        t_mem = timed(lambda: expfam.fit(expfam.Gamma, x), args.repeat)
        t_dask = timed(lambda: expfam.fit(expfam.Gamma, dx), args.repeat)
        r_mem = expfam.fit(expfam.Gamma, x)
        r_dask = expfam.fit(expfam.Gamma, dx)
    finally:
        client.close()
        cluster.close()

    rel_eta = np.max(np.abs(r_dask.model.natural / r_mem.model.natural - 1))
    rel_ll = abs(float(r_dask.loglik / r_mem.loglik - 1))
    agree = rel_eta <= 1e-12 and rel_ll <= 1e-12 and int(r_dask.n) == n
    print(f"in memory (NumPy array, this process)     : {t_mem * 1e3:9.1f} ms")
    print(f"dask array, LocalCluster 2 workers x 1 thr: {t_dask * 1e3:9.1f} ms")
    print(f"overhead ratio dask / in memory           : {t_dask / t_mem:9.2f}x")
    print(f"agree to 1e-12: {'ok' if agree else 'NO'} (natural params rel {rel_eta:.2e}, "
          f"loglik rel {rel_ll:.2e}; shape {float(r_mem.params['shape']):.6f}, "
          f"rate {float(r_mem.params['rate']):.6f})")
    print(f"Times: median of {args.repeat} runs after a warm-up; the dask data were made and "
          "persisted on the workers before timing.")


if __name__ == "__main__":
    main()
