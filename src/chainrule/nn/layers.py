"""Layers: Linear, activations, Dropout and the MLP builder.

Layers hold parameters and call :mod:`chainrule.functional`; none has gradient code of its own.

>>> import chainrule as cr
>>> import chainrule.nn as nn
>>> cr.manual_seed(0)
>>> model = nn.MLP([4, 8, 3], activation="tanh")
>>> model(cr.zeros(2, 4)).shape
(2, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as F
from ..creation import default_generator
from ..errors import ShapeError, shape_str
from ..tensor import Tensor
from . import init
from .module import Module, Parameter, Sequential


class Linear(Module):
    """``y = x W^T + b`` with PyTorch's layout: ``weight`` (out, in), ``bias`` (out,).

    Initialised as PyTorch does: both uniform in +-1/sqrt(in_features) (``kaiming_uniform_``
    with ``a = sqrt(5)``), drawn from chainrule's generator.

    >>> layer = Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = np.float32, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ShapeError(f"Linear: in_features and out_features must be positive, got "
                             f"{in_features} and {out_features}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if bias:
            bound = 1.0 / math.sqrt(in_features)
            self.bias = Parameter(np.empty(out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, generator=generator)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.in_features,):
            raise ShapeError(f"Linear({self.in_features}, {self.out_features}): the input has "
                             f"shape {shape_str(x.shape)} but its last dimension must be "
                             f"{self.in_features} (the layer's in_features)")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


class ReLU(Module):
    """max(x, 0); the derivative at 0 is taken as 0, as in PyTorch."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """Softmax over ``dim`` (exp(x - logsumexp(x)): never overflows)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) computed as x - logsumexp(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)


class Dropout(Module):
    """Zero each element with probability ``p`` in training, scaling the rest by 1/(1-p).

    The mask comes from chainrule's generator (seed it with :func:`chainrule.manual_seed`); in
    evaluation mode the layer is the identity.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must lie in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = default_generator().random(x.shape) >= self.p
        # NOTE: p = 1 drops everything; the 1/(1-p) scale would divide by zero.
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        return x * F.constant((keep * scale).astype(x.dtype))

    def extra_repr(self) -> str:
        return f"p={self.p}"


#: Activation names accepted by :class:`MLP` and network files.
ACTIVATIONS: dict[str, type[Module]] = {
    "identity": Identity, "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh,
    "softmax": Softmax, "log_softmax": LogSoftmax,
}


def activation(name: str) -> Module:
    """The activation module called ``name`` (``"relu"``, ``"tanh"``, ...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; use one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


class MLP(Sequential):
    """A multilayer perceptron: Linear layers with activations in between.

    Args:
        sizes: layer widths, input first: ``[64, 128, 10]``.
        activation: the hidden activation's name, or one name per non-input layer (the last
            one then applies to the output).
        output_activation: applied to the output (default none: raw logits).
        bias: whether the Linear layers have biases.
        dropout: dropout probability after each hidden activation (0 for none).

    Parameters are named as in ``torch.nn.Sequential``: ``0.weight``, ``0.bias``, ``2.weight``.

    >>> MLP([2, 3, 1], activation=["relu", "sigmoid"], bias=False)
    MLP(
      (0): Linear(in_features=2, out_features=3, bias=False)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=1, bias=False)
      (3): Sigmoid()
    )
    """

    def __init__(self, sizes: Sequence[int], activation: str | Sequence[str] = "relu",
                 output_activation: str | None = None, bias: bool = True,
                 dropout: float = 0.0, dtype: Any = np.float32) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs an input and an output width, got {sizes}")
        n_layers = len(sizes) - 1
        if isinstance(activation, str):
            names = [activation] * (n_layers - 1) + [output_activation or "identity"]
        else:
            names = list(activation)
            if len(names) != n_layers:
                raise ValueError(f"MLP: {len(names)} activations for {n_layers} layers; give "
                                 "one per non-input layer")
        layers: list[Module] = []
        for i in range(n_layers):
            layers.append(Linear(sizes[i], sizes[i + 1], bias=bias, dtype=dtype))
            last = i == n_layers - 1
            if not (last and names[i] == "identity"):
                layers.append(_activation(names[i]))
            if dropout and not last:
                layers.append(Dropout(dropout))
        super().__init__(*layers)
        self.sizes, self.activations = sizes, names


_activation = activation
