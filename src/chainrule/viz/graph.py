"""``draw_graph``: the computation graph of a scalar, with values, gradients and local derivatives.

Each box shows the op (or parameter / input / constant), the tensor's name, its shape, its
value (in full when small, min/mean/max when large) and its gradient; each arrow is labelled
with the local derivative the backward pass uses, read from the op registry (the formula of an
elementwise op, the element-level template of a structural one). Large graphs collapse by
repeated structure (see :mod:`chainrule.viz.graphmodel`).

The DOT text is generated here; SVG and PNG come from Graphviz's ``dot`` through the optional
``graphviz`` package (``pip install chainrule[viz]``), imported only when an image is rendered.

>>> import chainrule as cr
>>> W = cr.ones(2, 1, requires_grad=True, name="W")
>>> loss = (cr.tensor([[1.0, -2.0]], name="x") @ W).sigmoid().sum()
>>> drawing = cr.draw_graph(loss)
>>> drawing.dot.startswith("digraph")
True
>>> len(drawing.view.boxes), len(drawing.view.arrows)
(5, 4)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ChainruleError, GraphError
from .format import escape, format_rows, shape_text
from .graphmodel import Box, GraphView, build_view

if TYPE_CHECKING:
    from ..tensor import Tensor

#: Fill colours by kind of box (colour-blind safe pastel pairs).
FILL = {"parameter": "#cfe2f3", "input": "#eeeeee", "constant": "#f6f6f6", "op": "#fffbe6",
        "output": "#f9d5c6", "repeat": "#e6f2e0", "more": "#ffffff"}
FORMATS = ("svg", "png", "dot")


class GraphDrawing:
    """A drawn computation graph: ``.dot`` (text), ``.svg()``, ``.png()``, ``.save(path)``.

    Displays itself inline in Jupyter (``_repr_svg_`` / ``_repr_mimebundle_``).
    """

    def __init__(self, view: GraphView, dot: str) -> None:
        self.view = view
        self.dot = dot
        self._svg: str | None = None

    def __repr__(self) -> str:
        v = self.view
        state = "collapsed" if v.collapsed else "full"
        return (f"<GraphDrawing: {len(v.boxes)} boxes, {len(v.arrows)} arrows ({state}; graph "
                f"of {v.tensors} tensors, {v.edges} edges)>")

    def pipe(self, format: str) -> bytes:
        """The drawing rendered by Graphviz's ``dot`` in ``format`` ("svg", "png", ...)."""
        try:
            import graphviz
        except ImportError:
            raise ChainruleError(
                "draw_graph: rendering an image needs the graphviz Python package; install it "
                "with pip install 'chainrule[viz]' (or use the .dot text)") from None
        try:
            return graphviz.Source(self.dot).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise ChainruleError(
                "draw_graph: Graphviz's 'dot' program was not found; install Graphviz (Debian: "
                "apt install graphviz) or use the .dot text") from None

    def svg(self) -> str:
        """The drawing as SVG text (rendered once, then cached)."""
        if self._svg is None:
            self._svg = self.pipe("svg").decode("utf-8")
        return self._svg

    def png(self) -> bytes:
        """The drawing as PNG bytes."""
        return self.pipe("png")

    def render(self, format: str = "svg") -> str | bytes:
        """The drawing as DOT text, SVG text or PNG bytes."""
        if format == "dot":
            return self.dot
        if format == "svg":
            return self.svg()
        if format == "png":
            return self.png()
        raise ValueError(f"draw_graph: unknown format {format!r}; use one of {', '.join(FORMATS)}")

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the drawing; the format defaults to the file's extension (.svg, .png, .dot)."""
        target = Path(path)
        fmt = format or target.suffix.lstrip(".").lower() or "svg"
        data = self.render(fmt)
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
        return target

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg(), "text/plain": repr(self)}


def draw_graph(loss: Tensor, max_nodes: int = 60, collapse: bool | None = None,
               gradients: bool = True, rankdir: str = "BT", title: str | None = None,
               params: Mapping[str, Tensor] | None = None) -> GraphDrawing:
    """Draw the computation graph behind ``loss``.

    Args:
        loss: the output (usually a scalar loss) whose graph is drawn.
        max_nodes: graphs with more tensors than this are collapsed by repeated structure,
            and a collapsed drawing shows at most this many boxes.
        collapse: force collapsing on (True) or off (False); by default it depends on size.
        gradients: show the gradient of ``loss`` with respect to every box's tensor, computed
            with ``chainrule.grad(..., retain_graph=True)`` (never touching ``.grad``).
        rankdir: Graphviz direction; "BT" draws inputs at the bottom and the loss on top.
        title: a caption for the drawing.
        params: names for tensors, e.g. ``dict(model.named_parameters())`` (as torchviz's
            ``make_dot``); the tensors are not changed. Dotted names (``0.weight``) group
            a full drawing's boxes by module.

    Returns:
        a :class:`GraphDrawing`.
    """
    from ..tensor import Tensor

    if not isinstance(loss, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(loss).__name__}")
    view = build_view(loss, max_nodes=max_nodes, collapse=collapse, names=params)
    if gradients:
        _attach_gradients(loss, view)
    return GraphDrawing(view, to_dot(view, rankdir=rankdir, title=title))


def _attach_gradients(loss: Tensor, view: GraphView) -> None:
    from ..autograd import grad

    if not loss.requires_grad:
        view.note = "no gradients: the output does not require grad"
        return
    if loss.data.size != 1:
        view.note = f"no gradients: the output has shape {shape_text(loss.shape)}, not a scalar"
        return
    boxes = [b for b in view.boxes if b.tensor is not None and b.tensor.requires_grad]
    try:
        found = grad(loss, [b.tensor for b in boxes], retain_graph=True,  # type: ignore[misc]
                     allow_unused=True)
    except GraphError as exc:
        view.note = f"no gradients: {exc}"
        return
    for box, g in zip(boxes, found):
        box.gradient = None if g is None else g.data


def _box_label(box: Box) -> str:
    rows = [f'<TR><TD BGCOLOR="{FILL.get(box.kind, "#ffffff")}"><B>{escape(box.title)}</B>'
            "</TD></TR>"]
    t = box.tensor
    details = []
    if box.names:
        shown = ", ".join(box.names[:3]) + (f", … ({len(box.names)})" if len(box.names) > 3
                                             else "")
        details.append(f"<B>{escape(shown)}</B>")
    if box.parallel > 1:
        details.append(f"{box.parallel} parallel")
    if box.kind == "repeat" or box.parallel > 1:
        details.append(f"{box.count} tensors")
    if t is not None:
        details.append(shape_text(t.shape))
        details += _value_lines("value", t.data)
        if box.gradient is not None:
            details += _value_lines("grad", box.gradient)
    rows += [f"<TR><TD>{d}</TD></TR>" for d in details]
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(
        rows) + "</TABLE>>"


def _value_lines(label: str, data: Any) -> list[str]:
    """A small matrix one row per line (``value [1, 1, 1]`` then ``[1, 1, 1]``, ...)."""
    lines = format_rows(data)
    return [escape(f"{label} {lines[0]}")] + [escape(line) for line in lines[1:]]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(view: GraphView, rankdir: str = "BT", title: str | None = None) -> str:
    """The DOT text of a graph view: one ``nK`` node per box, one edge per arrow."""
    lines = ["digraph chainrule {",
             f"  graph [rankdir={rankdir}, fontname=Helvetica, fontsize=11, nodesep=0.3, "
             "ranksep=0.45];",
             '  node [shape=box, style="rounded", fontname=Helvetica, fontsize=10, margin=0.05];',
             "  edge [fontname=Helvetica, fontsize=9, color=\"#555555\", fontcolor=\"#333333\"];"]
    caption = title or ""
    if view.collapsed:
        caption += (f"{' · ' if caption else ''}collapsed: {view.tensors} tensors, "
                    f"{view.edges} edges shown as {len(view.boxes)} boxes")
    if view.note:
        caption += f"{' · ' if caption else ''}{view.note}"
    if caption:
        lines.append(f"  label={_quote(caption)}; labelloc=t;")
    modules: dict[str, list[int]] = {}
    for i, box in enumerate(view.boxes):
        modules.setdefault(box.module, []).append(i)
    for number, (module, members) in enumerate(modules.items()):
        indent = "    " if module else "  "
        if module:
            lines.append(f'  subgraph "cluster_{number}" {{')
            lines.append(f'    label={_quote(module)}; style="rounded,dashed"; '
                         'color="#999999"; fontsize=10;')
        for i in members:
            box = view.boxes[i]
            style = ' style="rounded,dashed"' if box.kind == "more" else ""
            peripheries = " peripheries=2" if box.kind == "repeat" else ""
            lines.append(f"{indent}n{i} [label={_box_label(box)}{style}{peripheries}];")
        if module:
            lines.append("  }")
    for a in view.arrows:
        label = "\n".join(a.labels[:3] + (["…"] if len(a.labels) > 3 else []))
        if a.count > 1:
            label += f"\n×{a.count}"
        if not a.differentiable:
            label, extra = "", ' style=dashed color="#aaaaaa"'
        else:
            extra = ""
        attrs = f" [label={_quote(label)}{extra}]" if label or extra else ""
        lines.append(f"  n{a.source} -> n{a.target}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"
