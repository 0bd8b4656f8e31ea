"""Anomaly mode: stop at the first op that produces a NaN or an infinity, and say where.

Inside ``with chainrule.detect_anomaly():`` every forward value and every gradient an op
passes back to an input is checked. The first non-finite one raises
:class:`~chainrule.errors.AnomalyError` naming the op, its formula, the line of user code that
created the tensor and the ranges of the op's inputs, so a NaN loss is traced to its cause
instead of being found three layers later. Outside the block it costs nothing: the engine
only tests one attribute. Inside, each recorded op also notes where the user created it (a
few frames walked once, not a full traceback).

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 0.0], requires_grad=True)
>>> with cr.detect_anomaly():  # doctest: +ELLIPSIS
...     y = x.log()
Traceback (most recent call last):
chainrule.errors.AnomalyError: 'log' produced -inf (1 of 2 elements) in its forward value at ...
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import engine
from .errors import AnomalyError
from .tensor import Tensor

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Where each tensor recorded in the graph while anomaly mode was on was created, by id:
#: (a weak reference to it, (file, line, function)). NOTE: keyed by id, not a
#: WeakKeyDictionary: that compares keys with ``==``, which is elementwise on tensors.
_ORIGIN: dict[int, tuple[weakref.ref[Any], tuple[str, int, str] | None]] = {}


def _remember(tensor: Tensor, origin: tuple[str, int, str] | None) -> None:
    key = id(tensor)
    _ORIGIN[key] = (weakref.ref(tensor, lambda _ref: _ORIGIN.pop(key, None)), origin)


def _origin_of(tensor: Tensor) -> tuple[str, int, str] | None:
    entry = _ORIGIN.get(id(tensor))
    return entry[1] if entry is not None and entry[0]() is tensor else None


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Check every forward value and gradient for NaN and infinity inside a ``with`` block.

    Raises :class:`~chainrule.errors.AnomalyError` at the first op that produces one.

    >>> import chainrule as cr
    >>> x = cr.tensor([4.0, 0.0], requires_grad=True)
    >>> with cr.detect_anomaly():  # doctest: +ELLIPSIS
    ...     y = x.sqrt()             # sqrt(0) = 0 is fine going forward,
    ...     y.sum().backward()       # but its derivative 1 / (2 * sqrt(0)) is inf
    Traceback (most recent call last):
    chainrule.errors.AnomalyError: the gradient that 'sqrt' passes back to its input 'x' ...
    """
    previous = engine.STATE.anomaly_hook
    engine.STATE.anomaly_hook = _check
    try:
        yield
    finally:
        engine.STATE.anomaly_hook = previous


def _user_frame() -> tuple[str, int, str]:
    """The innermost caller outside the chainrule package: the user's line."""
    frame = sys._getframe(2)
    # NOTE: derivative formulas are compiled code named "<derivative of OP>": skip them too.
    while frame is not None and frame.f_code.co_filename.startswith((_PACKAGE, "<derivative")):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return ("<unknown>", 0, "?")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _where(origin: tuple[str, int, str] | None) -> str:
    if origin is None:
        return "at an unknown line (the tensor was created before detect_anomaly() was on)"
    filename, line, function = origin
    source = linecache.getline(filename, line).strip()
    return f"at {filename}:{line} in {function}()" + (f": {source}" if source else "")


def _bad(value: np.ndarray) -> str:
    """'' if every element is finite, else e.g. 'NaN (2 of 6 elements)'."""
    if value.dtype.kind not in "fc" or np.isfinite(value).all():
        return ""
    kinds = []
    with np.errstate(invalid="ignore"):
        for name, count in (("NaN", np.isnan(value).sum()), ("inf", np.isposinf(value).sum()),
                            ("-inf", np.isneginf(value).sum())):
            if count:
                kinds.append(name)
    total = int((~np.isfinite(value)).sum())
    return f"{' and '.join(kinds)} ({total} of {value.size} elements)"


def _range(array: np.ndarray) -> str:
    if array.size == 0:
        return "empty"
    if array.dtype.kind not in "biuf":
        return str(array.dtype)
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    text = (f"[{finite.min():.6g}, {finite.max():.6g}]" if finite.size else "no finite values")
    flaw = _bad(array)
    return text + (f", plus {flaw}" if flaw else "")


def _describe(op: Any, inputs: Any) -> str:
    names = list(op.inputs)
    parts = []
    for i, t in enumerate(inputs):
        name = names[min(i, len(names) - 1)] + (f"[{i}]" if op.variadic else "")
        label = f" '{t.name}'" if t.name else ""
        parts.append(f"{name}{label} {tuple(t.shape)} in {_range(t.data)}")
    return "; ".join(parts)


def _raw(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _check(stage: str, op: Any, subject: Any, value: Any, index: int | None = None) -> None:
    if stage == "forward":
        _check_forward(op, subject, value)
    else:
        _check_backward(op, subject, _raw(value), index)


def _check_forward(op: Any, inputs: Any, result: Any) -> None:
    flaw = _bad(result.data)
    origin = None
    if flaw or result.op is not None:
        origin = _user_frame()
    if result.op is not None:
        _remember(result, origin)
    if not flaw:
        return
    carried = [i for i, t in enumerate(inputs) if _bad(t.data)]
    cause = (f"; input {carried[0]} already held non-finite values (a tensor created with them, "
             "not computed by an op)" if carried else "")
    raise AnomalyError(
        f"'{op.name}' produced {flaw} in its forward value {_where(origin)}; "
        f"{op.name} computes {op.expr}; inputs: {_describe(op, inputs)}{cause}"
        + (f". Note: {op.note}" if op.note else ""))


def _check_backward(op: Any, output: Tensor, gradient: np.ndarray, index: int | None) -> None:
    flaw = _bad(gradient)
    if not flaw:
        return
    inputs = output.inputs or ()
    position = 0 if index is None else index
    name = op.inputs[min(position, len(op.inputs) - 1)]
    derivative = op.derivative(position)
    rule = derivative.formula or derivative.template
    out_range = f"; out in {_range(output.data)}" if op.uses_out else ""
    raise AnomalyError(
        f"the gradient that '{op.name}' passes back to its input '{name}' holds {flaw} in "
        f"backward; '{op.name}' was applied {_where(_origin_of(output))}; its derivative "
        f"d out / d {name} = {rule}; inputs: {_describe(op, inputs)}{out_range}"
        + (f". Note: {op.note}" if op.note else ""))
