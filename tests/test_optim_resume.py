"""Optimizer API: argument errors, no aliasing, and exact resume through a safetensors file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule import optim
from chainrule.weights import load_weights, save_weights

CONFIGS = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.001, centered=True, momentum=0.5)),
]


def _setup(name: str, kwargs: dict, seed: int = 0):
    cr.manual_seed(seed)
    model = nn.MLP([3, 6, 2], activation="tanh", dtype=np.float64)
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    sched = optim.CosineAnnealingLR(opt, T_max=70, eta_min=1e-4)
    rng = np.random.default_rng(5)
    x, y = cr.tensor(rng.normal(size=(20, 3))), cr.tensor(rng.normal(size=(20, 2)))
    return model, opt, sched, x, y


def _steps(model, opt, sched, x, y, n: int) -> None:
    for _ in range(n):
        opt.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        opt.step()
        sched.step()


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_save_load_and_100_more_steps_is_bitwise_equal(tmp_path, name, kwargs) -> None:
    straight = _setup(name, kwargs)
    _steps(*straight, 200)

    first = _setup(name, kwargs)
    _steps(*first, 100)
    model, opt, sched = first[:3]
    arrays, meta = optim.flatten_state(opt.state_dict())
    path = tmp_path / "ckpt.safetensors"
    save_weights(path, {**{f"model.{k}": v for k, v in model.state_dict().items()}, **arrays},
                 metadata={"optim": meta, "sched": json.dumps(sched.state_dict())})
    tensors, loaded_meta = load_weights(path, with_metadata=True)

    # A fresh model from another seed: everything must come from the file.
    resumed = _setup(name, kwargs, seed=99)
    r_model, r_opt, r_sched = resumed[:3]
    r_model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    r_opt.load_state_dict(optim.unflatten_state(tensors, loaded_meta["optim"]))
    r_sched.load_state_dict(json.loads(loaded_meta["sched"]))
    _steps(*resumed, 100)

    expected = straight[0].state_dict()
    for key, value in r_model.state_dict().items():
        assert np.array_equal(value, expected[key]), f"{name}: {key} differs after resume"
    assert r_opt.param_groups[0]["lr"] == straight[1].param_groups[0]["lr"]


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -0.1, "fast"])
def test_bad_learning_rate_is_a_clear_error(lr) -> None:
    w = cr.zeros(2, requires_grad=True)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop):
        with pytest.raises(optim.OptimizerError, match="lr must be"):
            cls([w], lr=lr)


def test_empty_parameter_list_and_other_bad_arguments() -> None:
    with pytest.raises(optim.OptimizerError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(optim.OptimizerError, match="empty parameter list"):
        optim.SGD(nn.ReLU().parameters())
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(optim.OptimizerError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(optim.OptimizerError, match="betas"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(optim.OptimizerError, match="leaf tensors that require grad"):
        optim.SGD([cr.zeros(2)], lr=0.1)
    with pytest.raises(optim.OptimizerError, match="twice"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(optim.OptimizerError, match="T_max"):
        optim.CosineAnnealingLR(optim.SGD([w], lr=0.1), T_max=0)


def test_step_never_writes_into_grad_or_the_old_parameter_array() -> None:
    for name, kwargs in CONFIGS:
        w = cr.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
        opt = getattr(optim, name)([w], **kwargs)
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            old_data, old_grad = w.data, w.grad.data
            snapshot_data, snapshot_grad = old_data.copy(), old_grad.copy()
            opt.step()
            assert w.data is not old_data
            assert np.array_equal(old_data, snapshot_data), f"{name} wrote into p.data"
            assert np.array_equal(w.grad.data, snapshot_grad), f"{name} wrote into p.grad"


def test_zero_grad_modes_and_skipping_parameters_without_grad() -> None:
    a, b = cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5)
    (a * 3).sum().backward()
    opt.step()                       # b has no gradient: untouched
    assert a.data.tolist() == [-0.5, -0.5] and b.data.tolist() == [1.0, 1.0]
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not a.grad.data.any()
    opt.zero_grad()
    assert a.grad is None


def test_load_state_dict_refuses_a_different_model() -> None:
    small = optim.Adam(nn.Linear(2, 2).parameters())
    big = optim.Adam(nn.MLP([2, 3, 2]).parameters())
    with pytest.raises(optim.OptimizerError, match="parameter groups of sizes"):
        big.load_state_dict(small.state_dict())


def test_clip_grad_norm_inf_and_nonfinite() -> None:
    w = cr.tensor(np.array([3.0, -4.0]), requires_grad=True)
    (w * w).sum().backward()          # grad (6, -8)
    assert optim.clip_grad_norm_([w], 4.0, norm_type=math.inf) == 8.0
    assert np.allclose(w.grad.data, np.array([6.0, -8.0]) * 4.0 / (8.0 + 1e-6))
    w.grad = cr.tensor(np.array([np.nan, 1.0]))
    with pytest.raises(cr.AnomalyError, match="holds NaN or infinity"):
        optim.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    assert optim.clip_grad_norm_([cr.zeros(2, requires_grad=True)], 1.0) == 0.0
