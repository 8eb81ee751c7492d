"""Small data without JIT or heavy imports (issue 11): start-up time and memory.

Every measurement runs in a fresh interpreter with an empty numba cache
(``NUMBA_CACHE_DIR`` set to a new empty directory) and Python's bytecode cache written
once by a warm-up run (``PYTHONPYCACHEPREFIX``, outside the source trees), for this
checkout's ``src`` and for a baseline checkout (``--baseline``, default
``/work/main/src``: the code before the change), interleaved, median of ``--repeat`` runs:

- ``import expfam``: the time of the import statement inside the child (wall), and the
  child's CPU time (user + sys; robust to a busy machine);
- ``expfam fit g100.csv --family gamma``: the whole process (``python -m expfam.cli``),
  wall time and peak RSS (``os.wait4``: the child's own ``ru_maxrss``);
- ``expfam.fit("gamma", x)`` of 100 values in a new process (whole process, wall; the
  Gamma needs ``scipy.special``), and the same for the Normal (which does not).

Prints both and the ratio to the issue's floors (0.25 s, 0.6 s, 120 MB; <= 1 meets the
floor), then where the remaining start-up time goes (``import numpy``,
``scipy.special``, ``expfam`` alone, in fresh processes).

Run: ``.venv/bin/python benchmarks/bench_small.py [--repeat 5] [--baseline PATH]``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parents[1] / "src"
FLOORS = {"import": 0.25, "cli": 0.6, "rss": 120.0}
_IMPORT = ("import time, resource; t = time.perf_counter(); import expfam; "
           "print(time.perf_counter() - t)")


#: compiled bytecode (.pyc) of both trees, kept outside them (an installed package has its
#: .pyc files; without them every run would compile expfam's sources again)
_PYCACHE = tempfile.mkdtemp(prefix="bench-small-pyc-")


def _run(src: str, args: list) -> tuple:
    """Run ``python args`` with ``src`` on the path and an empty numba cache: (wall s,
    cpu s, peak RSS MB, stdout)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": src, "NUMBA_CACHE_DIR": cache,
               "PYTHONPYCACHEPREFIX": _PYCACHE}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out = proc.stdout.read()
        proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed with exit code {proc.returncode}")
    # ru_maxrss is in KiB on Linux
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.decode()


def _measure(src: str, csv: str, values: str) -> dict:
    wall_imp, cpu_imp, _, out = _run(src, ["-c", _IMPORT])
    cli = _run(src, ["-m", "expfam.cli", "fit", csv, "--family", "gamma"])
    fit = _run(src, ["-c", f"import numpy as np, expfam; expfam.fit('gamma', np.array({values}))"])
    norm = _run(src, ["-c", f"import numpy as np, expfam; expfam.fit('normal', np.array({values}))"])
    return {"import": float(out), "import_cpu": cpu_imp, "cli": cli[0], "cli_cpu": cli[1],
            "rss": cli[2], "fit": fit[0], "fit_cpu": fit[1], "norm": norm[0], "norm_cpu": norm[1]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline", default="/work/main/src", help="src of the code before")
    args = ap.parse_args(argv)
    x = np.random.default_rng(11).gamma(2.0, 1 / 3.0, 100)
    values = repr([float(v) for v in x])
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "g100.csv")
        with open(csv, "w") as fh:
            fh.write("x\n" + "".join(f"{float(v)!r}\n" for v in x))
        trees = {"before": args.baseline, "after": str(HERE)}
        if not os.path.isdir(os.path.join(args.baseline, "expfam")):
            print(f"no baseline at {args.baseline}: measuring this checkout only")
            del trees["before"]
        runs = {k: [] for k in trees}
        for src in trees.values():  # warm-up: writes the .pyc files (the numba cache stays empty)
            _measure(src, csv, values)
        for _ in range(args.repeat):  # interleaved: the load of the machine hits both alike
            for k, src in trees.items():
                runs[k].append(_measure(src, csv, values))
        med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
        parts = {}
        for name, code in [("python -c pass", "pass"), ("import numpy", "import numpy"),
                           ("import numpy, scipy.special", "import numpy, scipy.special"),
                           ("import expfam", "import expfam")]:
            parts[name] = statistics.median(_run(str(HERE), ["-c", code])[0]
                                            for _ in range(args.repeat))
    print(f"small data, fresh processes, empty numba cache, median of {args.repeat} "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"{'measure':44s} {'before':>9s} {'after':>9s} {'floor':>7s} {'after/floor':>11s}")
    rows = [("import expfam (s, in the child)", "import"),
            ("  CPU of that child (s, user+sys)", "import_cpu"),
            ("expfam fit 100-row CSV (s, whole process)", "cli"),
            ("  CPU of that process (s)", "cli_cpu"),
            ("  peak RSS (MB)", "rss"),
            ("expfam.fit 100 values, new process (s)", "fit"),
            ("  CPU of that process (s)", "fit_cpu"),
            ("same, Normal (no special function) (s)", "norm"),
            ("  CPU of that process (s)", "norm_cpu")]
    for label, key in rows:
        floor = FLOORS.get(key)
        ratio = f"{med['after'][key] / floor:11.2f}" if floor else f"{'':11s}"
        before = f"{med['before'][key]:9.3f}" if "before" in med else f"{'-':>9s}"
        print(f"{label:44s} {before} {med['after'][key]:9.3f} "
              f"{floor if floor else '':>7} {ratio}")
    print("where the start-up time goes (after; whole process, wall s):")
    for name, t in parts.items():
        print(f"  {name:40s} {t:7.3f}")


if __name__ == "__main__":
    main()
