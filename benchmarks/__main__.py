"""``python -m benchmarks [--json] [--quick] [--only A,B,C,D,extras]``: see the package doc."""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
from typing import Any

import numpy as np

from . import extras
from .harness import check_agreement, time_interleaved
from .workloads import HINGE, MLP, SEED, Workload, chain_workload

#: The issue's targets: the largest allowed ratio chainrule / torch per workload.
TARGETS = {"A": 0.4, "B": 1.05, "C": 0.3, "D": 0.5}
IMPORT_TARGET_S = 0.15
DEMO_TARGET_S = 0.5
RSS_TARGET = 0.25          # chainrule's peak RSS on B at most this fraction of torch's
FLAT_TOLERANCE = 1.25      # per-step cost at the largest N at most this times that at 1e3


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (threadpoolctl when present, else the CPUs)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return counts[0] if counts else os.cpu_count() or 1


def match_threads() -> int:
    """Give PyTorch as many intra-op threads as NumPy's BLAS has; returns the number."""
    import torch

    n = blas_threads()
    torch.set_num_threads(n)
    return n


def environment() -> dict[str, Any]:
    import torch

    try:
        from threadpoolctl import threadpool_info

        blas = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        blas = []
    import chainrule

    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "chainrule": chainrule.__file__,
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "numpy_blas": blas,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
            # NOTE: every full pass of the cyclic garbage collector walks all of these (torch's
            # included): it is what makes a long chainrule graph's per-step cost grow with N.
            "tracked_objects": len(gc.get_objects())}


def run_workload(workload: Workload, rounds: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    inputs = workload.make_inputs(rng)
    steps = {engine: build(inputs) for engine, build in workload.builders.items()}
    agreement = check_agreement(workload, steps)
    timings = time_interleaved(steps, rounds)
    med = {engine: t.median / workload.steps for engine, t in timings.items()}
    return {"key": workload.key, "title": workload.title, "rounds": rounds,
            "seconds": med, "max_rel_diff": agreement,
            "ratio_torch": med["chainrule"] / med["torch"],
            "ratio_numpy": med["chainrule"] / med["numpy"]}


def judge(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target, the measured figure and whether it is met."""
    rows = []
    for w in report["workloads"]:
        target = TARGETS[w["key"][0]]
        rows.append({"target": f"{w['key']}: chainrule/torch <= {target}",
                     "measured": round(w["ratio_torch"], 3), "met": w["ratio_torch"] <= target})
    chains = [w for w in report["workloads"] if w["key"].startswith("C")]
    if len(chains) > 1:
        growth = chains[-1]["seconds"]["chainrule"] / chains[0]["seconds"]["chainrule"]
        rows.append({"target": f"C: per-step cost flat ({chains[-1]['key']} / {chains[0]['key']} "
                               f"<= {FLAT_TOLERANCE})",
                     "measured": round(growth, 3), "met": growth <= FLAT_TOLERANCE})
    x = report.get("extras", {})
    if "import_s" in x:
        rows.append({"target": f"import chainrule < {IMPORT_TARGET_S} s",
                     "measured": round(x["import_s"], 4), "met": x["import_s"] < IMPORT_TARGET_S})
    if "demo_s" in x:
        rows.append({"target": f"chainrule demo < {DEMO_TARGET_S} s wall",
                     "measured": round(x["demo_s"], 3), "met": x["demo_s"] < DEMO_TARGET_S})
    if "rss" in x:
        ratio = x["rss"]["chainrule"]["peak_mib"] / x["rss"]["torch"]["peak_mib"]
        rows.append({"target": f"B peak RSS chainrule/torch <= {RSS_TARGET}",
                     "measured": round(ratio, 3), "met": ratio <= RSS_TARGET})
    if x.get("explain") and "explain_s" in x["explain"]:
        rows.append({"target": "explain a weight of a batch-128 784-256-10 MLP < 1 s",
                     "measured": round(x["explain"]["explain_s"], 3),
                     "met": x["explain"]["explain_s"] < 1.0})
    return rows


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:10.2f}"


def render(report: dict[str, Any]) -> str:
    lines = [f"chainrule benchmarks (medians of interleaved rounds; times in microseconds; "
             f"torch threads = {report['environment']['torch_threads']}, NumPy BLAS "
             f"{report['environment']['numpy_blas']})", ""]
    header = (f"{'workload':44} {'chainrule':>10} {'torch':>10} {'numpy':>10} "
              f"{'cr/torch':>9} {'cr/numpy':>9}")
    lines += [header, "-" * len(header)]
    for w in report["workloads"]:
        s = w["seconds"]
        lines.append(f"{w['title']:44} {_us(s['chainrule'])} {_us(s['torch'])} {_us(s['numpy'])}"
                     f" {w['ratio_torch']:9.3f} {w['ratio_numpy']:9.3f}")
    x = report.get("extras", {})
    if x:
        lines.append("")
    if "import_s" in x:
        lines.append(f"import chainrule: {x['import_s'] * 1e3:.1f} ms, of which import numpy "
                     f"{x['numpy_import_s'] * 1e3:.1f} ms (whole process "
                     f"{x['process_s'] * 1e3:.1f} ms; bare python "
                     f"{x['bare_python_s'] * 1e3:.1f} ms)")
    if "demo_s" in x:
        lines.append(f"chainrule demo (python -m chainrule demo): {x['demo_s'] * 1e3:.1f} ms wall")
    if "rss" in x:
        for engine, r in x["rss"].items():
            lines.append(f"peak RSS of B, {engine:9}: {r['peak_mib']:7.1f} MiB "
                         f"(after imports {r['import_mib']:.1f} MiB)")
    if "explain" in x:
        e = x["explain"]
        lines.append("explain a weight of a batch-128 784-256-10 MLP: " + (
            "not measured (chainrule.explain does not exist yet)" if not e
            else f"failed ({e['error']})" if "error" in e
            else f"{e['explain_s'] * 1e3:.1f} ms ({e['explain_chars']} characters)"))
    if "chain_alone" in x:
        c = x["chain_alone"]
        on = (c["collector_on_1000"], c["collector_on_100000"])
        off = (c["collector_off_1000"], c["collector_off_100000"])
        lines.append(
            f"C in a process without torch ({c['tracked_objects']:,.0f} objects tracked by the "
            f"cycle collector; {report['environment']['tracked_objects']:,} here), per step at "
            f"N = 1e3 / 1e5: {on[0] * 1e6:.2f} / {on[1] * 1e6:.2f} us (x{on[1] / on[0]:.2f}); "
            f"collector off: {off[0] * 1e6:.2f} / {off[1] * 1e6:.2f} us (x{off[1] / off[0]:.2f})")
    lines += ["", "targets:"]
    lines += [f"  [{'met' if r['met'] else 'NOT met'}] {r['target']}: {r['measured']}"
              for r in report["targets"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds, N up to 1e4 for C, fewer subprocess repeats")
    parser.add_argument("--only", default="A,B,C,D,extras",
                        help="comma-separated subset of A,B,C,D,extras (default: all)")
    args = parser.parse_args(argv)
    only = {part.strip() for part in args.only.split(",")}
    match_threads()
    rounds = 6 if args.quick else 24   # multiples of 6: every order of the 3 engines
    plan: list[tuple[Workload, int]] = []
    if "A" in only:
        plan.append((SEED, rounds))
    if "B" in only:
        plan.append((MLP, rounds))
    if "C" in only:
        ns = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
        plan += [(chain_workload(n), r) for n, r in zip(ns, (24, 12, 6))]
    if "D" in only:
        plan.append((HINGE, rounds))
    report: dict[str, Any] = {"environment": environment(), "workloads": []}
    for workload, r in plan:
        report["workloads"].append(run_workload(workload, r))
        if not args.json:
            print(f"  done {workload.key}", file=sys.stderr, flush=True)
    if "extras" in only:
        repeats = 3 if args.quick else 7
        x: dict[str, Any] = {}
        x.update(extras.import_time(repeats))
        x.update(extras.demo_time(repeats))
        x["rss"] = {engine: extras.peak_rss(engine) for engine in ("chainrule", "torch")}
        x["explain"] = extras.explain_time(3)
        x["chain_alone"] = extras.chain_alone()
        report["extras"] = x
    report["targets"] = judge(report)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
