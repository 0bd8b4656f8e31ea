"""Checking a person's answer: right, or which single slip it is consistent with.

Every candidate is computed from the derivation's own numbers at run time, never looked up:

* a sign error (−value), a factor of 2 dropped or doubled;
* a local derivative written wrongly: each elementwise op on the way has its registry formula
  and its textbook form (the op's ``expr`` differentiated symbolically with sigmoid and tanh
  written out, e.g. sigmoid' = e^{−x}/(1 + e^{−x})²); every single-slip variant of either
  (a missing square, a factor or denominator left out, a dropped minus, ...) is evaluated at
  the elements and pushed through the same backpropagation as the real derivative;
* a path left out or counted twice, a factor counted twice or left out (per path shown).

>>> from chainrule.seed import build_seed
>>> from chainrule.explain import explain
>>> s = build_seed()
>>> explain(s.loss, s.W1, (0, 0)).check(-4.92082e-3).correct
True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import symbolic as S
from .graph import adjoints

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .api import Derivation

#: Candidates whose values differ by less than this are the same explanation.
_SAME = 1e-9


@dataclass
class AnswerCheck:
    """The verdict on one answer: ``correct``, the ``kind`` of slip and a ``message``."""

    correct: bool
    kind: str
    message: str
    expected: float
    value: float

    def __str__(self) -> str:
        return self.message


@dataclass
class _Candidate:
    kind: str
    description: str
    value: float


def _rel(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def _forms(op: Any, position: int) -> Iterator[tuple[str, S.Expr]]:
    """The ways a person may write op's derivative: textbook form first, then the registry's."""
    name = op.inputs[min(position, len(op.inputs) - 1)]
    entry = op.derivative(position)
    try:
        textbook = S.derivative(S.expand(S.parse(op.expr)), name)
        yield "textbook", textbook
    except (S.Unsupported, SyntaxError):
        pass
    if entry.formula:
        yield "registry", S.simplify(S.parse(entry.formula))


def _evaluate_at(expr: S.Expr, child: Tensor, o: np.ndarray) -> np.ndarray | None:
    """``expr`` over the inputs, output and params of the op that made ``child``, at ``o``."""
    op, inputs = child.op, child.inputs
    assert op is not None and inputs is not None
    env: dict[str, Any] = {n: t.data.astype(np.float64) if t.data.dtype.kind == "f" else t.data
                           for n, t in zip(op.inputs, inputs)}
    env["out"] = np.asarray(child.data, dtype=np.float64)
    env.update({k: v for k, v in child.params.items() if isinstance(v, (int, float))})
    try:
        value = np.asarray(S.evaluate(expr, env), dtype=np.float64)
        return np.broadcast_to(value, child.shape).ravel()[o]
    except (S.Unsupported, KeyError, ValueError, TypeError):
        return None


def _formula_candidates(d: Derivation) -> Iterator[_Candidate]:
    graph = d.graph
    by_op: dict[tuple[str, int], list[int]] = {}
    for n, g in enumerate(graph.groups):
        op = graph.tensors[g.child].op
        if op is not None and op.elementwise:
            by_op.setdefault((op.name, g.position), []).append(n)
    for (name, position), numbers in by_op.items():
        first = graph.groups[numbers[0]]
        child = graph.tensors[first.child]
        op, inputs = child.op, child.inputs
        assert op is not None and inputs is not None
        ctx = d.context
        env = {n: ctx.operand(t, (0,) * t.ndim) for n, t in zip(op.inputs, inputs)}
        # Symbols for the message: the first pair's quantities.
        o_idx = tuple(int(v) for v in np.unravel_index(int(first.o[0]),
                                                       graph.tensors[first.child].shape))
        env = {n: ctx.operand(t, _src(o_idx, t.shape)) for n, t in zip(op.inputs, inputs)}
        env["out"] = ctx.operand(child, o_idx)
        for form_name, form in _forms(op, position):
            right = [_evaluate_at(form, graph.tensors[graph.groups[n].child], graph.groups[n].o)
                     for n in numbers]
            if any(r is None or not np.allclose(r, graph.groups[n].d, rtol=1e-9, atol=1e-300)
                   for r, n in zip(right, numbers)):
                continue   # this form does not give the engine's numbers here (a kink)
            shown_right = S.to_text(S.simplify(S.substitute(form, env)))
            for slip, wrong in S.mutations(form, env):
                override = {}
                for n in numbers:
                    g = graph.groups[n]
                    values = _evaluate_at(wrong, graph.tensors[g.child], g.o)
                    if values is None or not np.all(np.isfinite(values)):
                        break
                    override[n] = values
                else:
                    adj = adjoints(graph, override)
                    value = float(adj[graph.wrt][0])
                    shown_wrong = S.to_text(S.simplify(S.substitute(wrong, env)))
                    where = f"∂{env['out'].text if isinstance(env['out'], S.Sym) else 'out'}" \
                        f"/∂{_name(env, op.inputs[min(position, len(op.inputs) - 1)])}"
                    yield _Candidate(
                        "local factor",
                        f"{slip} in the derivative of {name} ({where}, {form_name} form): "
                        f"{shown_wrong} instead of {shown_right}", value)


def _src(index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    lead = len(index) - len(shape)
    return tuple(0 if dim == 1 else index[lead + n] for n, dim in enumerate(shape))


def _name(env: dict[str, S.Expr], var: str) -> str:
    e = env.get(var)
    return e.text if isinstance(e, S.Sym) else var


def _path_candidates(d: Derivation) -> Iterator[_Candidate]:
    value = d.value
    several = len(d.paths) > 1
    for n, path in enumerate(d.paths, 1):
        contrib = float(np.prod([e.value for e in path]))
        label = f"path {n}" if several else "the path"
        if several:
            yield _Candidate("path left out", f"{label} left out (it contributes "
                             f"{S.format_number(contrib)})", value - contrib)
            yield _Candidate("path counted twice", f"{label} counted twice", value + contrib)
        for edge in path:
            top, bottom = d.context.sym(*edge.child), d.context.sym(*edge.parent)
            factor = f"∂{top.text}/∂{bottom.text} = {S.format_number(edge.value)}"
            yield _Candidate("factor counted twice", f"the factor {factor} counted twice"
                             + (f" in {label}" if several else ""), value + contrib *
                             (edge.value - 1))
            if edge.value != 0:
                yield _Candidate("factor left out", f"the factor {factor} left out"
                                 + (f" of {label}" if several else ""),
                                 value + contrib * (1 / edge.value - 1))


def candidates(d: Derivation) -> list[_Candidate]:
    """Every slip tried, in order of preference."""
    out = [_Candidate("sign", "a sign error (the right magnitude with the wrong sign)",
                      -d.value)]
    out += list(_formula_candidates(d))
    out += list(_path_candidates(d))
    out += [_Candidate("factor of 2", "a factor of 2 dropped", d.value / 2),
            _Candidate("factor of 2", "a factor of 2 too many", d.value * 2)]
    return [c for c in out if np.isfinite(c.value) and _rel(c.value, d.value) > _SAME]


def check_answer(d: Derivation, expected: float, rtol: float) -> AnswerCheck:
    """The verdict on ``expected`` (see the module docstring)."""
    value = d.value
    shown = S.format_number(value)
    if _rel(expected, value) <= rtol:
        return AnswerCheck(True, "correct", f"{S.format_number(expected)} is right: {d.name} = "
                           f"{shown} (within a relative {rtol:g}).", expected, value)
    matches = [c for c in candidates(d) if _rel(expected, c.value) <= rtol]
    ratio = expected / value if value else float("inf")
    if not matches:
        return AnswerCheck(False, "unknown", (
            f"{S.format_number(expected)} is not right: {d.name} = {shown} (the answer is "
            f"{S.format_number(ratio)} times that); it matches none of the single slips tried "
            "(sign, a local derivative's formula, a path or factor left out or counted twice)."),
            expected, value)
    closest = min(matches, key=lambda c: _rel(expected, c.value))
    # NOTE: slips that give the same number (to rounding) are one explanation; the first in
    # order of preference names it and the next is mentioned.
    same = [c for c in matches if _rel(c.value, closest.value) < _SAME]
    best = same[0]
    also = next((f" (equally: {c.description})" for c in same[1:]
                 if c.description != best.description), "")
    return AnswerCheck(False, best.kind, (
        f"{S.format_number(expected)} is not right: {d.name} = {shown}. The answer is "
        f"{S.format_number(ratio)} times the right value and matches {best.description}: that "
        f"slip gives {S.format_number(best.value)}, {S.format_number(best.value / value)} times "
        f"the right value{also}."), expected, value)
