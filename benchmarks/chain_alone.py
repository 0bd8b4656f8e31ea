"""Workload C in a process that imports chainrule only: ``python -m benchmarks.chain_alone``.

A diagnostic for the deep chain's growth with N. In the main benchmark process PyTorch's ~170,000
Python objects sit beside the graph, and every full pass of Python's cyclic garbage collector
walks them all while a long graph is being built. Here the chain runs twice in a fresh process
without PyTorch: with the collector as Python sets it, and with the collector switched off (in
this subprocess only; chainrule itself never changes the collector's settings), so the table
can say how much of the growth is the collector's. Prints one JSON line of per-step medians.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time

from .workloads import chain_inputs, chain_workload

#: (N, timed runs) per length; the longest chain is run fewer times.
PLAN = ((1_000, 15), (100_000, 3))


def per_step(n: int, runs: int) -> float:
    """Median seconds per step of ``runs`` calls of chainrule's C step at length ``n``."""
    import numpy as np

    step = chain_workload(n).builders["chainrule"](chain_inputs(np.random.default_rng(0)))
    step()   # warm-up
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times)


def main() -> int:
    import chainrule  # noqa: F401  (the only engine in this process)

    result: dict[str, float] = {"tracked_objects": len(gc.get_objects())}
    for n, runs in PLAN:
        result[f"collector_on_{n}"] = per_step(n, runs)
    gc.disable()
    try:
        for n, runs in PLAN:
            result[f"collector_off_{n}"] = per_step(n, runs)
    finally:
        gc.enable()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
