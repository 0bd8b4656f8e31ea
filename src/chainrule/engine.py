"""Graph mechanics: recording ops, grad mode, the iterative backward pass.

The engine knows nothing about particular ops. It calls an op's forward, records the op on
the result when gradients are needed (a tensor made by an op is its own graph node: see
:func:`record`), and in the backward pass walks the graph in topological order (iteratively:
no recursion on graph depth anywhere), calls each input's vector-Jacobian product from the
registry, reduces broadcast axes back to the input's shape (the one place this happens) and
frees the graph as it goes unless asked to retain it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DTypeError, GraphError, ShapeError, shape_str
from .ops.backends import NUMPY
from .ops.registry import Op, identity_vjp

_np_sum_to = NUMPY.sum_to

if TYPE_CHECKING:
    from .tensor import Tensor

_EMPTY: dict[str, Any] = {}
_Tensor: Any = None   # the Tensor class, bound by chainrule.tensor (it imports this module)
_wrap: Any = None     # Tensor._wrap, bound with it: the hot path calls it once per op
# NOTE: recorded tensors are numbered as they are created. An op's inputs exist before it
# runs, so every tensor's number is larger than its inputs': creation order is a topological
# order, and the backward pass sorts by it instead of running a depth-first search.
_node_numbers = itertools.count()
_new_object = object.__new__


def bind_tensor_class(cls: type) -> None:
    """Called once by :mod:`chainrule.tensor`; avoids an import on every op."""
    global _Tensor, _wrap
    _Tensor = cls
    _wrap = cls._wrap


class _State:
    __slots__ = ("anomaly_hook", "grad_enabled", "mutations")

    def __init__(self) -> None:
        self.grad_enabled = True
        # In-place updates of any tensor so far (Tensor._modify counts them). While it is 0,
        # every version counter is 0, so backward can skip comparing them.
        self.mutations = 0
        # Set by chainrule.anomaly while detect_anomaly() is active: called with
        # (stage, op, output_or_inputs, value[, input index]) to check every forward value and
        # every gradient passed to an input.
        self.anomaly_hook: Any = None


STATE = _State()


def saved_versions(op: Op, inputs: Sequence[Tensor]) -> tuple[int, ...] | None:
    """The version counters of the inputs ``op``'s backward reads (None when it reads none)."""
    saved = op.saved_inputs
    if saved is None:
        return tuple([t._version for t in inputs])
    if not saved:
        return None
    # NOTE: one and two saved inputs cover nearly every op; no list is built for them, and
    # inputs never modified in place (most of them, even in a training loop) share the op's
    # tuple of zeros.
    if len(saved) == 2:
        first, second = inputs[saved[0]]._version, inputs[saved[1]]._version
        return (first, second) if first or second else op.zero_versions
    if len(saved) == 1:
        version = inputs[saved[0]]._version
        return (version,) if version else op.zero_versions
    return tuple([inputs[i]._version for i in saved])


def record(result: Tensor, op: Op, inputs: tuple[Tensor, ...], params: dict[str, Any]) -> None:
    """Make ``result`` the graph node of one application of ``op`` to ``inputs``.

    A tensor made by an op that needs a gradient carries the graph itself, in five fields:
    ``op``; ``inputs``, the parent tensors in order (``x * x`` keeps both); ``params``, the op's
    non-tensor arguments; ``number``, its place in creation order; and ``versions``, the
    version counters of the inputs its backward reads. A leaf, or a tensor made without grad,
    has ``op`` None (and only ``inputs`` None besides). After a backward pass without
    ``retain_graph`` the graph is freed: ``inputs`` becomes None while ``op`` stays.

    NOTE: one object per op, not a tensor plus a separate node: a long chain then holds half
    the objects Python's cyclic garbage collector walks on every full collection. Edges point
    only from a tensor to its inputs, so the graph has no reference cycles and is released by
    reference counting alone. :func:`binary` and :func:`unary` inline this function for the
    operators: keep the three in step.
    """
    result._requires_grad = True
    result.op = op
    result.inputs = inputs
    result.params = params
    # The versions of the inputs the backward reads (see Tensor.add_ and friends); None when it
    # reads none (add, sub, exp, ...), which keeps those ops free of the cost. Until something
    # is modified in place every version is 0: the op's shared tuple of zeros stands for them.
    result.versions = (op.zero_versions if not STATE.mutations and op.saved_inputs is not None
                       else saved_versions(op, inputs))
    result.number = next(_node_numbers)   # creation order (see _node_numbers)


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for differentiation."""
    return STATE.grad_enabled


class set_grad_enabled:  # a function in PyTorch's API; a class here for speed
    """Turn graph recording on or off inside a ``with`` block.

    A small class rather than a generator-based context manager: the backward pass and every
    optimizer step enter one, and this costs a fraction of ``contextlib``'s overhead.
    """

    __slots__ = ("enabled", "previous")

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)
        self.previous = True

    def __enter__(self) -> None:
        self.previous = STATE.grad_enabled
        STATE.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self.previous


def no_grad() -> set_grad_enabled:
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
    # NOTE: the hot path of every op. The common arities call the forward without building
    # an argument list, and without ``**params`` when there are none.
    try:
        if params:
            out = (op.forward(inputs[0].data, **params) if len(inputs) == 1
                   else op.forward(*[t.data for t in inputs], **params))
        elif len(inputs) == 2:
            out = op.forward(inputs[0].data, inputs[1].data)
        elif len(inputs) == 1:
            out = op.forward(inputs[0].data)
        elif len(inputs) == 3:
            out = op.forward(inputs[0].data, inputs[1].data, inputs[2].data)
        else:
            out = op.forward(*[t.data for t in inputs])
    except (ValueError, IndexError) as exc:
        raise _failure(op, inputs, params, exc) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)   # NumPy returns scalars for 0-d results
    state = STATE
    # NOTE: Tensor._wrap inlined (one call fewer per op): keep the two in step.
    result = _new_object(_Tensor)
    result.data = out
    result.grad = None
    result.name = None
    result._version = 0
    result._requires_grad = False
    result.op = None
    result.inputs = None
    if state.grad_enabled:
        for t in inputs:
            if t._requires_grad:
                record(result, op, inputs, params)
                break
    if state.anomaly_hook is not None:
        state.anomaly_hook("forward", op, inputs, result)
    return result


def binary(op: Op, convert: Callable[[Any, Any], tuple[Tensor, Tensor]],
           constant: Callable[[Any, Tensor], Tensor]) -> Callable[[Any, Any], Tensor]:
    """:func:`apply` for an op of two inputs and no params, as one function of ``(x, y)``.

    ``constant(y, x)`` makes a tensor of a right operand ``y`` that is not one (``x * 2.0``),
    ``convert(x, y)`` makes tensors of any other operands that are not both tensors (the
    functional module's rules for Python numbers and arrays). The operators ``+ - * / ** @``
    are these.

    NOTE: the steps of :func:`apply`, :func:`record` and Tensor._wrap are repeated inline,
    a Python call fewer per op on the hottest path: keep apply, binary and unary in step.
    """
    forward = op.forward
    fixed = op.saved_inputs is not None   # versions before any mutation: op.zero_versions

    def run(x: Any, y: Any) -> Tensor:
        if not isinstance(y, _Tensor):
            if isinstance(x, _Tensor):
                y = constant(y, x)
            else:
                x, y = convert(x, y)
        elif not isinstance(x, _Tensor):
            x, y = convert(x, y)
        try:
            out = forward(x.data, y.data)
        except (ValueError, IndexError) as exc:
            raise _failure(op, (x, y), _EMPTY, exc) from None
        if type(out) is not np.ndarray:
            out = np.asarray(out)   # NumPy returns scalars for 0-d results
        state = STATE
        result = _new_object(_Tensor)
        result.data = out
        result.grad = None
        result.name = None
        result._version = 0
        if state.grad_enabled and (x._requires_grad or y._requires_grad):
            result._requires_grad = True
            result.op = op
            result.inputs = inputs = (x, y)
            result.params = _EMPTY
            result.versions = (op.zero_versions if fixed and not state.mutations
                               else saved_versions(op, inputs))
            result.number = next(_node_numbers)
        else:
            result._requires_grad = False
            result.op = None
            result.inputs = None
        if state.anomaly_hook is not None:
            state.anomaly_hook("forward", op, (x, y), result)
        return result

    return run


def unary(op: Op, convert: Callable[[Any], Tensor]) -> Callable[[Any], Tensor]:
    """:func:`apply` for an op of one input and no params, as one function of ``x`` (see
    :func:`binary`; ``convert`` makes a tensor of anything else)."""
    forward = op.forward
    fixed = op.saved_inputs is not None

    def run(x: Any) -> Tensor:
        if not isinstance(x, _Tensor):
            x = convert(x)
        try:
            out = forward(x.data)
        except (ValueError, IndexError) as exc:
            raise _failure(op, (x,), _EMPTY, exc) from None
        if type(out) is not np.ndarray:
            out = np.asarray(out)   # NumPy returns scalars for 0-d results
        state = STATE
        result = _new_object(_Tensor)
        result.data = out
        result.grad = None
        result.name = None
        result._version = 0
        if state.grad_enabled and x._requires_grad:
            result._requires_grad = True
            result.op = op
            result.inputs = inputs = (x,)
            result.params = _EMPTY
            result.versions = (op.zero_versions if fixed and not state.mutations
                               else saved_versions(op, inputs))
            result.number = next(_node_numbers)
        else:
            result._requires_grad = False
            result.op = None
            result.inputs = None
        if state.anomaly_hook is not None:
            state.anomaly_hook("forward", op, (x,), result)
        return result

    return run


def sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Reduce a broadcast gradient back to ``shape``: the engine's only un-broadcasting."""
    return NUMPY.sum_to(g, shape)


def _sweep(roots: Sequence[Tensor]) -> set[Tensor]:
    """The tensors reachable from ``roots`` that require grad, the roots included.

    One iterative sweep finds them: no recursion, so a graph 200,000 ops deep needs no more than
    Python's default recursion limit.
    """
    # NOTE: sets and dicts of the backward pass are keyed by the tensors themselves: a Tensor
    # hashes by identity (object.__hash__, a C slot), so a lookup never calls Tensor.__eq__
    # and, unlike id(), allocates no integer.
    seen: set[Tensor] = set(roots)
    stack: list[Tensor] = list(seen)
    # NOTE: bound methods in locals: this loop runs once per tensor of the graph.
    push, pop, mark = stack.append, stack.pop, seen.add
    while stack:
        inputs = pop().inputs
        if inputs is None:
            continue   # a leaf, or a freed graph (an error only if a gradient reaches it)
        for parent in inputs:
            if parent._requires_grad and parent not in seen:
                mark(parent)
                push(parent)
    return seen


def _creation_number(tensor: Tensor) -> int:
    """A tensor's place in creation order (see _node_numbers); -1 for a leaf."""
    return -1 if tensor.op is None else tensor.number


def _wanted(roots: Sequence[Tensor], targets: set[Tensor]) -> set[Tensor] | None:
    """The tensors on a path to a target (only their gradients are needed), or None for all.

    NOTE: an op is recorded only when an input requires grad, so every tensor reached leads to
    a leaf that requires grad: when every such leaf is a target (``grad(loss, params)``, the
    common case), nothing can be pruned and the ordered pass below is skipped.
    """
    reached = _sweep(roots)
    if all(t in targets for t in reached if t.op is None):
        return None
    # Creation order is a topological order (see _node_numbers): inputs before consumers.
    order = sorted(reached, key=_creation_number)
    wanted = {t for t in order if t in targets}
    for tensor in order:
        inputs = tensor.inputs
        if inputs is not None and tensor not in wanted:
            for parent in inputs:
                if parent in wanted:
                    wanted.add(tensor)
                    break
    return wanted


#: The implied gradient of a one-element output, by (shape, dtype): see _check_root.
_ONES: dict[tuple[tuple[int, ...], np.dtype[Any]], np.ndarray] = {}


def _check_root(tensor: Tensor, gradient: Any, where: str) -> Any:
    if not tensor._requires_grad:
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
        # NOTE: one shared read-only array of ones per shape and dtype. The pass never writes
        # into an array it did not allocate (see ``owned``), and hands out copies of shared
        # or read-only ones (see _private), so sharing the seed is safe.
        key = (tensor.data.shape, tensor.data.dtype)
        seed = _ONES.get(key)
        if seed is None:
            seed = _ONES[key] = np.ones(key[0], dtype=key[1])
            seed.flags.writeable = False
        return seed
    value = gradient.data if isinstance(gradient, _Tensor) else np.asarray(gradient)
    if value.shape != tensor.shape:
        raise ShapeError(
            f"{where}: the gradient has shape {shape_str(value.shape)} but the output has shape "
            f"{shape_str(tensor.shape)}; pass a gradient of the output's shape")
    # NOTE: a copy, so the caller's array never ends up aliased by a leaf's .grad.
    return gradient if isinstance(gradient, _Tensor) else value.astype(tensor.dtype, copy=True)


def _freed(tensor: Tensor, where: str) -> GraphError:
    return GraphError(
        f"{where}: the graph through '{tensor.op.name}' was already freed by an earlier "
        "backward; pass retain_graph=True to the first backward (or grad) to go "
        "through the graph a second time")


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Any], *,
                 targets: Sequence[Tensor] | None, retain_graph: bool, create_graph: bool,
                 where: str) -> dict[int, Any]:
    """The backward pass. Accumulates into leaves' ``.grad`` when ``targets`` is None,
    otherwise returns the gradients of ``targets`` by ``id`` without touching ``.grad``.

    NOTE: the tensors are visited largest number first, from a heap of those a gradient has
    reached: a tensor's number is larger than its inputs' (see _node_numbers), so every
    consumer of a tensor is done before the tensor itself, and no topological sort of the whole
    graph is needed beforehand. Leaves receive their gradients at the end.
    """
    grads: dict[Tensor, Any] = {}
    owned: set[Tensor] = set()   # whose buffers this pass allocated, safe to add into in place
    heap: list[tuple[int, Tensor]] = []   # (-number, tensor): numbers are unique
    leaves: list[Tensor] = []
    for root, gradient in zip(roots, root_grads):
        seed = _as_mode(_check_root(root, gradient, where), create_graph)
        if root not in grads:
            if root.op is None:
                leaves.append(root)
            else:
                heappush(heap, (-root.number, root))
        _accumulate(grads, owned, root, seed, create_graph)
    target_set: set[Tensor] = set() if targets is None else set(targets)
    # Only tensors on a path to a target need their gradient: prune the rest.
    wanted = None if targets is None else _wanted(roots, target_set)
    results: dict[int, Any] = {}
    given: set[int] = set()   # arrays already handed out (a leaf's .grad or a result)
    hook = STATE.anomaly_hook
    mutated = STATE.mutations != 0
    # NOTE: the grad mode is switched by hand (not `with set_grad_enabled`): two Python calls
    # fewer per backward.
    previous_mode = STATE.grad_enabled
    STATE.grad_enabled = bool(create_graph)
    try:
        take = grads.pop
        while heap:
            tensor = heappop(heap)[1]
            g = take(tensor)
            if wanted is not None and tensor not in wanted:
                continue
            if target_set and tensor in target_set:
                results[id(tensor)] = g if create_graph else _private(g, given)
            inputs = tensor.inputs
            if inputs is None:
                raise _freed(tensor, where)
            op = tensor.op
            if mutated:
                versions = tensor.versions
                if ((versions is not None and saved_versions(op, inputs) != versions)
                        or (tensor._version and op.uses_out)):
                    _check_versions(tensor, where)
            if create_graph:
                for parent in _propagate_graph(tensor, g, grads, wanted):
                    if parent.op is None:
                        leaves.append(parent)
                    else:
                        heappush(heap, (-parent.number, parent))
            else:
                # NOTE: the plain backward, inlined: it runs once per recorded op of every
                # graph.
                vjps = op.numpy_vjps
                n = len(inputs)
                args = None   # the inputs' arrays, gathered for the first vjp that reads them
                last = len(vjps) - 1
                for i in range(n):
                    parent = inputs[i]
                    if not parent._requires_grad:
                        continue
                    if wanted is not None and parent not in wanted:
                        continue
                    vjp = vjps[i if i < last else last]
                    if vjp is None:
                        raise _not_differentiable(op, i)
                    if vjp is identity_vjp:
                        gi = g
                    else:
                        if args is None:
                            args = ((inputs[0].data,) if n == 1 else
                                    (inputs[0].data, inputs[1].data) if n == 2 else
                                    tuple([t.data for t in inputs]))
                        gi = vjp(g, args, tensor.data, tensor.params, i)
                    pdata = parent.data
                    if gi.shape != pdata.shape:
                        gi = _np_sum_to(gi, pdata.shape)
                    if gi.dtype is not pdata.dtype and gi.dtype != pdata.dtype:
                        gi = gi.astype(pdata.dtype)
                    if hook is not None:
                        hook("backward", op, tensor, gi, i)
                    previous = grads.get(parent)
                    if previous is None:
                        grads[parent] = gi
                        if parent.op is None:
                            leaves.append(parent)
                        else:
                            heappush(heap, (-parent.number, parent))
                    elif parent in owned:
                        # NOTE: rebinding keeps 0-d results right: NumPy returns a new scalar
                        # there instead of adding in place.
                        previous += gi
                        grads[parent] = previous
                    else:
                        grads[parent] = previous + gi
                        owned.add(parent)
            if not retain_graph:
                tensor.inputs = None
        for leaf in leaves:
            g = take(leaf)
            if wanted is not None and leaf not in wanted:
                continue
            if target_set and leaf in target_set:
                results[id(leaf)] = g if create_graph else _private(g, given)
            if targets is None:
                _accumulate_leaf(leaf, g, create_graph, given)
    finally:
        STATE.grad_enabled = previous_mode
    return results


def _check_versions(output: Tensor, where: str) -> None:
    """Refuse to differentiate through values modified in place after an op saved them.

    NOTE: the alternative, computing with the modified values, gives a silently wrong gradient.
    """
    op, inputs = output.op, output.inputs
    assert op is not None and inputs is not None
    saved = range(len(inputs)) if op.saved_inputs is None else op.saved_inputs
    checks = [(inputs[i], v, f"input {i} ('{op.inputs[min(i, len(op.inputs) - 1)]}')")
              for i, v in zip(saved, output.versions or ())]
    if op.uses_out:
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
        return value if isinstance(value, _Tensor) else _wrap(value)
    return value.data if isinstance(value, _Tensor) else value


def _not_differentiable(op: Op, i: int) -> GraphError:
    name = op.inputs[min(i, len(op.inputs) - 1)]
    return GraphError(f"backward: input {i} of '{op.name}' ({name}) is not differentiable but "
                      "requires grad; detach() it before passing it in")


def _propagate_graph(output: Tensor, g: Any, grads: dict[Tensor, Any],
                     wanted: set[Tensor] | None) -> list[Tensor]:
    """One op of a backward that is itself recorded (``create_graph=True``); returns the
    inputs that received their first gradient."""
    op = output.op
    inputs = output.inputs
    assert op is not None and inputs is not None
    vjps = op.tensor_vjps()
    last = len(vjps) - 1
    hook = STATE.anomaly_hook
    first: list[Tensor] = []
    for i, parent in enumerate(inputs):
        if not parent._requires_grad or (wanted is not None and parent not in wanted):
            continue
        vjp = vjps[i if i < last else last]
        if vjp is None:
            raise _not_differentiable(op, i)
        gi = vjp(g, inputs, output, output.params, i)
        if gi.shape != parent.shape:
            gi = _tensor_sum_to(gi, parent.shape)
        if gi.dtype != parent.dtype:
            gi = gi.astype(parent.dtype)
        if hook is not None:
            hook("backward", op, output, gi, i)
        if parent not in grads:
            first.append(parent)
        _accumulate(grads, set(), parent, gi, True)
    return first


def _tensor_sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    from . import functional

    return functional.sum_to(g, shape)


def _accumulate(grads: dict[Tensor, Any], owned: set[Tensor], key: Tensor, g: Any,
                create_graph: bool) -> None:
    previous = grads.get(key)
    if previous is None:
        grads[key] = g
    elif create_graph:
        grads[key] = previous + g
    elif key in owned:
        previous += g
        grads[key] = previous
    else:
        grads[key] = previous + g
        owned.add(key)


def _private(g: np.ndarray, given: set[int]) -> np.ndarray:
    """``g`` as an array no one else holds (a copy when it is shared, a view or read-only).

    NOTE: one array may reach two tensors (``x + y`` passes g to both) or be a view of another
    gradient (a broadcast from a sum); copy it then, so each result is private to its owner.
    """
    if type(g) is not np.ndarray:
        g = np.asarray(g)   # a NumPy scalar from a 0-d computation: make it an array
    elif id(g) in given or g.base is not None or not g.flags.writeable:
        g = g.copy()
    given.add(id(g))
    return g


def _accumulate_leaf(leaf: Tensor, g: Any, create_graph: bool, given: set[int]) -> None:
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    g = _private(g, given)
    if leaf.grad is None:
        leaf.grad = _wrap(g)
    else:
        leaf.grad = _wrap(leaf.grad.data + g)


def check_differentiable(data: np.ndarray, where: str) -> None:
    """Refuse ``requires_grad`` on a tensor whose dtype cannot carry a gradient."""
    if data.dtype.kind != "f":
        raise DTypeError(
            f"{where}: only floating-point tensors can require gradients, got dtype {data.dtype}; "
            "create it from floats (1.0, not 1) or pass dtype=chainrule.float32")
