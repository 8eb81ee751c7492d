"""Summarise a profile of the test suite: CPU per file, numba compilations per worker.

Record one with ``EXPFAM_TEST_PROFILE=DIR python -m pytest -q -n 2`` (``tests/_profile.py``),
then run ``python scripts/suite_profile.py DIR``.  Printed: CPU and wall seconds per
worker, the test files by CPU seconds, the compilations by seconds (top-level ones: the
time a test waited for numba), and the compilations paid in more than one worker (what
sharing the on-disk cache between the workers could save).
"""

import collections
import glob
import json
import os
import re
import sys


def _short(args):
    """Argument types in brief: ``f8[:]`` for a 1-D float64 array, a token by its function."""
    args = re.sub(r"Array\((\w+), (\d), '(\w)', \w+, aligned=True\)",
                  lambda m: f"{m[1]}[{','.join(':' * int(m[2]))}]{'' if m[3] == 'C' else m[3]}", args)
    return re.sub(r"Compiled\[expfam\.families\.\w+\.(\w+\.\w+)@\w+\]", r"\1", args)


def main(directory, top=30):
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "*.jsonl"))):
        worker = os.path.basename(path)[:-6]
        with open(path) as f:
            rows += [dict(json.loads(line), w=worker) for line in f]
    tests = [r for r in rows if r["kind"] != "compile"]
    comp = [r for r in rows if r["kind"] == "compile" and r["depth"] == 0]
    print("worker  tests  cpu_s   wall_s  compile_s")
    for w in sorted({r["w"] for r in tests}):
        t = [r for r in tests if r["w"] == w]
        c = sum(r["cpu"] for r in comp if r["w"] == w)
        print(f"{w:6s} {len({r['test'] for r in t}):6d} {sum(r['cpu'] for r in t):7.1f}"
              f" {sum(r['s'] for r in t):7.1f} {c:8.1f}")
    by_file = collections.Counter()
    comp_file = collections.Counter()
    for r in tests:
        by_file[r["test"].split("::")[0]] += r["cpu"]
    for r in comp:
        comp_file[(r["test"] or "?").split("::")[0]] += r["cpu"]
    print(f"\ntest files by CPU seconds (top {top}; compile = numba CPU seconds inside them)")
    for name, s in by_file.most_common(top):
        print(f"{s:7.1f}  compile {comp_file[name]:6.1f}  {name}")
    by_fn = collections.defaultdict(list)
    for r in comp:
        by_fn[(r["fn"], r["args"])].append(r)
    print(f"\ncompilations by CPU seconds (top {top}, top-level; workers)")
    ranked = sorted(by_fn.items(), key=lambda kv: -sum(r["cpu"] for r in kv[1]))
    for (fn, args), rs in ranked[:top]:
        workers = "/".join(r["w"] for r in rs)
        print(f"{sum(r['cpu'] for r in rs):6.1f}  {workers:10s} {fn} {_short(args)[:90]}")
    dup = [(k, rs) for k, rs in by_fn.items() if len({r["w"] for r in rs}) > 1]
    waste = sum(sum(r["cpu"] for r in rs) - max(r["cpu"] for r in rs) for _, rs in dup)
    print(f"\ncompiled in more than one worker: {len(dup)} of {len(by_fn)} signatures, "
          f"{waste:.1f} s of {sum(r['cpu'] for r in comp):.1f} s compiling")


if __name__ == "__main__":
    main(sys.argv[1])
