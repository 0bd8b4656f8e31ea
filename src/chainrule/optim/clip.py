"""Gradient clipping by the global norm, as ``torch.nn.utils.clip_grad_norm_``.

>>> import numpy as np
>>> import chainrule as cr
>>> from chainrule.optim import clip_grad_norm_
>>> w = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
>>> (w * w).sum().backward()          # grad (6, 8), norm 10
>>> clip_grad_norm_([w], max_norm=5.0)
10.0
>>> np.round(w.grad.data, 6)
array([3., 4.])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..errors import AnomalyError
from ..tensor import Tensor


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients by ``min(1, max_norm / (total_norm + 1e-6))``; return total_norm.

    The total norm is the norm of the per-tensor norms (the norm of all gradients joined).
    Each ``p.grad`` is replaced by a new tensor, never written into.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p for p in params if p.grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(p.grad.data))) if p.grad.data.size else 0.0
                    for p in grads)  # type: ignore[union-attr]
    else:
        norms = np.array([np.linalg.norm(p.grad.data.ravel(), norm_type)  # type: ignore[union-attr]
                          for p in grads])
        total = float(np.linalg.norm(norms, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise AnomalyError(f"clip_grad_norm_: the total gradient norm is {total}; some gradient "
                           "holds NaN or infinity, so it cannot be clipped")
    # NOTE: + 1e-6 as in PyTorch, so a zero norm never divides by zero; the factor is capped
    # at 1 so gradients are only ever scaled down.
    coef = min(max_norm / (total + 1e-6), 1.0)
    for p in grads:
        g = p.grad.data  # type: ignore[union-attr]
        p.grad = Tensor._wrap(g * np.asarray(coef, dtype=g.dtype))
    return total
