"""Optimizers, schedules and clipping against torch.optim: 200-step float64 trajectories.

Both sides compute their own gradients (chainrule's engine, torch's autograd) of the same small
network on the same data, so the test covers the whole training step, not just the update rule.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule import optim

torch = pytest.importorskip("torch")

STEPS = 200
TOL = 1e-10

OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.05)),
    "sgd_momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "sgd_dampening": ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    "sgd_wd": ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.01)),
    "sgd_maximize": ("SGD", dict(lr=0.01, maximize=True)),
    "adam": ("Adam", dict(lr=0.01)),
    "adam_wd": ("Adam", dict(lr=0.01, weight_decay=0.05, betas=(0.8, 0.99), eps=1e-6)),
    "adam_amsgrad": ("Adam", dict(lr=0.01, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
    "rmsprop": ("RMSprop", dict(lr=0.001)),
    "rmsprop_centered": ("RMSprop", dict(lr=0.001, centered=True, weight_decay=0.01)),
    "rmsprop_momentum": ("RMSprop", dict(lr=0.001, momentum=0.9, eps=1e-5)),
}


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 4))
    y = rng.normal(size=(16, 2))
    init = {"0.weight": rng.normal(size=(5, 4)) * 0.5, "0.bias": rng.normal(size=5) * 0.1,
            "2.weight": rng.normal(size=(2, 5)) * 0.5, "2.bias": rng.normal(size=2) * 0.1}
    return x, y, init


def _models(init: dict[str, np.ndarray]) -> tuple[nn.Module, torch.nn.Module]:
    ours = nn.Sequential(nn.Linear(4, 5, dtype=np.float64), nn.Tanh(),
                         nn.Linear(5, 2, dtype=np.float64))
    ours.load_state_dict(init)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(),
                                 torch.nn.Linear(5, 2)).double()
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in init.items()})
    return ours, theirs


def _run(name: str, kwargs: dict, schedule=None, clip: float | None = None) -> float:
    x, y, init = _problem()
    ours, theirs = _models(init)
    opt = getattr(optim, name)(ours.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    sched = tsched = None
    if schedule is not None:
        kind, skw = schedule
        sched = getattr(optim, kind)(opt, **skw)
        tsched = getattr(torch.optim.lr_scheduler, kind)(topt, **skw)
    xt, yt = cr.tensor(x), cr.tensor(y)
    worst = 0.0
    for _ in range(STEPS):
        opt.zero_grad()
        nn.MSELoss()(ours(xt), yt).backward()
        topt.zero_grad()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        if clip is not None:
            n1 = optim.clip_grad_norm_(ours.parameters(), clip)
            n2 = torch.nn.utils.clip_grad_norm_(theirs.parameters(), clip)
            assert abs(n1 - float(n2)) <= TOL * max(1.0, float(n2))
        opt.step()
        topt.step()
        if sched is not None:
            sched.step()
            tsched.step()
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=0, abs=1e-15)
        theirs_sd = theirs.state_dict()
        for k, v in ours.state_dict().items():
            worst = max(worst, float(np.max(np.abs(v - theirs_sd[k].numpy()))))
    assert worst <= TOL, f"{name} {kwargs}: max deviation {worst:.3e} over {STEPS} steps"
    return worst


@pytest.mark.parametrize("key", sorted(OPTIMIZERS))
def test_optimizer_trajectory_matches_torch(key: str) -> None:
    name, kwargs = OPTIMIZERS[key]
    _run(name, kwargs)


@pytest.mark.parametrize("schedule", [
    ("StepLR", dict(step_size=30, gamma=0.5)),
    ("CosineAnnealingLR", dict(T_max=50, eta_min=1e-4)),   # 200 steps: two full cycles
])
@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("Adam", dict(lr=0.02))])
def test_scheduled_trajectory_matches_torch(schedule, name, kwargs) -> None:
    _run(name, kwargs, schedule=schedule)


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("AdamW", dict(lr=0.01))])
def test_clipped_trajectory_matches_torch(name, kwargs) -> None:
    _run(name, kwargs, clip=0.05)
