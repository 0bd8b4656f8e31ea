"""Graph mechanics: diamonds, reuse, accumulation, modes, deep graphs, freeing."""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest

import chainrule as cr


def f64(values, requires_grad: bool = True, name: str | None = None) -> cr.Tensor:
    return cr.tensor(values, dtype=np.float64, requires_grad=requires_grad, name=name)


def test_diamond_sums_both_paths() -> None:
    x = f64(3.0)
    a = x * 2
    b = x.exp()
    loss = a * b           # d/dx = 2 e^x + 2x e^x
    loss.backward()
    assert x.grad.item() == pytest.approx(2 * np.exp(3) + 6 * np.exp(3), rel=1e-12)


@pytest.mark.parametrize(("build", "expected"), [
    (lambda x: x * x, lambda v: 2 * v),
    (lambda x: x + x, lambda v: np.full_like(v, 2.0)),
    (lambda x: (x * x) * x, lambda v: 3 * v ** 2),
    (lambda x: x / x, lambda v: np.zeros_like(v)),
])
def test_reused_node_counts_every_use(build, expected) -> None:
    v = np.array([1.5, -2.0, 0.5])
    x = f64(v)
    build(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, expected(v), rtol=1e-12, atol=1e-15)


def test_backward_accumulates_into_grad_across_calls() -> None:
    x = f64([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 7.0])
    x.zero_grad()
    assert x.grad is None


def test_backward_twice_on_a_retained_graph_gives_the_same_gradient_twice() -> None:
    x = f64([1.0, -2.0])
    loss = (x.sigmoid() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first, rtol=1e-15)


def test_leaf_grads_are_private_copies() -> None:
    x, y = f64([1.0, 2.0]), f64([3.0, 4.0])
    (x + y).sum().backward()
    x.grad.data[0] = 100.0
    assert y.grad.data[0] == 1.0


def test_grad_does_not_touch_dot_grad_and_reaches_intermediates() -> None:
    x = f64([1.0, 2.0])
    h = x * x
    loss = (h * 3).sum()
    gx, gh = cr.grad(loss, [x, h])
    np.testing.assert_array_equal(gh.data, [3.0, 3.0])
    np.testing.assert_array_equal(gx.data, [6.0, 12.0])
    assert x.grad is None


def test_grad_outputs_for_non_scalar_outputs() -> None:
    x = f64([1.0, 2.0, 3.0])
    (g,) = cr.grad(x * x, x, grad_outputs=cr.tensor([1.0, 0.0, 2.0], dtype=np.float64))
    np.testing.assert_array_equal(g.data, [2.0, 0.0, 12.0])


def test_no_grad_records_nothing_and_detach_cuts_the_graph() -> None:
    x = f64([1.0])
    with cr.no_grad():
        y = x * 2
    assert not y.requires_grad and y.op is None
    assert cr.is_grad_enabled()
    z = x.detach() * 2
    assert not z.requires_grad
    d = x.detach()
    assert np.shares_memory(d.data, x.data) and d.is_leaf


def test_allow_unused_returns_none() -> None:
    x, unused = f64(1.0), f64(2.0)
    gx, gu = cr.grad(x * 2, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_second_order_and_hessian_vector_product() -> None:
    v = np.array([0.5, -1.0, 2.0])
    x = f64(v)
    loss = (x ** 3).sum()
    (g,) = cr.grad(loss, x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * v ** 2)
    direction = np.array([1.0, 2.0, -1.0])
    (hvp,) = cr.grad((g * cr.tensor(direction)).sum(), x)
    np.testing.assert_allclose(hvp.data, 6 * v * direction, rtol=1e-12)


def test_third_derivative() -> None:
    x = f64(0.7)
    (g1,) = cr.grad(x.tanh(), x, create_graph=True)
    (g2,) = cr.grad(g1, x, create_graph=True)
    (g3,) = cr.grad(g2, x)
    t = np.tanh(0.7)
    # d3/dx3 tanh = -2 (1 - t^2)(1 - 3 t^2)
    assert g3.item() == pytest.approx(-2 * (1 - t ** 2) * (1 - 3 * t ** 2), rel=1e-12)


def test_backward_with_create_graph_builds_differentiable_grads() -> None:
    x = f64([1.0, 2.0])
    (x ** 2).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = cr.grad(x.grad.sum(), x)
    np.testing.assert_array_equal(gg.data, [2.0, 2.0])


def test_broadcast_gradients_are_reduced_to_the_input_shape() -> None:
    a = f64(np.ones((3, 1)))
    b = f64(np.arange(4.0))
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_array_equal(a.grad.data, np.full((3, 1), 6.0))
    np.testing.assert_array_equal(b.grad.data, np.full(4, 3.0))


def test_gradient_dtype_matches_the_input_dtype() -> None:
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    (x.relu() * 2.5).sum().backward()
    assert x.dtype == np.float32 and x.grad.dtype == np.float32


def test_a_200000_op_chain_at_the_default_recursion_limit_is_freed() -> None:
    assert sys.getrecursionlimit() <= 1000   # Python's default: nothing may recurse on depth
    x = cr.tensor(np.ones(16, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001 + 0.0001   # two ops per step: 200,000 ops
    loss = y.sum()
    probes = [weakref.ref(loss), weakref.ref(y), weakref.ref(y.inputs[0])]
    loss.backward()
    np.testing.assert_allclose(x.grad.data, np.full(16, 1.0001 ** 100_000), rtol=1e-2)
    del loss, y
    assert all(p() is None for p in probes)


def test_no_graph_node_outlives_the_loss_without_gc() -> None:
    gc.disable()
    try:
        w = f64(np.ones((3, 2)))
        x = cr.tensor(np.arange(6.0).reshape(2, 3), dtype=np.float64)
        h = (x @ w).relu()
        loss = cr.functional.log_softmax(h, axis=1).sum() + (h * h).mean()
        probes = []
        stack = [loss]
        while stack:
            t = stack.pop()
            if t.op is not None:
                probes.append(weakref.ref(t))
                stack.extend(t.inputs)
        loss.backward()
        del loss, h, stack, t
        assert probes and all(p() is None for p in probes)
    finally:
        gc.enable()


def test_graph_is_freed_after_backward_unless_retained() -> None:
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    assert y.inputs is None
    z = (x * x).sum()
    z.backward(retain_graph=True)
    assert z.inputs is not None


def test_matches_torch_on_an_mlp() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs, w1, b1, w2 = (rng.standard_normal(s) for s in [(5, 4), (4, 6), (6,), (6, 3)])
    labels = np.array([0, 2, 1, 1, 0])
    ours = [f64(a) for a in (w1, b1, w2)]
    loss = cr.cross_entropy(((cr.tensor(xs, dtype=np.float64) @ ours[0] + ours[1]).tanh())
                            @ ours[2], labels)
    loss.backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
    t_loss = torch.nn.functional.cross_entropy(
        torch.tanh(torch.tensor(xs) @ theirs[0] + theirs[1]) @ theirs[2], torch.tensor(labels))
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_grad_prunes_branches_to_leaves_that_are_not_asked_for() -> None:
    x, w = f64([1.0, 2.0]), f64([3.0, 4.0])
    side = (w.exp() * 2).sum()          # reaches only w, which is not a target
    loss = (x * w).sum() + side
    (gx,) = cr.grad(loss, [x], retain_graph=True)
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    gx2, gw = cr.grad(loss, [x, w])     # every leaf a target: nothing to prune
    np.testing.assert_array_equal(gx2.data, [3.0, 4.0])
    np.testing.assert_allclose(gw.data, [1.0 + 2 * np.exp(3.0), 2.0 + 2 * np.exp(4.0)])
    assert x.grad is None and w.grad is None
