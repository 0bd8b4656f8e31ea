"""The four workloads, each written three times: chainrule, PyTorch eager and hand-written NumPy.

A builder takes the shared initial arrays and returns a ``step()`` callable that does one full
unit of work and returns what the engines must agree on (losses, gradients or updated weights,
as NumPy arrays). Every engine starts from the same float32 arrays, copied, so the first step
of each must give the same numbers; the harness checks that before it times anything.

PyTorch is imported inside its builders only, so a process measuring chainrule alone (the peak
memory run) never loads it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Step = Callable[[], dict[str, np.ndarray]]
ENGINES = ("chainrule", "torch", "numpy")
F32 = np.float32


@dataclass(frozen=True)
class Workload:
    """One benchmark: its label, the initial arrays and a builder per engine."""

    key: str
    title: str
    make_inputs: Callable[[np.random.Generator], dict[str, Any]]
    builders: dict[str, Callable[[dict[str, Any]], Step]]
    steps: int = 1       # units of work per call (C divides by N to report a per-step cost)
    rtol: float = 1e-4
    atol: float = 1e-5


def _torch() -> Any:
    import torch

    return torch


# ---- A: the seed step --------------------------------------------------------------------------
def seed_inputs(rng: np.random.Generator) -> dict[str, Any]:
    """The seed's own numbers (x = [-1, 2, -3, 4], all-ones weights, t = 0), in float32."""
    return {"x": np.array([[-1.0], [2.0], [-3.0], [4.0]], F32), "W1": np.ones((4, 3), F32),
            "W2": np.ones((3, 1), F32), "t": np.zeros((1, 1), F32)}


def seed_chainrule(d: dict[str, Any]) -> Step:
    import chainrule as cr

    x, t = cr.tensor(d["x"]), cr.tensor(d["t"])
    W1 = cr.tensor(d["W1"], requires_grad=True)
    W2 = cr.tensor(d["W2"], requires_grad=True)

    def step() -> dict[str, np.ndarray]:
        y = ((x.T @ W1).relu() @ W2).sigmoid()
        loss = ((y - t) ** 2).sum()
        dW1, dW2 = cr.grad(loss, [W1, W2])
        return {"loss": loss.data, "dW1": dW1.data, "dW2": dW2.data}
    return step


def seed_torch(d: dict[str, Any]) -> Step:
    torch = _torch()
    x, t = torch.tensor(d["x"]), torch.tensor(d["t"])
    W1 = torch.tensor(d["W1"], requires_grad=True)
    W2 = torch.tensor(d["W2"], requires_grad=True)

    def step() -> dict[str, np.ndarray]:
        y = torch.sigmoid(torch.relu(x.T @ W1) @ W2)
        loss = ((y - t) ** 2).sum()
        dW1, dW2 = torch.autograd.grad(loss, [W1, W2])
        return {"loss": loss.detach().numpy(), "dW1": dW1.numpy(), "dW2": dW2.numpy()}
    return step


def seed_numpy(d: dict[str, Any]) -> Step:
    x, W1, W2, t = d["x"].copy(), d["W1"].copy(), d["W2"].copy(), d["t"].copy()

    def step() -> dict[str, np.ndarray]:
        a = x.T @ W1
        h = np.maximum(a, 0)
        y_in = h @ W2
        y = 1 / (1 + np.exp(-y_in))
        diff = y - t
        loss = (diff * diff).sum()
        dy_in = 2 * diff * y * (1 - y)
        dW2 = h.T @ dy_in
        da = (dy_in @ W2.T) * (a > 0)
        dW1 = x @ da
        return {"loss": loss, "dW1": dW1, "dW2": dW2}
    return step


# ---- B: the MLP training step ------------------------------------------------------------------
MLP_SIZES = (784, 256, 256, 10)
MLP_BATCH = 128
LR = np.float32(0.01)


def _chainrule_sgd(loss: Any, p: dict[str, Any]) -> dict[str, np.ndarray]:
    """Backward, one plain SGD update of the parameters ``p``, and what the step reports
    (workloads B and D)."""
    loss.backward()
    grads = {f"d{k}": w.grad.data for k, w in p.items()}
    for w in p.values():
        w.data -= LR * w.grad.data
        w.grad = None
    return {"loss": loss.data, **grads, **{k: w.data for k, w in p.items()}}


def _torch_sgd(torch: Any, loss: Any, p: dict[str, Any]) -> dict[str, np.ndarray]:
    """:func:`_chainrule_sgd` for PyTorch tensors."""
    loss.backward()
    grads = {f"d{k}": w.grad.numpy() for k, w in p.items()}
    with torch.no_grad():
        for w in p.values():
            w -= float(LR) * w.grad
            w.grad = None
    return {"loss": loss.detach().numpy(), **grads,
            **{k: w.detach().numpy() for k, w in p.items()}}


def mlp_inputs(rng: np.random.Generator, sizes: tuple[int, ...] = MLP_SIZES,
               batch: int = MLP_BATCH) -> dict[str, Any]:
    """Kaiming-uniform-like weights in PyTorch's (out, in) layout, a batch and its labels."""
    d: dict[str, Any] = {"X": rng.standard_normal((batch, sizes[0])).astype(F32),
                         "y": rng.integers(0, sizes[-1], batch)}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
        bound = 1 / np.sqrt(n_in)
        d[f"W{i}"] = rng.uniform(-bound, bound, (n_out, n_in)).astype(F32)
        d[f"b{i}"] = rng.uniform(-bound, bound, n_out).astype(F32)
    return d


def _param_names(d: dict[str, Any]) -> list[str]:
    return [k for k in d if k[0] in "Wb" and k[1:].isdigit()]


def mlp_chainrule(d: dict[str, Any]) -> Step:
    import chainrule as cr
    from chainrule import functional as F

    X, y = cr.tensor(d["X"]), d["y"]
    names = _param_names(d)
    p = {k: cr.tensor(d[k], requires_grad=True) for k in names}
    layers = len(names) // 2

    def step() -> dict[str, np.ndarray]:
        h = X
        for i in range(1, layers + 1):
            h = F.linear(h, p[f"W{i}"], p[f"b{i}"])
            if i < layers:
                h = h.relu()
        loss = F.cross_entropy(h, y)
        return _chainrule_sgd(loss, p)
    return step


def mlp_torch(d: dict[str, Any]) -> Step:
    torch = _torch()
    F = torch.nn.functional
    X, y = torch.tensor(d["X"]), torch.tensor(d["y"])
    names = _param_names(d)
    p = {k: torch.tensor(d[k], requires_grad=True) for k in names}
    layers = len(names) // 2

    def step() -> dict[str, np.ndarray]:
        h = X
        for i in range(1, layers + 1):
            h = F.linear(h, p[f"W{i}"], p[f"b{i}"])
            if i < layers:
                h = torch.relu(h)
        loss = F.cross_entropy(h, y)
        return _torch_sgd(torch, loss, p)
    return step


def mlp_numpy(d: dict[str, Any]) -> Step:
    X, y = d["X"], d["y"]
    names = _param_names(d)
    p = {k: d[k].copy() for k in names}
    layers = len(names) // 2
    rows = np.arange(len(y))

    def step() -> dict[str, np.ndarray]:
        acts, masks = [X], []
        h = X
        for i in range(1, layers + 1):
            h = h @ p[f"W{i}"].T
            h += p[f"b{i}"]   # in place: the floor does no needless allocation
            if i < layers:
                masks.append(h > 0)
                np.maximum(h, 0, out=h)
                acts.append(h)
        # NOTE: the log-sum-exp shift, as every engine here does.
        shifted = h - h.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(s)[:, 0] - shifted[rows, y])
        g = e / s
        g[rows, y] -= 1
        g /= len(y)
        grads = {}
        for i in range(layers, 0, -1):
            W = p[f"W{i}"]
            dW = grads[f"dW{i}"] = g.T @ acts[i - 1]
            db = grads[f"db{i}"] = g.sum(axis=0)
            if i > 1:
                g = g @ W
                g *= masks[i - 2]
            W -= LR * dW
            p[f"b{i}"] -= LR * db
        return {"loss": np.asarray(loss, F32), **grads, **p}
    return step


# ---- C: the deep chain -------------------------------------------------------------------------
CHAIN_WIDTH = 16


def chain_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": rng.uniform(-1, 1, CHAIN_WIDTH).astype(F32)}


def chain_chainrule(d: dict[str, Any], n: int) -> Step:
    import chainrule as cr

    x0 = cr.tensor(d["x"], requires_grad=True)

    def step() -> dict[str, np.ndarray]:
        x = x0
        for _ in range(n):
            x = x * 1.0001 + 0.0001
        s = x.sum()
        s.backward()
        g = x0.grad.data
        x0.grad = None
        return {"sum": s.data, "grad": g}
    return step


def chain_torch(d: dict[str, Any], n: int) -> Step:
    torch = _torch()
    x0 = torch.tensor(d["x"], requires_grad=True)

    def step() -> dict[str, np.ndarray]:
        x = x0
        for _ in range(n):
            x = x * 1.0001 + 0.0001
        s = x.sum()
        s.backward()
        g = x0.grad.numpy()
        x0.grad = None
        return {"sum": s.detach().numpy(), "grad": g}
    return step


def chain_numpy(d: dict[str, Any], n: int) -> Step:
    x0 = d["x"].copy()
    a, b = F32(1.0001), F32(0.0001)

    def step() -> dict[str, np.ndarray]:
        x = x0
        for _ in range(n):
            x = x * a + b
        s = x.sum()
        # The Jacobian of every step is the same diagonal, so backward is N multiplies.
        g = np.ones_like(x0)
        for _ in range(n):
            g = g * a
        return {"sum": s, "grad": g}
    return step


def chain_workload(n: int) -> Workload:
    return Workload(
        key=f"C{n:.0e}".replace("+0", ""), title=f"C. deep chain, N = {n:.0e}, per step",
        make_inputs=chain_inputs, steps=n, rtol=1e-3,
        builders={"chainrule": lambda d: chain_chainrule(d, n),
                  "torch": lambda d: chain_torch(d, n),
                  "numpy": lambda d: chain_numpy(d, n)})


# ---- D: the small MLP with hinge loss ----------------------------------------------------------
HINGE_SIZES = (2, 16, 16, 1)
HINGE_POINTS = 100
ALPHA = np.float32(1e-4)


def hinge_inputs(rng: np.random.Generator) -> dict[str, Any]:
    """Two noisy interleaved half-moons (labels -1 and +1) and a 2-16-16-1 network."""
    d = mlp_inputs(rng, HINGE_SIZES, HINGE_POINTS)
    angle = rng.uniform(0, np.pi, HINGE_POINTS)
    label = rng.integers(0, 2, HINGE_POINTS)
    X = np.stack([np.cos(angle) + label, np.sin(angle) * (1 - 2 * label) + 0.5 * label], axis=1)
    d["X"] = (X + 0.1 * rng.standard_normal(X.shape)).astype(F32)
    d["y"] = (2 * label - 1).astype(F32).reshape(-1, 1)
    return d


def hinge_chainrule(d: dict[str, Any]) -> Step:
    import chainrule as cr
    from chainrule import functional as F

    X, y = cr.tensor(d["X"]), cr.tensor(d["y"])
    names = _param_names(d)
    p = {k: cr.tensor(d[k], requires_grad=True) for k in names}

    def step() -> dict[str, np.ndarray]:
        h = F.linear(X, p["W1"], p["b1"]).relu()
        h = F.linear(h, p["W2"], p["b2"]).relu()
        scores = F.linear(h, p["W3"], p["b3"])
        data_loss = (1 - y * scores).relu().mean()
        reg = sum((w * w).sum() for w in p.values())
        loss = data_loss + ALPHA * reg
        return _chainrule_sgd(loss, p)
    return step


def hinge_torch(d: dict[str, Any]) -> Step:
    torch = _torch()
    F = torch.nn.functional
    X, y = torch.tensor(d["X"]), torch.tensor(d["y"])
    names = _param_names(d)
    p = {k: torch.tensor(d[k], requires_grad=True) for k in names}

    def step() -> dict[str, np.ndarray]:
        h = torch.relu(F.linear(X, p["W1"], p["b1"]))
        h = torch.relu(F.linear(h, p["W2"], p["b2"]))
        scores = F.linear(h, p["W3"], p["b3"])
        data_loss = torch.relu(1 - y * scores).mean()
        reg = sum((w * w).sum() for w in p.values())
        loss = data_loss + float(ALPHA) * reg
        return _torch_sgd(torch, loss, p)
    return step


def hinge_numpy(d: dict[str, Any]) -> Step:
    X, y = d["X"], d["y"]
    p = {k: d[k].copy() for k in _param_names(d)}
    n = np.float32(len(y))

    def step() -> dict[str, np.ndarray]:
        W1, b1, W2, b2, W3, b3 = (p[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
        z1 = X @ W1.T + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2.T + b2
        h2 = np.maximum(z2, 0)
        scores = h2 @ W3.T + b3
        margin = 1 - y * scores
        reg = sum((w * w).sum() for w in p.values())
        loss = np.maximum(margin, 0).mean() + ALPHA * reg
        g = (-y * (margin > 0)) / n
        grads = {"W3": g.T @ h2, "b3": g.sum(axis=0)}
        g = (g @ W3) * (z2 > 0)
        grads["W2"], grads["b2"] = g.T @ h1, g.sum(axis=0)
        g = (g @ W2) * (z1 > 0)
        grads["W1"], grads["b1"] = g.T @ X, g.sum(axis=0)
        grads = {f"d{k}": grads[k] + 2 * ALPHA * w for k, w in p.items()}
        for k, w in p.items():
            w -= LR * grads[f"d{k}"]
        return {"loss": np.asarray(loss, F32), **grads, **p}
    return step


SEED = Workload("A", "A. seed step (4-3-1, grad of W1, W2)", seed_inputs,
                {"chainrule": seed_chainrule, "torch": seed_torch, "numpy": seed_numpy})
MLP = Workload("B", "B. MLP step 784-256-256-10, batch 128", mlp_inputs,
               {"chainrule": mlp_chainrule, "torch": mlp_torch, "numpy": mlp_numpy})
HINGE = Workload("D", "D. 2-16-16-1 hinge + L2 step, 100 points", hinge_inputs,
                 {"chainrule": hinge_chainrule, "torch": hinge_torch, "numpy": hinge_numpy})
