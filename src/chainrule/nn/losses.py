"""Loss modules: thin wrappers over the numerically stable losses in :mod:`chainrule.functional`.

>>> import chainrule as cr
>>> import chainrule.nn as nn
>>> logits = cr.tensor([[2.0, 0.0, -1.0]])
>>> round(nn.CrossEntropyLoss()(logits, cr.tensor([0])).item(), 4)
0.1698
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of "
                             f"{', '.join(_REDUCTIONS)}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error (input - target)^2."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |input - target|; the derivative at 0 is 0."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits: relu(z) - z t + log1p(exp(-|z|)), finite for any z."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of (N, C) logits with class indices (N,) or probabilities (N, C).

    NOTE: computed through log_softmax = x - logsumexp(x), never log(softmax(x)), so a logit
    of 1000 gives a finite loss.
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(input, target, self.reduction)
