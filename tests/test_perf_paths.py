"""The fast paths give the same numbers as the slow ones they replace.

Fused primitives against their compositions and PyTorch; cached scalar constants; in-place
gradient accumulation (including 0-d); gradients handed out as private, writable arrays.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import functional as F


def _cross_entropy_both_ways(logits: np.ndarray, target: np.ndarray):
    results = []
    for fused in (True, False):
        x = cr.tensor(logits, requires_grad=True)
        if fused:
            loss = F.cross_entropy(x, target)
        else:
            loss = -F.getitem(F.log_softmax(x, axis=-1), (np.arange(len(target)), target)).mean()
        loss.backward()
        results.append((loss.data, x.grad.data, loss.op.name))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_cross_entropy_is_bit_identical_to_the_composition(dtype) -> None:
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((32, 10)) * 5).astype(dtype)
    target = rng.integers(0, 10, 32)
    (fused_loss, fused_grad, _), (loss, grad, _) = _cross_entropy_both_ways(logits, target)
    assert np.array_equal(fused_loss, loss) and np.array_equal(fused_grad, grad)
    assert fused_grad.dtype == dtype


def test_fused_ops_match_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    X, W, b = rng.standard_normal((6, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    y = rng.integers(0, 3, 6)
    ts = [cr.tensor(a, requires_grad=True) for a in (X, W, b)]
    loss = F.cross_entropy(F.linear(*ts), y)
    assert loss.inputs[0].op.name == "cross_entropy"
    loss.backward()
    tt = [torch.tensor(a, requires_grad=True) for a in (X, W, b)]
    tloss = torch.nn.functional.cross_entropy(torch.nn.functional.linear(*tt), torch.tensor(y))
    tloss.backward()
    assert np.allclose(loss.data, tloss.item(), rtol=1e-12)
    for c, t in zip(ts, tt):
        assert np.allclose(c.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_linear_is_one_node_and_falls_back_to_the_composition() -> None:
    x, W = cr.ones(2, 3), cr.ones(4, 3, requires_grad=True)
    assert F.linear(x, W, cr.zeros(4, requires_grad=True)).op.name == "linear"
    assert F.linear(x, W).op.name == "matmul"                          # no bias
    assert F.linear(x, W, cr.zeros(1, 4)).op.name == "add"             # a 2-D bias
    with pytest.raises(cr.ShapeError, match="linear"):
        F.linear(cr.ones(2, 5), W, cr.zeros(4))


def test_scalar_constants_are_shared_and_frozen() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 1.5, x * 1.5
    ca, cb = a.inputs[1], b.inputs[1]
    assert ca is cb and not ca.data.flags.writeable and not ca.requires_grad
    assert ca.dtype == np.float32 and (x.double() * 1.5).dtype == np.float64
    assert (x.double() * 1.5).inputs[1] is not ca
    # 0.0 and -0.0 are equal as keys but not as numbers
    assert np.signbit((x * -0.0).data).all() and not np.signbit((x * 0.0).data).any()
    with cr.no_grad(), pytest.raises(cr.GraphError, match=r"add_: 1\.5 is a constant"):
        ca.add_(1.0)
    with pytest.raises(cr.GraphError, match=r"requires_grad: 1\.5 is a constant"):
        ca.requires_grad_()
    assert (x * 1.5).data.tolist() == [1.5, 3.0]
    # a detached copy is an ordinary tensor again, free to change
    free = ca.detach()
    with cr.no_grad():
        free.add_(1.0)
    assert free.item() == 2.5 and ca.item() == 1.5


def test_zero_d_gradients_accumulate_across_many_uses() -> None:
    x = cr.tensor(2.0, dtype=np.float64, requires_grad=True)
    y = x * x + x * 3.0 + x * x * x
    y.backward()
    assert x.grad.data.shape == () and x.grad.item() == pytest.approx(2 * 2 + 3 + 3 * 4)
    assert type(x.grad.data) is np.ndarray


def test_gradients_handed_out_are_private_and_writable() -> None:
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    y = cr.tensor(np.ones((2, 3)), requires_grad=True)
    dx, dy = cr.grad((x + y).sum(), [x, y])
    assert dx.data.flags.writeable and dy.data.flags.writeable
    dx.data[0, 0] = 7.0
    assert dy.data[0, 0] == 1.0


def test_backward_order_follows_creation_even_when_leaves_are_made_late() -> None:
    a = cr.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    h = a * 2.0
    w = cr.tensor([3.0, 4.0], dtype=np.float64, requires_grad=True)   # a leaf made after h
    loss = (h * w + h).sum()
    loss.backward()
    assert a.grad.data.tolist() == [2 * 3 + 2, 2 * 4 + 2] and w.grad.data.tolist() == [2, 4]
