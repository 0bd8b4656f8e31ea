"""The element graph: which scalars of which tensors lie between wrt[index] and the loss.

The tensor graph recorded by the engine is walked once (iteratively). Starting from the one
element ``wrt[index]``, every op is asked which of its output elements depend on the active
input elements and by how much, reading the registry generically:

* elementwise ops: output element ``o`` reads input element ``broadcast(o)``; the local
  derivative is the registry formula, evaluated by the engine's own compiled VJP with ``g = 1``;
* structural ops: the Jacobian block between active inputs and outputs is computed from the
  registered backward: one-hot vector-Jacobian products (rows), or one-hot Jacobian-vector
  products obtained by differentiating the backward once more (columns), whichever is cheaper.

The result is a set of :class:`Group` s (one per op input on the path) holding element pairs
and their local derivatives, and the adjoints dL/de of every element, accumulated in reverse
order exactly as backpropagation does.

>>> import chainrule as cr
>>> w = cr.tensor([[1.0, 2.0]], dtype=cr.float64, requires_grad=True)
>>> loss = (w @ cr.tensor([[3.0], [4.0]], dtype=cr.float64)).sigmoid().sum()
>>> g = build(loss, w, (0, 1))
>>> len(g.groups), f"{g.value():.4e}"   # matmul, sigmoid, sum: 4 * sigmoid'(11)
(3, '6.6805e-05')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import engine
from ..errors import GraphError, shape_str
from ..tensor import Tensor

# NOTE: structural dependence is found with one Jacobian-vector product on a random positive
# tangent; a fixed seed keeps every explanation reproducible.
_RNG_SEED = 20240611


@dataclass
class Group:
    """Element pairs (parent k -> child o) of one op input, with d child[o] / d parent[k]."""

    child: int          # position of the child tensor in ElementGraph.tensors
    parent: int
    position: int       # which input of the child's op
    k: np.ndarray       # flat indices into the parent
    o: np.ndarray       # flat indices into the child
    d: np.ndarray       # local derivatives


@dataclass
class ElementGraph:
    """Everything between one element of ``wrt`` and the loss, at the level of scalars."""

    tensors: list[Tensor]                  # the loss's graph, inputs before consumers
    wrt: int
    index: tuple[int, ...]
    downstream: list[bool]
    active: dict[int, np.ndarray]          # tensor position -> sorted flat indices in use
    groups: list[Group]
    adjoint: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def loss(self) -> int:
        return len(self.tensors) - 1

    def local(self, t: int, flat: np.ndarray) -> np.ndarray:
        """Positions of flat indices within ``active[t]``."""
        return np.searchsorted(self.active[t], flat)

    def value(self) -> float:
        """dL/d wrt[index] from the adjoints."""
        adj = self.adjoint.get(self.wrt)
        return float(adj[0]) if adj is not None and adj.size else 0.0


def graph_order(loss: Tensor) -> list[Tensor]:
    """Every tensor the loss was computed from (constants included), inputs first."""
    if loss.op is None:
        raise GraphError("explain: the loss has no graph: it was computed from tensors that do "
                         "not require grad (or under no_grad()); create the parameters with "
                         "requires_grad=True")
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(loss, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.append((tensor, True))
        if tensor.op is not None:
            if tensor.inputs is None:
                raise GraphError(
                    f"explain: the graph through '{tensor.op.name}' was freed by an earlier "
                    "backward() or grad(); build the loss again, or pass retain_graph=True to "
                    "that call so the graph can still be explained")
            for parent in reversed(tensor.inputs):
                if id(parent) not in seen:
                    stack.append((parent, False))
    return order


def _elementwise_pairs(position: int, child: Tensor, parent: Tensor,
                       mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    source = np.broadcast_to(np.arange(parent.data.size).reshape(parent.shape),
                             child.shape).ravel()
    o = np.flatnonzero(mask[source])
    k = source[o]
    op, inputs = child.op, child.inputs
    assert op is not None and inputs is not None
    vjp = op.numpy_vjps[min(position, len(op.numpy_vjps) - 1)]
    if vjp is None:
        raise GraphError(f"explain: input {position} of '{op.name}' is not differentiable")
    args = tuple(t.data for t in inputs)
    local = vjp(np.ones(child.shape, dtype=child.dtype), args, child.data, child.params, position)
    d = np.broadcast_to(np.asarray(local, dtype=np.float64), child.shape).ravel()[o]
    return k, o, d


def _vjp(child: Tensor, position: int, parent: Tensor, g: np.ndarray) -> np.ndarray:
    op, inputs = child.op, child.inputs
    assert op is not None and inputs is not None
    vjp = op.numpy_vjps[min(position, len(op.numpy_vjps) - 1)]
    args = tuple(t.data for t in inputs)
    gi = np.asarray(vjp(g, args, child.data, child.params, position))
    if gi.shape != parent.shape:
        gi = engine.sum_to(gi, parent.shape)
    return gi


class _Jvp:
    """Jacobian-vector products for one op input: the registered backward differentiated once.

    The backward is linear in its incoming gradient u, so the gradient of <vjp(u), t> with
    respect to u is J t. The graph of vjp(u) is built once; each product is one backward
    pass through it with t as the seed.
    """

    def __init__(self, position: int, child: Tensor, parent: Tensor) -> None:
        op, inputs = child.op, child.inputs
        assert op is not None and inputs is not None
        vjp = op.tensor_vjps()[min(position, len(op.numpy_vjps) - 1)]
        args = tuple(Tensor._wrap(t.data) for t in inputs)
        out = Tensor._wrap(child.data)
        self.shape = child.shape
        self.dtype = child.dtype
        self.u = Tensor(np.zeros(child.shape, dtype=child.dtype), requires_grad=True)
        with engine.set_grad_enabled(True):
            gi = vjp(self.u, args, out, child.params, position)
            if gi.shape != parent.shape:
                from ..functional import sum_to

                gi = sum_to(gi, parent.shape)
        self.gi = gi

    def __call__(self, tangent: np.ndarray) -> np.ndarray:
        from ..autograd import grad

        if not self.gi.requires_grad:   # the backward does not read u: a zero block
            return np.zeros(self.shape)
        (jt,) = grad(self.gi, [self.u], grad_outputs=tangent.astype(self.dtype),
                     retain_graph=True, allow_unused=True)
        return np.zeros(self.shape) if jt is None else jt.data


def _structural_pairs(position: int, child: Tensor, parent: Tensor,
                      active: np.ndarray, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    size_in = parent.data.size
    ks, os_, ds = [], [], []
    jvp = _Jvp(position, child, parent)

    def column(kk: int) -> None:
        tangent = np.zeros(size_in)
        tangent[kk] = 1.0
        col = jvp(tangent.reshape(parent.shape)).ravel()
        rows = np.flatnonzero(col)
        ks.append(np.full(rows.size, kk))
        os_.append(rows)
        ds.append(col[rows].astype(np.float64))

    if active.size == 1:
        column(int(active[0]))
    else:
        probe = np.zeros(size_in)
        probe[active] = rng.uniform(0.5, 1.5, size=active.size)
        reached = np.flatnonzero(jvp(probe.reshape(parent.shape)))
        # NOTE: a column (one backward pass through the retained vjp graph) costs a few rows
        # (plain NumPy VJPs); pick the cheaper side of the Jacobian block.
        if active.size * 3 <= reached.size:
            for kk in active:
                column(int(kk))
        else:
            for oo in reached:
                g = np.zeros(child.data.size, dtype=child.dtype)
                g[oo] = 1
                row = _vjp(child, position, parent, g.reshape(child.shape)).ravel()[active]
                hit = np.flatnonzero(row)
                ks.append(active[hit])
                os_.append(np.full(hit.size, oo))
                ds.append(row[hit].astype(np.float64))
    if not ks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return (np.concatenate(ks).astype(np.int64), np.concatenate(os_).astype(np.int64),
            np.concatenate(ds))


def build(loss: Tensor, wrt: Tensor, index: tuple[int, ...]) -> ElementGraph:
    """The element graph of d loss / d wrt[index] (see the module docstring)."""
    tensors = graph_order(loss)
    position_of = {id(t): n for n, t in enumerate(tensors)}
    if id(wrt) not in position_of:
        name = f" '{wrt.name}'" if wrt.name else ""
        raise GraphError(f"explain: the loss does not depend on the tensor{name} of shape "
                         f"{shape_str(wrt.shape)}; pass a tensor the loss was computed from")
    w = position_of[id(wrt)]
    downstream = [False] * len(tensors)
    downstream[w] = True
    active = {w: np.array([np.ravel_multi_index(index, wrt.shape)], dtype=np.int64)
              if wrt.ndim else np.array([0], dtype=np.int64)}
    groups: list[Group] = []
    rng = np.random.default_rng(_RNG_SEED)
    for c in range(w + 1, len(tensors)):
        child = tensors[c]
        if child.op is None or child.inputs is None:
            continue
        reached: list[np.ndarray] = []
        for position, parent in enumerate(child.inputs):
            p = position_of[id(parent)]
            if not downstream[p]:
                continue
            if child.op.elementwise:
                mask = np.zeros(parent.data.size, dtype=bool)
                mask[active[p]] = True
                k, o, d = _elementwise_pairs(position, child, parent, mask)
            else:
                k, o, d = _structural_pairs(position, child, parent, active[p], rng)
            groups.append(Group(c, p, position, k, o, d))
            reached.append(o)
        if reached:
            downstream[c] = True
            active[c] = np.unique(np.concatenate(reached))
    graph = ElementGraph(tensors, w, index, downstream, active, groups)
    _prune(graph)
    _accumulate(graph)
    return graph


def _prune(graph: ElementGraph) -> None:
    """Keep only elements from which the loss can be reached."""
    loss = graph.loss
    live = {loss: np.ones(graph.active.get(loss, np.zeros(0)).size, dtype=bool)}
    for t in graph.active:
        live.setdefault(t, np.zeros(graph.active[t].size, dtype=bool))
    for g in reversed(graph.groups):
        ok = live[g.child][graph.local(g.child, g.o)]
        live[g.parent][graph.local(g.parent, g.k[ok])] = True
    for g in graph.groups:
        keep = live[g.child][graph.local(g.child, g.o)]
        g.k, g.o, g.d = g.k[keep], g.o[keep], g.d[keep]
    graph.groups = [g for g in graph.groups if g.k.size]
    graph.active = {t: a[live[t]] for t, a in graph.active.items() if live[t].any()}


def _accumulate(graph: ElementGraph, d_override: dict[int, np.ndarray] | None = None) -> None:
    """Adjoints dL/de, from the loss back: each pair adds dL/d child * d child/d parent."""
    graph.adjoint = adjoints(graph, d_override)


def adjoints(graph: ElementGraph,
             d_override: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """dL/de for every element; ``d_override`` replaces some groups' local derivatives."""
    adj = {t: np.zeros(a.size) for t, a in graph.active.items()}
    if graph.loss in adj:
        adj[graph.loss][:] = 1.0
    for n in range(len(graph.groups) - 1, -1, -1):
        g = graph.groups[n]
        d = g.d if d_override is None or n not in d_override else d_override[n]
        contrib = adj[g.child][graph.local(g.child, g.o)] * d
        np.add.at(adj[g.parent], graph.local(g.parent, g.k), contrib)
    return adj


def replay(graph: ElementGraph, value: np.ndarray) -> float:
    """The loss recomputed in float64 from the leaves with ``wrt`` set to ``value``.

    The recorded nodes downstream of ``wrt`` are applied again with :func:`engine.apply` in
    order (no recursion); everything else keeps its recorded value.
    """
    tensors = graph.tensors
    position_of = {id(t): n for n, t in enumerate(tensors)}
    values: list[Tensor] = []
    with engine.no_grad():
        for n, t in enumerate(tensors):
            if n == graph.wrt:
                values.append(Tensor._wrap(np.asarray(value, dtype=np.float64)))
            elif t.op is None or not graph.downstream[n]:
                data = t.data
                values.append(Tensor._wrap(
                    data.astype(np.float64) if data.dtype.kind == "f" else data))
            else:
                inputs = tuple(values[position_of[id(p)]] for p in t.inputs)
                values.append(engine.apply(t.op, inputs, t.params))
    return float(values[-1].data.reshape(-1)[0])
