"""A 784-256-10 MLP on a batch of 128: every weight explained, output bounded."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.explain import explain


@pytest.fixture(scope="module")
def mlp():
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.normal(size=(128, 784)), dtype=cr.float64, name="x")
    params = {
        "W1": cr.tensor(rng.normal(size=(256, 784)) * 0.05, dtype=cr.float64,
                        requires_grad=True, name="W1"),
        "b1": cr.tensor(np.zeros(256), dtype=cr.float64, requires_grad=True, name="b1"),
        "W2": cr.tensor(rng.normal(size=(10, 256)) * 0.05, dtype=cr.float64,
                        requires_grad=True, name="W2"),
        "b2": cr.tensor(np.zeros(10), dtype=cr.float64, requires_grad=True, name="b2"),
    }
    labels = rng.integers(0, 10, size=128)
    h = F.relu(F.linear(x, params["W1"], params["b1"]))
    loss = F.cross_entropy(F.linear(h, params["W2"], params["b2"]), labels)
    return loss, params


@pytest.mark.parametrize("name,index", [("W1", (3, 100)), ("W2", (2, 5)), ("b1", (7,)),
                                        ("b2", (1,))])
def test_batch_128_is_summarized(mlp, name: str, index: tuple[int, ...]) -> None:
    loss, params = mlp
    d = explain(loss, params[name], index)
    assert d.rel_autograd <= 1e-12
    assert d.rel_numeric <= 1e-5
    assert d.view == "backprop"      # 128 samples (and 10 classes) multiply the paths
    text = d.to_text()
    assert "more terms" in text or "more elements" in text
    # Bounded: a few hundred lines however large the batch.
    assert len(text.splitlines()) <= 400, len(text.splitlines())
    assert len(d.to_html()) <= 1_000_000
