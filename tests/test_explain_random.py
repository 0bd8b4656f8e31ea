"""1,000 random graphs: every derivation's value equals autograd's, and .grad is untouched.

The graphs draw from the registry's ops (elementwise with broadcasting, matmul, reductions,
shape ops, indexing, joins), reuse nodes (x * x, a + a) and are float64. Autograd is the
oracle for the value; a central difference backs it up on a sample.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.functional as F
from chainrule.explain import explain
from chainrule.explain.graph import graph_order
from chainrule.ops import REGISTRY

UNARY = ["neg", "exp", "tanh", "sigmoid", "relu", "abs", "log", "sqrt", "log1p", "clip"]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"]


def _leaf(rng: np.random.Generator, shape: tuple[int, ...], name: str) -> cr.Tensor:
    return cr.tensor(rng.uniform(-1.5, 1.5, size=shape), dtype=cr.float64,
                     requires_grad=True, name=name if rng.uniform() < 0.5 else None)


def _unary(rng: np.random.Generator, op: str, x: cr.Tensor) -> cr.Tensor:
    if op in ("log", "sqrt"):
        x = F.add(F.mul(x, x), 0.5)      # keep the domain positive (and reuse x twice)
    if op == "log1p":
        x = F.sigmoid(x)
    if op == "clip":
        return F.clip(x, -0.7, 0.9)
    return getattr(F, op)(x)


def _binary(rng: np.random.Generator, op: str, x: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
    if op == "div":
        y = F.add(F.exp(y), 0.5)
    if op == "pow":
        x = F.add(F.sigmoid(x), 0.5)
    return getattr(F, op)(x, y)


def _structural(rng: np.random.Generator, x: cr.Tensor, pool: list[cr.Tensor]) -> cr.Tensor:
    choice = rng.integers(0, 10)
    if x.ndim == 0:
        return F.mul(x, x)
    if choice == 0 and x.ndim == 2:
        w = _leaf(rng, (x.shape[1], int(rng.integers(1, 4))), "W")
        pool.append(w)
        return F.matmul(x, w)
    if choice == 1:
        return F.sum(x, axis=int(rng.integers(0, x.ndim)), keepdims=bool(rng.integers(0, 2)))
    if choice == 2:
        return F.mean(x, axis=int(rng.integers(0, x.ndim)))
    if choice == 3:
        return F.logsumexp(x, axis=-1, keepdims=True)
    if choice == 4:
        return F.max(x, axis=0)
    if choice == 5 and x.ndim == 2:
        return x.T
    if choice == 6:
        return F.reshape(x, (-1,))
    if choice == 7:
        return F.getitem(x, (np.array([0, 0, x.shape[0] - 1]),) + (slice(None),) * (x.ndim - 1))
    if choice == 8:
        return F.concatenate([x, F.mul(x, 2.0)], axis=0)
    return F.softmax(x, axis=-1)


def random_graph(rng: np.random.Generator) -> tuple[cr.Tensor, list[cr.Tensor]]:
    """A random scalar loss and the leaves it depends on."""
    shapes = [(3, 4), (4,), (1, 4), (3, 1), ()]
    leaves = [_leaf(rng, shapes[int(rng.integers(0, len(shapes)))], f"p{n}") for n in range(3)]
    pool: list[cr.Tensor] = list(leaves)
    current = leaves[0]
    for _ in range(int(rng.integers(2, 6))):
        kind = rng.uniform()
        if kind < 0.35:
            current = _unary(rng, UNARY[int(rng.integers(0, len(UNARY)))], current)
        elif kind < 0.7:
            other = pool[int(rng.integers(0, len(pool)))]
            try:
                current = _binary(rng, BINARY[int(rng.integers(0, len(BINARY)))], current,
                                  other)
            except cr.ShapeError:   # shapes that do not broadcast: draw again
                continue
        elif kind < 0.8:
            current = F.add(current, current) if rng.uniform() < 0.5 else F.mul(current, current)
        else:
            current = _structural(rng, current, pool)
        pool.append(current)
    loss = F.sum(current) if rng.uniform() < 0.7 else F.mean(F.mul(current, current))
    in_graph = {id(t) for t in graph_order(loss)}
    used = [t for t in pool if t.op is None and t.requires_grad and id(t) in in_graph]
    return loss, used


def test_registry_ops_are_all_exercised() -> None:
    exercised = set(UNARY) | set(BINARY) | {
        "matmul", "sum", "mean", "logsumexp", "max", "permute", "reshape", "getitem",
        "concatenate"}
    assert exercised <= set(REGISTRY)


def test_one_thousand_random_graphs() -> None:
    rng = np.random.default_rng(12345)
    checked, worst, numeric_checked, nonzero = 0, 0.0, 0, 0
    while checked < 1000:
        loss, leaves = random_graph(rng)
        wrt = leaves[int(rng.integers(0, len(leaves)))]
        # Mark every leaf's .grad so that any write to it would show.
        marks = {}
        for leaf in leaves:
            leaf.grad = cr.tensor(np.full(leaf.shape, 7.0), dtype=cr.float64)
            marks[id(leaf)] = (leaf.grad, leaf.grad.data.copy())
        index = tuple(int(rng.integers(0, d)) for d in wrt.shape)
        d = explain(loss, wrt, index, max_terms=4)
        # The oracle: autograd's value, read independently of the explainer.
        (g,) = cr.grad(loss, [wrt], retain_graph=True, allow_unused=True)
        want = 0.0 if g is None else float(g.data[index])
        scale = max(abs(want), abs(d.value))
        rel = 0.0 if scale == 0 else abs(d.value - want) / scale
        # NOTE: where the paths cancel exactly, autograd's 0 and the derivation's sum differ
        # by rounding alone (|difference| ~ 1e-16); relative error means nothing there.
        assert rel <= 1e-12 or abs(d.value - want) <= 1e-13, (checked, d.value, want)
        assert d.autograd == want
        nonzero += want != 0
        worst = max(worst, rel if abs(d.value - want) > 1e-13 else 0.0)
        for leaf in leaves:
            grad, data = marks[id(leaf)]
            assert leaf.grad is grad and np.array_equal(leaf.grad.data, data)
        if np.isfinite(d.numeric) and abs(d.numeric - want) <= 1e-5 * max(1.0, abs(want)):
            numeric_checked += 1
        checked += 1
    # Kinks (relu, abs, max, clip) may sit within a step of the point, so not every central
    # difference agrees; the overwhelming majority must.
    assert numeric_checked >= 950, numeric_checked
    # Dead relus, unselected maxima and dropped slices give true zeros; most must not be.
    assert nonzero >= 700, nonzero
    assert worst <= 1e-12
