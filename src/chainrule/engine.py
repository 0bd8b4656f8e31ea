"""Graph mechanics: nodes, grad mode, the iterative backward pass.

The engine knows nothing about particular ops. It calls an op's forward, records a
:class:`Node` when gradients are needed, and in the backward pass walks the graph in
topological order (iteratively: no recursion on graph depth anywhere), calls each input's
vector-Jacobian product from the registry, reduces broadcast axes back to the input's shape
(the one place this happens) and frees the graph as it goes unless asked to retain it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DTypeError, GraphError, ShapeError, shape_str
from .ops.backends import NUMPY
from .ops.registry import Op

if TYPE_CHECKING:
    from .tensor import Tensor

_EMPTY: dict[str, Any] = {}
_Tensor: Any = None   # the Tensor class, bound by chainrule.tensor (it imports this module)


def bind_tensor_class(cls: type) -> None:
    """Called once by :mod:`chainrule.tensor`; avoids an import on every op."""
    global _Tensor
    _Tensor = cls


class _State:
    __slots__ = ("anomaly_hook", "grad_enabled")

    def __init__(self) -> None:
        self.grad_enabled = True
        # Set by chainrule.anomaly while detect_anomaly() is active: called with
        # (stage, op, node_or_inputs, value[, input index]) to check every forward value and
        # every gradient passed to an input.
        self.anomaly_hook: Any = None


STATE = _State()


class Node:
    """One application of an op in the graph.

    ``inputs`` are the parent tensors in order (``x * x`` keeps both), ``params`` the op's
    non-tensor arguments and ``out`` the forward result when a derivative formula reads it.
    After a backward pass without ``retain_graph`` the node is freed: ``inputs`` becomes None.
    A node never refers to its own output tensor, so the graph has no reference cycles and is
    released by reference counting alone.
    """

    __slots__ = ("__weakref__", "inputs", "op", "out", "params", "versions")

    def __init__(self, op: Op, inputs: tuple[Tensor, ...], params: dict[str, Any],
                 out: np.ndarray | None) -> None:
        self.op = op
        self.inputs: tuple[Tensor, ...] | None = inputs
        self.params = params
        self.out = out
        # The versions of the inputs the backward reads (see Tensor.add_ and friends); None
        # when it reads none (add, sub, exp, ...), which keeps those ops free of the cost.
        saved = op.saved_inputs
        self.versions = (tuple([t._version for t in inputs]) if saved is None
                         else tuple([inputs[i]._version for i in saved]) if saved else None)

    def __repr__(self) -> str:
        state = "freed" if self.inputs is None else f"{len(self.inputs)} inputs"
        return f"<Node {self.op.name} ({state})>"


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for differentiation."""
    return STATE.grad_enabled


@contextlib.contextmanager
def set_grad_enabled(enabled: bool) -> Iterator[None]:
    """Turn graph recording on or off inside a ``with`` block."""
    previous = STATE.grad_enabled
    STATE.grad_enabled = enabled
    try:
        yield
    finally:
        STATE.grad_enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager in which no graph is recorded (evaluation, optimizer updates).

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return set_grad_enabled(False)


def _failure(op: Op, inputs: Sequence[Tensor], params: dict[str, Any],
             exc: Exception) -> Exception:
    shapes = [tuple(t.shape) for t in inputs]
    if op.explain_failure is not None:
        return ShapeError(op.explain_failure(op, shapes, params))
    listed = ", ".join(shape_str(s) for s in shapes)
    return ShapeError(f"{op.name}: {exc} (input shapes {listed})")


def apply(op: Op, inputs: tuple[Tensor, ...], params: dict[str, Any] = _EMPTY) -> Tensor:
    """Run ``op`` forward on tensors and record a node if any input needs a gradient."""
    try:
        out = op.forward(*[t.data for t in inputs], **params)
    except (ValueError, IndexError) as exc:
        raise _failure(op, inputs, params, exc) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    node = None
    if STATE.grad_enabled:
        for t in inputs:
            if t._requires_grad:
                node = Node(op, inputs, params, out if op.uses_out else None)
                break
    result = _Tensor._wrap(out, node)
    if STATE.anomaly_hook is not None:
        STATE.anomaly_hook("forward", op, inputs, result)
    return result


def sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Reduce a broadcast gradient back to ``shape``: the engine's only un-broadcasting."""
    return NUMPY.sum_to(g, shape)


def _topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Tensors reachable from ``roots`` that require grad, inputs before their consumers.

    An explicit stack replaces recursion, so a graph 200,000 ops deep needs no more than
    Python's default recursion limit.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        node = tensor.node
        if node is not None and node.inputs is not None:
            for parent in node.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _check_root(tensor: Tensor, gradient: Any, where: str) -> Any:
    if not tensor.requires_grad:
        raise GraphError(
            f"{where}: the tensor of shape {shape_str(tensor.shape)} does not require grad and "
            "has no graph; create the leaves with requires_grad=True, and compute it outside "
            "no_grad() and without detach()")
    if gradient is None:
        if tensor.data.size != 1:
            raise GraphError(
                f"{where}: a gradient can only be implied for a scalar output, but this one has "
                f"shape {shape_str(tensor.shape)}; reduce it first (e.g. loss.sum() or "
                "loss.mean()) or pass gradient=ones_like(output)")
        return np.ones_like(tensor.data)
    value = gradient.data if isinstance(gradient, _Tensor) else np.asarray(gradient)
    if value.shape != tensor.shape:
        raise ShapeError(
            f"{where}: the gradient has shape {shape_str(value.shape)} but the output has shape "
            f"{shape_str(tensor.shape)}; pass a gradient of the output's shape")
    # NOTE: a copy, so the caller's array never ends up aliased by a leaf's .grad.
    return gradient if isinstance(gradient, _Tensor) else value.astype(tensor.dtype, copy=True)


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Any], *,
                 targets: Sequence[Tensor] | None, retain_graph: bool, create_graph: bool,
                 where: str) -> dict[int, Any]:
    """The backward pass. Accumulates into leaves' ``.grad`` when ``targets`` is None,
    otherwise returns the gradients of ``targets`` by ``id`` without touching ``.grad``."""
    seeds = [_check_root(r, g, where) for r, g in zip(roots, root_grads)]
    order = _topological_order(roots)
    wanted: set[int] | None = None
    if targets is not None:
        target_ids = {id(t) for t in targets}
        # Only tensors on a path to a target need their gradient: prune the rest.
        wanted = set()
        for tensor in order:
            node = tensor.node
            if id(tensor) in target_ids or (node is not None and node.inputs is not None and any(
                    id(p) in wanted for p in node.inputs)):
                wanted.add(id(tensor))
    grads: dict[int, Any] = {}
    owned: set[int] = set()   # buffers this pass allocated itself, safe to add into in place
    for root, seed in zip(roots, seeds):
        _accumulate(grads, owned, id(root), _as_mode(seed, create_graph), create_graph)
    results: dict[int, Any] = {}
    given: set[int] = set()   # arrays already handed to a leaf's .grad in this pass
    with set_grad_enabled(create_graph):
        for tensor in reversed(order):
            key = id(tensor)
            g = grads.pop(key, None)
            if g is None or (wanted is not None and key not in wanted):
                continue
            if targets is not None and key in target_ids:
                results[key] = g
            node = tensor.node
            if node is None:
                if targets is None:
                    _accumulate_leaf(tensor, g, create_graph, given)
                continue
            if node.inputs is None:
                raise GraphError(
                    f"{where}: the graph through '{node.op.name}' was already freed by an earlier "
                    "backward; pass retain_graph=True to the first backward (or grad) to go "
                    "through the graph a second time")
            if node.versions is not None or (tensor._version and node.out is not None):
                _check_versions(node, tensor, where)
            _propagate(node, g, grads, owned, wanted, create_graph)
            if not retain_graph:
                node.inputs = None
                node.out = None
    return results


def _check_versions(node: Node, output: Tensor, where: str) -> None:
    """Refuse to differentiate through values modified in place after the node saved them.

    NOTE: the alternative, computing with the modified values, gives a silently wrong gradient.
    """
    op, inputs = node.op, node.inputs
    assert inputs is not None
    saved = range(len(inputs)) if op.saved_inputs is None else op.saved_inputs
    checks = [(inputs[i], v, f"input {i} ('{op.inputs[min(i, len(op.inputs) - 1)]}')")
              for i, v in zip(saved, node.versions or ())]
    if node.out is not None:
        checks.append((output, 0, "its output"))
    for tensor, expected, role in checks:
        if tensor._version != expected:
            label = f" '{tensor.name}'" if tensor.name else ""
            raise GraphError(
                f"{where}: a tensor{label} needed by '{op.name}' was modified in place after it "
                f"was used (version {tensor._version}, expected {expected}); it is {role} of "
                f"'{op.name}', shape {shape_str(tensor.shape)}. Modify it only after backward, "
                "or use an out-of-place op (x = x * 2, not x.mul_(2))")


def _as_mode(value: Any, create_graph: bool) -> Any:
    if create_graph:
        return value if isinstance(value, _Tensor) else _Tensor._wrap(value, None)
    return value.data if isinstance(value, _Tensor) else value


def _propagate(node: Node, g: Any, grads: dict[int, Any], owned: set[int],
               wanted: set[int] | None, create_graph: bool) -> None:
    op = node.op
    inputs = node.inputs
    assert inputs is not None
    if create_graph:
        vjps = op.tensor_vjps()
        args: tuple[Any, ...] = inputs
        # NOTE: the node holds only the output's array, not the output tensor (that would be a
        # reference cycle), so a differentiable ``out`` is recomputed from the inputs.
        out: Any = apply(op, inputs, node.params) if op.uses_out else None
    else:
        vjps = op.numpy_vjps
        args = tuple(t.data for t in inputs)
        out = node.out
    last = len(vjps) - 1
    for i, parent in enumerate(inputs):
        if not parent.requires_grad or (wanted is not None and id(parent) not in wanted):
            continue
        vjp = vjps[i if i < last else last]
        if vjp is None:
            raise GraphError(
                f"backward: input {i} of '{op.name}' ({op.inputs[min(i, last)]}) is not "
                "differentiable but requires grad; detach() it before passing it in")
        gi = vjp(g, args, out, node.params, i)
        if gi.shape != parent.shape:
            gi = (sum_to(gi, parent.shape) if not create_graph
                  else _tensor_sum_to(gi, parent.shape))
        if gi.dtype != parent.dtype:
            gi = gi.astype(parent.dtype)
        if STATE.anomaly_hook is not None:
            STATE.anomaly_hook("backward", op, node, gi, i)
        _accumulate(grads, owned, id(parent), gi, create_graph)


def _tensor_sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    from . import functional

    return functional.sum_to(g, shape)


def _accumulate(grads: dict[int, Any], owned: set[int], key: int, g: Any,
                create_graph: bool) -> None:
    previous = grads.get(key)
    if previous is None:
        grads[key] = g
    elif create_graph:
        grads[key] = previous + g
    elif key in owned:
        previous += g
    else:
        grads[key] = previous + g
        owned.add(key)


def _accumulate_leaf(leaf: Tensor, g: Any, create_graph: bool, given: set[int]) -> None:
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    # NOTE: one array may reach two leaves (``x + y`` passes g to both) or be a view of
    # another gradient; copy it then, so each leaf's .grad is private to it.
    if id(g) in given or g.base is not None or not g.flags.writeable:
        g = g.copy()
    given.add(id(g))
    if leaf.grad is None:
        leaf.grad = _Tensor._wrap(g, None)
    else:
        leaf.grad = _Tensor._wrap(leaf.grad.data + g, None)


def check_differentiable(data: np.ndarray, where: str) -> None:
    """Refuse ``requires_grad`` on a tensor whose dtype cannot carry a gradient."""
    if data.dtype.kind != "f":
        raise DTypeError(
            f"{where}: only floating-point tensors can require gradients, got dtype {data.dtype}; "
            "create it from floats (1.0, not 1) or pass dtype=chainrule.float32")
