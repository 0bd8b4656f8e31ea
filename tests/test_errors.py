"""Every misuse named in the core issue raises a typed error naming the op, shapes and fix."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def f64(values, requires_grad: bool = True) -> cr.Tensor:
    return cr.tensor(values, dtype=np.float64, requires_grad=requires_grad)


def test_matmul_inner_dimensions() -> None:
    with pytest.raises(cr.ShapeError) as info:
        cr.ones(2, 3) @ cr.ones(4, 5)
    message = str(info.value)
    assert "matmul: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)" in message
    assert "(3)" in message and "(4)" in message and "transpose" in message


def test_matmul_of_a_scalar() -> None:
    with pytest.raises(cr.ShapeError, match=r"matmul: both operands need at least one dim"):
        cr.tensor(2.0) @ cr.ones(3)


def test_shapes_that_do_not_broadcast() -> None:
    with pytest.raises(cr.ShapeError) as info:
        cr.ones(2, 3) + cr.ones(4)
    assert str(info.value).startswith("add: shapes (2, 3) and (4,) cannot be broadcast together")
    assert "reshape" in str(info.value)


def test_broadcasting_errors_are_also_value_errors() -> None:
    with pytest.raises(ValueError):
        cr.ones(2, 3) * cr.ones(2)


def test_backward_on_a_non_scalar_without_a_gradient() -> None:
    x = f64([1.0, 2.0])
    with pytest.raises(cr.GraphError) as info:
        (x * 2).backward()
    assert "scalar output" in str(info.value) and "(2,)" in str(info.value)
    assert ".sum()" in str(info.value)


def test_backward_on_a_tensor_that_does_not_require_grad() -> None:
    with pytest.raises(cr.GraphError, match=r"does not require grad.*requires_grad=True"):
        cr.ones(3).sum().backward()


def test_second_backward_through_a_freed_graph() -> None:
    x = f64([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(cr.GraphError, match=r"already freed.*retain_graph=True"):
        loss.backward()


def test_gradient_of_the_wrong_shape() -> None:
    x = f64([1.0, 2.0, 3.0])
    with pytest.raises(cr.ShapeError, match=r"gradient has shape \(2,\) but the output has "
                                            r"shape \(3,\)"):
        (x * 2).backward(np.ones(2))


def test_input_not_used_in_the_graph() -> None:
    x, unused = f64(1.0), f64(2.0)
    unused.name = "w"
    with pytest.raises(cr.GraphError, match=r"input 1 'w' \(shape \(\)\) was not used.*"
                                            r"allow_unused=True"):
        cr.grad(x * 2, [x, unused])


def test_grad_of_an_input_that_does_not_require_grad() -> None:
    with pytest.raises(cr.GraphError, match=r"grad: input 0 .* does not require grad"):
        cr.grad(f64(1.0) * 2, [cr.tensor(1.0)])


def test_requires_grad_on_an_integer_tensor() -> None:
    with pytest.raises(cr.DTypeError, match=r"only floating-point.*int64.*1\.0, not 1"):
        cr.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(cr.DTypeError):
        cr.arange(3).requires_grad_()


def test_a_reshape_that_does_not_fit() -> None:
    with pytest.raises(cr.ShapeError) as info:
        cr.ones(2, 3).reshape(4, 2)
    assert str(info.value) == (
        "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into (4, 2); the number "
        "of elements must stay the same (one dimension may be -1 to infer it)")


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=2), lambda t: t.mean(axis=-3), lambda t: t.max(axis=5),
    lambda t: t.logsumexp(axis=(0, 2)), lambda t: t.unsqueeze(4),
])
def test_an_axis_out_of_range(call) -> None:
    with pytest.raises(cr.ShapeError, match=r"axis -?\d is out of range for a tensor with "
                                            r"\d dimensions \(shape \(2, 3\)\); valid axes"):
        call(cr.ones(2, 3))


def test_an_object_array_as_data() -> None:
    with pytest.raises(cr.DTypeError, match=r"cannot make a tensor of dtype object"):
        cr.tensor(np.array([object(), 1], dtype=object))
    with pytest.raises(cr.DTypeError, match=r"dtype <U"):
        cr.tensor(["a", "b"])


def test_a_ragged_array_as_data() -> None:
    with pytest.raises(cr.ShapeError, match=r"tensor: the data is ragged.*same length"):
        cr.tensor([[1.0, 2.0], [3.0]])


def test_index_out_of_range() -> None:
    with pytest.raises(cr.ShapeError, match=r"getitem: index 5 does not fit a tensor of "
                                            r"shape \(3,\)"):
        cr.ones(3)[5]


def test_concatenate_mismatch() -> None:
    with pytest.raises(cr.ShapeError, match=r"concatenate: cannot join shapes \(2, 3\), "
                                            r"\(2, 4\) along axis 0"):
        cr.concatenate([cr.ones(2, 3), cr.ones(2, 4)])


def test_loss_shape_mismatch_is_refused_rather_than_broadcast() -> None:
    with pytest.raises(cr.ShapeError, match=r"mse_loss: input shape \(4, 1\) and target shape "
                                            r"\(4,\) differ"):
        cr.mse_loss(cr.ones(4, 1), cr.ones(4))


def test_requires_grad_cannot_be_switched_off_on_a_non_leaf() -> None:
    y = f64([1.0]) * 2
    with pytest.raises(cr.GraphError, match=r"cannot be switched off; use \.detach\(\)"):
        y.requires_grad = False


def test_gradcheck_needs_float64() -> None:
    with pytest.raises(cr.DTypeError, match=r"gradcheck: input 0 is float32.*float64"):
        cr.gradcheck(lambda t: t * 2, [cr.tensor([1.0], requires_grad=True)])
