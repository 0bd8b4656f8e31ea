"""A small neural-network library in PyTorch's shape: modules, layers, losses, init.

>>> import chainrule as cr
>>> import chainrule.nn as nn
>>> cr.manual_seed(0)
>>> model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
>>> loss = nn.MSELoss()(model(cr.ones(3, 2)), cr.zeros(3, 1))
>>> loss.backward()
>>> model[0].weight.grad.shape
(4, 2)
"""

from __future__ import annotations

from . import init
from .layers import (
    ACTIVATIONS,
    MLP,
    Dropout,
    Identity,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    activation,
)
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss
from .module import IncompatibleKeys, Module, ModuleList, Parameter, Sequential, StateDictError

__all__ = [
    "ACTIVATIONS", "MLP", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "Identity",
    "IncompatibleKeys", "L1Loss", "Linear", "LogSoftmax", "MSELoss", "Module", "ModuleList",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "StateDictError", "Tanh",
    "activation", "init",
]
