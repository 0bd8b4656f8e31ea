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
