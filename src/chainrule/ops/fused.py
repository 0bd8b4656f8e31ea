"""Fused primitives: ``linear`` and softmax cross-entropy, each one node instead of several.

They compute what their compositions compute (``x @ weight.T + bias``; ``logsumexp(x) -
x[target]``) in fewer NumPy calls and graph nodes: ``linear`` needs no transpose node and no
separate bias add, cross-entropy no log-softmax tensor, gather and scatter. Like every entry
they carry their derivatives, the templates the explainer prints and samples, so the generated
gradient checks cover them. :mod:`chainrule.functional` uses them where they apply and falls
back to the composition elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from . import samples
from .backends import stable_logsumexp
from .linalg import _matmul_failure
from .registry import NOT_DIFFERENTIABLE, Derivative, Op, Sample, register


# ---- linear: x @ weight.T + bias -----------------------------------------------------------------
def _linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    out = np.matmul(x, weight.T)   # NOTE: a transposed view: BLAS reads it in place, no copy
    if type(out) is np.ndarray and out.dtype == np.result_type(out, bias) and bias.ndim <= 1:
        out += bias   # the product is a fresh array: add the bias into it
        return out
    return out + bias


def _linear_dx(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    return F.matmul(g, args[1])   # d out[..., j] / d x[..., k] = weight[j, k]


def _linear_dweight(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    x = args[0]   # d out[..., j] / d weight[j, k] = x[..., k], summed over the batch
    if x.ndim == 1:
        return F.reshape(g, (g.shape[0], 1)) * x
    if x.ndim > 2:
        g = F.reshape(g, (-1, g.shape[-1]))
        x = F.reshape(x, (-1, x.shape[-1]))
    return F.matmul(F.swapaxes(g, -1, -2), x)


def _linear_dbias(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    return g   # the engine sums it over the batch (its one un-broadcasting)


def _linear_failure(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> str:
    x, weight, bias = shapes
    if len(weight) == 2 and bias not in ((weight[0],), ()):
        return (f"linear: bias of shape {bias} does not fit weight {weight}: it needs "
                f"{weight[0]} entries, one per output feature")
    return _matmul_failure(op, [x, weight[::-1]], params).replace("matmul", "linear", 1)


def _linear_samples(rng: np.random.Generator) -> Iterator[Sample]:
    for x_shape in [(3, 4), (4,), (2, 3, 4)]:
        yield Sample((samples.uniform(rng, x_shape, (-2, 2)), samples.uniform(rng, (2, 4), (-2, 2)),
                      samples.uniform(rng, (2,), (-2, 2))), {}, f"x{x_shape}")


LINEAR = register(Op(
    name="linear", inputs=("x", "weight", "bias"), forward=_linear_forward,
    derivatives=(Derivative(backward=_linear_dx, template="weight[j, k]"),
                 Derivative(backward=_linear_dweight, template="x[i, k]"),
                 Derivative(backward=_linear_dbias, template="1")),
    expr="x @ weight.T + bias", samples=_linear_samples, explain_failure=_linear_failure,
    saves=("x", "weight"),
    note="out[i, j] = sum over k of x[i, k] * weight[j, k], plus bias[j] (PyTorch's layout)"))


# ---- softmax cross-entropy with class indices ------------------------------------------------
def _rows(x: Any) -> np.ndarray:
    return np.arange(x.shape[0])


def _cross_entropy_forward(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    # NOTE: log-sum-exp shifted by the row maximum, as logsumexp: no overflow for any logits.
    # lse - x[i, target] is exactly -(x - lse)[i, target], the composite's value.
    lse = stable_logsumexp(x, (1,), True)[:, 0]
    return lse - x[_rows(x), target]


def _cross_entropy_dx(F: Any, g: Any, args: tuple[Any, ...], out: Any,
                      p: dict[str, Any]) -> Any:
    # d out[i] / d x[i, k] = softmax(x)[i, k] - [k == target[i]]
    x, target = args
    g = F.reshape(g, (g.shape[0], 1))
    one_hot = np.zeros(x.shape, dtype=F.raw(x).dtype)
    one_hot[_rows(x), F.raw(target)] = 1
    # NOTE: softmax * g - one_hot * g, not (softmax - one_hot) * g: the same roundings as the
    # composite's backward (one_hot * g is exact), so both give identical gradients.
    return F.exp(x - F.logsumexp(x, (1,), True)) * g - one_hot * g


def _cross_entropy_samples(rng: np.random.Generator) -> Iterator[Sample]:
    for n, c in [(4, 3), (1, 5), (6, 2)]:
        yield Sample((samples.uniform(rng, (n, c), (-3, 3)), rng.integers(0, c, n)), {},
                     f"{n} samples, {c} classes")


def _cross_entropy_failure(op: Op, shapes: list[tuple[int, ...]],
                           params: dict[str, Any]) -> str:
    x, target = shapes
    return (f"cross_entropy: logits {x} need one class index per row, a target of shape "
            f"({x[0] if x else '?'},) with values in 0..C-1; got target shape {target}")


CROSS_ENTROPY = register(Op(
    name="cross_entropy", inputs=("x", "target"), forward=_cross_entropy_forward,
    derivatives=(Derivative(backward=_cross_entropy_dx,
                            template="softmax(x)[i, k] - [k == target[i]]"),
                 NOT_DIFFERENTIABLE),
    expr="logsumexp(x[i]) - x[i, target[i]]", samples=_cross_entropy_samples,
    explain_failure=_cross_entropy_failure, saves=("x", "target"),
    note="softmax cross-entropy of (N, C) logits with class indices, one loss per row; "
         "log-sum-exp shifted by the row maximum, so it never overflows"))
