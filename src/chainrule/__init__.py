"""chainrule: a NumPy autograd engine that shows its work.

>>> import chainrule as cr
>>> W = cr.ones(2, 1, requires_grad=True, name="W")
>>> loss = (cr.tensor([[1.0, -2.0]]) @ W).sigmoid().sum()
>>> (dW,) = cr.grad(loss, [W])
>>> dW.shape
(2, 1)
"""

from __future__ import annotations

import numpy as np

from . import functional
from .anomaly import detect_anomaly
from .autograd import grad
from .creation import (
    arange,
    default_generator,
    eye,
    full,
    full_like,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .engine import is_grad_enabled, no_grad, set_grad_enabled
from .errors import (
    AnomalyError,
    ChainruleError,
    DTypeError,
    FileFormatError,
    GradcheckError,
    GraphError,
    ShapeError,
)
from .functional import (
    binary_cross_entropy_with_logits,
    cat,
    clip,
    concatenate,
    cross_entropy,
    log_softmax,
    logsumexp,
    matmul,
    maximum,
    minimum,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    stack,
    where,
)
from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor

float32 = np.float32
float64 = np.float64
int64 = np.int64

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "ChainruleError", "DTypeError", "FileFormatError", "GradcheckError",
    "GraphError", "ShapeError", "Tensor", "arange", "binary_cross_entropy_with_logits", "cat",
    "clip", "concatenate", "cross_entropy", "default_generator", "detect_anomaly", "draw_graph",
    "draw_network", "explain", "eye", "float32", "float64",
    "full", "full_like", "functional", "grad", "gradcheck", "gradgradcheck", "int64",
    "is_grad_enabled", "log_softmax", "logsumexp", "manual_seed", "matmul", "maximum",
    "minimum", "mse_loss", "no_grad", "ones", "ones_like", "rand", "rand_like", "randn",
    "randn_like", "relu", "set_grad_enabled", "sigmoid", "softmax", "stack", "tensor", "where",
    "zeros", "zeros_like",
]

_SUBPACKAGES = ("nn", "optim", "data", "explain", "viz")
_LAZY_FUNCTIONS = {"draw_graph": "viz", "draw_network": "viz"}


def __getattr__(name: str) -> object:
    # NOTE: the explainer, the drawings and nn/optim/data load on first use (cr.explain(...),
    # import chainrule.nn as nn), keeping `import chainrule` fast for the engine alone.
    if name in _SUBPACKAGES or name in _LAZY_FUNCTIONS:
        import importlib

        module = importlib.import_module(f"{__name__}.{_LAZY_FUNCTIONS.get(name, name)}")
        return getattr(module, name) if name in _LAZY_FUNCTIONS else module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
