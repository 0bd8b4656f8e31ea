"""Hasktorch's ``examples/autograd`` ("basic data flow through autograd"), written with chainrule.

A 4-3-1 network: x = [-1, 2, -3, 4], all weights 1, a ReLU hidden layer, a sigmoid output and the
loss (y - t)^2 with t = 0. W1 and W2 are the tensors to differentiate, as in the original's
``grad loss [w1, w2]``. Then, unlike the original, chainrule derives dL/dw211 and dL/dw111 by the
chain rule and checks them. Run it: ``python examples/hasktorch_autograd.py``.
"""

import chainrule as cr

x = cr.tensor([[-1.0], [2.0], [-3.0], [4.0]], dtype=cr.float64, name="x")   # 4x1 column
W1 = cr.ones(4, 3, dtype=cr.float64, requires_grad=True, name="W1")         # input -> hidden
W2 = cr.ones(3, 1, dtype=cr.float64, requires_grad=True, name="W2")         # hidden -> output
t = cr.tensor([[0.0]], dtype=cr.float64, name="t")

xT = x.T
xT.name = "x"   # the row x^T holds the same x_1..x_4 the derivation names
a = xT @ W1
a.name = "a"
h1 = a.relu()
h1.name = "h"
y_in = h1 @ W2
y_in.name = "y_in"
y = y_in.sigmoid()
y.name = "y"
loss = ((y - t) ** 2).sum()
loss.name = "L"

dW1, dW2 = cr.grad(loss, [W1, W2], retain_graph=True)   # keep the graph to explain it below

print("Input features:", x.T, sep="\n")
print("Output of the first layer:", h1, sep="\n")
print("Output of the model:", y, sep="\n")
print("Gradient of the weights between input and hidden layer:", dW1, sep="\n")
print("Gradient of the weights between hidden and output layer:", dW2, sep="\n")

for wrt, index in ((W2, (0, 0)), (W1, (0, 0))):
    derivation = cr.explain(loss, wrt, index)
    print()
    print(derivation.to_text())
