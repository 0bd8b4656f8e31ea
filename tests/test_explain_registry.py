"""Every registry op, on every sample the registry gives: explained, and the printed formula
evaluates to the number the engine used (so a new op gets its explain check for free)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import engine
from chainrule.explain import explain
from chainrule.explain import symbolic as S
from chainrule.ops import REGISTRY
from chainrule.ops.registry import NOT_DIFFERENTIABLE

CASES = [(name, n) for name, op in sorted(REGISTRY.items())
         for n, _ in enumerate(op.samples(np.random.default_rng(0)))]


def _formulas(d) -> list[S.Expr]:
    return [d.context.edge_formula(edge) for path in d.paths for edge in path]


@pytest.mark.parametrize("name,number", CASES)
def test_every_op_and_sample(name: str, number: int) -> None:
    op = REGISTRY[name]
    sample = list(op.samples(np.random.default_rng(0)))[number]
    rng = np.random.default_rng(number)
    args = []
    for position, array in enumerate(sample.args):
        entry = op.derivatives[min(position, len(op.derivatives) - 1)]
        wants = array.dtype.kind == "f" and entry is not NOT_DIFFERENTIABLE
        args.append(cr.tensor(array.astype(np.float64) if wants else array,
                              requires_grad=wants))
    out = engine.apply(op, tuple(args), sample.params)
    if out.dtype.kind != "f" or not out.requires_grad:
        pytest.skip(f"{name}: no differentiable output for this sample")
    weights = cr.tensor(rng.uniform(0.5, 1.5, size=out.shape), dtype=out.dtype)
    loss = (out * weights).sum()
    for position, t in enumerate(args):
        if not t.requires_grad:
            continue
        index = tuple(int(rng.integers(0, d)) for d in t.shape)
        d = explain(loss, t, index or None)
        (g,) = cr.grad(loss, [t], retain_graph=True)
        want = float(g.data[index]) if index else float(g.data)
        assert abs(d.value - want) <= 1e-12 * max(1.0, abs(want)), (name, position)
        printable = op.elementwise or op.derivative(position).element is not None
        if printable and d.view == "chain":
            for formula in _formulas(d):
                # the printed formula, not a fallback number: it gave the engine's value
                assert not isinstance(formula, S.Text), (name, S.to_text(formula))
        for fmt in ("text", "markdown", "latex", "html"):
            assert d.render(fmt)
