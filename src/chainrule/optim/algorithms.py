"""SGD, Adam, AdamW and RMSprop with PyTorch's update formulas (``torch/optim/*.py``,
single-tensor path), so that float64 trajectories agree with torch.optim to rounding.

>>> import numpy as np
>>> import chainrule as cr
>>> from chainrule import optim
>>> w = cr.tensor(np.array([1.0, -2.0]), requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w.data
array([ 0.8, -1.6])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, OptimizerError, check_hyper, lerp


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

    With ``g = grad + weight_decay * p``: ``buf = g`` on the first step, then
    ``buf = momentum * buf + (1 - dampening) * g``; the step uses ``g + momentum * buf``
    (Nesterov) or ``buf``, and ``p = p - lr * step``. (PyTorch's form: lr multiplies the buffer
    on use, unlike Sutskever et al. who fold it into the buffer.)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for key in ("momentum", "dampening", "weight_decay"):
            group[key] = check_hyper("SGD", key, group[key])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise OptimizerError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> np.ndarray:
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            buf = grad.copy() if buf is None else buf * momentum + (1 - group["dampening"]) * grad
            state["momentum_buffer"] = buf
            grad = grad + momentum * buf if group["nesterov"] else buf
        return p - group["lr"] * grad


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with PyTorch's placement of eps and bias corrections.

    ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 v + (1 - beta2) g^2``, then
    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``: eps is added after
    the bias correction of v. With ``amsgrad`` the running maximum of v replaces v.
    """

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        name = type(self).__name__
        b1, b2 = group["betas"]
        group["betas"] = (check_hyper(name, "betas[0]", b1, 0.0, 1.0, high_open=True),
                          check_hyper(name, "betas[1]", b2, 0.0, 1.0, high_open=True))
        group["eps"] = check_hyper(name, "eps", group["eps"])
        group["weight_decay"] = check_hyper(name, "weight_decay", group["weight_decay"])

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> np.ndarray:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p)
            state["exp_avg_sq"] = np.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        state["step"] += 1
        step = float(state["step"])
        if wd != 0:
            if self._decoupled:
                p = p * (1 - lr * wd)
            else:
                grad = grad + wd * p
        exp_avg = state["exp_avg"] = lerp(state["exp_avg"], grad, 1 - beta1)
        exp_avg_sq = state["exp_avg_sq"] = state["exp_avg_sq"] * beta2 + (1 - beta2) * grad * grad
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        step_size = lr / bias_correction1
        if group["amsgrad"]:
            exp_avg_sq = state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"],
                                                              exp_avg_sq)
        # NOTE: eps is added to sqrt(v_hat), not inside the square root (as PyTorch).
        denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + group["eps"]
        return p + (-step_size) * (exp_avg / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): ``p *= 1 - lr * wd`` first."""

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """RMSprop (Hinton) in PyTorch's form: ``v = alpha v + (1 - alpha) g^2``, then
    ``p -= lr * g / (sqrt(v) + eps)``; ``centered`` subtracts the squared mean gradient and
    ``momentum`` keeps a buffer of those steps.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        super()._check_group(group)
        for key in ("alpha", "eps", "weight_decay", "momentum"):
            group[key] = check_hyper("RMSprop", key, group[key])

    def _update(self, p: np.ndarray, grad: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> np.ndarray:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p)
        alpha = group["alpha"]
        state["step"] += 1
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * p
        square_avg = state["square_avg"] = state["square_avg"] * alpha + (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"] = lerp(state["grad_avg"], grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg = avg + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"] = state["momentum_buffer"] * group["momentum"] + (
                grad / avg)
            return p - group["lr"] * buf
        return p + (-group["lr"]) * (grad / avg)
