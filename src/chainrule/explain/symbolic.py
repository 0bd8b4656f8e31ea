"""Small symbolic expressions: the registry's formula strings, substituted, simplified, printed.

A formula such as ``"out * (1 - out)"`` is parsed with :mod:`ast` into :class:`Expr` nodes; the
op's variable names are replaced by the scalar quantities of one element pair (``y``,
``w211``...), constants are folded, and the result is rendered as Unicode text, LaTeX or MathML,
either with symbols or with their numbers. :func:`derivative` differentiates an op's ``expr``
symbolically (used to generate the textbook forms a person may have written by hand) and
:func:`mutations` lists the common ways a hand derivation goes wrong.

>>> e = simplify(substitute(parse("out * (1 - out)"), {"out": Sym("y", "y", value=0.5)}))
>>> to_text(e), to_text(e, numbers=True), float(evaluate(e))
('y·(1 − y)', '0.5·(1 − 0.5)', 0.25)
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from html import escape
from typing import Any

import numpy as np

from ..ops.backends import NUMPY


# ---- expression nodes ---------------------------------------------------------------------
@dataclass(frozen=True)
class Expr:
    """Base class of expression nodes (immutable, compared structurally)."""


@dataclass(frozen=True)
class Num(Expr):
    value: float


@dataclass(frozen=True)
class Var(Expr):
    """A formula variable not yet substituted: an op input name, ``out`` or a parameter."""

    name: str


@dataclass(frozen=True)
class Sym(Expr):
    """A named scalar quantity: ``text`` for terminals, ``latex`` for math, its ``value``.

    ``base``/``sub`` give the MathML form (``w`` with subscript ``111``); ``index`` an extra
    0-based index shown after it (automatic names such as ``v3[0,1]``).
    """

    text: str
    latex: str
    base: str = ""
    sub: str = ""
    index: str = ""
    value: float = math.nan


@dataclass(frozen=True)
class Bin(Expr):
    op: str   # + - * / ** & |
    a: Expr
    b: Expr


@dataclass(frozen=True)
class Neg(Expr):
    a: Expr


@dataclass(frozen=True)
class Cmp(Expr):
    """A comparison, shown as an Iverson bracket: [a > 0] is 1 when true, else 0."""

    op: str
    a: Expr
    b: Expr


@dataclass(frozen=True)
class Fn(Expr):
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Partial(Expr):
    """∂top/∂bottom."""

    top: Sym
    bottom: Sym


@dataclass(frozen=True)
class Text(Expr):
    """A template the explainer cannot parse: printed verbatim, evaluated as ``value``."""

    text: str
    value: float


@dataclass(frozen=True)
class Seq(Expr):
    """A chain of factors (``op`` "·") or a sum of terms (``op`` "+"), spaced out for reading."""

    op: str
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class More(Expr):
    """The summary of terms not shown: ``… 120 more terms (sum 0.0123)``."""

    count: int
    value: float
    what: str = "terms"


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.BitAnd: "&", ast.BitOr: "|"}
_CMPOPS = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<=", ast.Eq: "==",
           ast.NotEq: "!="}


class Unsupported(ValueError):
    """A formula uses syntax outside the derivative vocabulary."""


def parse(source: str, resolve: Callable[[ast.Subscript], Expr] | None = None) -> Expr:
    """Parse a formula string; ``resolve`` turns subscripts such as ``y[1, 0]`` into nodes."""
    return _convert(ast.parse(source.strip(), mode="eval").body, resolve)


def _convert(node: ast.AST, resolve: Callable[[ast.Subscript], Expr] | None) -> Expr:
    conv = lambda n: _convert(n, resolve)  # noqa: E731
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool)):
        return Num(float(node.value))
    if isinstance(node, ast.Name):
        return Var(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return Bin(_BINOPS[type(node.op)], conv(node.left), conv(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return Neg(conv(node.operand))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
        return conv(node.operand)
    if (isinstance(node, ast.Compare) and len(node.ops) == 1
            and type(node.ops[0]) in _CMPOPS):
        return Cmp(_CMPOPS[type(node.ops[0])], conv(node.left), conv(node.comparators[0]))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return Fn(node.func.id, tuple(conv(a) for a in node.args))
    if isinstance(node, ast.Subscript) and resolve is not None:
        return resolve(node)
    raise Unsupported(f"cannot read {ast.unparse(node)!r} as a formula")


# ---- substitution, folding, evaluation --------------------------------------------------
def children(e: Expr) -> tuple[Expr, ...]:
    if isinstance(e, (Bin, Cmp)):
        return (e.a, e.b)
    if isinstance(e, Neg):
        return (e.a,)
    if isinstance(e, Fn):
        return e.args
    return ()


def rebuild(e: Expr, new: tuple[Expr, ...]) -> Expr:
    if isinstance(e, (Bin, Cmp)):
        return replace(e, a=new[0], b=new[1])
    if isinstance(e, Neg):
        return Neg(new[0])
    if isinstance(e, Fn):
        return Fn(e.name, new)
    return e


def substitute(e: Expr, env: Mapping[str, Expr]) -> Expr:
    """Replace variables by expressions."""
    if isinstance(e, Var):
        return env.get(e.name, e)
    kids = children(e)
    return rebuild(e, tuple(substitute(k, env) for k in kids)) if kids else e


#: The formula vocabulary over NumPy (the engine's own backend) plus comparison helpers.
_NP: dict[str, Any] = {name: getattr(NUMPY, name) for name in
                       ("exp", "log", "log1p", "sqrt", "sign", "where", "sigmoid", "tanh", "abs")}
_NP_BIN: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power,
    "&": np.logical_and, "|": np.logical_or}
_NP_CMP: dict[str, Callable[[Any, Any], Any]] = {
    ">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal,
    "==": np.equal, "!=": np.not_equal}


def evaluate(e: Expr, env: Mapping[str, Any] | None = None) -> Any:
    """The value of ``e``; variables come from ``env`` (arrays allowed: evaluated elementwise)."""
    with np.errstate(all="ignore"):
        return _eval(e, env or {})


def _eval(e: Expr, env: Mapping[str, Any]) -> Any:
    if isinstance(e, Num):
        return e.value
    if isinstance(e, Sym):
        return e.value
    if isinstance(e, (Text, More)):
        return e.value
    if isinstance(e, Seq):
        values = [_eval(item, env) for item in e.items]
        return np.prod(values) if e.op == "·" else np.sum(values)
    if isinstance(e, Var):
        return env[e.name]
    if isinstance(e, Bin):
        a, b = _eval(e.a, env), _eval(e.b, env)
        if e.op in "&|":
            a, b = np.asarray(a) != 0, np.asarray(b) != 0
        return _NP_BIN[e.op](a, b)
    if isinstance(e, Neg):
        return np.negative(_eval(e.a, env))
    if isinstance(e, Cmp):
        return _NP_CMP[e.op](_eval(e.a, env), _eval(e.b, env)).astype(np.float64)
    if isinstance(e, Fn):
        if e.name not in _NP:
            raise Unsupported(f"unknown function {e.name!r} in a formula")
        return _NP[e.name](*[_eval(a, env) for a in e.args])
    raise Unsupported(f"cannot evaluate {e!r}")


def _constant(e: Expr) -> bool:
    return isinstance(e, Num) or (bool(children(e)) and all(_constant(k) for k in children(e)))


def _fraction(e: Expr) -> bool:
    """1/128 stays a fraction: it says what it is (one over the count) better than 7.8e-3."""
    return (isinstance(e, Bin) and e.op == "/" and isinstance(e.a, Num) and isinstance(e.b, Num)
            and e.a.value == int(e.a.value) and e.b.value == int(e.b.value)
            and e.b.value != 0 and e.a.value % e.b.value != 0)


def simplify(e: Expr) -> Expr:
    """Fold constants and drop neutral elements (1·a, a^1, 0 + a, −(−a))."""
    kids = children(e)
    if not kids:
        return e
    e = rebuild(e, tuple(simplify(k) for k in kids))
    if _fraction(e):
        return e
    if _constant(e) and not isinstance(e, Cmp):
        value = float(evaluate(e))
        if math.isfinite(value):
            return Num(value) if value >= 0 else Neg(Num(-value))
    if isinstance(e, Neg):
        if isinstance(e.a, Neg):
            return e.a.a
        if e.a == Num(0.0):
            return e.a
    if isinstance(e, Bin):
        a, b = e.a, e.b
        if e.op == "*":
            if a == Num(1.0):
                return b
            if b == Num(1.0):
                return a
            if Num(0.0) in (a, b):
                return Num(0.0)
            if isinstance(b, Neg):
                return simplify(Neg(Bin("*", a, b.a)))
            if isinstance(a, Neg):
                return simplify(Neg(Bin("*", a.a, b)))
            if b == Neg(Num(1.0)):
                return simplify(Neg(a))
        if e.op == "/":
            if b == Num(1.0):
                return a
            if isinstance(a, Neg):
                return simplify(Neg(Bin("/", a.a, b)))
        if e.op == "**" and b == Num(1.0):
            return a
        if e.op == "+":
            if a == Num(0.0):
                return b
            if b == Num(0.0):
                return a
            if isinstance(b, Neg):
                return Bin("-", a, b.a)
        if e.op == "-":
            if b == Num(0.0):
                return a
            if a == Num(0.0):
                return simplify(Neg(b))
            if isinstance(b, Neg):
                return Bin("+", a, b.a)
    return e


# ---- symbolic differentiation (textbook forms) -----------------------------------------
#: Definitions of the vocabulary functions in terms of exp, as a textbook writes them; the
#: hand derivations a person compares against start from these.
TEXTBOOK = {
    "sigmoid": "1 / (1 + exp(-u))",
    "tanh": "(exp(u) - exp(-u)) / (exp(u) + exp(-u))",
}


def expand(e: Expr) -> Expr:
    """Replace sigmoid/tanh by their textbook definitions."""
    kids = children(e)
    if not kids:
        return e
    e = rebuild(e, tuple(expand(k) for k in kids))
    if isinstance(e, Fn) and e.name in TEXTBOOK:
        return substitute(parse(TEXTBOOK[e.name]), {"u": e.args[0]})
    return e


def derivative(e: Expr, var: str) -> Expr:
    """d e / d var, for the differentiable part of the vocabulary (raises Unsupported else)."""
    return simplify(_d(e, var))


def _d(e: Expr, v: str) -> Expr:
    if isinstance(e, Var):
        return Num(1.0 if e.name == v else 0.0)
    if isinstance(e, (Num, Sym, Text)):
        return Num(0.0)
    if isinstance(e, Neg):
        return Neg(_d(e.a, v))
    if isinstance(e, Bin):
        a, b = e.a, e.b
        da, db = simplify(_d(a, v)), simplify(_d(b, v))
        if e.op in "+-":
            return Bin(e.op, da, db)
        if e.op == "*":
            return Bin("+", Bin("*", da, b), Bin("*", a, db))
        if e.op == "/":
            if db == Num(0.0):
                return Bin("/", da, b)
            return Bin("/", Bin("-", Bin("*", da, b), Bin("*", a, db)), Bin("**", b, Num(2.0)))
        if e.op == "**" and db == Num(0.0):
            return Bin("*", Bin("*", b, Bin("**", a, Bin("-", b, Num(1.0)))), da)
        if e.op == "**":
            return Bin("*", e, Bin("+", Bin("*", db, Fn("log", (a,))),
                                   Bin("/", Bin("*", b, da), a)))
    if isinstance(e, Fn) and len(e.args) == 1:
        u = e.args[0]
        du = simplify(_d(u, v))
        outer = {"exp": lambda: e, "log": lambda: Bin("/", Num(1.0), u),
                 "log1p": lambda: Bin("/", Num(1.0), Bin("+", Num(1.0), u)),
                 "sqrt": lambda: Bin("/", Num(1.0), Bin("*", Num(2.0), e)),
                 "abs": lambda: Fn("sign", (u,))}.get(e.name)
        if outer is not None:
            return Bin("*", outer(), du)
    raise Unsupported(f"no symbolic derivative for {to_text(e)}")


# ---- mutations: the usual slips of a hand derivation -----------------------------------
def mutations(e: Expr) -> Iterator[tuple[str, Expr]]:
    """Every single-slip variant of ``e``, with a short description of the slip."""
    yield from _mutate(e, lambda x: x)


def _mutate(e: Expr, wrap: Callable[[Expr], Expr]) -> Iterator[tuple[str, Expr]]:
    if isinstance(e, Bin) and e.op == "**" and isinstance(e.b, Num):
        n = e.b.value
        if n == 2:
            yield "a missing square", wrap(e.a)
        elif n != 1:
            yield f"the power {_num_text(n)} written as {_num_text(n - 1)}", \
                wrap(Bin("**", e.a, Num(n - 1)))
        yield f"the power {_num_text(n)} written as {_num_text(n + 1)}", \
            wrap(Bin("**", e.a, Num(n + 1)))
    if isinstance(e, Bin) and e.op == "*":
        yield f"the factor {to_text(e.a)} left out", wrap(e.b)
        yield f"the factor {to_text(e.b)} left out", wrap(e.a)
    if isinstance(e, Bin) and e.op == "/":
        yield f"the denominator {to_text(e.b)} left out", wrap(e.a)
        yield "the fraction upside down", wrap(Bin("/", e.b, e.a))
    if isinstance(e, Bin) and e.op in "+-":
        yield "a sign slip inside the formula", wrap(Bin("-" if e.op == "+" else "+", e.a, e.b))
    if isinstance(e, Neg):
        yield "a minus sign dropped", wrap(e.a)
    kids = children(e)
    for n, kid in enumerate(kids):
        def inner(x: Expr, n: int = n) -> Expr:
            return wrap(rebuild(e, (*kids[:n], x, *kids[n + 1:])))
        yield from _mutate(kid, inner)


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
        return self.text(f"… {e.count} more {e.what} (sum {format_number(e.value)})")

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
        return r"\text{" + t.replace("_", r"\_") + "}"

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
