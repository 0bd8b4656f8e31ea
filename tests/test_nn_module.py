"""Module mechanics (registration, state dicts, modes) and nn.init against torch's conventions."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

torch = pytest.importorskip("torch")


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(3))
        self.layers = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])
        self.head = nn.Sequential(nn.Tanh(), nn.Linear(3, 1))
        self.plain_list = [nn.Linear(3, 3)]          # not registered, as in PyTorch
        self.shared = self.layers[0]                   # the same module twice: counted once

    def forward(self, x):
        for layer in self.layers:
            x = layer(x * self.scale)
        return self.head(x)


def test_parameters_are_found_by_attribute_in_order() -> None:
    names = [n for n, _ in Block().named_parameters()]
    assert names == ["scale", "layers.0.weight", "layers.0.bias", "layers.1.weight",
                     "layers.1.bias", "head.1.weight", "head.1.bias"]
    assert len(list(Block().parameters())) == 7


def test_state_dict_names_match_torch_and_load_into_torch() -> None:
    ours = nn.MLP([4, 5, 3], activation="relu")
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    back = nn.MLP([4, 5, 3])
    back.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for k, v in back.state_dict().items():
        assert np.array_equal(v, ours.state_dict()[k])


def test_load_state_dict_names_missing_unexpected_and_misshaped_keys() -> None:
    model = nn.MLP([4, 5, 3])
    state = model.state_dict()
    broken = {**state, "9.weight": np.zeros(1), "2.weight": np.zeros((3, 6))}
    del broken["0.bias"]
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(broken)
    message = str(info.value)
    for part in ("missing keys: 0.bias", "unexpected keys: 9.weight",
                 "2.weight: the module has (3, 5), the state dict (3, 6)"):
        assert part in message
    del broken["2.weight"]
    missing, unexpected = model.load_state_dict({**broken, "2.weight": state["2.weight"]},
                                                strict=False)
    assert missing == ["0.bias"] and unexpected == ["9.weight"]


def test_load_state_dict_copies_and_casts_to_the_parameter_dtype() -> None:
    model = nn.Linear(2, 2, dtype=np.float32)
    value = np.ones((2, 2), dtype=np.float64)
    model.load_state_dict({"weight": value, "bias": np.zeros(2)})
    assert model.weight.dtype == np.float32
    value[0, 0] = 5.0
    assert model.weight.data[0, 0] == 1.0


def test_train_eval_and_zero_grad_reach_every_submodule() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5), nn.Sequential(nn.Dropout(0.2)))
    assert all(m.training for m in model.modules())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    out = model(cr.ones(4, 2)).sum()
    out.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(not p.grad.data.any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_parameter_and_module_errors() -> None:
    p = nn.Parameter(np.zeros((2, 3)))
    assert p.requires_grad and p.is_leaf and "Parameter containing" in repr(p)
    with pytest.raises(cr.DTypeError):
        nn.Parameter(np.zeros(3, dtype=np.int64))

    class Forgot(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(cr.ChainruleError, match="super"):
        Forgot()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)
    with pytest.raises(cr.ShapeError, match="last dimension must be 3"):
        nn.Linear(3, 2)(cr.zeros(4, 5))
    with pytest.raises(TypeError, match="expected a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(ValueError, match="2 activations for 3 layers"):
        nn.MLP([2, 3, 3, 1], activation=["relu", "relu"])
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([2, 3, 1], activation="swish")


def test_mlp_structure() -> None:
    model = nn.MLP([2, 8, 8, 3], activation="tanh", dropout=0.1)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert isinstance(nn.MLP([2, 1], output_activation="sigmoid")[-1], nn.Sigmoid)


# ---- init --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 7), (4, 3, 2, 2), (6, 2, 3)])
def test_fans_follow_torch(shape) -> None:
    ours = nn.init.fan_in_and_fan_out(nn.Parameter(np.empty(shape)))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("sigmoid", None),
                                                ("tanh", None), ("relu", None),
                                                ("leaky_relu", None), ("leaky_relu", 0.2),
                                                ("selu", None)])
def test_gains_follow_torch(nonlinearity, param) -> None:
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)


def _std_and_bound(name: str, shape, **kw) -> tuple[float, float]:
    """The std each initializer should have, from torch's own fan and gain helpers."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if name.startswith("xavier"):
        std = kw.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        fan = fan_in if kw.get("mode", "fan_in") == "fan_in" else fan_out
        gain = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
        std = gain / math.sqrt(fan)
    return std, math.sqrt(3.0) * std


@pytest.mark.parametrize("name,kw", [
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"nonlinearity": "relu"}),
])
def test_random_initializers_have_torchs_scale(name, kw) -> None:
    shape = (300, 400)
    w = nn.Parameter(np.empty(shape))
    getattr(nn.init, name)(w, generator=np.random.default_rng(0), **kw)
    std, bound = _std_and_bound(name, shape, **kw)
    assert abs(w.data.std() / std - 1) < 0.01
    if "uniform" in name:
        assert np.abs(w.data).max() <= bound
        assert np.abs(w.data).max() > 0.999 * bound


def test_simple_initializers_and_seeding() -> None:
    w = nn.Parameter(np.empty((2, 3), dtype=np.float32))
    assert nn.init.ones_(w).data.tolist() == [[1.0] * 3] * 2 and w.dtype == np.float32
    assert not nn.init.zeros_(w).data.any()
    assert (nn.init.constant_(w, 0.25).data == 0.25).all()
    cr.manual_seed(7)
    a = nn.init.normal_(w, 1.0, 0.5).data.copy()
    cr.manual_seed(7)
    assert np.array_equal(nn.init.normal_(w, 1.0, 0.5).data, a)
    u = nn.init.uniform_(nn.Parameter(np.empty(10000)), -2.0, 3.0)
    assert u.data.min() >= -2.0 and u.data.max() < 3.0
    with pytest.raises(cr.ShapeError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.empty(3)))


def test_linear_default_init_matches_torchs_bounds() -> None:
    layer = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= bound
    assert abs(layer.weight.data.std() / (bound / math.sqrt(3)) - 1) < 0.1


def test_import_stays_light() -> None:
    code = ("import sys, chainrule, chainrule.nn, chainrule.optim, chainrule.data, "
            "chainrule.nn.training\n"
            "heavy = [m for m in ('sklearn', 'matplotlib', 'tqdm', 'safetensors', 'torch') "
            "if m in sys.modules]\nprint(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
