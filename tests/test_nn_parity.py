"""Every nn module's forward and backward against torch.nn in float64 (to 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

torch = pytest.importorskip("torch")

TOL = 1e-10
RNG = np.random.default_rng(1234)


def _close(ours: np.ndarray, theirs, what: str) -> None:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs {theirs.shape}"
    err = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    assert err <= TOL, f"{what}: max error {err:.3e}"


def _copy_params(ours: nn.Module, theirs) -> None:
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in ours.state_dict().items()})


def _check_module(ours: nn.Module, theirs, shape: tuple[int, ...], scale: float = 1.0) -> None:
    """Forward value, input gradient and parameter gradients under a random upstream gradient."""
    ours.double()
    theirs.double()
    _copy_params(ours, theirs)
    x = RNG.normal(size=shape) * scale
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, tout = ours(xc), theirs(xt)
    _close(out.data, tout, f"{type(ours).__name__} forward")
    g = RNG.normal(size=out.shape)
    (out * cr.tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    _close(xc.grad.data, xt.grad, f"{type(ours).__name__} input grad")
    tgrads = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tgrads), "parameter names differ from torch's"
    for name, p in ours.named_parameters():
        _close(p.grad.data, tgrads[name].grad, f"{type(ours).__name__} grad of {name}")


@pytest.mark.parametrize("ours,theirs,shape", [
    (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (7, 5)),
    (lambda: nn.Linear(5, 3, bias=False), lambda: torch.nn.Linear(5, 3, bias=False), (7, 5)),
    (lambda: nn.Linear(4, 2), lambda: torch.nn.Linear(4, 2), (3, 6, 4)),
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU(), (6, 5)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid(), (6, 5)),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh(), (6, 5)),
    (lambda: nn.Identity(), lambda: torch.nn.Identity(), (6, 5)),
    (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1), (6, 5)),
    (lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0), (6, 5)),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1), (6, 5)),
    (lambda: nn.Dropout(0.5).eval(), lambda: torch.nn.Dropout(0.5).eval(), (6, 5)),
    (lambda: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3), nn.LogSoftmax()),
     lambda: torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3),
                                 torch.nn.LogSoftmax(dim=-1)), (9, 4)),
    (lambda: nn.MLP([3, 6, 5, 2], activation="relu", output_activation="sigmoid"),
     lambda: torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 5),
                                 torch.nn.ReLU(), torch.nn.Linear(5, 2), torch.nn.Sigmoid()),
     (10, 3)),
], ids=["linear", "linear_nobias", "linear_3d", "relu", "sigmoid", "tanh", "identity",
        "softmax_last", "softmax_dim0", "log_softmax", "dropout_eval", "sequential", "mlp"])
def test_module_matches_torch(ours, theirs, shape) -> None:
    _check_module(ours(), theirs(), shape)


def test_softmax_and_log_softmax_are_stable_for_huge_logits() -> None:
    _check_module(nn.LogSoftmax(), torch.nn.LogSoftmax(dim=-1), (4, 6), scale=1e3)
    _check_module(nn.Softmax(), torch.nn.Softmax(dim=-1), (4, 6), scale=1e3)


def test_dropout_in_training_scales_kept_units_and_their_gradient() -> None:
    cr.manual_seed(3)
    drop = nn.Dropout(0.25)
    x = cr.tensor(RNG.normal(size=(200, 50)), requires_grad=True)
    out = drop(x)
    kept = out.data != 0
    # The same mask applied with torch: forward and gradient are x * mask / (1 - p).
    mask = torch.from_numpy(kept.astype(np.float64) / 0.75)
    xt = torch.tensor(x.data, requires_grad=True)
    (xt * mask).sum().backward()
    out.sum().backward()
    _close(out.data, xt.detach() * mask, "dropout forward")
    _close(x.grad.data, xt.grad, "dropout grad")
    assert abs(kept.mean() - 0.75) < 0.02
    cr.manual_seed(3)
    assert np.array_equal(nn.Dropout(0.25)(x).data, out.data), "dropout ignores manual_seed"
    assert np.array_equal(drop.eval()(x).data, x.data)
    assert np.all(nn.Dropout(1.0)(x).data == 0)


def _targets(kind: str, n: int, c: int):
    if kind == "index":
        return RNG.integers(0, c, n)
    if kind == "prob":
        p = RNG.random((n, c))
        return p / p.sum(axis=1, keepdims=True)
    if kind == "binary":
        return RNG.integers(0, 2, (n, c)).astype(np.float64)
    return RNG.normal(size=(n, c))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,target_kind,scale", [
    ("MSELoss", "real", 1.0), ("L1Loss", "real", 1.0),
    ("BCEWithLogitsLoss", "binary", 1.0), ("BCEWithLogitsLoss", "binary", 200.0),
    ("CrossEntropyLoss", "index", 1.0), ("CrossEntropyLoss", "index", 500.0),
    ("CrossEntropyLoss", "prob", 1.0),
])
def test_loss_matches_torch(name: str, target_kind: str, scale: float, reduction: str) -> None:
    n, c = 8, 5
    z = RNG.normal(size=(n, c)) * scale
    t = _targets(target_kind, n, c)
    zc, zt = cr.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    tc = cr.tensor(t)
    tt = torch.from_numpy(t)
    out = getattr(nn, name)(reduction=reduction)(zc, tc)
    tout = getattr(torch.nn, name)(reduction=reduction)(zt, tt)
    assert np.all(np.isfinite(out.data))
    _close(out.data, tout, f"{name} forward")
    g = RNG.normal(size=out.shape)
    (out * cr.tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    _close(zc.grad.data, zt.grad, f"{name} grad")
