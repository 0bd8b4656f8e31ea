"""Calculus on expressions: textbook derivatives and the usual slips of a hand derivation.

:func:`derivative` differentiates an op's ``expr`` symbolically, with sigmoid and tanh written
out as a textbook does, which gives the forms a person compares against (sigmoid'(x) =
e^{-x}/(1 + e^{-x})^2); :func:`mutations` lists every single-slip variant of a formula.

>>> from .notation import to_text
>>> to_text(derivative(expand(parse("sigmoid(x)")), "x"))
'exp(−x)/(1 + exp(−x))²'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from .expr import (
    Bin,
    Expr,
    Fn,
    Neg,
    Num,
    Sym,
    Text,
    Unsupported,
    Var,
    children,
    parse,
    rebuild,
    simplify,
    substitute,
)
from .notation import format_number, to_text


def _num_text(v: float) -> str:
    return format_number(v).replace("-", "−")


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
def mutations(e: Expr, env: Mapping[str, Expr] | None = None
              ) -> Iterator[tuple[str, Expr]]:
    """Every single-slip variant of ``e``, with a short description of the slip; the parts a
    description names are written with ``env`` substituted (``the factor y left out``)."""
    def show(part: Expr) -> str:
        return to_text(simplify(substitute(part, env or {})))

    yield from _mutate(e, lambda x: x, show)


def _mutate(e: Expr, wrap: Callable[[Expr], Expr],
            show: Callable[[Expr], str]) -> Iterator[tuple[str, Expr]]:
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
        yield f"the factor {show(e.a)} left out", wrap(e.b)
        yield f"the factor {show(e.b)} left out", wrap(e.a)
    if isinstance(e, Bin) and e.op == "/":
        yield f"the denominator {show(e.b)} left out", wrap(e.a)
        yield "the fraction upside down", wrap(Bin("/", e.b, e.a))
    if isinstance(e, Bin) and e.op in "+-":
        yield "a sign slip inside the formula", wrap(Bin("-" if e.op == "+" else "+", e.a, e.b))
    if isinstance(e, Neg):
        yield "a minus sign dropped", wrap(e.a)
    kids = children(e)
    for n, kid in enumerate(kids):
        def inner(x: Expr, n: int = n) -> Expr:
            return wrap(rebuild(e, (*kids[:n], x, *kids[n + 1:])))
        yield from _mutate(kid, inner, show)
