"""From the element graph to a derivation people can follow: names, formulas, numbers, views.

:class:`Context` names every scalar quantity and gives each local derivative its formula from
the registry (elementwise formula strings; structural templates, instantiated at the element
pair by ``Derivative.element`` where the op provides it). Unnamed intermediates between named
ones are folded into the named quantity that consumes them, as a hand derivation does
(dL/dy = 2·(y − t) hides the ``y − t`` and the square). The views build blocks of
:mod:`chainrule.explain.blocks`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .. import engine
from ..ops.registry import NOT_DIFFERENTIABLE, formula_names
from ..tensor import Tensor
from . import symbolic as S
from .graph import ElementGraph, adjoints
from .names import symbol

#: A hidden stretch with more sub-paths than this is not folded: every tensor is shown.
_MAX_SUBPATHS = 4096
#: How deep an unnamed intermediate is written out as an expression before it gets a name.
_MAX_DEPTH = 3

Elem = tuple[int, int]   # (tensor position, flat index)
Step = tuple[int, int]   # (group number, pair number)


@dataclass
class Edge:
    """A local derivative between two shown elements: the sum over hidden sub-paths."""

    parent: Elem
    child: Elem
    subpaths: list[list[Step]]
    value: float


def source_index(index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The element of an operand of ``shape`` that broadcasting pairs with ``index``."""
    lead = len(index) - len(shape)
    return tuple(0 if d == 1 else index[lead + n] for n, d in enumerate(shape))


class Context:
    """Names, formulas and folded edges for one element graph."""

    def __init__(self, graph: ElementGraph, collapse: bool | None = None) -> None:
        self.graph = graph
        tensors = graph.tensors
        self.position = {id(t): n for n, t in enumerate(tensors)}
        self.auto: dict[int, str] = {}
        #: every symbol handed out, by its text: where it lives (tensor position, flat index)
        self.where: dict[str, Elem] = {}
        counts = {"v": 0, "c": 0}
        for n, t in enumerate(tensors):
            if t.name or n == graph.loss:
                continue
            kind = "c" if t.op is None and not t.requires_grad else "v"
            counts[kind] += 1
            self.auto[n] = f"{kind}{counts[kind]}"
        # pair lookup: parent element -> steps leaving it
        self.out_steps: dict[Elem, list[Step]] = {}
        for gn, g in enumerate(graph.groups):
            for i, (k, _o) in enumerate(zip(g.k.tolist(), g.o.tolist())):
                self.out_steps.setdefault((g.parent, k), []).append((gn, i))
        named_inside = any(tensors[t].name for t in graph.active
                           if t not in (graph.wrt, graph.loss) and tensors[t].op is not None)
        self.collapse = named_inside if collapse is None else collapse
        self._edges: dict[Elem, list[Edge]] = {}
        self._formula: dict[Step, S.Expr] = {}
        self._shown = [not self.collapse or t in (graph.wrt, graph.loss) or bool(x.name)
                       for t, x in enumerate(tensors)]

    # ---- names ----------------------------------------------------------------------------
    def shown(self, t: int) -> bool:
        """Whether tensor ``t``'s elements appear by name (others are folded away)."""
        return self._shown[t]

    def sym(self, t: int, flat: int) -> S.Sym:
        tensor = self.graph.tensors[t]
        index = tuple(int(i) for i in np.unravel_index(flat, tensor.shape)) if tensor.ndim \
            else ()
        value = float(tensor.data.reshape(-1)[flat])
        name = tensor.name or ("L" if t == self.graph.loss else None)
        sym = symbol(name, tensor.shape, index, value, self.auto.get(t, "v"))
        self.where.setdefault(sym.text, (t, flat))
        return sym

    def operand(self, tensor: Tensor, index: tuple[int, ...], depth: int = 0) -> S.Expr:
        """The expression of ``tensor[index]`` where it appears inside a formula."""
        t = self.position.get(id(tensor))
        flat = int(np.ravel_multi_index(index, tensor.shape)) if tensor.ndim else 0
        value = float(np.asarray(tensor.data, dtype=np.float64).reshape(-1)[flat])
        if t is None or (not tensor.name and tensor.op is None and not tensor.requires_grad
                         and tensor.data.size == 1):
            return S.Num(value) if value >= 0 else S.Neg(S.Num(-value))
        op = tensor.op
        hidden = not tensor.name and t != self.graph.loss and (
            not self.graph.downstream[t] or not self.shown(t))
        if hidden and op is not None and not op.elementwise and depth < _MAX_DEPTH:
            source = _alias(tensor, index)
            if source is not None:
                return self.operand(source[0], source[1], depth + 1)
        if hidden and op is not None and op.elementwise and depth < _MAX_DEPTH:
            env = {name: self.operand(inp, source_index(index, inp.shape), depth + 1)
                   for name, inp in zip(op.inputs, tensor.inputs or ())}
            env.update(self._params(tensor.params))
            try:
                return S.substitute(S.parse(op.expr), env)
            except S.Unsupported:
                pass
        return self.sym(t, flat)

    @staticmethod
    def _params(params: dict[str, Any]) -> dict[str, S.Expr]:
        out: dict[str, S.Expr] = {}
        for name, value in params.items():
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                out[name] = S.Num(float(value)) if value >= 0 else S.Neg(S.Num(-float(value)))
        return out

    # ---- local derivative formulas ------------------------------------------------------
    def formula(self, step: Step) -> S.Expr:
        """d child / d parent for one element pair, from the registry, simplified."""
        if step not in self._formula:
            self._formula[step] = self._build_formula(step)
        return self._formula[step]

    def _build_formula(self, step: Step) -> S.Expr:
        gn, i = step
        g = self.graph.groups[gn]
        child = self.graph.tensors[g.child]
        parent = self.graph.tensors[g.parent]
        op, inputs = child.op, child.inputs
        assert op is not None and inputs is not None
        entry = op.derivative(g.position)
        value = float(g.d[i])
        o_idx = tuple(int(v) for v in np.unravel_index(int(g.o[i]), child.shape))
        k_idx = tuple(int(v) for v in np.unravel_index(int(g.k[i]), parent.shape))
        names = op.inputs if not op.variadic else tuple(f"x{n}" for n in range(len(inputs)))
        template = entry.template or entry.formula or "?"
        # NOTE: a prose template that says the derivative is 1 ("1 (same element, new
        # position)") is the number 1 wherever it holds; it then simplifies away in products.
        fallback: S.Expr = (S.Num(1.0) if value == 1 and template.startswith("1 ")
                            else S.Text(template, value))
        try:
            if entry.formula is not None:
                used = formula_names(entry.formula)   # only what the formula reads
                env = {name: self.operand(inp, source_index(o_idx, inp.shape))
                       for name, inp in zip(names, inputs) if name in used}
                if "out" in used:
                    env["out"] = self.operand(child, o_idx)
                env.update(self._params(child.params))
                expr = S.substitute(S.parse(entry.formula), env)
            elif entry is not NOT_DIFFERENTIABLE:
                source = entry.template
                if entry.element is not None:
                    source = entry.element(o_idx, k_idx, tuple(t.shape for t in inputs),
                                           child.params)

                def resolve(sub: ast.Subscript) -> S.Expr:
                    if not isinstance(sub.value, ast.Name):
                        raise S.Unsupported("subscript")
                    var = sub.value.id
                    if var == "out":
                        return self.operand(child, o_idx)
                    if var not in names:
                        raise S.Unsupported(var)
                    operand = inputs[names.index(var)]
                    if entry.element is None:   # template letters: the differentiated element
                        if operand is not parent:
                            raise S.Unsupported(var)
                        return self.operand(parent, k_idx)
                    index = ast.literal_eval(sub.slice)
                    index = index if isinstance(index, tuple) else (index,)
                    return self.operand(operand, tuple(int(v) for v in index))

                expr = S.parse(source, resolve)
                if any(isinstance(e, S.Var) and e.name == "out" for e in _walk(expr)):
                    expr = S.substitute(expr, {"out": self.operand(child, o_idx)})
            else:
                return fallback
            expr = S.simplify(expr)
            got = float(S.evaluate(expr))
        except (S.Unsupported, SyntaxError, KeyError, ValueError, TypeError, IndexError):
            return fallback
        if any(isinstance(e, S.Var) for e in _walk(expr)) or not np.isclose(
                got, value, rtol=1e-9, atol=1e-300):
            # NOTE: the printed formula must give the number the engine used; if it does not
            # (a template that cannot be read at this pair), the number is printed instead.
            return fallback
        return expr

    # ---- folded edges between shown elements --------------------------------------------
    def edges(self, elem: Elem) -> list[Edge]:
        """The shown elements ``elem`` feeds, each with its (folded) local derivative."""
        if elem not in self._edges:
            self._edges[elem] = self._walk_edges(elem)
        return self._edges[elem]

    def _walk_edges(self, elem: Elem) -> list[Edge]:
        groups = self.graph.groups
        found: dict[Elem, list[list[Step]]] = {}
        stack: list[tuple[Elem, list[Step]]] = [(elem, [])]
        count = 0
        while stack:
            at, path = stack.pop()
            for step in reversed(self.out_steps.get(at, [])):
                g = groups[step[0]]
                nxt = (g.child, int(g.o[step[1]]))
                if self.shown(g.child):
                    found.setdefault(nxt, []).append([*path, step])
                    count += bool(path)
                else:
                    stack.append((nxt, [*path, step]))
                    count += 1
            if count > _MAX_SUBPATHS:
                raise TooManySubpaths
        edges = []
        for child, subpaths in found.items():
            value = sum(float(np.prod([groups[gn].d[i] for gn, i in sp])) for sp in subpaths)
            edges.append(Edge(elem, child, subpaths, value))
        return edges

    def edge_formula(self, edge: Edge) -> S.Expr:
        terms = []
        for sp in edge.subpaths:
            factors = [self.formula(step) for step in reversed(sp)]
            product = factors[0]
            for f in factors[1:]:
                product = S.Bin("*", product, f)
            terms.append(S.simplify(product))
        total = terms[0]
        for term in terms[1:]:
            total = S.Bin("+", total, term)
        return S.simplify(total)

    # ---- counts ---------------------------------------------------------------------------
    @cached_property
    def path_count(self) -> float:
        """Element-level paths from wrt[index] to the loss (before folding)."""
        ones = {n: np.ones(g.d.size) for n, g in enumerate(self.graph.groups)}
        adj = adjoints(self.graph, ones)
        return float(adj[self.graph.wrt][0]) if self.graph.wrt in adj else 0.0


def _alias(tensor: Tensor, index: tuple[int, ...]) -> tuple[Tensor, tuple[int, ...]] | None:
    """The input element that ``tensor[index]`` merely copies (transpose, reshape, slice...).

    Found generically: the op's backward of a one-hot gradient is a one-hot of value 1 in
    exactly one input. Returns None for anything else (sums, products, ...).
    """
    op, inputs = tensor.op, tensor.inputs
    if op is None or inputs is None:
        return None
    g = np.zeros(tensor.shape, dtype=np.float64)
    g[index] = 1.0
    found = None
    args = tuple(t.data for t in inputs)
    for position, parent in enumerate(inputs):
        vjp = op.numpy_vjps[min(position, len(op.numpy_vjps) - 1)]
        if vjp is None:
            continue
        gi = np.asarray(vjp(g, args, tensor.data, tensor.params, position))
        if gi.shape != parent.shape:
            gi = engine.sum_to(gi, parent.shape)
        hits = np.flatnonzero(gi)
        if hits.size == 0:
            continue
        if found is not None or hits.size != 1 or gi.reshape(-1)[hits[0]] != 1:
            return None
        k = tuple(int(i) for i in np.unravel_index(int(hits[0]), parent.shape))
        found = (parent, k)
    return found


class TooManySubpaths(Exception):
    """Folding the unnamed intermediates here would hide too many sub-paths."""


def _walk(e: S.Expr) -> list[S.Expr]:
    out, stack = [], [e]
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(S.children(x))
    return out
