"""The computation graph as boxes and arrows: walking it, and collapsing large graphs.

:func:`build_view` walks the graph behind a tensor (iteratively: no recursion on depth), and
returns a :class:`GraphView`: the boxes (:class:`Box`) and arrows (:class:`Arrow`) to draw. A
small graph gets one box per tensor. A large one is collapsed by its repeated structure, in
three generic steps that look only at op names, shapes and connections (never at particular ops):

1. unnamed constants with one consumer are folded into that consumer;
2. *chains* (each tensor the only input of the next that is consumed once) that are identical
   and connect the same boxes (parallel branches such as ``x[i] * w`` for every ``i``) merge
   into one box "N ×";
3. inside a chain, a run of the same op pattern repeated three or more times becomes one box
   "r × (mul → add → tanh)".

If that is still more than ``max_nodes`` boxes, the boxes nearest the output are kept and the
rest become one box "… N more tensors", so any graph draws in bounded size.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
>>> view = build_view((w * w).sum())
>>> [b.title for b in view.boxes]
['parameter', 'mul', 'sum']
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tensor import Tensor

#: Repeated runs shorter than this many repetitions stay expanded.
MIN_REPEATS = 3
#: The longest op pattern looked for inside a chain ("mul → add → tanh" is 3).
MAX_PERIOD = 8


@dataclass
class Box:
    """One box of the drawing: a tensor, or a collapsed group of tensors."""

    kind: str            # parameter | input | constant | op | output | repeat | more
    title: str           # the op name, or the kind for a leaf, or "r × (a → b)"
    tensor: Tensor | None   # the tensor whose name, shape, value and gradient are shown
    count: int = 1       # how many tensors the box stands for
    parallel: int = 1    # how many identical parallel chains were merged into it
    gradient: Any = None  # the gradient of ``tensor`` (an ndarray), when known
    names: list[str] = field(default_factory=list)   # names of the tensors it stands for
    last: int = 0        # position of ``tensor`` in the walk (inputs come first)
    module: str = ""     # the module it belongs to (from dotted names), in a full drawing


@dataclass
class Arrow:
    """An arrow from an input box to the box that consumes it."""

    source: int
    target: int
    labels: list[str] = field(default_factory=list)   # the local derivatives, distinct
    count: int = 1        # how many tensor-to-tensor edges it stands for
    differentiable: bool = True   # False when the input does not require grad


@dataclass
class GraphView:
    """Boxes and arrows of a (possibly collapsed) computation graph."""

    boxes: list[Box]
    arrows: list[Arrow]
    tensors: int          # tensors in the full graph
    edges: int            # tensor-to-tensor edges in the full graph
    collapsed: bool
    note: str = ""        # e.g. why gradients are missing


@dataclass
class _Graph:
    tensors: list[Tensor]
    parents: list[list[int]]     # input positions, in order, duplicates kept (x * x)
    consumers: list[list[int]]
    labels: dict[int, str] = field(default_factory=dict)   # id(tensor) -> name given by caller

    def name(self, i: int) -> str | None:
        """The tensor's name: the one the caller gave (``params=``), else its own."""
        t = self.tensors[i]
        return self.labels.get(id(t)) or t.name


def walk(root: Tensor) -> _Graph:
    """Every tensor the root depends on, inputs before their consumers (an explicit stack)."""
    index: dict[int, int] = {}
    tensors: list[Tensor] = []
    parents: list[list[int]] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        inputs = tensor.inputs
        if expanded:
            index[id(tensor)] = len(tensors)
            tensors.append(tensor)
            parents.append([index[id(p)] for p in inputs] if inputs else [])
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for parent in reversed(inputs or ()):
            if id(parent) not in visited:
                stack.append((parent, False))
    consumers: list[list[int]] = [[] for _ in tensors]
    for child, ps in enumerate(parents):
        for p in ps:
            consumers[p].append(child)
    return _Graph(tensors, parents, consumers)


def local_derivative(tensor: Tensor, position: int) -> str:
    """The registry's derivative of ``tensor``'s op for input ``position``, as an edge label.

    Elementwise ops give their formula, structural ops their element-level template; both in
    the registry's names (``x``, ``y``, ``out``).
    """
    op = tensor.op
    if op is None:
        return ""
    names = op.inputs
    name = names[min(position, len(names) - 1)]
    try:
        entry = op.derivative(position)
    except NotImplementedError:
        return "no derivative"
    text = entry.formula if entry.formula is not None else entry.template
    return f"∂/∂{name}: {text}"


def _kind(graph: _Graph, i: int, root: int) -> str:
    tensor = graph.tensors[i]
    if i == root:
        return "output"
    if tensor.op is not None:
        return "op"
    if tensor.requires_grad:
        return "parameter"
    return "input" if graph.name(i) else "constant"


def _title(tensor: Tensor, kind: str) -> str:
    return tensor.op.name if tensor.op is not None else kind


def _chains(graph: _Graph, shown: list[bool]) -> list[list[int]]:
    """Split the shown tensors into chains along the graph's spine: ``u`` links to ``v`` when
    ``v`` is ``u``'s only consumer and ``u`` is strictly the deepest of ``v``'s op inputs (so
    ``h`` continues through ``h @ W.T``, while ``stack`` of many equal branches links none).
    Every tensor is in exactly one chain."""
    n = len(graph.tensors)
    depth = [0] * n
    nxt = [-1] * n
    has_prev = [False] * n
    for v in range(n):
        if not shown[v] or graph.tensors[v].op is None:
            continue
        ops = [u for u in graph.parents[v] if shown[u] and graph.tensors[u].op is not None]
        depth[v] = 1 + max((depth[u] for u in ops), default=0)
        if not ops:
            continue
        deepest = max(depth[u] for u in ops)
        spine = {u for u in ops if depth[u] == deepest}
        if len(spine) == 1:
            (u,) = spine
            if len(graph.consumers[u]) == 1:
                nxt[u] = v
                has_prev[v] = True
    chains = []
    for head in range(n):
        if shown[head] and not has_prev[head]:
            chain = [head]
            while nxt[chain[-1]] != -1:
                chain.append(nxt[chain[-1]])
            chains.append(chain)
    return chains


def _runs(signature: list[str]) -> list[tuple[int, int, int]]:
    """Segments ``(start, period, repeats)`` of a sequence, greedy from the left: the longest
    coverage by a pattern of at most :data:`MAX_PERIOD` repeated at least :data:`MIN_REPEATS`
    times, else a single element (period 1, repeats 1)."""
    segments = []
    i, n = 0, len(signature)
    while i < n:
        best = (1, 1)
        for period in range(1, MAX_PERIOD + 1):
            if i + period * MIN_REPEATS > n:
                break
            reps = 1
            while (i + (reps + 1) * period <= n and signature[i + reps * period:
                   i + (reps + 1) * period] == signature[i:i + period]):
                reps += 1
            if reps >= MIN_REPEATS and reps * period > best[0] * best[1]:
                best = (period, reps)
        segments.append((i, best[0], best[1]))
        i += best[0] * best[1]
    return segments


def _op_signature(tensor: Tensor) -> str:
    return f"{tensor.op.name if tensor.op is not None else 'leaf'}|{tensor.shape}"


def build_view(root: Tensor, max_nodes: int = 60, collapse: bool | None = None,
               names: Mapping[str, Tensor] | None = None) -> GraphView:
    """Boxes and arrows for the graph behind ``root``; collapsed when it has more than
    ``max_nodes`` tensors (or when ``collapse`` is True). ``names`` labels tensors (e.g.
    ``dict(model.named_parameters())``) without changing them; dotted names group the boxes of
    a drawing that is not collapsed by module (``0.weight`` and the ops using it: module 0)."""
    graph = walk(root)
    graph.labels = {id(t): name for name, t in (names or {}).items()}
    n = len(graph.tensors)
    r = n - 1
    edges = sum(len(p) for p in graph.parents)
    if collapse is None:
        collapse = n > max_nodes
    shown = [True] * n
    if collapse:
        for i, t in enumerate(graph.tensors):
            if (t.op is None and not t.requires_grad and not graph.name(i)
                    and len(graph.consumers[i]) == 1):
                shown[i] = False   # folded into its consumer
        chains = _chains(graph, shown)
    else:
        chains = [[i] for i in range(n)]

    boxes: list[Box] = []
    box_of = [-1] * n
    for chain in chains:
        segments = (_runs([_op_signature(graph.tensors[i]) for i in chain]) if collapse
                    else [(0, 1, 1)])
        for start, period, reps in segments:
            end = start + period * reps
            last = chain[end - 1]
            tensor = graph.tensors[last]
            kind = _kind(graph, last, r)
            title = _title(tensor, kind)
            if reps > 1:
                pattern = " → ".join(_title(graph.tensors[i], "leaf")
                                     for i in chain[start:start + period])
                kind, title = "repeat", f"{reps} × ({pattern})"
            box = Box(kind, title, tensor, count=end - start, last=last)
            if graph.name(last) and reps == 1:
                box.names.append(graph.name(last))  # type: ignore[arg-type]
            for i in chain[start:end]:
                box_of[i] = len(boxes)
            boxes.append(box)
    for i in range(n):   # a folded constant belongs to its consumer's box
        if not shown[i]:
            box_of[i] = box_of[graph.consumers[i][0]]
            boxes[box_of[i]].count += 1
    if collapse:
        _merge_parallel(graph, boxes, box_of, shown)
    used = sorted(set(box_of))
    renumber = {old: new for new, old in enumerate(used)}
    boxes = [boxes[old] for old in used]
    box_of = [renumber[b] for b in box_of]
    arrows = _arrows(graph, box_of, shown)
    if not collapse:
        _assign_modules(graph, boxes)
    view = GraphView(boxes, arrows, n, edges, collapse)
    if len(boxes) > max_nodes and collapse:
        _truncate(view, box_of[r], max_nodes)
    return view


def _merge_parallel(graph: _Graph, boxes: list[Box], box_of: list[int],
                    shown: list[bool]) -> None:
    """Merge boxes that do the same thing (title, shape) for the same consumers: parallel
    branches, and the per-layer parameters feeding one repeated block.

    Boxes are visited consumers first, so the merge of consumers carries down to their inputs
    in one pass. ``box_of`` is rewritten to the surviving boxes.
    """
    consumers: list[set[int]] = [set() for _ in boxes]
    for child, ps in enumerate(graph.parents):
        for p in ps:
            if shown[p] and box_of[p] != box_of[child]:
                consumers[box_of[p]].add(box_of[child])
    rep = list(range(len(boxes)))
    seen: dict[Any, int] = {}
    for b in sorted(range(len(boxes)), key=lambda b: -boxes[b].last):
        box = boxes[b]
        if box.kind == "output" or box.tensor is None:
            continue
        key = (box.kind, box.title, box.tensor.shape, frozenset(rep[c] for c in consumers[b]))
        first = seen.setdefault(key, b)
        if first != b:
            rep[b] = first
            kept = boxes[first]
            kept.count += box.count
            kept.parallel += box.parallel
            kept.names += box.names
    for i, b in enumerate(box_of):
        box_of[i] = rep[b]
    for box in boxes:
        box.names.reverse()   # visited last-first; list them in the order they were made


def _assign_modules(graph: _Graph, boxes: list[Box]) -> None:
    """Module of each box of a full drawing (one box per tensor, in walk order): a parameter
    named ``m.weight`` is in module ``m``; an op is in the module of a parameter it reads, or
    of an input op that only transforms parameters (``W.T`` in ``x @ W.T``).

    NOTE: a heuristic on names and connections only (no per-op rules); an op reading
    parameters of two modules joins the first.
    """
    module: list[str] = [""] * len(boxes)
    param_only = [False] * len(boxes)
    for i in range(len(boxes)):
        name = graph.name(i)
        tensor = graph.tensors[i]
        if tensor.op is None:
            if name and "." in name:
                module[i] = name.rsplit(".", 1)[0]
            param_only[i] = tensor.requires_grad or not name   # a parameter or a constant
            continue
        parents = graph.parents[i]
        param_only[i] = all(param_only[p] for p in parents)
        for p in parents:
            if module[p] and (graph.tensors[p].op is None or param_only[p]):
                module[i] = module[p]
                break
    for box, name in zip(boxes, module):
        box.module = name


def _arrows(graph: _Graph, box_of: list[int], shown: list[bool]) -> list[Arrow]:
    found: dict[tuple[int, int], Arrow] = {}
    labels: dict[tuple[int, int], str] = {}   # by (id(op), position): one lookup per kind
    for child, ps in enumerate(graph.parents):
        for position, p in enumerate(ps):
            if not shown[p]:
                continue
            source, target = box_of[p], box_of[child]
            if source == target:
                continue
            op = graph.tensors[child].op
            key = (id(op) if op is not None else 0, position)
            label = labels.get(key)
            if label is None:
                label = labels[key] = local_derivative(graph.tensors[child], position)
            arrow = found.get((source, target))
            if arrow is None:
                found[(source, target)] = Arrow(
                    source, target, [label], differentiable=graph.tensors[p].requires_grad)
            else:
                arrow.count += 1
                if label not in arrow.labels:
                    arrow.labels.append(label)
    return list(found.values())


def _truncate(view: GraphView, root_box: int, max_nodes: int) -> None:
    """Keep the ``max_nodes - 1`` boxes nearest the output; the rest become one box."""
    inputs: list[list[int]] = [[] for _ in view.boxes]
    for a in view.arrows:
        inputs[a.target].append(a.source)
    keep = {root_box}
    order = deque([root_box])
    while order and len(keep) < max_nodes - 1:
        for source in inputs[order.popleft()]:
            if source not in keep and len(keep) < max_nodes - 1:
                keep.add(source)
                order.append(source)
    hidden = [b for i, b in enumerate(view.boxes) if i not in keep]
    new_index = {old: new for new, old in enumerate(sorted(keep))}
    boxes = [view.boxes[old] for old in sorted(keep)]
    more = len(boxes)
    boxes.append(Box("more", f"… {sum(b.count for b in hidden)} more tensors", None,
                     count=sum(b.count for b in hidden), parallel=1))
    merged: dict[tuple[int, int], Arrow] = {}
    for a in view.arrows:
        source, target = new_index.get(a.source, more), new_index.get(a.target, more)
        if source == target:
            continue
        existing = merged.get((source, target))
        if existing is None:
            merged[(source, target)] = Arrow(source, target, list(a.labels), a.count,
                                             a.differentiable)
        else:
            existing.count += a.count
            existing.labels += [lab for lab in a.labels if lab not in existing.labels]
    view.boxes = boxes
    view.arrows = list(merged.values())
