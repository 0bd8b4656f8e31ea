"""Symbolic formulas for the explainer, in one namespace: :mod:`.expr` (nodes, parsing,
simplifying, evaluating), :mod:`.calculus` (textbook derivatives, slips) and :mod:`.notation`
(text, LaTeX and MathML).

>>> e = simplify(substitute(parse("out * (1 - out)"), {"out": Sym("y", "y", value=0.5)}))
>>> to_text(e), to_text(e, numbers=True), float(evaluate(e))
('y·(1 − y)', '0.5·(1 − 0.5)', 0.25)
"""

from __future__ import annotations

from .calculus import TEXTBOOK, derivative, expand, mutations
from .expr import (
    Bin,
    Cmp,
    Expr,
    Fn,
    More,
    Neg,
    Num,
    Partial,
    Seq,
    Sym,
    Text,
    Unsupported,
    Var,
    children,
    evaluate,
    parse,
    rebuild,
    simplify,
    substitute,
)
from .notation import (
    format_number,
    latex_number,
    mathml_number,
    mathml_sym,
    to_latex,
    to_mathml,
    to_text,
)

__all__ = [
    "TEXTBOOK", "Bin", "Cmp", "Expr", "Fn", "More", "Neg", "Num", "Partial", "Seq", "Sym",
    "Text", "Unsupported", "Var", "children", "derivative", "evaluate", "expand",
    "format_number", "latex_number", "mathml_number", "mathml_sym", "mutations", "parse",
    "rebuild", "simplify", "substitute", "to_latex", "to_mathml", "to_text",
]
