"""The project's seed: Hasktorch's ``examples/autograd`` 4-3-1 network, built as the original.

x = [-1, 2, -3, 4] (a 4x1 column), W1 (4x3) and W2 (3x1) all ones and the tensors to
differentiate, h1 = relu(x^T W1), y = sigmoid(h1 W2), loss = (y - t)^2 with t = 0, and
``grad(loss, [W1, W2])``.

>>> s = build_seed()
>>> round(float(s.loss), 7)
0.9950609
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .autograd import grad
from .creation import ones, tensor
from .tensor import Tensor

#: What the seed's own hand derivation printed (it drops the square in sigma'(y_in)).
SEED_PRINTED = {"w211": 9.8657e-3, "w111": -4.9328e-3}


@dataclass
class Seed:
    """Every named quantity of the seed network, and the two gradients."""

    x: Tensor
    W1: Tensor
    W2: Tensor
    a: Tensor
    h1: Tensor
    y_in: Tensor
    y: Tensor
    t: Tensor
    loss: Tensor
    dW1: Tensor
    dW2: Tensor


def build_seed(dtype: type = np.float64, retain_graph: bool = True) -> Seed:
    """Build the seed network and differentiate it.

    float64 by default so that the printed digits are the exact ones; the graph is kept
    (``retain_graph``) so that it can still be explained or drawn afterwards.
    """
    x = tensor([[-1.0], [2.0], [-3.0], [4.0]], dtype=dtype, name="x")
    W1 = ones(4, 3, dtype=dtype, requires_grad=True, name="W1")
    W2 = ones(3, 1, dtype=dtype, requires_grad=True, name="W2")
    t = tensor([[0.0]], dtype=dtype, name="t")
    xT = x.T
    xT.name = "x"   # the row x^T holds the same x_1..x_4 the seed's derivation names
    a = xT @ W1
    h1 = a.relu()
    y_in = h1 @ W2
    y = y_in.sigmoid()
    loss = ((y - t) ** 2).sum()
    # The seed's notation: a_j, h_j (hidden units), y_in, y, and the loss L.
    for value, name in ((a, "a"), (h1, "h"), (y_in, "y_in"), (y, "y"), (loss, "L")):
        value.name = name
    dW1, dW2 = grad(loss, [W1, W2], retain_graph=retain_graph)
    return Seed(x, W1, W2, a, h1, y_in, y, t, loss, dW1, dW2)  # type: ignore[arg-type]


def format_array(t: Tensor, scientific: bool = False) -> str:
    """A tensor's values for people: plain for round numbers, 6 significant digits otherwise."""
    fmt = (lambda v: f"{v: .5e}") if scientific else (lambda v: f"{v: .7g}")
    return np.array2string(t.data, formatter={"float_kind": fmt}, separator=", ")


def seed_report(seed: Seed) -> str:
    """The five things the original example prints, with the right numbers."""
    lines = [
        "Input features x (4x1):", format_array(seed.x),
        "",
        "Output of the first layer, h1 = relu(x^T W1):", format_array(seed.h1),
        "",
        "Output of the model, y = sigmoid(h1 W2):", format_array(seed.y),
        f"Loss (y - t)^2 with t = 0: {float(seed.loss.data):.7g}",
        "",
        "Gradient of the weights between input and hidden layer, dL/dW1 (4x3):",
        format_array(seed.dW1, scientific=True),
        "",
        "Gradient of the weights between hidden and output layer, dL/dW2 (3x1):",
        format_array(seed.dW2, scientific=True),
    ]
    return "\n".join(lines)
