"""Check autograd against float64 central differences.

Small problems compare the full Jacobian element by element; large ones compare random
projections ``v^T J u`` and, on a mismatch, locate the worst element of the failing input.

>>> import chainrule as cr
>>> x = cr.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
>>> cr.gradcheck(lambda t: (t * t.exp()).sum(), [x])
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import grad
from .errors import DTypeError, GradcheckError
from .tensor import Tensor

FULL_JACOBIAN_LIMIT = 64   # input and output elements up to which the whole Jacobian is compared


def _outputs(fn: Callable[..., Any], inputs: Sequence[Tensor]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    return [o if isinstance(o, Tensor) else Tensor._wrap(np.zeros(())) for o in outs]


def _flat_outputs(fn: Callable[..., Any], inputs: Sequence[Tensor]) -> np.ndarray:
    from .engine import no_grad

    with no_grad():
        outs = _outputs(fn, inputs)
    if not outs:
        return np.zeros(0)
    return np.concatenate([np.asarray(o.data, dtype=np.float64).ravel() for o in outs])


def _seeded(fn: Callable[..., Any], inputs: Sequence[Tensor], v: np.ndarray, *,
            create_graph: bool) -> tuple[list[Tensor], list[Tensor | None]]:
    """The gradients of ``v . fn(*inputs)`` with respect to every input that requires grad.

    ``v`` is split over the outputs in order; outputs that do not require grad contribute
    nothing, and an input none of the outputs depends on gets None.
    """
    outs = _outputs(fn, inputs)
    live, seeds, offset = [], [], 0
    for o in outs:
        n = o.data.size
        if o.requires_grad:
            live.append(o)
            seeds.append(Tensor._wrap(v[offset:offset + n].reshape(o.shape).astype(o.dtype)))
        offset += n
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not live:
        return wrt, [None] * len(wrt)
    return wrt, list(grad(live, wrt, grad_outputs=seeds, create_graph=create_graph,
                          allow_unused=True))


def _vjp(fn: Callable[..., Any], inputs: Sequence[Tensor], v: np.ndarray) -> list[np.ndarray]:
    """v^T J for each input, by autograd; inputs the outputs do not depend on get zeros."""
    wrt, grads = _seeded(fn, inputs, v, create_graph=False)
    found = dict(zip(map(id, wrt), grads))
    return [np.zeros(np.shape(t)) if found.get(id(t)) is None
            else np.asarray(found[id(t)].data, dtype=np.float64) for t in inputs]


def _numeric_column(fn: Callable[..., Any], inputs: Sequence[Tensor], which: int,
                    direction: np.ndarray, eps: float) -> np.ndarray:
    """(f(x + eps d) - f(x - eps d)) / 2 eps, the derivative of f along d in input ``which``."""
    target = inputs[which]
    original = target.data
    try:
        target.data = original + eps * direction
        plus = _flat_outputs(fn, inputs)
        target.data = original - eps * direction
        minus = _flat_outputs(fn, inputs)
    finally:
        target.data = original
    return (plus - minus) / (2 * eps)


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def _element(shape: tuple[int, ...], flat: int) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def gradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor], *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, projections: int = 4, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Compare autograd's derivatives of ``fn(*inputs)`` with central differences.

    Every input that requires grad must be float64 (float32 central differences are
    meaningless at any step that is not swamped by rounding). Returns True, or raises
    :class:`GradcheckError` naming the input, the element, both values and their difference
    (returns False instead with ``raise_exception=False``).
    """
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise GradcheckError("gradcheck: no input requires grad; pass tensors created with "
                             "requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise DTypeError(f"gradcheck: input {i} is {inputs[i].dtype}; gradient checks need "
                             "float64 inputs (use .double())")
    rng = np.random.default_rng(seed)
    n_out = _flat_outputs(fn, inputs).size
    n_in = sum(inputs[i].data.size for i in checked)
    if n_out <= FULL_JACOBIAN_LIMIT and n_in <= FULL_JACOBIAN_LIMIT:
        # Full Jacobian: one backward pass per output element, one pair of forwards per input
        # element.
        rows = [_vjp(fn, inputs, np.eye(n_out)[r]) for r in range(n_out)]
        for i in checked:
            shape = inputs[i].shape
            for flat in range(inputs[i].data.size):
                direction = np.zeros(shape)
                direction.flat[flat] = 1.0
                numeric = _numeric_column(fn, inputs, i, direction, eps)
                analytic = np.array([rows[r][i].ravel()[flat] for r in range(n_out)])
                bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
                if np.any(bad):
                    r = int(np.argmax(bad))
                    return _fail(
                        f"gradcheck: d output[{r}] / d input {i}{list(_element(shape, flat))}: "
                        f"autograd {analytic[r]:.10g}, finite differences {numeric[r]:.10g}, "
                        f"difference {analytic[r] - numeric[r]:.3g}", raise_exception)
        return True
    for _ in range(projections):
        v = rng.standard_normal(n_out)
        analytic_all = _vjp(fn, inputs, v)
        for i in checked:
            u = rng.standard_normal(inputs[i].shape)
            numeric = float(v @ _numeric_column(fn, inputs, i, u, eps))
            analytic = float(np.sum(analytic_all[i] * u))
            if abs(analytic - numeric) > atol + rtol * abs(numeric):
                return _fail(_locate(fn, inputs, i, v, analytic_all[i], eps, analytic, numeric),
                             raise_exception)
    return True


def _locate(fn: Callable[..., Any], inputs: Sequence[Tensor], i: int, v: np.ndarray,
            analytic: np.ndarray, eps: float, proj_a: float, proj_n: float) -> str:
    shape = inputs[i].shape
    worst, worst_gap, values = 0, -1.0, (0.0, 0.0)
    for flat in range(min(inputs[i].data.size, 4096)):
        direction = np.zeros(shape)
        direction.flat[flat] = 1.0
        n = float(v @ _numeric_column(fn, inputs, i, direction, eps))
        a = float(analytic.ravel()[flat])
        if abs(a - n) > worst_gap:
            worst, worst_gap, values = flat, abs(a - n), (a, n)
    return (f"gradcheck: input {i}: random projection v^T J u: autograd {proj_a:.10g}, finite "
            f"differences {proj_n:.10g}; worst element {list(_element(shape, worst))}: autograd "
            f"{values[0]:.10g}, finite differences {values[1]:.10g}, difference "
            f"{values[0] - values[1]:.3g}")


def gradgradcheck(fn: Callable[..., Any], inputs: Sequence[Tensor], *, seed: int = 0,
                  **kwargs: Any) -> bool:
    """Check second derivatives: gradcheck of the (differentiable) gradient of ``v . fn``."""
    rng = np.random.default_rng(seed + 1)
    n_out = _flat_outputs(fn, inputs).size
    v = rng.standard_normal(n_out)

    def first_derivative(*xs: Tensor) -> list[Tensor]:
        _, grads = _seeded(fn, xs, v, create_graph=True)
        return [g for g in grads if g is not None]

    return gradcheck(first_derivative, inputs, seed=seed, **kwargs)
