"""Mutation safety: version counters catch values modified in place after a node saved them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.errors import DTypeError, GraphError, ShapeError


def f64(values, requires_grad=True, name=None):
    return cr.tensor(values, dtype=np.float64, requires_grad=requires_grad, name=name)


def test_modified_saved_input_raises_naming_the_op():
    w = f64([1.0, 2.0], name="w")
    x = f64([3.0, 4.0], requires_grad=False, name="x")
    loss = (w * x).sum()
    x.mul_(10.0)                       # x does not require grad: allowed, but mul saved it
    with pytest.raises(GraphError, match=r"'x' needed by 'mul' was modified in place after it "
                                         r"was used \(version 1, expected 0\)"):
        loss.backward()


def test_modified_parameter_between_forward_and_backward_raises():
    w = f64([1.0, 2.0])
    loss = (w * w).sum()
    with cr.no_grad():
        w.sub_(0.5)                    # an optimizer step before backward: the classic bug
    with pytest.raises(GraphError, match="'mul'"):
        loss.backward()


def test_modified_saved_output_raises():
    x = f64([0.5, -1.0])
    y = x.sigmoid()
    loss = y.sum()
    with cr.no_grad():
        y.mul_(2.0)
    with pytest.raises(GraphError, match=r"needed by 'sigmoid'.*its output"):
        loss.backward()


def test_unsaved_input_may_change_and_gradient_is_still_right():
    # add's derivative does not read its inputs, so changing one afterwards is harmless
    # (PyTorch agrees: no error, the same gradient).
    w = f64([1.0, 2.0])
    c = f64([5.0, 6.0], requires_grad=False)
    loss = ((w + c) ** 2).sum()
    c.add_(100.0)
    loss.backward()
    tw = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tc = torch.tensor([5.0, 6.0], dtype=torch.float64)
    tloss = ((tw + tc) ** 2).sum()
    tc.add_(100.0)
    tloss.backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy())


def test_create_graph_backward_checks_versions_too():
    w = f64([1.0, 2.0])
    x = f64([3.0, 4.0], requires_grad=False)
    loss = (w * x).sum()
    x.fill_(0.0)
    with pytest.raises(GraphError, match="'mul'"):
        cr.grad(loss, [w], create_graph=True)


def test_setitem_bumps_the_version():
    w = f64([1.0, 2.0, 3.0])
    x = f64([1.0, 1.0, 1.0], requires_grad=False)
    loss = (w * x).sum()
    x[1] = 7.0
    assert x._version == 1 and x.data.tolist() == [1.0, 7.0, 1.0]
    with pytest.raises(GraphError, match="version 1, expected 0"):
        loss.backward()


def test_in_place_on_tensors_that_require_grad_needs_no_grad():
    w = f64([1.0, 2.0])
    for method, args in [("add_", (1.0,)), ("mul_", (2.0,)), ("zero_", ()), ("clamp_", (0, 1))]:
        with pytest.raises(GraphError, match=f"{method}: in-place.*no_grad"):
            getattr(w, method)(*args)
    h = f64([1.0, 2.0], requires_grad=False)
    with pytest.raises(GraphError, match="add_"):
        h.add_(w)                      # would silently drop w's gradient
    with pytest.raises(GraphError, match="__setitem__"):
        w[0] = 3.0
    assert w._version == 0 and w.data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(("method", "args", "expected"), [
    ("add_", (np.array([1.0, 2.0, 3.0]),), [2.0, 4.0, 6.0]),
    ("sub_", (1.0,), [0.0, 1.0, 2.0]),
    ("mul_", (cr.tensor([2.0], dtype=np.float64),), [2.0, 4.0, 6.0]),
    ("div_", (2.0,), [0.5, 1.0, 1.5]),
    ("zero_", (), [0.0, 0.0, 0.0]),
    ("fill_", (4.0,), [4.0, 4.0, 4.0]),
    ("copy_", ([9.0, 8.0, 7.0],), [9.0, 8.0, 7.0]),
    ("clamp_", (1.5, 2.5), [1.5, 2.0, 2.5]),
    ("clip_", (None, 2.0), [1.0, 2.0, 2.0]),
])
def test_in_place_methods_match_numpy_and_bump_the_version(method, args, expected):
    x = f64([1.0, 2.0, 3.0], requires_grad=False)
    data = x.data
    assert getattr(x, method)(*args) is x
    assert x.data is data               # truly in place
    assert x.data.tolist() == expected and x._version == 1


def test_in_place_errors_are_typed():
    x = f64([1.0, 2.0, 3.0], requires_grad=False)
    with pytest.raises(ShapeError, match="add_"):
        x.add_(np.ones((2, 3)))
    i = cr.tensor([1, 2, 3])
    with pytest.raises(DTypeError, match="div_"):
        i.div_(2.0)
    assert x._version == 0 and i._version == 0


def test_views_and_detached_tensors_copy_before_an_in_place_update():
    x = f64([[1.0, 2.0], [3.0, 4.0]])
    loss = (x * x).sum()
    with cr.no_grad():
        row = x[0]                     # a NumPy view of x's array
        flat = x.reshape(4)
    row.mul_(100.0)
    flat.zero_()
    x.detach().fill_(-1.0)
    assert x.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    loss.backward()                    # x was never modified, so backward is allowed
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)


def test_update_after_backward_is_fine_and_next_step_uses_new_values():
    w = f64([1.0, 2.0])
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with cr.no_grad():
            w.sub_(0.25 * w.grad)
        w.grad = None
    np.testing.assert_allclose(w.data, np.array([1.0, 2.0]) * 0.5 ** 3)


def test_backward_twice_on_a_retained_graph_accumulates_the_same_gradient():
    x = f64([0.3, -1.2, 2.0])
    w = f64([[0.5, -1.0, 0.25]])
    loss = (w @ x.sigmoid() * x.exp()).tanh().sum() + (x * x).sum()
    loss.backward(retain_graph=True)
    first_x, first_w = x.grad, w.grad
    snapshot = first_x.data.copy(), first_w.data.copy()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.data, 2 * snapshot[0])
    np.testing.assert_array_equal(w.grad.data, 2 * snapshot[1])
    # the first .grad arrays were not modified by the second pass
    np.testing.assert_array_equal(first_x.data, snapshot[0])
    np.testing.assert_array_equal(first_w.data, snapshot[1])
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 3 * snapshot[0], rtol=1e-15)
    with pytest.raises(GraphError, match="already freed"):
        loss.backward()


def test_ops_that_read_only_shapes_do_not_complain():
    # sum, reshape and indexing read only their input's shape in backward, so (as in PyTorch)
    # modifying the input afterwards leaves the gradient right and raises nothing.
    w = f64([1.0, 2.0, 3.0])
    h = w * 2
    loss = h.sum() + h.reshape(3, 1)[1:].sum()
    with cr.no_grad():
        h.mul_(5.0)                    # h is mul's output, but mul reads only its inputs
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0, 4.0])


def test_registry_declares_what_each_backward_reads():
    from chainrule.ops import REGISTRY

    assert REGISTRY["add"].saves == () and not REGISTRY["add"].uses_out
    assert REGISTRY["mul"].saves == ("x", "y")
    assert REGISTRY["sigmoid"].saves == ("out",)
    assert REGISTRY["max"].saves == ("x", "out")
    assert REGISTRY["where"].saved_inputs == (0,)


# ---- every registry op: what it declares saved is exactly what its backward needs -----------
def _build(op, sample):
    from chainrule import engine

    tensors = [cr.tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f") for a in sample.args]
    out = engine.apply(op, tuple(tensors), sample.params)
    return tensors, out


def _modify(t, rng):
    """Replace a tensor's values in place (new random values, flipped bools, class 0)."""
    with cr.no_grad():
        if t.dtype.kind == "f":
            t.copy_(rng.uniform(-3.0, 3.0, t.shape))
        elif t.dtype.kind == "b":
            t.copy_(~t.data)
        else:
            t.fill_(0)


def _grads(tensors, out, w):
    leaves = [t for t in tensors if t.requires_grad]
    return [g.data for g in cr.grad(out, leaves, grad_outputs=cr.Tensor(w))]


@pytest.mark.parametrize("name", sorted(__import__("chainrule.ops", fromlist=["REGISTRY"])
                                        .REGISTRY))
def test_saves_declaration_is_exact(name):
    """Modifying a value the op declares saved raises, and that value really is read (the
    gradient computed with the modified value differs); modifying any other value is harmless
    (the gradient is unchanged). So the declaration is neither too weak (a silently wrong
    gradient) nor too strong (a needless error)."""
    from chainrule.ops import REGISTRY

    op = REGISTRY[name]
    rng = np.random.default_rng(0)
    saved = None if op.saved_inputs is None else set(op.saved_inputs)
    read: dict[tuple[int, str], bool] = {}
    for sample in list(op.samples(rng))[:4]:
        tensors, out = _build(op, sample)
        w = rng.uniform(0.5, 1.5, out.shape)
        expected = _grads(tensors, out, w)
        for i, kind in [(i, "input") for i in range(len(tensors))] + [(-1, "out")]:
            tensors, out = _build(op, sample)
            target = out if kind == "out" else tensors[i]
            _modify(target, rng)
            needed = op.uses_out if kind == "out" else (saved is None or i in saved)
            if not needed:
                for a, b in zip(_grads(tensors, out, w), expected):
                    np.testing.assert_array_equal(a, b, err_msg=f"{name}: {kind} {i}")
                continue
            with pytest.raises(GraphError, match=f"needed by '{name}'"):
                _grads(tensors, out, w)
            target._version = 0          # look past the check: is the value really read?
            with np.errstate(all="ignore"):
                got = _grads(tensors, out, w)
            changed = any(not np.array_equal(a, b) for a, b in zip(got, expected))
            read[(i, kind)] = read.get((i, kind), False) or changed
    unread = [key for key, changed in read.items() if not changed]
    assert not unread, f"'{name}' declares values saved that its backward never reads: {unread}"


def test_optimizer_step_before_backward_is_refused():
    # The classic bug: step() between forward and backward. The optimizer assigns a new
    # array and bumps the version, so the saved graph refuses instead of mixing old and new.
    from chainrule import nn, optim

    layer = nn.Linear(3, 2)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = cr.tensor(np.ones((4, 3)), dtype=np.float32)
    loss = layer(x).sum() + (layer.weight * layer.weight).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(GraphError, match="modified in place"):
        loss.backward()
    opt.zero_grad()
    layer(x).sum().backward()                         # a fresh forward is fine
    assert layer.weight.grad is not None
