"""The op registry: the single source of truth for every primitive.

An :class:`Op` holds, in one place, everything the rest of chainrule needs to know about a
primitive: its NumPy forward, one :class:`Derivative` per input, the expression the explainer
prints, sample inputs for the generated tests and a note on any kink or stability choice.

Elementwise derivatives are *formulas*: Python expressions in the fixed names ``x``, ``y``
(the inputs, named by ``Op.inputs``), ``out`` (the forward result) and the op's parameters. The
same formula string is compiled twice, once over NumPy arrays (plain backward) and once over
Tensors (``create_graph=True``), and printed by the explainer, so the engine and the explanation
cannot drift apart. Structural ops (matmul, reductions, shape ops, indexing) give a backward
function written against a backend ``F`` (NumPy or Tensor) plus the element-level template the
explainer prints.

Example:
    >>> from chainrule.ops import REGISTRY
    >>> REGISTRY["sigmoid"].derivatives[0].formula
    'out * (1 - out)'
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The functions a derivative formula may call. Each name exists in both backends.
FORMULA_FUNCTIONS = ("exp", "log", "log1p", "sqrt", "sign", "where", "sigmoid", "tanh", "abs")


@dataclass(frozen=True)
class Derivative:
    """The derivative of an op's output with respect to one input.

    Exactly one of ``formula`` (elementwise ops) and ``backward`` (structural ops) is set.
    ``template`` is what the explainer prints for a structural op at the level of one element,
    e.g. ``"y[k, j]"`` for ``d out[i, j] / d x[i, k]`` of matmul.
    """

    formula: str | None = None
    backward: Callable[..., Any] | None = None
    template: str = ""
    #: For the explainer, a structural op's ``template`` at one element pair: called with the
    #: output index, the input index, the inputs' shapes and the op's params, it returns an
    #: expression in the op's input names with concrete indices and numbers, e.g. ``"y[1, 0]"``
    #: for matmul. Optional: without it the explainer shows the template and the number.
    element: Callable[..., str] | None = None


#: Marks an input that has no derivative by nature (the condition of ``where``, an index).
NOT_DIFFERENTIABLE = Derivative(template="not differentiable")


@dataclass(frozen=True)
class Sample:
    """One set of inputs for the generated tests: arrays, op parameters and why it is there."""

    args: tuple[np.ndarray, ...]
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(eq=False)
class Op:
    """A primitive: forward, derivatives, printed form, samples. See the module docstring."""

    name: str
    inputs: tuple[str, ...]
    forward: Callable[..., np.ndarray]
    derivatives: tuple[Derivative | None, ...]
    expr: str
    samples: Callable[[np.random.Generator], Iterable[Sample]] | None
    elementwise: bool = False
    params: tuple[str, ...] = ()
    note: str = ""
    variadic: bool = False
    #: Builds the clear error message when the forward fails (called only on failure).
    explain_failure: Callable[..., str] | None = None
    # Filled in by ``register``: the compiled vector-Jacobian products, one per input.
    numpy_vjps: tuple[Callable[..., Any] | None, ...] = ()
    #: The names (inputs and ``"out"``) whose values a structural backward reads; None means
    #: all of them. Elementwise ops derive it from their formulas. The engine keeps ``out`` only
    #: when it is read, and checks the saved values' version counters before backward.
    saves: tuple[str, ...] | None = None
    uses_out: bool = False
    saved_inputs: tuple[int, ...] | None = None
    #: ``saved_inputs``' version counters before anything was modified in place: one shared
    #: tuple of zeros (None when the backward reads no input, or reads all of a variadic op's).
    zero_versions: tuple[int, ...] | None = None
    _tensor_vjps: tuple[Callable[..., Any] | None, ...] | None = None

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def tensor_vjps(self) -> tuple[Callable[..., Any] | None, ...]:
        """The vector-Jacobian products over Tensors (for ``create_graph``), built on first use."""
        if self._tensor_vjps is None:
            from . import backends

            self._tensor_vjps = _compile_vjps(self, backends.tensor_backend())
        return self._tensor_vjps

    def derivative(self, position: int) -> Derivative:
        """The derivative for input ``position`` (variadic ops share one entry)."""
        entry = self.derivatives[min(position, len(self.derivatives) - 1)]
        if entry is None:
            raise NotImplementedError(f"op '{self.name}' has no derivative for input {position}")
        return entry


REGISTRY: dict[str, Op] = {}


class IncompleteOpError(Exception):
    """An op entry lacks a derivative, samples or a printable form."""


def formula_names(formula: str) -> set[str]:
    """The variable names a formula reads (function names excluded)."""
    tree = ast.parse(formula, mode="eval")
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - called


def validate(op: Op) -> None:
    """Raise :class:`IncompleteOpError` unless ``op`` is a complete registry entry."""
    problems = []
    if not op.expr:
        problems.append("no printable expr")
    if op.samples is None:
        problems.append("no sample inputs")
    expected = 1 if op.variadic else len(op.inputs)
    if len(op.derivatives) != expected:
        problems.append(f"{len(op.derivatives)} derivatives for {expected} inputs")
    allowed = set(op.inputs) | set(op.params) | {"out"}
    for name, entry in zip(op.inputs, op.derivatives):
        if entry is None:
            problems.append(f"no derivative for input '{name}' (use NOT_DIFFERENTIABLE)")
        elif entry is NOT_DIFFERENTIABLE:
            continue
        elif op.elementwise:
            if not entry.formula:
                problems.append(f"elementwise input '{name}' needs a formula")
            else:
                unknown = formula_names(entry.formula) - allowed
                if unknown:
                    problems.append(f"formula for '{name}' uses unknown names {sorted(unknown)}")
        elif entry.backward is None or not entry.template:
            problems.append(f"structural input '{name}' needs a backward and a template")
    if problems:
        raise IncompleteOpError(f"op '{op.name}': " + "; ".join(problems))


def identity_vjp(g: Any, args: tuple[Any, ...], out: Any, params: dict[str, Any], i: int) -> Any:
    """The vector-Jacobian product of a derivative that is exactly 1: the gradient itself.

    The engine recognizes it and skips the call.
    """
    return g


def _compile_formula(formula: str, op: Op, namespace: dict[str, Any]) -> Callable[..., Any]:
    # NOTE: a derivative of exactly 1 or -1 passes the incoming gradient through without a
    # multiply: it saves a full-size temporary on every add and sub.
    if formula.strip() == "1":
        return identity_vjp
    if formula.strip() == "-1":
        return lambda g, args, out, params, i: -g
    used = formula_names(formula)
    lines = ["def vjp(g, args, out, params, i):"]
    lines.append(f"    {', '.join(op.inputs)}, = args")
    lines += [f"    {p} = params[{p!r}]" for p in op.params if p in used]
    lines.append(f"    return g * ({formula})")
    scope = dict(namespace)
    exec(compile("\n".join(lines), f"<derivative of {op.name}>", "exec"), scope)
    return scope["vjp"]


def _compile_vjps(op: Op, backend: Any) -> tuple[Callable[..., Any] | None, ...]:
    namespace = {name: getattr(backend, name) for name in FORMULA_FUNCTIONS}
    vjps: list[Callable[..., Any] | None] = []
    for entry in op.derivatives:
        if entry is None or entry is NOT_DIFFERENTIABLE:
            vjps.append(None)
        elif entry.formula is not None:
            vjps.append(_compile_formula(entry.formula, op, namespace))
        elif op.variadic:
            fn = entry.backward
            vjps.append(lambda g, args, out, params, i, _f=fn, _b=backend:
                        _f(_b, g, args, out, params, i))
        else:
            fn = entry.backward
            vjps.append(lambda g, args, out, params, i, _f=fn, _b=backend:
                        _f(_b, g, args, out, params))
    return tuple(vjps)


def register(op: Op) -> Op:
    """Validate ``op``, compile its NumPy vector-Jacobian products and add it to the registry."""
    from . import backends

    validate(op)
    if op.name in REGISTRY:
        raise IncompleteOpError(f"op '{op.name}' is registered twice")
    op.numpy_vjps = _compile_vjps(op, backends.NUMPY)
    if op.elementwise:   # formulas say what they read by naming it
        read: set[str] = set()
        for e in op.derivatives:
            if e is not None and e.formula is not None:
                read |= formula_names(e.formula)
        op.saves = tuple(n for n in (*op.inputs, "out") if n in read)
    op.uses_out = op.saves is None or "out" in op.saves
    op.saved_inputs = None if op.saves is None else tuple(
        i for i, name in enumerate(op.inputs) if name in op.saves)
    op.zero_versions = (0,) * len(op.saved_inputs) if op.saved_inputs else None
    REGISTRY[op.name] = op
    return op
