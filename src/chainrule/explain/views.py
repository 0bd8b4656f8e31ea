"""The two views of a derivation: one chain per path, or backpropagation node by node.

Chain view (as the seed writes it): dL/dw = dL/dy · dy/dy_in · ... · da_1/dw, then each local
derivative's formula, then the numbers, then the result; several paths give one chain each and
their sum. Backprop view: from the loss back, dL/dv = Σ over v's children c of dL/dc · dc/dv,
with formulas and numbers; it never enumerates paths, so it stays small when paths multiply.
"""

from __future__ import annotations

import numpy as np

from . import symbolic as S
from .blocks import Block, Equation, Heading, Para, Row, Table
from .derivation import Context, Edge, Elem


def _product(items: list[S.Expr]) -> S.Expr:
    return items[0] if len(items) == 1 else S.Seq("·", tuple(items))


def _sum(items: list[S.Expr]) -> S.Expr:
    return items[0] if len(items) == 1 else S.Seq("+", tuple(items))


def _num(v: float) -> S.Expr:
    return S.Num(v) if v >= 0 or np.isnan(v) else S.Neg(S.Num(-v))


def enumerate_paths(ctx: Context, limit: int) -> tuple[list[list[Edge]], bool]:
    """Up to ``limit`` paths of folded edges from wrt[index] to the loss (depth-first), and
    whether that is all of them."""
    g = ctx.graph
    start: Elem = (g.wrt, int(g.active[g.wrt][0])) if g.wrt in g.active else (g.wrt, -1)
    paths: list[list[Edge]] = []
    stack: list[tuple[Elem, list[Edge]]] = [(start, [])]
    while stack and len(paths) < limit:
        elem, path = stack.pop()
        if elem[0] == g.loss:
            paths.append(path)
            continue
        for edge in reversed(ctx.edges(elem)):
            stack.append((edge.child, [*path, edge]))
    return paths, not stack


def path_symbols(ctx: Context, path: list[Edge]) -> list[S.Sym]:
    elems = [path[0].parent] + [e.child for e in path]
    return [ctx.sym(t, f) for t, f in elems]


def chain_view(ctx: Context, paths: list[list[Edge]], total_paths: float,
               value: float) -> list[Block]:
    """One equation per path (factors from the loss back to wrt), then their sum."""
    blocks: list[Block] = []
    g = ctx.graph
    w = ctx.sym(g.wrt, int(g.active[g.wrt][0]))
    loss = ctx.sym(g.loss, 0)
    several = len(paths) > 1 or total_paths > len(paths)
    shown_sum = 0.0
    for n, path in enumerate(paths, 1):
        syms = path_symbols(ctx, path)
        factors = list(reversed(path))
        fsyms = list(reversed(syms))
        partials = [S.Partial(fsyms[j], fsyms[j + 1]) for j in range(len(factors))]
        formulas = [ctx.edge_formula(e) for e in factors]
        product = float(np.prod([e.value for e in factors]))
        shown_sum += product
        rows = [Row(_product(partials)), Row(_product(formulas)),
                Row(_product(formulas), numbers=True)]
        if any(not isinstance(f, (S.Num, S.Sym, S.Neg, S.Text)) for f in formulas):
            rows.append(Row(_product([_num(e.value) for e in factors])))
        rows.append(Row(_num(product)))
        if several:
            blocks.append(Para([f"Path {n}: " + " → ".join(s.text for s in syms)]))
            blocks.append(Equation(_label(n, product), rows))
        else:
            blocks.append(Para(["One path: " + " → ".join(s.text for s in syms)]))
            blocks.append(Equation(S.Partial(loss, w), rows))
    if several:
        numbers: list[S.Expr] = [_num(float(np.prod([e.value for e in path])))
                                 for path in paths]
        terms: list[S.Expr] = [_label(n, float(S.evaluate(v)))
                               for n, v in enumerate(numbers, 1)]
        rest = round(total_paths) - len(paths)
        if rest > 0:
            terms.append(S.More(rest, value - shown_sum, "paths"))
            numbers.append(S.More(rest, value - shown_sum, "paths"))
        blocks.append(Para([f"Sum over the {round(total_paths)} paths:"]))
        blocks.append(Equation(S.Partial(loss, w),
                               [Row(_sum(terms)), Row(_sum(numbers)), Row(_num(value))]))
    return blocks


def _label(n: int, value: float) -> S.Sym:
    return S.Sym(f"path {n}", rf"\text{{path }}{n}", base="path", sub=str(n), value=value)


def backprop_view(ctx: Context, max_terms: int) -> list[Block]:
    """dL/dv for the shown elements, from the loss back to wrt[index]."""
    g = ctx.graph
    blocks: list[Block] = []
    loss = ctx.sym(g.loss, 0)
    per_tensor = max(2, max_terms // 2)
    order = [t for t in sorted(g.active, reverse=True) if t != g.loss and ctx.shown(t)]
    for t in order:
        flats = g.active[t].tolist()
        adj = g.adjoint[t]
        shown = flats[:per_tensor]
        for flat in shown:
            e = ctx.sym(t, flat)
            edges = ctx.edges((t, flat))
            kept, rest = edges[:max_terms], edges[max_terms:]
            partial_terms: list[S.Expr] = []
            formula_terms: list[S.Expr] = []
            number_terms: list[S.Expr] = []
            for edge in kept:
                c = ctx.sym(*edge.child)
                local = ctx.edge_formula(edge)
                a_c = float(g.adjoint[edge.child[0]][g.local(edge.child[0],
                                                            np.array([edge.child[1]]))[0]])
                if edge.child[0] == g.loss:
                    partial_terms.append(S.Partial(c, e))
                    formula_terms.append(local)
                    number_terms.append(local)
                else:
                    partial_terms.append(S.Seq("·", (S.Partial(loss, c), S.Partial(c, e))))
                    formula_terms.append(S.Seq("·", (S.Partial(loss, c), local)))
                    number_terms.append(S.Seq("·", (_num(a_c), local)))
            if rest:
                rest_sum = sum(float(g.adjoint[x.child[0]][g.local(
                    x.child[0], np.array([x.child[1]]))[0]]) * x.value for x in rest)
                more = S.More(len(rest), rest_sum)
                partial_terms.append(more)
                formula_terms.append(more)
                number_terms.append(more)
            value = float(adj[g.local(t, np.array([flat]))[0]])
            lhs = S.Partial(loss, e)
            rows = [] if partial_terms == [lhs] else [Row(_sum(partial_terms))]
            if formula_terms != partial_terms:
                rows.append(Row(_sum(formula_terms)))
            rows += [Row(_sum(number_terms), numbers=True), Row(_num(value))]
            blocks.append(Equation(lhs, rows))
        if len(flats) > len(shown):
            name = g.tensors[t].name or ctx.auto.get(t, "v")
            rest = len(flats) - len(shown)
            blocks.append(Para([f"… and {rest} more element{'s' if rest > 1 else ''} of {name} "
                                "on the way, each computed the same way."]))
    return blocks


def symbols_in(blocks: list[Block]) -> list[str]:
    """The texts of the symbols the blocks mention, in order of first appearance."""
    exprs: list[S.Expr] = []
    for block in blocks:
        if isinstance(block, Equation):
            exprs += [block.lhs] + [r.expr for r in block.rows]
        elif isinstance(block, Para):
            exprs += [p for p in block.parts if not isinstance(p, str)]
    seen: dict[str, None] = {}
    for expr in exprs:
        stack = [expr]
        while stack:
            e = stack.pop()
            if isinstance(e, S.Sym):
                seen.setdefault(e.text)
            elif isinstance(e, S.Partial):
                stack += [e.bottom, e.top]
            elif isinstance(e, S.Seq):
                stack += reversed(e.items)
            else:
                stack += reversed(S.children(e))
    return list(seen)


def quantities(ctx: Context, elems: list[Elem]) -> Table:
    """The named quantities a derivation passes through, where they live and their values."""
    table = Table(["quantity", "in the code", "value"])
    seen: set[Elem] = set()
    for t, flat in elems:
        if (t, flat) in seen:
            continue
        seen.add((t, flat))
        tensor = ctx.graph.tensors[t]
        sym = ctx.sym(t, flat)
        name = tensor.name or ("L" if t == ctx.graph.loss else ctx.auto.get(t, "v"))
        index = np.unravel_index(flat, tensor.shape) if tensor.ndim else ()
        where = f"{name}[{', '.join(str(int(i)) for i in index)}]" if tensor.ndim else name
        if tensor.op is not None:
            where += f" ({tensor.op.name})"
        table.rows.append([sym, where, _num(sym.value)])
    return table


def heading(ctx: Context) -> Heading:
    g = ctx.graph
    w = ctx.sym(g.wrt, int(g.active[g.wrt][0])) if g.wrt in g.active else None
    loss = ctx.sym(g.loss, 0)
    return Heading(["Derivative ", S.Partial(loss, w)] if w is not None else ["Derivative"])
