r"""Notation: expressions as Unicode text, LaTeX or MathML, with symbols or with numbers.

>>> from .expr import Bin, Num, Sym
>>> e = Bin("*", Sym("y", "y", value=0.5), Bin("-", Num(1.0), Sym("y", "y", value=0.5)))
>>> to_text(e), to_text(e, numbers=True), to_latex(e)
('y·(1 − y)', '0.5·(1 − 0.5)', 'y \\cdot \\left(1 - y\\right)')
"""

from __future__ import annotations

import math
from html import escape

from .expr import Bin, Cmp, Expr, Fn, More, Neg, Num, Partial, Seq, Sym, Text, Var

# ---- rendering ----------------------------------------------------------------------------
_PREC = {"|": 0, "&": 0, "+": 1, "-": 1, "*": 2, "/": 2, "**": 4}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_FN_TEXT = {"sigmoid": "σ", "log1p": "log1p"}
_FN_LATEX = {"exp": r"\exp", "log": r"\log", "sigmoid": r"\sigma", "tanh": r"\tanh",
             "sqrt": r"\sqrt", "sign": r"\operatorname{sign}", "where": r"\operatorname{where}",
             "log1p": r"\operatorname{log1p}", "abs": r"\operatorname{abs}"}
_CMP_TEXT = {">": ">", "<": "<", ">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}
_CMP_LATEX = {">": ">", "<": "<", ">=": r"\ge", "<=": r"\le", "==": "=", "!=": r"\ne"}


def format_number(value: float, digits: int = 6) -> str:
    """A number as people write it: 2, 0.997527, 9.84164e-3 (six significant digits)."""
    v = float(value)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if 1e-2 <= abs(v) < 1e6:
        return f"{v:.{digits}g}"
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    return f"{mantissa}e{int(exponent)}"


def _num_text(v: float) -> str:
    return format_number(v).replace("-", "−")


def _prec(e: Expr, numbers: bool) -> int:
    if isinstance(e, Bin):
        return _PREC[e.op]
    if isinstance(e, Neg):
        return 3
    if isinstance(e, Num) and e.value < 0:
        return 3
    if isinstance(e, Sym) and numbers and e.value < 0:
        return 3
    if isinstance(e, Text):
        return 1 if not numbers and " " in e.text.strip() else 5
    if isinstance(e, Seq):
        return 2 if e.op == "·" else 1
    return 5


class _Renderer:
    """Shared structure of the three renderers; subclasses give the pieces."""

    numbers = False

    def __init__(self, numbers: bool) -> None:
        self.numbers = numbers

    def wrap(self, e: Expr, min_prec: int) -> str:
        s = self.render(e)
        return self.paren(s) if _prec(e, self.numbers) < min_prec else s

    def render(self, e: Expr) -> str:
        if isinstance(e, Num):
            return self.num(e.value)
        if isinstance(e, Sym):
            return self.num(e.value) if self.numbers else self.sym(e)
        if isinstance(e, Var):
            return self.var(e.name)
        if isinstance(e, Text):
            return self.num(e.value) if self.numbers else self.text(e.text)
        if isinstance(e, Partial):
            return self.partial(e)
        if isinstance(e, Seq):
            return self.seq(e)
        if isinstance(e, More):
            return self.more(e)
        if isinstance(e, Neg):
            return self.neg(self.wrap(e.a, 3))
        if isinstance(e, Cmp):
            return self.cmp(e.op, self.render(e.a), self.render(e.b))
        if isinstance(e, Fn):
            return self.fn(e.name, [self.render(a) for a in e.args], e.args)
        assert isinstance(e, Bin)
        p = _PREC[e.op]
        if e.op == "**":
            return self.power(self.wrap(e.a, 5), e.b)
        if e.op == "/":
            return self.div(e.a, e.b)
        left = self.wrap(e.a, p)
        # NOTE: a negative right operand is always bracketed: 2·(−1), a − (−1), a + (−1).
        right = self.wrap(e.b, 6 if _prec(e.b, self.numbers) == 3 else p + (e.op in "-*"))
        return self.binop(e.op, left, right)

    def seq(self, e: Seq) -> str:
        parts = []
        for n, item in enumerate(e.items):
            text = self.render(item)
            # NOTE: the spaced separator already groups products; a sum inside a chain, and
            # anything that starts with a minus after the first item, gets brackets.
            if _prec(item, self.numbers) < 2 or (n and self.negative(text)):
                text = self.paren(text)
            parts.append(text)
        return self.join(e.op, parts)

    def negative(self, s: str) -> bool:
        return s.startswith(("−", "-", "<mrow><mo>−</mo>"))

    def join(self, op: str, parts: list[str]) -> str:
        return (" · " if op == "·" else " + ").join(parts)

    def more(self, e: More) -> str:
        what = e.what[:-1] if e.count == 1 and e.what.endswith("s") else e.what
        return self.text(f"… {e.count} more {what} (sum {format_number(e.value)})")

    # Pieces, overridden below.
    def num(self, v: float) -> str: raise NotImplementedError
    def sym(self, s: Sym) -> str: raise NotImplementedError
    def var(self, name: str) -> str: raise NotImplementedError
    def text(self, t: str) -> str: raise NotImplementedError
    def partial(self, e: Partial) -> str: raise NotImplementedError
    def paren(self, s: str) -> str: raise NotImplementedError
    def neg(self, s: str) -> str: raise NotImplementedError
    def cmp(self, op: str, a: str, b: str) -> str: raise NotImplementedError
    def fn(self, name: str, args: list[str], raw: tuple[Expr, ...]) -> str:
        raise NotImplementedError
    def power(self, base: str, exponent: Expr) -> str: raise NotImplementedError
    def div(self, a: Expr, b: Expr) -> str: raise NotImplementedError
    def binop(self, op: str, a: str, b: str) -> str: raise NotImplementedError


class _Text(_Renderer):
    def num(self, v: float) -> str:
        return _num_text(v)

    def sym(self, s: Sym) -> str:
        return s.text

    def var(self, name: str) -> str:
        return name

    def text(self, t: str) -> str:
        return t

    def partial(self, e: Partial) -> str:
        return f"∂{e.top.text}/∂{e.bottom.text}"

    def paren(self, s: str) -> str:
        return f"({s})"

    def neg(self, s: str) -> str:
        return f"−{s}"

    def cmp(self, op: str, a: str, b: str) -> str:
        return f"[{a} {_CMP_TEXT[op]} {b}]"

    def fn(self, name: str, args: list[str], raw: tuple[Expr, ...]) -> str:
        if name == "abs":
            return f"|{args[0]}|"
        return f"{_FN_TEXT.get(name, name)}({', '.join(args)})"

    def power(self, base: str, exponent: Expr) -> str:
        if isinstance(exponent, Num) and exponent.value == int(exponent.value):
            return base + str(int(exponent.value)).translate(_SUPERSCRIPT)
        return f"{base}^{self.wrap(exponent, 5)}"

    def div(self, a: Expr, b: Expr) -> str:
        return f"{self.wrap(a, 2)}/{self.wrap(b, 3)}"

    def binop(self, op: str, a: str, b: str) -> str:
        symbol = {"+": " + ", "-": " − ", "*": "·", "&": "·", "|": " ∨ "}[op]
        return f"{a}{symbol}{b}"


_LATEX_TEXT = (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
               ("#", r"\#"), ("{", r"\{"), ("}", r"\}"), ("→", r"$\to$"), ("…", r"\dots{}"),
               ("—", "---"), ("·", r"$\cdot$"), ("∂", r"$\partial$"), ("Σ", r"$\Sigma$"),
               ("−", "-"), ("σ", r"$\sigma$"))


def latex_text(s: str) -> str:
    """Plain text for LaTeX: special characters escaped, the derivation's Unicode as math."""
    for a, b in _LATEX_TEXT:
        s = s.replace(a, b)
    return s


def latex_number(v: float) -> str:
    s = format_number(v)
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \times 10^{{{exponent}}}"
    return s


class _Latex(_Renderer):
    def num(self, v: float) -> str:
        return latex_number(v)

    def sym(self, s: Sym) -> str:
        return s.latex

    def var(self, name: str) -> str:
        return name

    def text(self, t: str) -> str:
        return r"\text{" + latex_text(t) + "}"

    def partial(self, e: Partial) -> str:
        return rf"\frac{{\partial {e.top.latex}}}{{\partial {e.bottom.latex}}}"

    def paren(self, s: str) -> str:
        return rf"\left({s}\right)"

    def neg(self, s: str) -> str:
        return f"-{s}"

    def cmp(self, op: str, a: str, b: str) -> str:
        return rf"[{a} {_CMP_LATEX[op]} {b}]"

    def fn(self, name: str, args: list[str], raw: tuple[Expr, ...]) -> str:
        if name == "exp":
            return f"e^{{{args[0]}}}"
        if name == "sqrt":
            return rf"\sqrt{{{args[0]}}}"
        if name == "abs":
            return rf"\left|{args[0]}\right|"
        return rf"{_FN_LATEX.get(name, name)}\left({', '.join(args)}\right)"

    def power(self, base: str, exponent: Expr) -> str:
        return f"{base}^{{{self.render(exponent)}}}"

    def div(self, a: Expr, b: Expr) -> str:
        return rf"\frac{{{self.render(a)}}}{{{self.render(b)}}}"

    def binop(self, op: str, a: str, b: str) -> str:
        symbol = {"+": " + ", "-": " - ", "*": r" \cdot ", "&": r" \cdot ", "|": r" \lor "}[op]
        return f"{a}{symbol}{b}"

    def join(self, op: str, parts: list[str]) -> str:
        return (r" \;\cdot\; " if op == "·" else " + ").join(parts)


def _mi(s: str) -> str:
    return f"<mi>{escape(s)}</mi>"


def _mn(s: str) -> str:
    return f"<mn>{escape(s)}</mn>"


def _mo(s: str) -> str:
    return f"<mo>{escape(s)}</mo>"


def mathml_sym(s: Sym) -> str:
    """A symbol as MathML: w with subscript 111, v3 followed by its index."""
    base = _mi(s.base or s.text)
    if s.sub:
        sub = _mn(s.sub) if s.sub.replace(",", "").isdigit() else _mi(s.sub)
        base = f"<msub>{base}{sub}</msub>"
    if s.index:
        base = f"<mrow>{base}{_mo('[')}{_mn(s.index)}{_mo(']')}</mrow>"
    return base


def mathml_number(v: float) -> str:
    s = format_number(v)
    neg = s.startswith("-")
    s = s.lstrip("-")
    if "e" in s:
        mantissa, exponent = s.split("e")
        body = (f"<mrow>{_mn(mantissa)}{_mo('×')}<msup>{_mn('10')}"
                f"{_mn(exponent.replace('-', '−'))}</msup></mrow>")
    else:
        body = _mn(s)
    return f"<mrow>{_mo('−')}{body}</mrow>" if neg else body


class _MathML(_Renderer):
    def num(self, v: float) -> str:
        return mathml_number(v)

    def sym(self, s: Sym) -> str:
        return mathml_sym(s)

    def var(self, name: str) -> str:
        return _mi(name)

    def text(self, t: str) -> str:
        return f"<mtext>{escape(t)}</mtext>"

    def partial(self, e: Partial) -> str:
        return (f"<mfrac><mrow>{_mo('∂')}{mathml_sym(e.top)}</mrow>"
                f"<mrow>{_mo('∂')}{mathml_sym(e.bottom)}</mrow></mfrac>")

    def paren(self, s: str) -> str:
        return f"<mrow>{_mo('(')}{s}{_mo(')')}</mrow>"

    def neg(self, s: str) -> str:
        return f"<mrow>{_mo('−')}{s}</mrow>"

    def cmp(self, op: str, a: str, b: str) -> str:
        return f"<mrow>{_mo('[')}{a}{_mo(_CMP_TEXT[op])}{b}{_mo(']')}</mrow>"

    def fn(self, name: str, args: list[str], raw: tuple[Expr, ...]) -> str:
        if name == "exp":
            return f"<msup>{_mi('e')}<mrow>{args[0]}</mrow></msup>"
        if name == "sqrt":
            return f"<msqrt>{args[0]}</msqrt>"
        if name == "abs":
            return f"<mrow>{_mo('|')}{args[0]}{_mo('|')}</mrow>"
        inner = _mo(",").join(args)
        return f"<mrow>{_mi(_FN_TEXT.get(name, name))}{_mo('(')}{inner}{_mo(')')}</mrow>"

    def power(self, base: str, exponent: Expr) -> str:
        return f"<msup>{base}<mrow>{self.render(exponent)}</mrow></msup>"

    def div(self, a: Expr, b: Expr) -> str:
        return f"<mfrac><mrow>{self.render(a)}</mrow><mrow>{self.render(b)}</mrow></mfrac>"

    def binop(self, op: str, a: str, b: str) -> str:
        symbol = {"+": "+", "-": "−", "*": "⋅", "&": "⋅", "|": "∨"}[op]
        return f"<mrow>{a}{_mo(symbol)}{b}</mrow>"

    def join(self, op: str, parts: list[str]) -> str:
        sep = '<mo lspace="0.4em" rspace="0.4em">⋅</mo>' if op == "·" else _mo("+")
        return f"<mrow>{sep.join(parts)}</mrow>"


def to_text(e: Expr, numbers: bool = False) -> str:
    """Unicode text: ``2·(y − t)``; with ``numbers`` every symbol shows its value."""
    return _Text(numbers).render(e)


def to_latex(e: Expr, numbers: bool = False) -> str:
    """LaTeX math (no surrounding dollars)."""
    return _Latex(numbers).render(e)


def to_mathml(e: Expr, numbers: bool = False) -> str:
    """Presentation MathML (the inside of a ``<math>`` element)."""
    return _MathML(numbers).render(e)
