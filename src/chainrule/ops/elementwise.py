"""Elementwise primitives: one registry entry each, with derivative formulas as data.

Formulas use the fixed names of ``Op.inputs`` (``x``, ``y``, ``cond``), ``out`` for the forward
result and the op's parameters. The engine multiplies a formula by the incoming gradient ``g``
and reduces broadcast axes afterwards; formulas never un-broadcast themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import shape_str
from . import samples
from .backends import stable_sigmoid
from .registry import NOT_DIFFERENTIABLE, Derivative, Op, Sample, register


def _broadcast_failure(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> str:
    listed = " and ".join(shape_str(s) for s in shapes)
    return (f"{op.name}: shapes {listed} cannot be broadcast together: aligned from the right, "
            "each dimension must be equal or 1; reshape or unsqueeze one operand "
            "(e.g. x.reshape(-1, 1)) so they line up")


def _unary(name: str, forward: Any, formula: str, expr: str, domain: samples.Domain = (-2, 2),
           kinks: tuple[float, ...] = (), note: str = "") -> Op:
    return register(Op(name=name, inputs=("x",), forward=forward,
                       derivatives=(Derivative(formula),), expr=expr, elementwise=True,
                       samples=samples.unary(domain, kinks), note=note))


def _binary(name: str, forward: Any, dx: str, dy: str, expr: str,
            x_domain: samples.Domain = (-2, 2), y_domain: samples.Domain = (-2, 2),
            avoid_ties: bool = False, note: str = "") -> Op:
    return register(Op(name=name, inputs=("x", "y"), forward=forward,
                       derivatives=(Derivative(dx), Derivative(dy)), expr=expr,
                       elementwise=True, note=note, explain_failure=_broadcast_failure,
                       samples=samples.binary(x_domain, y_domain, avoid_ties)))


ADD = _binary("add", np.add, "1", "1", "x + y")
SUB = _binary("sub", np.subtract, "1", "-1", "x - y")
MUL = _binary("mul", np.multiply, "y", "x", "x * y")
DIV = _binary("div", np.divide, "1 / y", "-x / y ** 2", "x / y", y_domain=(0.5, 2.0))
POW = _binary(
    "pow", np.power, "y * x ** (y - 1)", "where((x == 0) & (y >= 0), 0, out * log(x))",
    "x ** y", x_domain=(0.5, 2.0),
    note="a negative base with a fractional exponent gives NaN, as in PyTorch; "
         "d/dy at x = 0 is taken as 0 for y >= 0 (PyTorch's convention)")
MAXIMUM = _binary(
    "maximum", np.maximum, "where(x > y, 1, where(x == y, 0.5, 0))",
    "where(y > x, 1, where(x == y, 0.5, 0))", "maximum(x, y)", avoid_ties=True,
    note="at a tie x == y the gradient is split evenly, 1/2 to each (PyTorch's convention)")
MINIMUM = _binary(
    "minimum", np.minimum, "where(x < y, 1, where(x == y, 0.5, 0))",
    "where(y < x, 1, where(x == y, 0.5, 0))", "minimum(x, y)", avoid_ties=True,
    note="at a tie x == y the gradient is split evenly, 1/2 to each (PyTorch's convention)")

NEG = _unary("neg", np.negative, "-1", "-x")
EXP = _unary("exp", np.exp, "out", "exp(x)")
LOG = _unary("log", np.log, "1 / x", "log(x)", domain=(0.5, 3.0))
LOG1P = _unary("log1p", np.log1p, "1 / (1 + x)", "log1p(x)", domain=(-0.5, 2.0),
               note="log(1 + x) computed without cancellation for small x")
SQRT = _unary("sqrt", np.sqrt, "1 / (2 * out)", "sqrt(x)", domain=(0.5, 3.0),
              note="sqrt'(0) = inf, as in PyTorch")
ABS = _unary("abs", np.abs, "sign(x)", "abs(x)", kinks=(0.0,),
             note="abs'(0) = 0 (PyTorch's convention)")
TANH = _unary("tanh", np.tanh, "1 - out ** 2", "tanh(x)", domain=(-3.0, 3.0))
SIGMOID = _unary(
    "sigmoid", stable_sigmoid, "out * (1 - out)", "sigmoid(x)", domain=(-4.0, 4.0),
    note="computed from exp(-|x|) so it never overflows; derivative sigmoid(x) * (1 - sigmoid(x))")
RELU = _unary("relu", lambda x: np.maximum(x, 0), "x > 0", "relu(x)", kinks=(0.0,),
              note="relu'(0) = 0 (PyTorch's convention)")

CLIP = register(Op(
    name="clip", inputs=("x",), params=("lo", "hi"),
    forward=lambda x, lo, hi: np.clip(x, lo, hi),
    derivatives=(Derivative("(x >= lo) & (x <= hi)"),), expr="clip(x, lo, hi)",
    elementwise=True, samples=samples.unary((-2.0, 2.0), kinks=(-1.0, 1.0), lo=-1.0, hi=1.0),
    note="at a bound the gradient passes through (PyTorch's clamp convention)"))


def _where_samples(rng: np.random.Generator) -> Any:
    for x_shape, y_shape in [((3, 4), (3, 4)), ((3, 4), ()), ((4,), (3, 1)), ((), ())]:
        cond = rng.uniform(size=np.broadcast_shapes(x_shape, y_shape)) > 0.5
        yield Sample((cond, samples.uniform(rng, x_shape, (-2, 2)),
                      samples.uniform(rng, y_shape, (-2, 2))), {}, f"x{x_shape} y{y_shape}")


WHERE = register(Op(
    name="where", inputs=("cond", "x", "y"), forward=np.where,
    derivatives=(NOT_DIFFERENTIABLE, Derivative("where(cond, 1, 0)"),
                 Derivative("where(cond, 0, 1)")),
    expr="where(cond, x, y)", elementwise=True, samples=_where_samples,
    explain_failure=_broadcast_failure))

ASTYPE = register(Op(
    name="astype", inputs=("x",), params=("dtype",),
    forward=lambda x, dtype: x.astype(dtype), derivatives=(Derivative("1"),), expr="x",
    elementwise=True, samples=samples.unary(dtype=np.float64),
    note="the gradient is cast back to the input's dtype"))
