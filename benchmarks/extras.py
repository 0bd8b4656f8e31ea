"""Figures measured outside the interleaved loop: start-up, the demo, peak memory, explaining.

Each start-up figure is the median of several fresh interpreters (``sys.executable``, the
environment of this process, so ``PYTHONPATH`` picks which chainrule is measured). Peak memory is
the maximum resident set size of a subprocess that imports one engine only and runs workload B;
the deep chain is also timed in a subprocess without PyTorch (see :mod:`benchmarks.chain_alone`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

_IMPORT_PROBE = ("import time; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); "
                 "import chainrule; t2 = time.perf_counter(); print(t1 - t0, t2 - t0)")


def _environment() -> dict[str, str]:
    """This process's environment, letting Python cache bytecode.

    NOTE: an installed package has its bytecode compiled at install time; with
    PYTHONDONTWRITEBYTECODE set (as on the development machines) every fresh interpreter
    would compile chainrule's sources again, which no user pays. The first run of each figure
    writes the cache and is discarded.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True,
                          env=_environment())


def import_time(repeats: int) -> dict[str, float]:
    """``import chainrule`` in a fresh interpreter (NumPy's share apart) and the whole process."""
    _python("-c", _IMPORT_PROBE)   # writes the bytecode cache
    numpy_s, inside, whole = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        numpy_part, total = map(float, _python("-c", _IMPORT_PROBE).stdout.split())
        whole.append(time.perf_counter() - start)
        numpy_s.append(numpy_part)
        inside.append(total)
    bare = []
    for _ in range(repeats):
        start = time.perf_counter()
        _python("-c", "pass")
        bare.append(time.perf_counter() - start)
    return {"import_s": statistics.median(inside), "numpy_import_s": statistics.median(numpy_s),
            "process_s": statistics.median(whole), "bare_python_s": statistics.median(bare)}


def demo_time(repeats: int) -> dict[str, Any]:
    """Wall time of ``chainrule demo`` (run as ``python -m chainrule demo``), median."""
    _python("-m", "chainrule", "demo")   # writes the bytecode cache
    walls = []
    for _ in range(repeats):
        start = time.perf_counter()
        _python("-m", "chainrule", "demo")
        walls.append(time.perf_counter() - start)
    return {"demo_s": statistics.median(walls)}


def peak_rss(engine: str, steps: int = 20) -> dict[str, float]:
    """Peak RSS (MiB) of a fresh process that runs ``steps`` steps of B with ``engine`` only."""
    out = _python("-m", "benchmarks.rss", engine, str(steps)).stdout
    return json.loads(out.strip().splitlines()[-1])


def chain_alone() -> dict[str, float]:
    """Workload C in a fresh process without PyTorch, collector on and off (see chain_alone)."""
    out = _python("-m", "benchmarks.chain_alone").stdout
    return json.loads(out.strip().splitlines()[-1])


def explain_time(repeats: int) -> dict[str, Any] | None:
    """Explaining one weight of a batch-128 784-256-10 MLP (float64), if chainrule has explain."""
    import importlib.util

    import numpy as np

    import chainrule as cr
    from chainrule import functional as F

    if importlib.util.find_spec("chainrule.explain") is None or not hasattr(cr, "explain"):
        return None
    from .workloads import mlp_inputs

    d = mlp_inputs(np.random.default_rng(0), (784, 256, 10), 128)
    p = {k: cr.tensor(d[k].astype(np.float64), requires_grad=True)
         for k in ("W1", "b1", "W2", "b2")}
    X = cr.tensor(d["X"].astype(np.float64), name="x")
    h = F.linear(X, p["W1"], p["b1"]).relu()
    loss = F.cross_entropy(F.linear(h, p["W2"], p["b2"]), d["y"])
    walls, rendered = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        try:
            text = str(cr.explain(loss, p["W1"], index=(3, 100)))
        except Exception as exc:  # reported in the table, not a crash
            return {"error": f"{type(exc).__name__}: {exc}"}
        walls.append(time.perf_counter() - start)
        rendered = len(text)
    return {"explain_s": statistics.median(walls), "explain_chars": rendered}
