"""Agreement check and interleaved timing.

Every engine runs one step from the same initial arrays and must give the same numbers (within
float32 tolerance) before anything is timed. Timing then goes round by round: in each round
every engine runs a batch of calls and records the mean time of one call, and the order of the
engines goes through every permutation, so slow phases of a noisy machine and the after-effects
of one engine on the next hit all of them alike.
The figure reported is the median over rounds.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from .workloads import ENGINES, Step, Workload

PAUSE_S = 0.01


class DisagreementError(AssertionError):
    """Two engines computed different numbers for the same workload."""


@dataclass
class Timing:
    """Seconds per call of one engine on one workload, one entry per round."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def check_agreement(workload: Workload, steps: dict[str, Step]) -> dict[str, float]:
    """Run one step of every engine and compare each result with chainrule's.

    Returns the largest relative difference per engine (for the report).
    """
    results = {engine: step() for engine, step in steps.items()}
    reference = results["chainrule"]
    worst: dict[str, float] = {}
    for engine, result in results.items():
        if engine == "chainrule":
            continue
        if result.keys() != reference.keys():
            raise DisagreementError(f"{workload.key}: {engine} returned {sorted(result)}, "
                                    f"chainrule {sorted(reference)}")
        worst[engine] = 0.0
        for name, expected in reference.items():
            got = np.asarray(result[name], dtype=np.float64)
            want = np.asarray(expected, dtype=np.float64)
            if got.shape != want.shape or not np.allclose(got, want, rtol=workload.rtol,
                                                          atol=workload.atol):
                raise DisagreementError(
                    f"{workload.key}: {engine} and chainrule disagree on '{name}': max abs "
                    f"difference {np.max(np.abs(got - want)) if got.shape == want.shape else '?'}"
                    f" (shapes {got.shape} and {want.shape})")
            scale = np.maximum(np.abs(want), workload.atol)
            worst[engine] = max(worst[engine], float(np.max(np.abs(got - want) / scale)))
    return worst


def _calibrate(step: Step, target: float) -> int:
    """How many calls make one round last about ``target`` seconds (at least one)."""
    start = time.perf_counter()
    step()
    once = time.perf_counter() - start
    return max(1, int(target / max(once, 1e-7)))


def time_interleaved(steps: dict[str, Step], rounds: int, warmup: int = 3,
                     target: float = 0.02) -> dict[str, Timing]:
    """Median-ready timings of every engine, in rotating order, after ``warmup`` calls each."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    calls = {engine: _calibrate(step, target) for engine, step in steps.items()}
    timings = {engine: Timing() for engine in steps}
    # NOTE: every order of the engines in turn, so each follows each other equally often
    # (a plain rotation would always run the same engine right after PyTorch).
    orders = list(itertools.permutations([e for e in ENGINES if e in steps]))
    for r in range(rounds):
        gc.collect()
        for engine in orders[r % len(orders)]:
            # NOTE: a pause first, so the worker threads of the engine that ran before (OpenMP
            # and OpenBLAS spin for a while after a parallel region) are asleep again and do
            # not compete with this one for the cores.
            time.sleep(PAUSE_S)
            step, n = steps[engine], calls[engine]
            start = time.perf_counter()
            for _ in range(n):
                step()
            timings[engine].samples.append((time.perf_counter() - start) / n)
    return timings
