"""The op registry and its primitives. Importing this package registers every primitive."""

from . import elementwise, fused, linalg, reduce, shape  # noqa: F401  (registration side effects)
from .registry import (
    NOT_DIFFERENTIABLE,
    REGISTRY,
    Derivative,
    IncompleteOpError,
    Op,
    Sample,
    formula_names,
    register,
    validate,
)

__all__ = ["NOT_DIFFERENTIABLE", "REGISTRY", "Derivative", "IncompleteOpError", "Op", "Sample",
           "formula_names", "register", "validate"]
