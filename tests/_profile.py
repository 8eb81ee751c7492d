"""Where the suite's time goes: numba compilations and CPU seconds, per test and worker.

Enabled by ``EXPFAM_TEST_PROFILE=DIR`` (see ``tests/conftest.py``): each process (the
xdist workers included) writes ``DIR/<worker>.jsonl`` with one row per test (wall and
CPU seconds of its call and fixtures) and one per numba compilation (the function, its
argument types, the test that triggered it, seconds).  ``scripts/suite_profile.py``
summarises the files.  Nothing is recorded without the variable.
"""

from __future__ import annotations

import json
import os
import time

_state = {"test": None, "file": None, "starts": []}


def _write(row):
    _state["file"].write(json.dumps(row) + "\n")
    _state["file"].flush()


def _install_numba_listener():
    from numba.core import event

    class _CompileListener(event.Listener):
        def on_start(self, ev):
            _state["starts"].append((time.perf_counter(), time.process_time()))

        def on_end(self, ev):
            t0, c0 = _state["starts"].pop()
            disp = ev.data["dispatcher"]
            fn = getattr(disp, "py_func", None)
            name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', disp)}"
            _write({"kind": "compile", "fn": name, "args": str(ev.data["args"])[:300],
                    "depth": len(_state["starts"]), "test": _state["test"],
                    "s": time.perf_counter() - t0, "cpu": time.process_time() - c0})

    event.register("numba:compile", _CompileListener())


def configure(config, directory):
    """Open this process's profile file and start listening to numba compilations."""
    os.makedirs(directory, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    _state["file"] = open(os.path.join(directory, f"{worker}.jsonl"), "a")
    _install_numba_listener()
    config.pluginmanager.register(_Plugin(worker), "expfam-profile")


class _Plugin:
    def __init__(self, worker):
        self.worker = worker

    def _hook(outcome_name):  # noqa: N805 - a decorator factory inside the class body
        import pytest

        @pytest.hookimpl(hookwrapper=True)
        def hook(self, item):
            _state["test"] = item.nodeid
            w0, c0 = time.perf_counter(), time.process_time()
            yield
            _write({"kind": outcome_name, "test": item.nodeid, "worker": self.worker,
                    "t": time.time(), "s": time.perf_counter() - w0,
                    "cpu": time.process_time() - c0})

        return hook

    pytest_runtest_setup = _hook("setup")
    pytest_runtest_call = _hook("call")
    pytest_runtest_teardown = _hook("teardown")
