"""Kink conventions equal PyTorch's: each one checked against torch at the kink itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops import REGISTRY


def both(values, fn_cr, fn_th):
    """Value and gradient of sum(fn(x)) in chainrule and in PyTorch, float64."""
    x = cr.tensor(values, dtype=np.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = fn_cr(x)
        y.sum().backward()
    z = fn_th(t)
    z.sum().backward()
    return (y.data, x.grad.data), (z.detach().numpy(), t.grad.numpy())


def assert_same(ours, theirs):
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)   # exact, NaN and inf included


@pytest.mark.parametrize(("name", "values", "fn_cr", "fn_th", "expected_grad"), [
    ("relu'(0) = 0", [-1.0, 0.0, 2.0], lambda x: x.relu(), torch.relu, [0.0, 0.0, 1.0]),
    ("abs'(0) = 0", [-1.0, 0.0, 2.0], lambda x: x.abs(), torch.abs, [-1.0, 0.0, 1.0]),
    ("sqrt'(0) = inf", [0.0, 4.0], lambda x: x.sqrt(), torch.sqrt, [np.inf, 0.25]),
    ("clip at a bound passes the gradient", [-1.0, -0.5, 1.0, 2.0],
     lambda x: x.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0), [1.0, 1.0, 1.0, 0.0]),
    ("clip with one bound", [0.0, -3.0], lambda x: x.clip(min=0.0),
     lambda t: t.clamp(min=0.0), [1.0, 0.0]),
    ("max ties split evenly", [1.0, 3.0, 3.0], lambda x: x.max(), torch.amax,
     [0.0, 0.5, 0.5]),
    ("torch.max (full) ties split evenly too", [3.0, 3.0, 3.0, 1.0], lambda x: x.max(),
     torch.max, [1 / 3, 1 / 3, 1 / 3, 0.0]),
    ("max over an axis with ties", [[3.0, 3.0, 1.0], [2.0, 5.0, 5.0]],
     lambda x: x.max(axis=1), lambda t: t.amax(dim=1), [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]),
    ("min ties split evenly", [[1.0, 2.0], [1.0, 0.0]], lambda x: x.min(axis=0),
     lambda t: t.amin(dim=0), [[0.5, 0.0], [0.5, 1.0]]),
    ("maximum(a, a) gives half to each (one tensor: 1/2 + 1/2)", [1.0, -2.0],
     lambda x: cr.maximum(x, x), lambda t: torch.maximum(t, t), [1.0, 1.0]),
    ("minimum(a, a)", [1.0, -2.0], lambda x: cr.minimum(x, x),
     lambda t: torch.minimum(t, t), [1.0, 1.0]),
    ("pow of a negative base with a fractional exponent is NaN", [-8.0, 8.0],
     lambda x: x ** (1 / 3), lambda t: t ** (1 / 3), [np.nan, 1 / 12]),
    ("pow at 0 with a positive exponent", [0.0, 2.0], lambda x: x ** 2.5, lambda t: t ** 2.5,
     [0.0, 2.5 * 2 ** 1.5]),
    pytest.param(
        "pow at 0 with exponent 0", [0.0, 2.0], lambda x: x ** 0.0, lambda t: t ** 0.0,
        [0.0, 0.0], marks=pytest.mark.xfail(strict=True, reason=(
            "known divergence: the registry formula y * x ** (y - 1) gives 0 * inf = NaN at "
            "x = y = 0 where PyTorch special-cases 0; kept because the explainer prints it"))),
])
def test_kink_matches_pytorch(name, values, fn_cr, fn_th, expected_grad):
    ours, theirs = both(values, fn_cr, fn_th)
    assert_same(ours, theirs)
    np.testing.assert_allclose(ours[1], expected_grad, rtol=1e-15, atol=0)


def test_maximum_of_two_tensors_at_a_tie_gives_half_to_each():
    a = cr.tensor([2.0, 1.0], dtype=np.float64, requires_grad=True)
    b = cr.tensor([2.0, 3.0], dtype=np.float64, requires_grad=True)
    cr.maximum(a, b).sum().backward()
    ta = torch.tensor([2.0, 1.0], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.5, 1.0])
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())


def test_pow_exponent_gradient_at_zero_base():
    x = cr.tensor([0.0, 0.0, 2.0], dtype=np.float64)
    y = cr.tensor([2.0, 0.5, 3.0], dtype=np.float64, requires_grad=True)
    tx = torch.tensor([0.0, 0.0, 2.0], dtype=torch.float64)
    ty = torch.tensor([2.0, 0.5, 3.0], dtype=torch.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):   # log(0) in the unused branch
        (x ** y).sum().backward()
    (tx ** ty).sum().backward()
    np.testing.assert_array_equal(y.grad.data, ty.grad.numpy())


def test_max_tie_second_order_matches_pytorch():
    # Regression: the tie mask went through the Tensor backend and crashed with create_graph.
    data = np.array([[1.0, 3.0, 3.0], [2.0, 0.5, -1.0]])
    v = np.arange(6.0).reshape(2, 3)
    x = cr.tensor(data, dtype=np.float64, requires_grad=True)
    (g,) = cr.grad((x.max(axis=1) ** 2).sum(), [x], create_graph=True)
    (h,) = cr.grad((g * cr.tensor(v)).sum(), [x])
    tx = torch.tensor(data, requires_grad=True)
    (tg,) = torch.autograd.grad((tx.amax(dim=1) ** 2).sum(), [tx], create_graph=True)
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), [tx])
    np.testing.assert_array_equal(g.data, tg.detach().numpy())
    np.testing.assert_array_equal(h.data, th.numpy())


@pytest.mark.parametrize("name", ["relu", "abs", "sqrt", "clip", "max", "min", "maximum",
                                  "minimum", "pow"])
def test_registry_states_the_convention_it_applies(name):
    # The explainer prints an op's note next to its derivative; each kink op must have one.
    note = REGISTRY[name].note
    assert "PyTorch" in note, f"op '{name}' does not state its kink convention: {note!r}"


@pytest.mark.parametrize(("op", "values", "index", "fn_cr", "fn_th"), [
    ("relu", [0.0, 2.0], (0,), lambda x: x.relu(), torch.relu),
    ("abs", [0.0, -2.0], (0,), lambda x: x.abs(), torch.abs),
    ("clip", [1.0, 0.0], (0,), lambda x: x.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0)),
    ("max", [1.0, 3.0, 3.0], (1,), lambda x: x.max(), torch.amax),
    ("maximum", [2.0, 1.0], (0,), lambda x: cr.maximum(x, cr.tensor([2.0, 0.0],
                                                                      dtype=np.float64)),
     lambda t: torch.maximum(t, torch.tensor([2.0, 0.0], dtype=torch.float64))),
])
def test_explainer_states_the_convention_and_gets_torchs_number(op, values, index, fn_cr,
                                                                 fn_th):
    x = cr.tensor(values, dtype=np.float64, requires_grad=True, name="x")
    loss = fn_cr(x).sum()
    loss.name = "L"
    derivation = cr.explain(loss, x, index)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn_th(t).sum().backward()
    assert derivation.value == t.grad.numpy()[index]
    text = derivation.to_text()
    assert f"Convention ({op})" in text and "PyTorch" in text, text[-600:]
