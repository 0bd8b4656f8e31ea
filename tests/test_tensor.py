"""Tensor construction, dtypes, factories and conversions."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


@pytest.mark.parametrize(("data", "dtype"), [
    ([1.0, 2.0], np.float32), (1.5, np.float32), ([1, 2], np.int64), ([True], np.bool_),
    (np.array([1.0]), np.float64), (np.array([1.0], dtype=np.float32), np.float32),
    (np.array([1], dtype=np.int32), np.int32),
])
def test_dtype_rules_follow_pytorch(data, dtype) -> None:
    assert cr.tensor(data).dtype == dtype


def test_data_is_copied() -> None:
    source = np.array([1.0, 2.0])
    t = cr.tensor(source)
    source[0] = 9.0
    assert t.data[0] == 1.0


def test_python_scalars_keep_the_tensor_dtype() -> None:
    x = cr.tensor([1.0, 2.0])
    for y in (x + 1.5, 2.5 * x, x / 3, x ** 2, 1 - x, x.clip(0.5, 1.5)):
        assert y.dtype == np.float32
    assert (cr.arange(3) * 2).dtype == np.int64


def test_numpy_arrays_on_the_left_dispatch_to_tensor() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, cr.Tensor) and y.requires_grad


def test_factories() -> None:
    assert cr.zeros(2, 3).shape == (2, 3) and cr.zeros((2, 3)).data.sum() == 0
    assert cr.ones(4).data.sum() == 4 and cr.full((2, 2), 7.0).data.max() == 7
    np.testing.assert_array_equal(cr.eye(3).data, np.eye(3))
    assert cr.arange(5).dtype == np.int64 and cr.arange(0.0, 1.0, 0.5).dtype == np.float32
    t = cr.randn(3, 4, dtype=np.float64)
    assert cr.zeros_like(t).dtype == np.float64 and cr.ones_like(t).shape == (3, 4)
    assert cr.full_like(t, 2.0).data.min() == 2.0
    assert cr.rand_like(t).data.max() < 1 and cr.randn_like(t).shape == (3, 4)


def test_random_factories_are_seedable() -> None:
    cr.manual_seed(7)
    a = cr.randn(5).data.copy()
    cr.manual_seed(7)
    np.testing.assert_array_equal(a, cr.randn(5).data)
    rng = np.random.default_rng(3)
    b = cr.rand(4, generator=rng).data
    np.testing.assert_array_equal(b, np.random.default_rng(3).random(4).astype(np.float32))


def test_conversions_and_properties() -> None:
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]], name="M")
    assert t.shape == (2, 2) and t.ndim == 2 and t.numel() == 4 and len(t) == 2
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert t[1, 0].item() == 3.0 and float(t.sum()) == 10.0
    assert t.T.data.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert [row.tolist() for row in t] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(cr.ShapeError, match="only one-element tensors"):
        t.item()


def test_repr_is_readable() -> None:
    w = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
    assert repr(w) == "tensor([1., 2.], name='w', requires_grad=True)"
    assert repr(w * 2) == "tensor([2., 4.], grad_fn=<mul>)"
    assert repr(cr.tensor([1.0], dtype=np.float64)) == "tensor([1.], dtype=float64)"


def test_torch_style_keyword_names() -> None:
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.sum(dim=1, keepdim=True).shape == (2, 1)
    assert t.mean(axis=0).tolist() == [2.0, 3.0]


def test_comparisons_give_constant_bool_tensors() -> None:
    x = cr.tensor([1.0, -1.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert cr.where(mask, x, 0.0).tolist() == [1.0, 0.0]
