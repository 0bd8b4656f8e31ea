"""``explain(loss, wrt, index)``: the derivation of one gradient element, checked three ways."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GraphError, shape_str
from ..tensor import Tensor
from . import render, views
from . import symbolic as S
from .blocks import Block, Equation, Heading, Para, Row, Table
from .check import AnswerCheck, check_answer
from .derivation import Context, Edge, TooManySubpaths
from .graph import ElementGraph, build, replay
from .names import normalize_index

VIEWS = ("auto", "chain", "backprop")
FORMATS = ("text", "markdown", "latex", "html")


def rel_diff(a: float, b: float) -> float:
    """|a − b| / max(|a|, |b|); 0 when both are 0."""
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


@dataclass
class Derivation:
    """The worked derivation of dL/d wrt[index]: render it, read its numbers, check answers.

    ``value`` is the derivation's own result, ``autograd`` what :func:`chainrule.grad` gives,
    ``numeric`` a float64 central difference of the recomputed forward pass.
    """

    value: float
    autograd: float
    numeric: float
    view: str
    blocks: list[Block]
    name: str                      # "∂L/∂w111"
    graph: ElementGraph = field(repr=False)
    context: Context = field(repr=False)
    paths: list[list[Edge]] = field(default_factory=list, repr=False)
    path_count: float = 0.0

    @property
    def rel_autograd(self) -> float:
        return rel_diff(self.value, self.autograd)

    @property
    def rel_numeric(self) -> float:
        return rel_diff(self.value, self.numeric)

    # ---- rendering ------------------------------------------------------------------------
    def to_text(self) -> str:
        """Aligned Unicode text."""
        return render.to_text(self.blocks)

    def to_markdown(self) -> str:
        """Markdown with LaTeX math (GitHub renders ``$...$`` and ``$$...$$``)."""
        return render.to_markdown(self.blocks)

    def to_latex(self, standalone: bool = False) -> str:
        """LaTeX source; ``standalone`` gives a compilable document."""
        return render.to_latex(self.blocks, standalone)

    def to_html(self, standalone: bool = True) -> str:
        """HTML with MathML math: renders offline in any current browser."""
        return render.to_html(self.blocks, standalone, title=self.name)

    def render(self, fmt: str = "text") -> str:
        """One of ``text``, ``markdown``, ``latex``, ``html``."""
        if fmt not in FORMATS:
            raise ValueError(f"render: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return {"text": self.to_text, "markdown": self.to_markdown, "latex": self.to_latex,
                "html": self.to_html}[fmt]()

    def __str__(self) -> str:
        return self.to_text()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return self.to_html(standalone=False)

    def _repr_latex_(self) -> str:
        eqs = [b for b in self.blocks if isinstance(b, Equation)]
        return "$$\\begin{aligned}\n" + " \\\\[1ex]\n".join(
            render._aligned(e) for e in eqs) + "\n\\end{aligned}$$"

    # ---- checking a person's answer ----------------------------------------------------
    def check(self, expected: float, rtol: float = 5e-4) -> AnswerCheck:
        """Is ``expected`` right (within ``rtol``)? If not, which single slip explains it?

        >>> from chainrule.seed import build_seed
        >>> s = build_seed()
        >>> verdict = explain(s.loss, s.W2, (0, 0)).check(9.8657e-3)
        >>> verdict.correct, verdict.kind, "missing square" in verdict.message
        (False, 'local factor', True)
        """
        return check_answer(self, float(expected), rtol)


def _central_difference(graph: ElementGraph) -> float:
    wrt = graph.tensors[graph.wrt]
    base = np.asarray(wrt.data, dtype=np.float64)
    w0 = float(base[graph.index]) if base.ndim else float(base)
    # NOTE: step eps^(1/3)·max(1, |w|) balances truncation (h²) against rounding (eps/h).
    h = np.finfo(np.float64).eps ** (1 / 3) * max(1.0, abs(w0))
    plus, minus = base.copy(), base.copy()
    if base.ndim:
        plus[graph.index] += h
        minus[graph.index] -= h
    else:
        plus, minus = base + h, base - h
    return (replay(graph, plus) - replay(graph, minus)) / (2 * h)


def _autograd(loss: Tensor, wrt: Tensor, index: tuple[int, ...]) -> float:
    from ..autograd import grad

    (g,) = grad(loss, [wrt], retain_graph=True, allow_unused=True)
    if g is None:
        return 0.0
    return float(g.data[index]) if g.ndim else float(g.data)


def _check_blocks(value: float, autograd: float, numeric: float) -> list[Block]:
    table = Table(["check", "value", "relative difference"])
    table.rows.append(["this derivation", views._num(value), "—"])
    table.rows.append(["autograd (chainrule.grad)", views._num(autograd),
                       f"{rel_diff(value, autograd):.1e}"])
    table.rows.append(["central difference (float64)", views._num(numeric),
                       f"{rel_diff(value, numeric):.1e}"])
    return [Heading(["Check"], 3), table]


def _piecewise(formula: str) -> bool:
    """Whether a derivative formula has a kink: it compares, or calls sign or where."""
    tree = S.parse(formula)
    stack = [tree]
    while stack:
        e = stack.pop()
        if isinstance(e, S.Cmp) or (isinstance(e, S.Fn) and e.name in ("sign", "where")):
            return True
        stack += S.children(e)
    return False


def _notes(ctx: Context) -> list[Block]:
    """Conventions at kinks, for the ops whose piecewise derivatives the derivation used."""
    notes: dict[str, str] = {}
    g = ctx.graph
    for group in g.groups:
        op = g.tensors[group.child].op
        formula = op.derivative(group.position).formula
        if "convention" in op.note and (formula is None or _piecewise(formula)):
            notes[op.name] = op.note
    return [Para([f"Convention ({name}): {note}."]) for name, note in sorted(notes.items())]


def _body(ctx: Context, wrt: Tensor, idx: tuple[int, ...], view: str, max_terms: int,
          value: float) -> tuple[list[Block], list[list[Edge]], str, str, float]:
    """The derivation's blocks up to the check, its paths, name, view and path count."""
    graph = ctx.graph
    count = ctx.path_count
    chosen = view if view != "auto" else "chain"
    paths: list[list[Edge]] = []
    if graph.wrt in graph.active:
        # NOTE: paths are counted after folding (y·y is one step, not two paths); the element
        # count is the bound when the enumeration stops early.
        paths, complete = views.enumerate_paths(ctx, max_terms if chosen == "chain" else 64)
        count = len(paths) if complete else count
        if view == "auto" and not complete:
            chosen = "backprop"
    loss_sym = ctx.sym(graph.loss, 0)
    blocks: list[Block] = []
    if graph.wrt not in graph.active:
        flat = int(np.ravel_multi_index(idx, wrt.shape)) if wrt.ndim else 0
        name = f"∂{loss_sym.text}/∂{ctx.sym(graph.wrt, flat).text}"
        blocks += [Heading([f"Derivative {name}"]),
                   Para(["The loss does not depend on this element: no path leads from it to "
                         "the loss, so the derivative is 0."])]
    else:
        w_elem = (graph.wrt, int(graph.active[graph.wrt][0]))
        w_sym = ctx.sym(*w_elem)
        name = f"∂{loss_sym.text}/∂{w_sym.text}"
        blocks.append(views.heading(ctx))
        where = views.quantities(ctx, [w_elem]).rows[0][1]
        blocks.append(Para([f"{w_sym.text}{'' if where == w_sym.text else ' is ' + str(where)}"
                            f": {_count_text(count)} from it to the loss {loss_sym.text}."]))
        if chosen == "chain":
            blocks.append(Heading(["Chain rule, path by path"], 3))
            blocks += views.chain_view(ctx, paths, count, value)
        else:
            blocks.append(Heading(["Backpropagation, from the loss back"], 3))
            blocks.append(Para(["Each quantity's derivative is the sum over the quantities it "
                                "feeds: ∂L/∂v = Σ_c ∂L/∂c · ∂c/∂v."]))
            blocks += views.backprop_view(ctx, max_terms)
        on_paths = [e.child for p in paths for e in p] if chosen == "chain" else []
        used = list(dict.fromkeys(on_paths + [ctx.where[text] for text in
                                              views.symbols_in(blocks) if text in ctx.where]))
        used = [e for e in used if e not in (w_elem, (graph.loss, 0))]
        limit = 4 * max_terms
        blocks.append(Heading(["Quantities"], 3))
        blocks.append(views.quantities(ctx, [w_elem, *used[:limit], (graph.loss, 0)]))
        if len(used) > limit:
            rest = len(used) - limit
            blocks.append(Para([f"… and {rest} more quantit{'ies' if rest > 1 else 'y'}."]))
        blocks += _notes(ctx)
    return blocks, paths, name, chosen, count


def explain(loss: Tensor, wrt: Tensor, index: Any = None, *, view: str = "auto",
            max_terms: int = 8) -> Derivation:
    """The chain-rule derivation of d loss / d wrt[index], with numbers, checked.

    Args:
        loss: a scalar tensor whose graph is still alive (not yet backpropagated, or built
            with ``retain_graph=True``).
        wrt: a tensor the loss was computed from (a parameter or an intermediate result).
        index: the element of ``wrt``: a tuple, or an int (flat index); None for one element.
        view: ``"chain"`` (one chain per path), ``"backprop"`` (node by node from the loss
            back) or ``"auto"`` (chain unless there are more than ``max_terms`` paths).
        max_terms: how many paths, terms or elements to show before summarizing the rest.

    >>> import chainrule as cr
    >>> w = cr.tensor([0.5, -1.0], dtype=cr.float64, requires_grad=True, name="w")
    >>> loss = (w * w).sum()
    >>> d = explain(loss, w, 0)
    >>> round(d.value, 12), round(d.autograd, 12)
    (1.0, 1.0)
    """
    if not isinstance(loss, Tensor) or not isinstance(wrt, Tensor):
        raise TypeError("explain: loss and wrt must be Tensors")
    if view not in VIEWS:
        raise ValueError(f"explain: unknown view {view!r}; use one of {', '.join(VIEWS)}")
    if loss.data.size != 1:
        raise GraphError(f"explain: the loss must be a scalar, got shape {shape_str(loss.shape)}"
                         "; reduce it first (loss.sum() or loss.mean())")
    if not wrt.requires_grad:
        raise GraphError(f"explain: wrt{' ' + repr(wrt.name) if wrt.name else ''} (shape "
                         f"{shape_str(wrt.shape)}) does not require grad, so autograd cannot "
                         "check the derivation; create it with requires_grad=True")
    idx = normalize_index(wrt.shape, index)
    graph = build(loss, wrt, idx)
    value = graph.value()
    autograd = _autograd(loss, wrt, idx)
    numeric = _central_difference(graph)
    ctx = Context(graph)
    try:
        blocks, paths, name, chosen, count = _body(ctx, wrt, idx, view, max_terms, value)
    except TooManySubpaths:
        # NOTE: folding unnamed intermediates would hide too many sub-paths: show them all.
        ctx = Context(graph, collapse=False)
        blocks, paths, name, chosen, count = _body(ctx, wrt, idx, view, max_terms, value)
    blocks += _check_blocks(value, autograd, numeric)
    result = Derivation(value, autograd, numeric, chosen, blocks, name, graph, ctx, paths,
                        count)
    blocks.append(Para([f"Result: {name} = {S.format_number(value)}"
                        + (" (derivation, autograd and central difference agree)."
                           if result.rel_autograd < 1e-9 and result.rel_numeric < 1e-5
                           else ".")]))
    return result


def _count_text(count: float) -> str:
    if count == 1:
        return "one path of dependencies leads"
    if math.isinf(count) or count > 1e15:
        return "more paths than can be counted lead"
    return f"{round(count):,} paths of dependencies lead"


__all__ = ["Derivation", "Row", "explain"]
