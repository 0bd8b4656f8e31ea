"""Numerical stability: the activations and losses stay finite and match PyTorch far out.

Inputs cover [-1000, 1000] in float64 and [-100, 100] in float32 (dense grids plus the points
where naive formulas break: exp overflow at 709 / 88, 1 + exp(-x) rounding at 37 / 17, 0).
Values and gradients must match torch.nn.functional, and every computation runs under
``np.errstate(all="raise", under="ignore")``: an overflow, an invalid operation (inf - inf,
0 * inf) or a division by zero anywhere in a forward or backward raises.

NOTE on underflow: ``exp(-1000)`` rounding to 0 is the correctly rounded result, not an error:
NumPy ignores it by default and PyTorch computes the same zeros silently. Making it raise would
mean flushing values to zero long before they underflow (sigmoid(-700) = 0), losing range, so
underflow is the one floating-point event these tests allow.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F

SETTINGS = {
    np.float64: dict(limit=1000.0, rtol=1e-7, atol=1e-7, torch=torch.float64,
                     special=[709.0, 709.8, 710.0, 745.2, 36.7, 37.0, 1e-300]),
    np.float32: dict(limit=100.0, rtol=1e-3, atol=1e-4, torch=torch.float32,
                     special=[88.0, 88.8, 89.0, 103.9, 16.6, 17.0, 1e-30]),
}


def grid(dtype) -> np.ndarray:
    s = SETTINGS[dtype]
    special = np.array(s["special"])
    points = np.concatenate([np.linspace(-s["limit"], s["limit"], 4001), special, -special,
                             [0.0, s["limit"], -s["limit"]]])
    points = points[np.abs(points) <= s["limit"]]
    return np.sort(points).astype(dtype)[: len(points) // 4 * 4]


def _rows(f):
    return lambda x: f(x.reshape(-1, 4))


def _torch_rows(f):
    return lambda t: f(t.reshape(-1, 4))


CASES = {
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "softplus": (F.softplus, TF.softplus),
    "log_sigmoid": (F.log_sigmoid, TF.logsigmoid),
    "softmax": (_rows(lambda x: F.softmax(x, axis=-1)),
                _torch_rows(lambda t: torch.softmax(t, dim=-1))),
    "log_softmax": (_rows(lambda x: F.log_softmax(x, axis=-1)),
                    _torch_rows(lambda t: torch.log_softmax(t, dim=-1))),
    "logsumexp": (_rows(lambda x: x.logsumexp(axis=-1)),
                  _torch_rows(lambda t: torch.logsumexp(t, dim=-1))),
}


def _check(ours, theirs, dtype, what):
    s = SETTINGS[dtype]
    assert np.isfinite(ours).all(), f"{what}: non-finite values {ours[~np.isfinite(ours)][:5]}"
    np.testing.assert_allclose(ours, theirs, rtol=s["rtol"], atol=s["atol"], err_msg=what)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_is_finite_and_matches_torch(name, dtype):
    fn, fn_torch = CASES[name]
    values = grid(dtype)
    x = cr.tensor(values, dtype=dtype, requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        y = fn(x)
        weights = np.linspace(-1.0, 1.0, y.size).reshape(y.shape).astype(dtype)
        (y * cr.tensor(weights, dtype=dtype)).sum().backward()
    t = torch.tensor(values, requires_grad=True)
    z = fn_torch(t)
    (z * torch.tensor(weights)).sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    _check(y.data, z.detach().numpy(), dtype, f"{name} value")
    _check(x.grad.data, t.grad.numpy(), dtype, f"{name} gradient")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_is_finite_and_matches_torch(dtype, reduction):
    logits = grid(dtype).reshape(-1, 4)
    logits = np.concatenate([logits, np.zeros((1, 4), dtype), logits[::-1]])
    targets = np.arange(len(logits)) % 4
    x = cr.tensor(logits, dtype=dtype, requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        loss = F.cross_entropy(x, targets, reduction=reduction)
        loss.sum().backward()
    t = torch.tensor(logits, requires_grad=True)
    tloss = TF.cross_entropy(t, torch.from_numpy(targets), reduction=reduction)
    tloss.sum().backward()
    _check(np.asarray(loss.data), tloss.detach().numpy(), dtype, "cross_entropy value")
    _check(x.grad.data, t.grad.numpy(), dtype, "cross_entropy gradient")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_cross_entropy_with_probability_targets(dtype):
    logits = grid(dtype).reshape(-1, 4)
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=len(logits)).astype(dtype)
    x = cr.tensor(logits, dtype=dtype, requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        loss = F.cross_entropy(x, cr.tensor(probs, dtype=dtype))
        loss.backward()
    t = torch.tensor(logits, requires_grad=True)
    tloss = TF.cross_entropy(t, torch.from_numpy(probs))
    tloss.backward()
    _check(np.asarray(loss.data), tloss.detach().numpy(), dtype, "soft cross_entropy value")
    _check(x.grad.data, t.grad.numpy(), dtype, "soft cross_entropy gradient")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_bce_with_logits_is_finite_and_matches_torch(dtype):
    logits = grid(dtype)
    targets = (np.arange(logits.size) % 3 / 2).astype(dtype)    # 0, 0.5, 1
    x = cr.tensor(logits, dtype=dtype, requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        loss = F.binary_cross_entropy_with_logits(x, cr.tensor(targets, dtype=dtype),
                                                  reduction="none")
        loss.sum().backward()
    t = torch.tensor(logits, requires_grad=True)
    tloss = TF.binary_cross_entropy_with_logits(t, torch.from_numpy(targets), reduction="none")
    tloss.sum().backward()
    _check(loss.data, tloss.detach().numpy(), dtype, "BCE value")
    _check(x.grad.data, t.grad.numpy(), dtype, "BCE gradient")


def test_extreme_values_exactly():
    x = cr.tensor([-1000.0, 0.0, 1000.0], dtype=np.float64, requires_grad=True)
    with np.errstate(all="raise", under="ignore"):
        np.testing.assert_array_equal(F.sigmoid(x).data, [0.0, 0.5, 1.0])
        np.testing.assert_array_equal(F.softplus(x).data, [0.0, np.log(2.0), 1000.0])
        np.testing.assert_array_equal(F.log_sigmoid(x).data, [-1000.0, -np.log(2.0), 0.0])
        np.testing.assert_array_equal(F.softmax(x).data, [0.0, 0.0, 1.0])
        F.softplus(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 1.0])   # sigmoid(x), 0.5 at 0


def test_the_errstate_catches_naive_formulas():
    # The guard is real: the textbook formulas fail under the same errstate.
    x = np.array([-1000.0, 1000.0])
    with np.errstate(all="raise", under="ignore"), pytest.raises(FloatingPointError):
        _ = 1 / (1 + np.exp(-x))
    with np.errstate(all="raise", under="ignore"), pytest.raises(FloatingPointError):
        _ = np.log(1 + np.exp(x))
    with np.errstate(all="raise", under="ignore"), pytest.raises(FloatingPointError):
        e = np.exp(x)
        _ = e / e.sum()
