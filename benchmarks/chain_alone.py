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

#: (N, timed runs in each mode) per length; the longest chain is run fewer times.
PLAN = ((1_000, 40), (100_000, 4))


def per_step(n: int, runs: int) -> dict[str, float]:
    """Median seconds per step of chainrule's C step at length ``n``, collector on and off.

    The two modes alternate run by run, so a slow phase of a noisy machine hits both alike.
    """
    import numpy as np

    step = chain_workload(n).builders["chainrule"](chain_inputs(np.random.default_rng(0)))
    step()   # warm-up
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(runs):
        for mode in ("on", "off"):
            gc.collect()
            if mode == "off":
                gc.disable()
            try:
                start = time.perf_counter()
                step()
                times[mode].append((time.perf_counter() - start) / n)
            finally:
                gc.enable()
    return {mode: statistics.median(t) for mode, t in times.items()}


def main() -> int:
    import chainrule  # noqa: F401  (the only engine in this process)

    result: dict[str, float] = {"tracked_objects": len(gc.get_objects())}
    for n, runs in PLAN:
        medians = per_step(n, runs)
        result[f"collector_on_{n}"] = medians["on"]
        result[f"collector_off_{n}"] = medians["off"]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
