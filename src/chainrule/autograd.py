"""The functional gradient: ``grad(outputs, inputs)``, as torch.autograd.grad and Hasktorch's
``grad loss [w1, w2]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import engine
from .errors import GraphError, ShapeError, shape_str
from .tensor import Tensor


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    Args:
        outputs: a scalar tensor, or several tensors whose gradients are summed.
        inputs: the tensors to differentiate against (leaves or intermediate results).
        grad_outputs: the vector in the vector-Jacobian product; required for non-scalars.
        retain_graph: keep the graph for another backward; defaults to ``create_graph``.
        create_graph: build a graph of the gradient itself (grad of grad, Hessian-vector
            products).
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (dy,) = cr.grad(x ** 3, x, create_graph=True)
    >>> (d2y,) = cr.grad(dy, x)
    >>> float(dy), float(d2y)
    (27.0, 18.0)
    """
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    seeds = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    if len(seeds) != len(outs):
        raise ShapeError(f"grad: {len(outs)} outputs but {len(seeds)} grad_outputs; pass one "
                         "gradient per output")
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor")
        if not t._requires_grad:
            raise GraphError(f"grad: input {i} (shape {shape_str(t.shape)}) does not require "
                             "grad; create it with requires_grad=True")
    results = engine.run_backward(
        outs, seeds, targets=ins,
        retain_graph=create_graph if retain_graph is None else retain_graph,
        create_graph=create_graph, where="grad")
    grads: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = results.get(id(t))
        if g is None:
            if not allow_unused:
                name = f" '{t.name}'" if t.name else ""
                raise GraphError(
                    f"grad: input {i}{name} (shape {shape_str(t.shape)}) was not used to compute "
                    "the outputs; pass allow_unused=True to get None for it")
            grads.append(None)
        else:
            grads.append(g if isinstance(g, Tensor) else Tensor._wrap(g))
    return tuple(grads)
