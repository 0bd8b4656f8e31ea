"""Optimizers with PyTorch's exact update rules, learning-rate schedules, gradient clipping.

>>> import chainrule as cr
>>> import chainrule.nn as nn
>>> from chainrule import optim
>>> cr.manual_seed(0)
>>> model = nn.Linear(3, 1)
>>> opt = optim.Adam(model.parameters(), lr=0.01)
>>> loss = nn.MSELoss()(model(cr.ones(4, 3)), cr.zeros(4, 1))
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from __future__ import annotations

from .algorithms import SGD, Adam, AdamW, RMSprop
from .clip import clip_grad_norm_
from .lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR
from .optimizer import Optimizer, OptimizerError, flatten_state, unflatten_state

__all__ = [
    "SGD", "Adam", "AdamW", "CosineAnnealingLR", "LRScheduler", "Optimizer", "OptimizerError",
    "RMSprop", "StepLR", "clip_grad_norm_", "flatten_state", "unflatten_state",
]
