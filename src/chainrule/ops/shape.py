"""Shape primitives: reshape, broadcast_to, permute, getitem (and its adjoint), concat, stack."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import shape_str
from . import samples
from .backends import index_add_forward
from .registry import Derivative, Op, Sample, register


def _x(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return samples.uniform(rng, shape, (-2.0, 2.0))


def _reshape_failure(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> str:
    (shape,) = shapes
    target = params["shape"]
    return (f"reshape: cannot reshape a tensor of shape {shape_str(shape)} "
            f"({int(np.prod(shape))} elements) into {shape_str(target)}; the number of elements "
            "must stay the same (one dimension may be -1 to infer it)")


RESHAPE = register(Op(
    saves=(), name="reshape", inputs=("x",), params=("shape",),
    forward=lambda x, shape: np.reshape(x, shape),
    derivatives=(Derivative(backward=lambda F, g, a, out, p: F.reshape(g, a[0].shape),
                            template="1 (same element, new position)"),),
    expr="reshape(x, shape)", explain_failure=_reshape_failure,
    samples=lambda rng: iter([Sample((_x(rng, (3, 4)),), {"shape": (4, 3)}),
                              Sample((_x(rng, (3, 4)),), {"shape": (12,)}),
                              Sample((_x(rng, ()),), {"shape": (1, 1)})])))


def _broadcast_failure(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> str:
    return (f"broadcast_to: cannot broadcast shape {shape_str(shapes[0])} to "
            f"{shape_str(params['shape'])}; aligned from the right, each dimension must be "
            "equal to the target's or 1")


BROADCAST_TO = register(Op(
    saves=(), name="broadcast_to", inputs=("x",), params=("shape",),
    forward=lambda x, shape: np.broadcast_to(x, shape),
    derivatives=(Derivative(backward=lambda F, g, a, out, p: F.sum_to(g, a[0].shape),
                            template="1 for every copy (the copies' gradients are summed)"),),
    expr="broadcast_to(x, shape)", explain_failure=_broadcast_failure,
    samples=lambda rng: iter([Sample((_x(rng, (3, 1)),), {"shape": (2, 3, 4)}),
                              Sample((_x(rng, ()),), {"shape": (3,)}),
                              Sample((_x(rng, (4,)),), {"shape": (3, 4)})])))

PERMUTE = register(Op(
    saves=(), name="permute", inputs=("x",), params=("axes",),
    forward=lambda x, axes: x.transpose(axes),   # NOTE: the method np.transpose calls
    derivatives=(Derivative(
        backward=lambda F, g, a, out, p: F.permute(g, tuple(np.argsort(p["axes"]).tolist())),
        template="1 (same element, axes permuted)"),),
    expr="permute(x, axes)",
    samples=lambda rng: iter([Sample((_x(rng, (3, 4)),), {"axes": (1, 0)}),
                              Sample((_x(rng, (2, 3, 4)),), {"axes": (2, 0, 1)})])))


def _getitem_failure(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> str:
    return (f"getitem: index {params['index']!r} does not fit a tensor of shape "
            f"{shape_str(shapes[0])}; every index must be within -size..size-1 of its axis")


GETITEM = register(Op(
    saves=(), name="getitem", inputs=("x",), params=("index",),
    forward=lambda x, index: x[index],
    derivatives=(Derivative(
        backward=lambda F, g, a, out, p: F.index_add(g, p["index"], a[0].shape),
        template="1 for each time the element is selected"),),
    expr="x[index]", explain_failure=_getitem_failure,
    note="an element selected several times receives the sum of their gradients",
    samples=lambda rng: iter([
        Sample((_x(rng, (3, 4)),), {"index": (slice(None), 1)}, "column"),
        Sample((_x(rng, (3, 4)),), {"index": (slice(0, 2), slice(None, None, 2))}, "slices"),
        Sample((_x(rng, (4,)),), {"index": np.array([0, 2, 2, 3])}, "repeated integers"),
        Sample((_x(rng, (3, 4)),), {"index": (np.array([0, 2, 2]), np.array([1, 1, 3]))},
               "pairs"),
        Sample((_x(rng, (3, 4)),), {"index": 1}, "row")])))

INDEX_ADD = register(Op(
    saves=(), name="index_add", inputs=("x",), params=("index", "shape"),
    forward=index_add_forward,
    derivatives=(Derivative(backward=lambda F, g, a, out, p: F.getitem(g, p["index"]),
                            template="1 at each position the element is added to"),),
    expr="zeros(shape)[index] += x",
    note="the adjoint of getitem: repeated indices accumulate",
    samples=lambda rng: iter([
        Sample((_x(rng, (4,)),), {"index": np.array([0, 2, 2, 3]), "shape": (5,)}),
        Sample((_x(rng, (3,)),), {"index": (slice(None), 1), "shape": (3, 4)})])))


def _offsets(args: tuple[Any, ...], axis: int) -> list[int]:
    return np.cumsum([0] + [a.shape[axis] for a in args]).tolist()


def _concatenate_backward(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any],
                          i: int) -> Any:
    start, stop = _offsets(args, p["axis"])[i:i + 2]
    return F.getitem(g, (slice(None),) * p["axis"] + (slice(start, stop),))


def _join_failure(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> str:
    listed = ", ".join(shape_str(s) for s in shapes)
    rule = ("all dimensions except the one joined must match" if op.name == "concatenate"
            else "all shapes must be equal")
    return f"{op.name}: cannot join shapes {listed} along axis {params['axis']}: {rule}"


CONCATENATE = register(Op(
    saves=(), name="concatenate", inputs=("xs",), params=("axis",), variadic=True,
    forward=lambda *xs, axis: np.concatenate(xs, axis=axis),
    derivatives=(Derivative(backward=_concatenate_backward,
                            template="1 (the element's slot in the joined tensor)"),),
    expr="concatenate(xs, axis)", explain_failure=_join_failure,
    samples=lambda rng: iter([
        Sample((_x(rng, (2, 4)), _x(rng, (3, 4))), {"axis": 0}),
        Sample((_x(rng, (3, 1)), _x(rng, (3, 2)), _x(rng, (3, 4))), {"axis": 1})])))

STACK = register(Op(
    saves=(), name="stack", inputs=("xs",), params=("axis",), variadic=True,
    forward=lambda *xs, axis: np.stack(xs, axis=axis),
    derivatives=(Derivative(
        backward=lambda F, g, a, out, p, i: F.getitem(g, (slice(None),) * p["axis"] + (i,)),
        template="1 (the element's slot in the stacked tensor)"),),
    expr="stack(xs, axis)", explain_failure=_join_failure,
    samples=lambda rng: iter([
        Sample((_x(rng, (3,)), _x(rng, (3,))), {"axis": 0}),
        Sample((_x(rng, (2, 3)), _x(rng, (2, 3)), _x(rng, (2, 3))), {"axis": 2})])))


