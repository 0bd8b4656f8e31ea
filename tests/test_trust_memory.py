"""Memory: graphs are freed by reference counting alone, and training does not leak.

The graph has no reference cycles (a tensor holds its inputs, never its consumers), so the
moment the last reference to a loss goes, every intermediate tensor is freed: these tests
run with the cycle collector disabled and check with weak references. The RSS test trains the
benchmark's 784-256-256-10 MLP and bounds the growth of resident memory after a warm-up.
"""

from __future__ import annotations

import gc
import itertools
import sys
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

MLP_SIZES = (784, 256, 256, 10)


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _graph_refs(root: cr.Tensor) -> list[weakref.ref]:
    """Weak references to every non-leaf tensor (its own graph node) reachable from ``root``."""
    refs, seen, stack = [], set(), [root]
    while stack:
        t = stack.pop()
        if id(t) in seen or t.op is None:
            continue
        seen.add(id(t))
        refs.append(weakref.ref(t))
        stack.extend(t.inputs or ())
    return refs


def _params(rng: np.random.Generator) -> list[cr.Tensor]:
    return [cr.tensor(rng.standard_normal(shape) * 0.1, dtype=np.float64, requires_grad=True)
            for shape in [(5, 4), (5,), (3, 5), (3,)]]


def _loss(params: list[cr.Tensor], x: cr.Tensor) -> cr.Tensor:
    W1, b1, W2, b2 = params
    h = F.linear(x, W1, b1).relu()
    h2 = cr.concatenate([h[:, :2], h[:, 2:].tanh()], axis=1)
    logits = F.linear(h2, W2, b2) + h2.max(axis=1, keepdims=True) * h2.mean()
    y = np.array([0, 2, 1, 1, 0, 2])
    return F.cross_entropy(logits, y) + F.softplus(logits).sum() * 1e-3 + (W1 ** 2).sum()


def _build(rng: np.random.Generator) -> tuple[list[cr.Tensor], cr.Tensor, list[weakref.ref]]:
    params = _params(rng)
    loss = _loss(params, cr.tensor(rng.standard_normal((6, 4)), dtype=np.float64))
    refs = _graph_refs(loss)
    assert len(refs) > 15   # every op of the loss below
    return params, loss, refs


def _alive(refs: list[weakref.ref]) -> list[str]:
    return [repr(r()) for r in refs if r() is not None]


def test_graph_is_freed_after_backward_without_gc(no_cycle_collector):
    params, loss, refs = _build(np.random.default_rng(0))
    loss.backward()
    del loss
    assert _alive(refs) == []
    assert all(p.grad is not None and p.grad.op is None for p in params)


def test_graph_is_freed_without_backward(no_cycle_collector):
    _, loss, refs = _build(np.random.default_rng(1))
    del loss
    assert _alive(refs) == []


def test_retained_graph_is_freed_when_the_loss_goes(no_cycle_collector):
    _, loss, refs = _build(np.random.default_rng(2))
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    assert len(_alive(refs)) == len(refs)              # retained: still there
    del loss
    assert _alive(refs) == []


def test_higher_order_graphs_are_freed(no_cycle_collector):
    params, loss, refs = _build(np.random.default_rng(3))
    grads = cr.grad(loss, params, create_graph=True)
    grad_refs = [r for g in grads for r in _graph_refs(g)]
    assert grad_refs
    second = cr.grad(sum((g * g).sum() for g in grads), params)
    assert all(s is not None for s in second)
    del loss, grads
    assert _alive(refs) == [] and _alive(grad_refs) == []


def test_anomaly_mode_keeps_no_node_alive(no_cycle_collector):
    with cr.detect_anomaly():
        _, loss, refs = _build(np.random.default_rng(4))
        loss.backward()
        del loss
    assert _alive(refs) == []


def test_failed_backward_leaves_no_cycle(no_cycle_collector):
    params, loss, refs = _build(np.random.default_rng(5))
    with cr.no_grad():
        params[0].mul_(2.0)                            # makes backward refuse
    with pytest.raises(cr.GraphError):
        loss.backward()
    del loss                                           # the traceback is gone with the block
    assert _alive(refs) == []


# ---- resident memory over many training steps --------------------------------------------------
def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def mlp_training(steps: int, batch: int = 128, seed: int = 0) -> Iterator[float]:
    """Train the benchmark MLP for ``steps`` SGD steps, yielding each step's loss."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in itertools.pairwise(MLP_SIZES):
        bound = 1 / np.sqrt(n_in)
        params += [cr.tensor(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                             requires_grad=True),
                   cr.tensor(rng.uniform(-bound, bound, n_out).astype(np.float32),
                             requires_grad=True)]
    X = cr.tensor(rng.standard_normal((batch, MLP_SIZES[0])).astype(np.float32))
    y = rng.integers(0, MLP_SIZES[-1], batch)
    for _ in range(steps):
        h = X
        for i in range(0, len(params), 2):
            h = F.linear(h, params[i], params[i + 1])
            if i + 2 < len(params):
                h = h.relu()
        loss = F.cross_entropy(h, y)
        loss.backward()
        with cr.no_grad():
            for p in params:
                p.sub_(0.01 * p.grad)
                p.grad = None
        yield float(loss.item())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_rss_does_not_drift_while_training():
    # 250 measured steps (batch 32) after 50 of warm-up here, to stay quick; the report's
    # figure is 10,000 steps at batch 128: `python tests/test_trust_memory.py 10000`.
    steps = mlp_training(300, batch=32)
    losses = [next(steps) for _ in range(50)]
    before = rss_mib()
    losses += list(steps)
    drift = rss_mib() - before
    print(f"\n[measured] RSS drift over 250 MLP steps: {drift:+.2f} MiB")
    assert losses[-1] < losses[0]                      # it trains
    assert drift <= 5.0, f"resident memory grew by {drift:.1f} MiB over 250 steps"


if __name__ == "__main__":   # python tests/test_trust_memory.py 10000: the report's figure
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    run = mlp_training(total + 200)
    for _ in range(200):
        next(run)
    start = rss_mib()
    peak = start
    for k, _ in enumerate(run, 1):
        if k % 1000 == 0:
            now = rss_mib()
            peak = max(peak, now)
            print(f"step {k}: RSS {now:.1f} MiB ({now - start:+.2f})", flush=True)
    print(f"RSS drift over {total} steps: {rss_mib() - start:+.2f} MiB (peak {peak:.1f} MiB)")


def test_a_recorded_op_leaves_two_objects_for_the_cycle_collector(no_cycle_collector) -> None:
    """Each op of a graph keeps two objects the cyclic collector tracks (its tensor and the
    tuple of its inputs), and a Python-number operand adds none: a long graph then gives the
    collector as little as possible to walk (benchmark C, the deep chain)."""
    x = cr.tensor(np.ones(16, dtype=np.float32), requires_grad=True)
    y = x * 1.0001 + 0.0001   # the shared constants exist from here on
    with cr.no_grad():
        x.mul_(1.0)   # an in-place change before (an optimizer step): versions are checked now
    before = len(gc.get_objects())
    for _ in range(1000):
        y = y * 1.0001 + 0.0001   # 2,000 ops
    per_op = (len(gc.get_objects()) - before) / 2000
    assert 1.9 < per_op <= 2.01, per_op
    with cr.no_grad():
        before = len(gc.get_objects())
        z = x
        for _ in range(1000):
            z = z * 1.0001 + 0.0001   # no graph: every intermediate is freed at once
        assert len(gc.get_objects()) - before <= 5
