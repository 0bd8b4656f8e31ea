"""The two backends a derivative is evaluated over: NumPy arrays and Tensors.

Every derivative in the registry is written once, against a backend ``F`` with the same names
in both: :data:`NUMPY` (a plain backward, fast, no graph) and :func:`tensor_backend` (a backward
that is itself differentiable, for ``create_graph=True``: grad of grad, Hessian-vector products).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, finite for every finite input.

    NOTE: ``1 / (1 + exp(-x))`` overflows in ``exp`` for x < -709 (float64) or x < -88
    (float32). Using ``exp(-|x|)``, which lies in (0, 1], avoids overflow on both sides.
    """
    # NOTE: copysign(x, -1) is -|x| bit for bit (NaN included) in one NumPy call instead of two.
    e = np.exp(np.copysign(x, -1))
    # 1 / (1 + e) where x >= 0, else e / (1 + e): one division of the chosen numerator
    # (six NumPy calls instead of nine, the same values).
    return np.where(x >= 0, 1, e) / (1 + e)


def stable_logsumexp(x: np.ndarray, axis: tuple[int, ...] | None,
                     keepdims: bool) -> np.ndarray:
    """log(sum(exp(x))) over ``axis``, finite for every finite input.

    NOTE: subtracting the maximum keeps exp() in (0, 1], so nothing overflows; an infinite
    maximum (all -inf, or +inf present) is replaced by 0 so that inf - inf never yields NaN.
    """
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def expand_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction's result with ``keepdims=True``."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else d for i, d in enumerate(shape))


def sum_to_axes(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``shape`` to sum so that it reduces to ``target`` (undoing broadcasting)."""
    lead = len(shape) - len(target)
    return tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(target) if d == 1 and shape[lead + i] != 1
    )


def is_basic_index(index: Any) -> bool:
    """True for an index of ints, slices, None and Ellipsis only (no advanced indexing)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def index_add_forward(x: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``zeros(shape)[index] += x`` with repeated indices accumulated (the adjoint of getitem)."""
    result = np.zeros(shape, dtype=x.dtype)
    if is_basic_index(index):
        # NOTE: basic indexing cannot name an element twice, so assignment is exact and much
        # faster than np.add.at.
        result[index] = x
    else:
        np.add.at(result, index, x)
    return result


def _np_sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if g.shape == shape:
        return g
    return g.sum(axis=sum_to_axes(g.shape, shape), keepdims=True).reshape(shape)


def _np_expand_reduced(g: np.ndarray, shape: tuple[int, ...], axis: tuple[int, ...] | None,
                       keepdims: bool) -> np.ndarray:
    # NOTE: a fresh array filled by copyto (two C calls) rather than np.broadcast_to's
    # read-only view: broadcast_to builds an iterator in Python-level code and costs several
    # times more on the small arrays of a training step, and its view would be copied anyway
    # when it reaches a leaf.
    out = np.empty(shape, dtype=g.dtype)
    np.copyto(out, g if axis is None or keepdims else g.reshape(expand_shape(shape, axis)))
    return out


#: The NumPy backend: derivatives evaluated on plain arrays (no graph is recorded).
NUMPY = SimpleNamespace(
    exp=np.exp, log=np.log, log1p=np.log1p, sqrt=np.sqrt, sign=np.sign, where=np.where,
    sigmoid=stable_sigmoid, tanh=np.tanh, abs=np.abs,
    # NOTE: array methods rather than np.swapaxes/np.reshape/np.transpose, which are Python
    # wrappers around them. swapaxes is the method itself (no Python frame): the backwards
    # apply it to inputs and to gradients of at least two dimensions, always ndarrays; reshape
    # and permute may meet a NumPy scalar (the gradient of a 0-d result), hence the lambdas.
    matmul=np.matmul, swapaxes=np.ndarray.swapaxes,
    reshape=lambda a, shape: a.reshape(shape), permute=lambda a, axes: a.transpose(axes),
    broadcast_to=np.broadcast_to, sum_to=_np_sum_to, expand_reduced=_np_expand_reduced,
    getitem=lambda g, index: g[index], index_add=index_add_forward,
    astype=lambda g, dtype: g.astype(dtype, copy=False), logsumexp=stable_logsumexp,
    raw=lambda a: a,
)

_TENSOR_BACKEND: SimpleNamespace | None = None


def tensor_backend() -> SimpleNamespace:
    """The Tensor backend: the same names, built from differentiable chainrule functions."""
    global _TENSOR_BACKEND
    if _TENSOR_BACKEND is None:
        from .. import functional as F
        from ..tensor import Tensor

        def raw(t: Any) -> np.ndarray:
            return t.data if isinstance(t, Tensor) else np.asarray(t)

        def sign(t: Any) -> Tensor:
            # NOTE: sign is piecewise constant, so its derivative is zero almost everywhere:
            # a constant tensor is the exact derivative, not an approximation.
            return Tensor._wrap(np.sign(raw(t)))

        def expand_reduced(g: Any, shape: tuple[int, ...], axis: tuple[int, ...] | None,
                           keepdims: bool) -> Tensor:
            return F.broadcast_to(F.reshape(g, expand_shape(shape, axis)), shape)

        _TENSOR_BACKEND = SimpleNamespace(
            exp=F.exp, log=F.log, log1p=F.log1p, sqrt=F.sqrt, sign=sign, where=F.where,
            sigmoid=F.sigmoid, tanh=F.tanh, abs=F.abs,
            matmul=F.matmul, swapaxes=F.swapaxes, reshape=F.reshape, permute=F.permute,
            broadcast_to=F.broadcast_to, sum_to=F.sum_to, expand_reduced=expand_reduced,
            getitem=F.getitem, index_add=F.index_add, astype=F.astype, raw=raw,
            logsumexp=F.logsumexp,
        )
    return _TENSOR_BACKEND
