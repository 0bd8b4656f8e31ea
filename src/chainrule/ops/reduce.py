"""Reductions: sum, mean, max, min, logsumexp, each over ``axis`` (None or a tuple of ints).

``axis`` reaching these entries is already normalized (a sorted tuple of non-negative ints, or
None) by the Tensor layer, which also reports an out-of-range axis with the tensor's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from . import samples
from .backends import NUMPY, stable_logsumexp
from .registry import Derivative, Op, Sample, register

_AXES: tuple[tuple[int, ...] | None, ...] = (None, (0,), (1,), (0, 1))


def _reduce_samples(rng: np.random.Generator, distinct: bool = False) -> Iterator[Sample]:
    for axis in _AXES:
        for keepdims in (False, True):
            x = samples.uniform(rng, (3, 4), (-2.0, 2.0))
            if distinct:
                # NOTE: max/min are kinked at ties; spread the values so no two are close.
                x = (rng.permutation(12).reshape(3, 4) * 0.3 - 1.5).astype(np.float64)
            yield Sample((x,), {"axis": axis, "keepdims": keepdims}, f"axis={axis} {keepdims}")
    yield Sample((samples.uniform(rng, (), (-2.0, 2.0)),), {"axis": None, "keepdims": False},
                 "0-d")


def _count(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> int:
    return int(np.prod([shape[a] for a in axis] if axis is not None else shape, dtype=np.int64))


def _sum_backward(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    (x,) = args
    return F.expand_reduced(g, x.shape, p["axis"], p["keepdims"])


def _mean_backward(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    (x,) = args
    return F.expand_reduced(g, x.shape, p["axis"], p["keepdims"]) / _count(x.shape, p["axis"])


def _extreme_backward(F: Any, g: Any, args: tuple[Any, ...], out: Any, p: dict[str, Any]) -> Any:
    # NOTE: ties split the gradient evenly among the maximal elements (PyTorch's amax rule).
    (x,) = args
    axis, keepdims = p["axis"], p["keepdims"]
    x_raw = F.raw(x)
    # NOTE: the mask is a constant (no derivative), so it is computed on arrays in both backends.
    winners = x_raw == NUMPY.expand_reduced(F.raw(out), x.shape, axis, keepdims)
    count = winners.sum(axis=axis, keepdims=True)
    return F.where(winners, F.expand_reduced(g, x.shape, axis, keepdims) / count, 0)


def _logsumexp_backward(F: Any, g: Any, args: tuple[Any, ...], out: Any,
                        p: dict[str, Any]) -> Any:
    (x,) = args
    axis, keepdims = p["axis"], p["keepdims"]
    return (F.expand_reduced(g, x.shape, axis, keepdims)
            * F.exp(x - F.expand_reduced(out, x.shape, axis, keepdims)))


def _reduction(name: str, forward: Any, backward: Any, template: str, expr: str,
               distinct: bool = False, note: str = "",
               saves: tuple[str, ...] = ("x", "out"), element: Any = None) -> Op:
    return register(Op(
        name=name, inputs=("x",), params=("axis", "keepdims"), forward=forward,
        derivatives=(Derivative(backward=backward, template=template, element=element),),
        expr=expr,
        samples=lambda rng: _reduce_samples(rng, distinct), note=note, saves=saves))


# NOTE: the ufuncs' reduce and the array methods are what np.sum, np.max, np.min and np.mean
# call after two or three Python-level wrapper frames: the same numbers, fewer calls per op.
_add_reduce, _max_reduce, _min_reduce = np.add.reduce, np.maximum.reduce, np.minimum.reduce

SUM = _reduction("sum", lambda x, axis, keepdims: _add_reduce(x, axis=axis, keepdims=keepdims),
                 _sum_backward, "1", "sum(x)", saves=())
MEAN = _reduction("mean", lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
                  _mean_backward, "1 / n", "mean(x)", saves=(),
                  element=lambda o, k, shapes, p: f"1 / {_count(shapes[0], p['axis'])}")
MAX = _reduction("max", lambda x, axis, keepdims: _max_reduce(x, axis=axis, keepdims=keepdims),
                 _extreme_backward, "[x[k] is the maximum] / (number of maxima)", "max(x)",
                 distinct=True, note="ties split the gradient evenly (PyTorch's convention)")
MIN = _reduction("min", lambda x, axis, keepdims: _min_reduce(x, axis=axis, keepdims=keepdims),
                 _extreme_backward, "[x[k] is the minimum] / (number of minima)", "min(x)",
                 distinct=True, note="ties split the gradient evenly (PyTorch's convention)")
LOGSUMEXP = _reduction(
    "logsumexp", stable_logsumexp, _logsumexp_backward, "exp(x[k] - out)", "logsumexp(x)",
    note="shifted by the maximum so exp() never overflows")
