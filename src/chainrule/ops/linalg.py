"""Matrix multiplication: 1-D (dot and matrix-vector), 2-D and batched, as ``numpy.matmul``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import shape_str
from . import samples
from .registry import Derivative, Op, Sample, register


def _matmul_dx(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    x, y = args
    if y.ndim == 1:   # out = x @ y drops y's only axis: d out[..., i] / d x[..., i, k] = y[k]
        return F.reshape(g, (*g.shape, 1)) * y
    if x.ndim == 1:   # x is a row vector broadcast over y's batch: sum over the batch later
        return F.reshape(F.matmul(F.reshape(g, (*g.shape[:-1], 1, g.shape[-1])),
                                  F.swapaxes(y, -1, -2)), (*g.shape[:-1], x.shape[0]))
    return F.matmul(g, F.swapaxes(y, -1, -2))


def _matmul_dy(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    x, y = args
    if x.ndim == 1 and y.ndim == 1:   # a dot product
        return g * x
    if x.ndim == 1:   # d out[..., j] / d y[..., k, j] = x[k]
        return F.reshape(x, (x.shape[0], 1)) * F.reshape(g, (*g.shape[:-1], 1, g.shape[-1]))
    if y.ndim == 1:   # y is a column vector broadcast over x's batch
        return F.reshape(F.matmul(F.swapaxes(x, -1, -2), F.reshape(g, (*g.shape, 1))),
                         (*g.shape[:-1], y.shape[0]))
    return F.matmul(F.swapaxes(x, -1, -2), g)


def _batch_index(out_batch: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The batch index of an operand with batch dims ``shape`` (broadcast against out's)."""
    lead = len(out_batch) - len(shape)
    return tuple(0 if d == 1 else out_batch[lead + n] for n, d in enumerate(shape))


def _matmul_dx_element(o: tuple[int, ...], k: tuple[int, ...],
                       shapes: tuple[tuple[int, ...], ...], params: dict[str, Any]) -> str:
    # d out[..., i, j] / d x[..., i, k] = y[..., k, j]
    xs, ys = shapes
    if len(ys) == 1:
        return f"y[{k[-1]}]"
    batch = o[:-2] if len(xs) > 1 else o[:-1]
    return f"y[{', '.join(map(str, (*_batch_index(batch, ys[:-2]), k[-1], o[-1])))}]"


def _matmul_dy_element(o: tuple[int, ...], k: tuple[int, ...],
                       shapes: tuple[tuple[int, ...], ...], params: dict[str, Any]) -> str:
    # d out[..., i, j] / d y[..., k, j] = x[..., i, k]
    xs, ys = shapes
    if len(xs) == 1:
        return f"x[{k[-2] if len(ys) > 1 else k[-1]}]"
    if len(ys) == 1:   # out[..., i] = sum over k of x[..., i, k] * y[k]
        batch, i, kk = o[:-1], o[-1], k[-1]
    else:
        batch, i, kk = o[:-2], o[-2], k[-2]
    return f"x[{', '.join(map(str, (*_batch_index(batch, xs[:-2]), i, kk)))}]"


def _matmul_failure(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> str:
    a, b = shapes
    if len(a) == 0 or len(b) == 0:
        return (f"matmul: both operands need at least one dimension, got {shape_str(a)} and "
                f"{shape_str(b)}; use * to multiply by a scalar")
    inner_a = a[-1]
    inner_b = b[0] if len(b) == 1 else b[-2]
    if inner_a != inner_b:
        return (f"matmul: mat1 and mat2 shapes cannot be multiplied "
                f"({'x'.join(map(str, a))} and {'x'.join(map(str, b))}): the last dimension of "
                f"the first ({inner_a}) must equal the "
                f"{'only' if len(b) == 1 else 'second-to-last'} dimension of the second "
                f"({inner_b}); transpose one operand (.T) or fix the layer sizes")
    return (f"matmul: batch dimensions {shape_str(a[:-2])} and {shape_str(b[:-2])} cannot be "
            "broadcast together; make them equal or 1")


def _matmul_samples(rng: np.random.Generator) -> Iterator[Sample]:
    shapes = [((3, 4), (4, 2)), ((4,), (4,)), ((4,), (4, 2)), ((3, 4), (4,)),
              ((2, 3, 4), (4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 2))]
    for a, b in shapes:
        yield Sample((samples.uniform(rng, a, (-2, 2)), samples.uniform(rng, b, (-2, 2))), {},
                     f"{a} @ {b}")


MATMUL = register(Op(
    name="matmul", inputs=("x", "y"), forward=np.matmul,
    derivatives=(Derivative(backward=_matmul_dx, template="y[k, j]",
                            element=_matmul_dx_element),
                 Derivative(backward=_matmul_dy, template="x[i, k]",
                            element=_matmul_dy_element)),
    expr="x @ y", samples=_matmul_samples, explain_failure=_matmul_failure, saves=("x", "y"),
    note="out[i, j] = sum over k of x[i, k] * y[k, j]"))
