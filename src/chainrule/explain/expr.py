"""Expressions: the registry's formula strings parsed, substituted, simplified, evaluated.

A formula such as ``"out * (1 - out)"`` is parsed with :mod:`ast` into :class:`Expr` nodes; the
op's variable names are replaced by the scalar quantities of one element pair (``y``,
``w211``...) and constants are folded. Evaluation uses the engine's own NumPy backend, so a
printed formula and the engine's number come from the same functions.

>>> e = simplify(substitute(parse("y * x ** (y - 1)"), {"y": Num(2.0), "x": Var("d")}))
>>> e
Bin(op='*', a=Num(value=2.0), b=Var(name='d'))
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
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


