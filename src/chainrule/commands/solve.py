"""``chainrule solve FILE``: the full worked solution of a network file.

The forward pass with every intermediate, the loss, each weight's gradient with its chain-rule
derivation and check (all weights and biases, or the ones named with ``--wrt``), and the
weights after one gradient-descent step, as text, Markdown, LaTeX or a standalone HTML page.
The derivations come from :mod:`chainrule.explain`; this module only lays the solution out.

    chainrule solve examples/seed.toml
    chainrule solve examples/biases.toml --wrt w111,w211 --format markdown --out biases.md
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from . import add_output_arguments, write_output

if TYPE_CHECKING:
    from ..explain import Derivation
    from ..network import BuiltNetwork, NetworkSpec
    from ..tensor import Tensor

FORMATS = ("text", "markdown", "latex", "html")
VIEWS = ("auto", "chain", "backprop")
#: Without --wrt, solve derives every weight and bias of networks up to this size.
MAX_DEFAULT_ELEMENTS = 256
#: Matrices larger than this many rows or columns are shown with their corners only.
MAX_CELLS = 8


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "solve", help="the worked solution of a network file: forward pass, gradients with "
                      "their derivations, one gradient-descent step",
        description="Solve the exercise a network file (TOML, see examples/seed.toml) "
                    "describes: the forward pass with every intermediate, the loss, each "
                    "weight's gradient with its chain-rule derivation checked against autograd "
                    "and a central difference, and the weights after one gradient-descent "
                    "step.")
    parser.add_argument("file", metavar="FILE", help="a network file, e.g. examples/seed.toml")
    parser.add_argument("--wrt", metavar="NAMES",
                        help="comma-separated elements to derive, e.g. w111,w211 (w_lij: layer "
                             "l, from unit i to unit j; b_lj for biases; h_1 for a value); "
                             "default: every weight and bias")
    add_format_arguments(parser)
    add_output_arguments(parser)
    parser.set_defaults(run=run)


def add_format_arguments(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--view``, shared with ``chainrule explain``."""
    parser.add_argument("--format", "-f", choices=FORMATS, default="text",
                        help="text (default), markdown (GitHub math), latex (a document) or "
                             "html (a standalone page, math rendered offline)")
    parser.add_argument("--view", choices=VIEWS, default="auto",
                        help="chain: one product of local derivatives per path; backprop: node "
                             "by node from the loss; auto (default): chain when paths are few")


def run(args: argparse.Namespace) -> int:
    from ..explain import explain
    from ..network import load_network

    net = load_network(args.file).build()
    targets = resolve_elements(net, args.wrt, args.file)
    derivations = [explain(net.loss, tensor, index, view=args.view)
                   for _, tensor, index in targets]
    document = solution(net, derivations, args.format)
    emit(document, args)
    return 0


# ---- elements ----------------------------------------------------------------------------------
def resolve_elements(net: BuiltNetwork, wrt: str | None, source: str
                     ) -> list[tuple[str, Tensor, tuple[int, ...]]]:
    """``(name, tensor, index)`` for each comma-separated element name (default: all weights).

    Names are the seed's (``w111``, ``b21``, ``h_1``) or the code's (``W1[0, 0]``): weights,
    biases and the intermediate values a, h, y_in, y. An unknown name raises one ValueError
    listing the valid ones, tensor by tensor.
    """
    from ..explain import element_name, find_element

    if not wrt:
        total = sum(t.size for t in net.params.values())
        if total > MAX_DEFAULT_ELEMENTS:
            raise ValueError(f"{source}: the network has {total:,} weights and biases, too many "
                             "to derive one by one; choose some with --wrt, e.g. --wrt "
                             f"{element_name(next(iter(net.params.values())), 0)}")
        return [(element_name(t, i), t, i) for t in net.params.values()
                for i in np.ndindex(t.shape)]
    tensors = [t for name, t in net.named_tensors().items() if t.requires_grad and name != "L"]
    chosen = []
    for query in split_names(wrt):
        try:
            tensor, index = find_element(tensors, query)
        except KeyError as exc:
            reason = str(exc.args[0]).split(";")[0]
            raise ValueError(f"{source}: {reason}; valid names: {valid_names(tensors)}"
                             ) from None
        chosen.append((element_name(tensor, index), tensor, index))
    return chosen


def split_names(wrt: str) -> list[str]:
    """``"w111, w1,30,20,W1[0, 1]"`` -> ``["w111", "w1,30,20", "W1[0, 1]"]``.

    NOTE: commas also sit inside names: in a code index (``W1[0, 1]``) and between indices of
    10 or more (``w1,30,20``). A name starts with a letter, so a piece that starts with a digit
    continues the name before it.
    """
    names: list[str] = []
    for piece in (p.strip() for p in re.split(r",(?![^\[]*\])", wrt)):
        if names and piece[:1].isdigit():
            names[-1] += "," + piece
        elif piece:
            names.append(piece)
    return names


def valid_names(tensors: list[Tensor]) -> str:
    """The element names of ``tensors``, one range per tensor: ``W1: w111..w143; W2: ...``."""
    from ..explain import element_name

    parts = []
    for tensor in tensors:
        first = element_name(tensor, (0,) * tensor.ndim)
        last = element_name(tensor, tuple(d - 1 for d in tensor.shape))
        parts.append(f"{tensor.name}: {first}" + (f"..{last}" if tensor.size > 1 else ""))
    return "; ".join(parts)


def emit(document: str, args: argparse.Namespace) -> None:
    """Write the document to ``--out`` (never over a file without ``--force``) or stdout."""
    if args.out:
        path = write_output(args.out, document, args.force)
        print(f"chainrule {args.command}: wrote {path}", file=sys.stderr)
    else:
        sys.stdout.write(document if document.endswith("\n") else document + "\n")


# ---- the solution ------------------------------------------------------------------------------
def solution(net: BuiltNetwork, derivations: list[Derivation], fmt: str) -> str:
    """The worked solution of a built network as one document in format ``fmt``."""
    spec = net.spec
    out = RENDERERS[fmt]()
    grads = net.gradients()
    text_rhs, latex_rhs = spec.formulas(), spec.formulas(latex=True)
    activations = ", ".join(spec.activations)
    out.paragraph(f"Network file {spec.source}: layer sizes {'-'.join(map(str, spec.sizes))}, "
                  f"activations {activations}, {'with' if spec.bias else 'no'} biases, "
                  f"{_loss_words(spec)}, learning rate {spec.learning_rate:g}. "
                  f"{len(spec.x)} example{'s' if len(spec.x) != 1 else ''}, float64.")

    out.heading("1. Forward pass")
    for name, tensor in net.named_tensors().items():
        out.equation(name, text_rhs.get(name, ""), latex_rhs.get(name, ""), tensor.data)

    out.heading("2. Gradients")
    out.paragraph("By autograd (each entry is derived below):")
    for name in net.params:
        out.equation(f"dL/d{name}", "", "", grads[name], latex_lhs=_partial(name))
    for d in derivations:
        out.derivation(d)
    worst = max((_relative(d.value, d.autograd) for d in derivations), default=0.0)
    worst_fd = max((_relative(d.value, d.numeric) for d in derivations), default=0.0)
    count = f"{len(derivations)} derivation{'s' if len(derivations) != 1 else ''}"
    out.paragraph(f"Checked {count}: largest relative difference {worst:.1e} from autograd "
                  f"and {worst_fd:.1e} from a float64 central difference.")

    lr = spec.learning_rate
    out.heading(f"3. One gradient-descent step (learning rate {lr:g})")
    for name, value in net.step().items():
        out.equation(f"{name} - {lr:g} dL/d{name}", "", "", value,
                     latex_lhs=rf"{_symbol(name)} - {lr:g}\,{_partial(name)}")
    return out.finish(spec.title)


def _loss_words(spec: NetworkSpec) -> str:
    """``squared error with 1/2, averaged`` (the formula itself is in the forward pass)."""
    if spec.loss_kind == "cross_entropy":
        return f"cross-entropy {'summed' if spec.reduction == 'sum' else 'averaged'} over examples"
    half = " with 1/2" if spec.half else ""
    return f"squared error{half}, {'summed' if spec.reduction == 'sum' else 'averaged'}"


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), np.finfo(np.float64).tiny)


def _symbol(name: str) -> str:
    from ..network import latex_symbol

    return latex_symbol(name)


def _partial(name: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {_symbol(name)}}}"


# ---- numbers -----------------------------------------------------------------------------------
def number(value: float) -> str:
    """Seven significant digits in the explainer's style (0.9975274, 9.841643e-3)."""
    from ..explain.symbolic import format_number

    return format_number(value, 7)


def latex_number(value: float) -> str:
    return re.sub(r"e(-?\d+)$", r" \\times 10^{\1}", number(value))


def cells(value: np.ndarray, fmt: Any = number) -> list[list[str]]:
    """A 0-, 1- or 2-D array as rows of formatted cells, corners only past MAX_CELLS.

    NOTE: a vector is one row (how the network's row-vector layout writes it).
    """
    array = np.atleast_2d(np.asarray(value, dtype=np.float64))
    rows = [None if i is None else _cut(list(array[i]), fmt, "…")
            for i in _cut_range(array.shape[0])]
    return [r if r is not None else ["⋮"] * len(rows[0]) for r in rows]


def _cut_range(n: int) -> list[int | None]:
    if n <= MAX_CELLS:
        return list(range(n))
    return [*range(MAX_CELLS - 2), None, n - 1]


def _cut(row: list[float] | None, fmt: Any, gap: str) -> list[str] | None:
    if row is None:
        return None
    keep = _cut_range(len(row))
    return [gap if k is None else fmt(row[k]) for k in keep]


# ---- renderers ---------------------------------------------------------------------------------
class TextRenderer:
    """Aligned plain text for the terminal."""

    fmt = "text"

    def __init__(self) -> None:
        self.parts: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        rule = "=" if level == 1 else "-" if level == 2 else ""
        self.parts.append(f"\n{text}\n{rule * len(text)}".rstrip())

    def paragraph(self, text: str, wrap: bool = True) -> None:
        self.parts.append(textwrap.fill(text, 96) if wrap else text)

    def equation(self, name: str, rhs: str, rhs_latex: str, value: np.ndarray,
                 latex_lhs: str | None = None) -> None:
        head = f"{name} = {rhs} = " if rhs else f"{name} = "
        if np.ndim(value) == 0:
            self.parts.append(f"{head}{number(value)}")
            return
        rows = cells(value)
        width = max(len(c) for row in rows for c in row)
        lines = ["[" + "  ".join(c.rjust(width) for c in row) + "]" for row in rows]
        shape = "x".join(map(str, np.shape(value)))
        pad = " " * len(head)
        lines[0] = f"{head}{lines[0]}   ({shape})"
        self.parts.append("\n".join([lines[0], *(pad + ln for ln in lines[1:])]))

    def derivation(self, d: Derivation) -> None:
        self.parts.append("\n" + d.to_text().rstrip() + "\n")

    def finish(self, title: str | None) -> str:
        head = [title, "=" * len(title)] if title else []
        return "\n".join([*head, *self.parts]).strip("\n") + "\n"


class MarkdownRenderer(TextRenderer):
    """Markdown with LaTeX math in ``$$`` blocks, as GitHub renders it."""

    fmt = "markdown"

    def heading(self, text: str, level: int = 2) -> None:
        self.parts.append(f"{'#' * level} {text}")

    def equation(self, name: str, rhs: str, rhs_latex: str, value: np.ndarray,
                 latex_lhs: str | None = None) -> None:
        self.parts.append(f"$$\n{latex_equation(name, rhs_latex, value, latex_lhs)}\n$$")

    def derivation(self, d: Derivation) -> None:
        self.parts.append(d.to_markdown().rstrip())

    def finish(self, title: str | None) -> str:
        head = [f"# {title}"] if title else []
        return "\n\n".join([*head, *self.parts]) + "\n"


class LatexRenderer(TextRenderer):
    """A LaTeX document (article, amsmath) that pdflatex compiles as it is."""

    fmt = "latex"

    def heading(self, text: str, level: int = 2) -> None:
        command = "section" if level <= 2 else "subsection"
        self.parts.append(rf"\{command}*{{{latex_escape(text)}}}")

    def paragraph(self, text: str, wrap: bool = True) -> None:
        self.parts.append(latex_escape(text))

    def equation(self, name: str, rhs: str, rhs_latex: str, value: np.ndarray,
                 latex_lhs: str | None = None) -> None:
        self.parts.append(f"\\[\n{latex_equation(name, rhs_latex, value, latex_lhs)}\n\\]")

    def derivation(self, d: Derivation) -> None:
        self.parts.append(d.to_latex().rstrip())

    def finish(self, title: str | None) -> str:
        preamble = ["\\documentclass{article}", "\\usepackage{amsmath,amssymb}",
                    "\\usepackage[margin=2cm]{geometry}", "\\usepackage[utf8]{inputenc}",
                    "\\setcounter{MaxMatrixCols}{20}"]
        if title:
            preamble.append(f"\\title{{{latex_escape(title)}}}\\date{{}}")
        body = ["\\begin{document}", *(["\\maketitle"] if title else []), *self.parts,
                "\\end{document}"]
        return "\n".join(preamble) + "\n" + "\n\n".join(body) + "\n"


class HtmlRenderer(TextRenderer):
    """One standalone HTML page; derivations are the explainer's fragments, matrices tables."""

    fmt = "html"

    def heading(self, text: str, level: int = 2) -> None:
        self.parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str, wrap: bool = True) -> None:
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def equation(self, name: str, rhs: str, rhs_latex: str, value: np.ndarray,
                 latex_lhs: str | None = None) -> None:
        head = html.escape(f"{name} = {rhs}" if rhs else name)
        if np.ndim(value) == 0:
            body = f"<span class='num'>{number(value)}</span>"
        else:
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row)
                           + "</tr>" for row in cells(value))
            body = f"<table class='matrix'>{rows}</table>"
        self.parts.append(f"<div class='equation'><span class='lhs'>{head}</span> = {body}</div>")

    def derivation(self, d: Derivation) -> None:
        self.parts.append(d.to_html(standalone=False))

    def finish(self, title: str | None) -> str:
        from ..explain.render import to_html

        # NOTE: the page shell (and its style) is the explainer's standalone page, so a
        # solution and a single derivation look the same; MathML needs no script or network.
        shell = to_html([], standalone=True, title=title or "chainrule")
        head, tail = shell.split("</body>", 1)
        head = head.replace("</style>", CSS + "</style>", 1)
        heading = f"<h1>{html.escape(title)}</h1>\n" if title else ""
        return f"{head}{heading}" + "\n".join(self.parts) + f"\n</body>{tail}"


CSS = """
.equation { margin: 0.6em 0; display: flex; align-items: center; gap: 0.5em; }
.equation .lhs { font-family: "Latin Modern Math", "STIX Two Math", serif; font-size: 1.1em; }
table.matrix { border-left: 2px solid #444; border-right: 2px solid #444; border-radius: 5px;
               border-collapse: separate; margin: 0; font-variant-numeric: tabular-nums; }
table.matrix td { border: none; padding: 0.1em 0.6em; text-align: right; }
"""

RENDERERS: dict[str, type[TextRenderer]] = {
    "text": TextRenderer, "markdown": MarkdownRenderer, "latex": LatexRenderer,
    "html": HtmlRenderer,
}


def latex_equation(name: str, rhs_latex: str, value: np.ndarray,
                   latex_lhs: str | None = None) -> str:
    """``lhs = rhs = value`` in LaTeX, the value as a bmatrix (or a number)."""
    lhs = latex_lhs if latex_lhs is not None else _symbol(name)
    if np.ndim(value) == 0:
        shown = latex_number(value)
    else:
        rows = cells(value, latex_number)
        body = r" \\ ".join(" & ".join(c.replace("…", r"\cdots").replace("⋮", r"\vdots")
                                       for c in row) for row in rows)
        shown = rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"
    return " = ".join(p for p in (lhs, rhs_latex, shown) if p)


def latex_escape(text: str) -> str:
    """Plain text for LaTeX: special characters escaped, the math symbols a verdict uses
    (∂, −, ², ·, →) written as math, so that pdflatex compiles it without Unicode fonts."""
    table = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
             "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
             "^": r"\textasciicircum{}", "∂": r"$\partial$", "−": "-", "²": r"$^2$",
             "·": r"$\cdot$", "→": r"$\to$", "…": r"\dots{}", "Σ": r"$\Sigma$"}
    return "".join(table.get(c, c) for c in text)
