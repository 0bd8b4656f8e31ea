"""Typed exceptions. Every message names the op, the shapes involved and a fix.

Each class also derives from the built-in exception a NumPy or PyTorch user would catch
(``ValueError`` for shapes, ``TypeError`` for dtypes, ``RuntimeError`` for graph misuse), so
existing ``except`` clauses keep working.
"""

from __future__ import annotations


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError):
    """Shapes that an op cannot combine (matmul inner dims, broadcasting, reshape, axis)."""


class DTypeError(ChainruleError, TypeError):
    """A dtype an operation does not support, e.g. ``requires_grad`` on an integer tensor."""


class GraphError(ChainruleError, RuntimeError):
    """Misuse of the autograd graph: freed graphs, non-scalar backward, unused inputs."""


class GradcheckError(ChainruleError, AssertionError):
    """Autograd and finite differences disagree (raised by :func:`chainrule.gradcheck`)."""


class AnomalyError(ChainruleError, FloatingPointError):
    """A NaN or infinity appeared while anomaly detection was on."""


class FileFormatError(ChainruleError, ValueError):
    """A weight or network file that is malformed, hostile or of the wrong kind."""


def shape_str(shape: tuple[int, ...]) -> str:
    """Render a shape the way error messages show it: ``(2, 3)``, ``()`` for scalars."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
