"""Functions on tensors: thin wrappers that apply registry primitives, and composites.

Composites (softmax, losses, ...) are built from primitives only, so they carry no gradient
code of their own: the engine differentiates them and the explainer sees their parts.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0])
>>> round(cr.functional.softmax(x).sum().item(), 6)
1.0
"""

from __future__ import annotations

import builtins
import functools
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import engine
from .errors import ShapeError, shape_str
from .ops import REGISTRY
from .tensor import DEFAULT_FLOAT, SharedConstant, Tensor, bind_operators

_ops = REGISTRY
_apply = engine.apply
_wrap = Tensor._wrap
_LINEAR = _ops["linear"]
_CROSS_ENTROPY = _ops["cross_entropy"]


# ---- conversions -------------------------------------------------------------------------------
def raw(value: Any) -> Any:
    """The array behind a tensor; other values unchanged."""
    return value.data if isinstance(value, Tensor) else value


def constant(array: Any) -> Tensor:
    """A tensor that never requires grad (comparison results, masks, indices)."""
    return Tensor._wrap(np.asarray(array))


#: Shared constants for Python numbers, one table per common float dtype, keyed by the value:
#: ``x * 1.0001`` in a loop converts the number once and every use shares one frozen tensor.
#: NOTE: sharing, not a tensor per use, keeps a long chain from holding a second object per op
#: that Python's cyclic garbage collector would walk again and again (benchmark C).
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_F32_CONSTANTS: dict[Any, Tensor] = {}
_F64_CONSTANTS: dict[Any, Tensor] = {}
_CONSTANT_TABLE_SIZE = 4096


def _float_constant(value: Any, dtype: np.dtype[Any]) -> Tensor:
    """``value`` as a 0-d tensor of a float dtype (shared and frozen for float32 and float64)."""
    table = _F32_CONSTANTS if dtype is _F32 else _F64_CONSTANTS if dtype is _F64 else None
    # NOTE: in one float dtype equal numbers convert alike (1, 1.0 and True), so the value is
    # the key; zero stays out (0.0 == -0.0 but the sign matters), NaN never finds itself.
    if table is None or not value:
        return Tensor._wrap(np.asarray(value, dtype=dtype))
    shared = table.get(value)
    if shared is None:
        shared = SharedConstant.of(np.asarray(value, dtype=dtype))
        if len(table) >= _CONSTANT_TABLE_SIZE:
            table.clear()
        table[value] = shared
    return shared


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a Python number takes the dtype of ``like`` (as PyTorch does).

    NOTE: a Python float becomes a 0-d array of the other operand's float dtype. A float64 0-d
    array would promote a float32 tensor to float64 under NumPy's promotion rules.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value)
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        if like is not None and like.data.dtype.kind == "f":
            return _float_constant(value, like.data.dtype)
        if isinstance(value, (float, np.floating)):
            return _float_constant(value, DEFAULT_FLOAT)
        dtype = None if like is None else np.result_type(like.dtype, type(value))
        return Tensor._wrap(np.asarray(value, dtype=dtype))
    return Tensor(value)


def _pair(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    if isinstance(x, Tensor):
        return x, (y if isinstance(y, Tensor) else as_tensor(y, x))
    y = as_tensor(y)
    return as_tensor(x, y), y


def normalize_axis(axis: Any, ndim: int, where: str, shape: tuple[int, ...]
                   ) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative ints (None means all), or a clear error."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        if not -ndim <= a < ndim:
            valid = f"-{ndim}..{ndim - 1}" if ndim else "none (use axis=None)"
            raise ShapeError(f"{where}: axis {a} is out of range for a tensor with {ndim} "
                             f"dimensions (shape {shape_str(shape)}); valid axes: {valid}")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ShapeError(f"{where}: axis {axis} names the same dimension twice")
    return tuple(sorted(result))


def _torch_names(axis: Any, keepdims: bool, names: dict[str, Any], where: str
                 ) -> tuple[Any, bool]:
    """Accept PyTorch's ``dim=`` and ``keepdim=`` besides NumPy's ``axis=`` and ``keepdims=``."""
    unknown = set(names) - {"dim", "keepdim"}
    if unknown:
        raise TypeError(f"{where}() got unexpected keyword arguments {sorted(unknown)}")
    return names.get("dim", axis), builtins.bool(names.get("keepdim", keepdims))


# ---- elementwise primitives --------------------------------------------------------------------
# NOTE: each wrapper is built by engine.binary / engine.unary around its registry entry: an
# operator on tensors costs one Python call, with no registry lookup.
def _scalar_like(value: Any, like: Tensor) -> Tensor:
    """A Python number as a constant of a float tensor's dtype: the cached fast path of
    :func:`as_tensor` for ``x * 2.0`` and ``x + 1``; anything else goes the general way."""
    kind = type(value)
    if kind is float or kind is int:
        dtype = like.data.dtype
        shared = (_F32_CONSTANTS.get(value) if dtype is _F32
                  else _F64_CONSTANTS.get(value) if dtype is _F64 else None)
        if shared is not None:
            return shared
    return as_tensor(value, like)


def _binary(name: str, doc: str) -> Any:
    wrapper = engine.binary(_ops[name], _pair, _scalar_like)
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = doc
    return wrapper


def _unary(name: str, doc: str) -> Any:
    wrapper = engine.unary(_ops[name], as_tensor)
    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = doc
    return wrapper


add = _binary("add", "x + y, broadcasting as NumPy.")
sub = _binary("sub", "x - y, broadcasting as NumPy.")
mul = _binary("mul", "x * y, broadcasting as NumPy.")
div = _binary("div", "x / y, broadcasting as NumPy.")
pow = _binary("pow", "x ** y, broadcasting as NumPy.")
maximum = _binary("maximum", "The elementwise larger of x and y; a tie splits the gradient.")
minimum = _binary("minimum", "The elementwise smaller of x and y; a tie splits the gradient.")
neg = _unary("neg", "-x.")
exp = _unary("exp", "e ** x.")
log = _unary("log", "The natural logarithm.")
log1p = _unary("log1p", "log(1 + x), accurate for small x.")
sqrt = _unary("sqrt", "The square root.")
abs = _unary("abs", "|x|; abs'(0) = 0.")
tanh = _unary("tanh", "The hyperbolic tangent.")
sigmoid = _unary("sigmoid", "1 / (1 + exp(-x)), computed without overflow.")
relu = _unary("relu", "max(x, 0); relu'(0) = 0.")


def clip(x: Tensor, lo: Any = None, hi: Any = None) -> Tensor:
    """Limit values to [lo, hi]; either bound may be None. At a bound the gradient passes."""
    lo = -np.inf if lo is None else lo
    hi = np.inf if hi is None else hi
    return _apply(_ops["clip"], (as_tensor(x),), {"lo": lo, "hi": hi})


clamp = clip


def where(cond: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``cond`` is true, else ``y``; differentiable in ``x`` and ``y``."""
    x, y = _pair(x, y)
    cond_array = np.asarray(raw(cond), dtype=bool)
    return _apply(_ops["where"], (constant(cond_array), x, y))


def astype(x: Tensor, dtype: Any) -> Tensor:
    """The tensor converted to ``dtype``; gradients are converted back."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    return _apply(_ops["astype"], (x,), {"dtype": dtype})


# ---- structural primitives ---------------------------------------------------------------------
matmul = _binary("matmul", "Matrix product with NumPy's rules: 1-D vectors, 2-D matrices, "
                            "batched stacks.")


#: The params of a reduction over every axis (``loss.sum()``), shared: params are read only.
_OVER_ALL = {"axis": None, "keepdims": False}


def _reduce(name: str, x: Tensor, axis: Any, keepdims: bool, names: dict[str, Any]) -> Tensor:
    x = as_tensor(x)
    if names:
        axis, keepdims = _torch_names(axis, keepdims, names, name)
    elif keepdims is not False:
        keepdims = builtins.bool(keepdims)
    axes = None if axis is None else normalize_axis(axis, x.ndim, name, x.shape)
    if name in ("max", "min") and x.data.size == 0:
        raise ShapeError(f"{name}: the tensor of shape {shape_str(x.shape)} is empty; "
                         f"{name} of no elements is undefined")
    params = _OVER_ALL if axes is None and not keepdims else {"axis": axes, "keepdims": keepdims}
    return _apply(_ops[name], (x,), params)


def sum(x: Tensor, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor:
    return _reduce("sum", x, axis, keepdims, names)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor:
    return _reduce("mean", x, axis, keepdims, names)


def max(x: Tensor, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor:
    return _reduce("max", x, axis, keepdims, names)


def min(x: Tensor, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor:
    return _reduce("min", x, axis, keepdims, names)


def logsumexp(x: Tensor, axis: Any = None, keepdims: bool = False, **names: Any) -> Tensor:
    return _reduce("logsumexp", x, axis, keepdims, names)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    return _apply(_ops["reshape"], (x,), {"shape": shape})


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    return _apply(_ops["broadcast_to"], (as_tensor(x),), {"shape": shape})


@functools.lru_cache(maxsize=256)
def _permutation(axes: tuple[int, ...], ndim: int) -> tuple[int, ...] | None:
    """``axes`` as non-negative ints, or None when they are not a permutation of ``ndim`` axes."""
    axes = tuple(int(a) for a in axes)
    if sorted(a % builtins.max(ndim, 1) for a in axes) != list(range(ndim)):
        return None
    return tuple(a % ndim for a in axes)


def permute(x: Tensor, axes: Sequence[int]) -> Tensor:
    axes = tuple(axes)
    normalized = _permutation(axes, x.data.ndim)
    if normalized is None:
        raise ShapeError(f"permute: axes {axes} are not a permutation of the {x.ndim} dimensions "
                         f"of a tensor of shape {shape_str(x.shape)}")
    if normalized == tuple(range(x.ndim)):
        return x
    return _apply(_ops["permute"], (x,), {"axes": normalized})


#: ``{"axes": (n-1, ..., 0)}`` by n: the params of ``x.T``, made once per rank (params are
#: never written to, so nodes may share them).
_REVERSED_AXES = [{"axes": tuple(range(n))[::-1]} for n in range(65)]   # NumPy: 64 axes at most


def reverse_axes(x: Tensor) -> Tensor:
    """All axes in reverse order (``x.T``; NumPy's ``transpose(x)``); 0-d and 1-D stay as is.

    >>> import chainrule as cr
    >>> cr.ones(2, 3, 4).T.shape
    (4, 3, 2)
    """
    ndim = x.data.ndim
    if ndim < 2:
        return x
    return _apply(_ops["permute"], (x,), _REVERSED_AXES[ndim])


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """Exchange two axes (PyTorch's ``transpose(dim0, dim1)``)."""
    a, b = normalize_axis(axis0, x.ndim, "transpose", x.shape), normalize_axis(
        axis1, x.ndim, "transpose", x.shape)
    axes = list(range(x.ndim))
    axes[a[0]], axes[b[0]] = axes[b[0]], axes[a[0]]  # type: ignore[index]
    return permute(x, axes)


transpose = swapaxes


def _normalize_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """Basic and advanced indexing, as NumPy; repeated indices accumulate gradients."""
    return _apply(_ops["getitem"], (x,), {"index": _normalize_index(index)})


def index_add(x: Tensor, index: Any, shape: Sequence[int]) -> Tensor:
    """``zeros(shape)[index] += x``: the adjoint of :func:`getitem`."""
    return _apply(_ops["index_add"], (x,), {"index": _normalize_index(index),
                                            "shape": tuple(shape)})


def _join(name: str, tensors: Sequence[Any], axis: int) -> Tensor:
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ShapeError(f"{name}: needs at least one tensor")
    ndim = tensors[0].ndim + (1 if name == "stack" else 0)
    (axis_,) = normalize_axis(axis, ndim, name, tensors[0].shape)  # type: ignore[misc]
    return _apply(_ops[name], tensors, {"axis": axis_})


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    return _join("concatenate", tensors, axis)


cat = concatenate


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    return _join("stack", tensors, axis)


# ---- composites of shape ops -------------------------------------------------------------------
def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum a broadcast tensor back down to ``shape`` (differentiable un-broadcasting)."""
    if x.shape == tuple(shape):
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and x.shape[lead + i] != 1)
    return reshape(sum(x, axes, keepdims=True), shape)


def flatten(x: Tensor, start: int = 0) -> Tensor:
    start = start % builtins.max(x.ndim, 1)
    return reshape(x, (*x.shape[:start], -1))


def squeeze(x: Tensor, axis: int | None = None) -> Tensor:
    if axis is None:
        return reshape(x, tuple(d for d in x.shape if d != 1))
    (a,) = normalize_axis(axis, x.ndim, "squeeze", x.shape)  # type: ignore[misc]
    if x.shape[a] != 1:
        return x
    return reshape(x, x.shape[:a] + x.shape[a + 1:])


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    (a,) = normalize_axis(axis, x.ndim + 1, "unsqueeze", x.shape)  # type: ignore[misc]
    return reshape(x, (*x.shape[:a], 1, *x.shape[a:]))


# ---- layers, activations and losses (composites: no gradient code) ----------------------------
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` with PyTorch's (out_features, in_features) weight layout.

    With a 2-D weight and a 1-D bias this is the fused ``linear`` primitive (one node);
    otherwise the composition of matmul, transpose and add.

    >>> import chainrule as cr
    >>> linear(cr.ones(2, 3), cr.ones(4, 3), cr.zeros(4)).shape
    (2, 4)
    """
    x = as_tensor(x)
    if (bias is not None and weight.data.ndim == 2 and x.data.ndim >= 1
            and isinstance(bias, Tensor) and bias.data.ndim == 1):
        return _apply(_LINEAR, (x, weight, bias))
    out = matmul(x, weight.T)
    return out if bias is None else out + bias



def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x - logsumexp(x)): never overflows."""
    return exp(x - logsumexp(x, axis, keepdims=True))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x): finite for any finite input."""
    return x - logsumexp(x, axis, keepdims=True)


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|."""
    # NOTE: maximum, not relu: at x = 0 its tie rule gives 1/2, so the derivative there is
    # sigmoid(0) = 0.5 as it should be (relu'(0) = 0 and abs'(0) = 0 would give 0).
    return maximum(x, 0) + log1p(exp(-abs(x)))


def log_sigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for large negative x."""
    return -softplus(-x)


def _reduce_loss(loss: Tensor, reduction: str, where: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_same_shape(a: Tensor, b: Tensor, where: str) -> None:
    if a.shape != b.shape:
        raise ShapeError(f"{where}: input shape {shape_str(a.shape)} and target shape "
                         f"{shape_str(b.shape)} differ; reshape the target to match the input "
                         "(silent broadcasting here would compare every pair)")


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error, (input - target)^2 averaged (or summed)."""
    target = as_tensor(target, input)
    _check_same_shape(input, target, "mse_loss")
    return _reduce_loss((input - target) ** 2, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error."""
    target = as_tensor(target, input)
    _check_same_shape(input, target, "l1_loss")
    return _reduce_loss(abs(input - target), reduction, "l1_loss")


def binary_cross_entropy_with_logits(logits: Tensor, target: Any,
                                     reduction: str = "mean") -> Tensor:
    """BCE on logits: max(z, 0) - z*t + log1p(exp(-|z|)), stable for any z."""
    target = as_tensor(target, logits)
    _check_same_shape(logits, target, "binary_cross_entropy_with_logits")
    # NOTE: maximum(z, 0), not relu(z), so that d/dz at z = 0 is sigmoid(0) - t (see softplus).
    loss = maximum(logits, 0) - logits * target + log1p(exp(-abs(logits)))
    return _reduce_loss(loss, reduction, "binary_cross_entropy_with_logits")


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy over the last axis of (N, C) logits.

    ``target`` holds class indices (N,) (the fused ``cross_entropy`` primitive) or class
    probabilities (N, C) (the composition of log_softmax, multiply and sum).
    """
    if logits.ndim != 2:
        raise ShapeError(f"cross_entropy: logits must have shape (N, C), got "
                         f"{shape_str(logits.shape)}; reshape to (-1, C)")
    target_array = raw(target)
    target_array = np.asarray(target_array)
    if target_array.dtype.kind in "iu":
        n, c = logits.shape
        if target_array.shape != (n,):
            raise ShapeError(f"cross_entropy: class-index targets must have shape ({n},) for "
                             f"logits {shape_str(logits.shape)}, got "
                             f"{shape_str(target_array.shape)}")
        if n and (target_array.min() < 0 or target_array.max() >= c):
            raise ShapeError(f"cross_entropy: target classes must lie in 0..{c - 1}, got "
                             f"{target_array.min()}..{target_array.max()}")
        loss = _apply(_CROSS_ENTROPY, (logits, constant(target_array)))
    else:
        logp = log_softmax(logits, axis=-1)
        probs = as_tensor(target, logits)
        _check_same_shape(logits, probs, "cross_entropy")
        loss = -sum(probs * logp, axis=-1)
    return _reduce_loss(loss, reduction, "cross_entropy")


bind_operators(sys.modules[__name__])
