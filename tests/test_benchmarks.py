"""The benchmark harness still runs: every engine agrees with chainrule on every workload.

No timing is asserted here (performance figures live in ``python -m benchmarks``); these tests
only keep the harness from rotting as the engine changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
pytest.importorskip("torch")

from benchmarks import chain_alone, harness, workloads  # noqa: E402


@pytest.mark.parametrize("workload", [workloads.SEED, workloads.MLP, workloads.HINGE,
                                      workloads.chain_workload(200)], ids=lambda w: w.key)
def test_every_engine_agrees_with_chainrule(workload: workloads.Workload) -> None:
    inputs = workload.make_inputs(np.random.default_rng(0))
    steps = {engine: build(inputs) for engine, build in workload.builders.items()}
    worst = harness.check_agreement(workload, steps)
    assert set(worst) == {"torch", "numpy"} and all(v < 1e-3 for v in worst.values())


def test_a_disagreement_is_refused() -> None:
    workload = workloads.SEED
    inputs = workload.make_inputs(np.random.default_rng(0))
    steps = {engine: build(inputs) for engine, build in workload.builders.items()}
    honest = steps["numpy"]
    steps["numpy"] = lambda: {**honest(), "dW2": honest()["dW2"] * 1.01}
    with pytest.raises(harness.DisagreementError, match="numpy and chainrule disagree on 'dW2'"):
        harness.check_agreement(workload, steps)


def test_the_chain_diagnostic_measures_a_short_chain() -> None:
    medians = chain_alone.per_step(100, 2)
    assert medians.keys() == {"on", "off"} and min(medians.values()) > 0


@pytest.mark.slow
def test_the_command_prints_the_table_and_judges_the_targets() -> None:
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "A", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)
    report = json.loads(run.stdout)
    (seed,) = report["workloads"]
    assert seed["key"] == "A" and seed["ratio_torch"] > 0
    assert [t["target"] for t in report["targets"]] == ["A: chainrule/torch <= 0.4"]
    assert report["environment"]["tracked_objects"] > 0
