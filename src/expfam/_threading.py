"""numba's threading layer, set before any parallel kernel of expfam runs.

Without TBB numba would pick GNU OpenMP, which is not fork-safe: a process that forks
after a fit (multiprocessing's default on Linux) kills its children.  A fork-safe layer
is chosen instead (workqueue without TBB).  Every module that compiles ``parallel=True``
kernels imports this one before numba's first launch (``import expfam`` itself loads no
numba); it takes effect only if no parallel numba code ran before in the process, and the
user's ``NUMBA_THREADING_LAYER`` always wins.
"""

from __future__ import annotations

import os

import numba

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "forksafe"
