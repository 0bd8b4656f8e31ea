"""Built networks against independent oracles: NOTES.md's numbers and PyTorch (float64)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainrule.network import load_network, parse_network

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def test_there_are_a_seed_and_three_more_examples():
    names = {p.stem for p in EXAMPLES}
    assert {"seed", "biases", "softmax", "tanh_mean"} <= names


def test_seed_numbers_match_notes():
    """Every number of /work/shared/seed/NOTES.md's table, to 1e-6."""
    net = load_network(ROOT / "examples" / "seed.toml").build()
    v = net.values
    np.testing.assert_allclose(v["a"].data, [[2, 2, 2]], atol=1e-6)
    np.testing.assert_allclose(v["h"].data, [[2, 2, 2]], atol=1e-6)
    np.testing.assert_allclose(v["y_in"].data, [[6]], atol=1e-6)
    np.testing.assert_allclose(v["y"].data, [[0.9975274]], atol=1e-6)
    np.testing.assert_allclose(net.loss.data, 0.9950609, atol=1e-6)
    grads = net.gradients()
    np.testing.assert_allclose(grads["W2"], np.full((3, 1), 9.84164e-3), atol=1e-6)
    rows = [-4.92082e-3, 9.84164e-3, -1.47625e-2, 1.96833e-2]
    np.testing.assert_allclose(grads["W1"], np.repeat(np.array(rows)[:, None], 3, 1), atol=1e-6)
    assert [t.name for t in net.named_tensors().values()] == [
        "x", "W1", "a", "h", "W2", "y_in", "y", "t", "L"]


def torch_reference(spec):
    """The same network written directly in PyTorch from the spec's arrays."""
    params = {}
    for layer in range(1, spec.layers + 1):
        params[f"W{layer}"] = torch.tensor(spec.weights[f"W{layer}"], requires_grad=True)
        if spec.bias:
            params[f"b{layer}"] = torch.tensor(spec.biases[f"b{layer}"], requires_grad=True)
    act = {"identity": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid,
           "tanh": torch.tanh, "softmax": lambda z: torch.softmax(z, dim=-1)}
    h = torch.tensor(spec.x)
    for layer in range(1, spec.layers + 1):
        z = h @ params[f"W{layer}"] + (params[f"b{layer}"] if spec.bias else 0)
        logits, h = z, act[spec.activations[layer - 1]](z)
    t = torch.tensor(spec.t)
    if spec.loss_kind == "cross_entropy":
        loss = torch.nn.functional.cross_entropy(logits, t, reduction=spec.reduction)
    else:
        loss = torch.nn.functional.mse_loss(h, t, reduction=spec.reduction)
        loss = loss * 0.5 if spec.half else loss
    names = list(params)
    grads = torch.autograd.grad(loss, [params[n] for n in names])
    return h.detach().numpy(), loss.item(), {n: g.numpy() for n, g in zip(names, grads)}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_against_torch(path):
    spec = load_network(path)
    net = spec.build()
    y, loss, grads = torch_reference(spec)
    np.testing.assert_allclose(net.values["y"].data, y, rtol=1e-12)
    assert float(net.loss.data) == pytest.approx(loss, rel=1e-12)
    mine = net.gradients()
    assert set(mine) == set(grads)
    for name, g in grads.items():
        np.testing.assert_allclose(mine[name], g, rtol=1e-10, atol=1e-15, err_msg=name)
    stepped = net.step()
    for name, g in grads.items():
        expected = spec.weights.get(name, spec.biases.get(name)) - spec.learning_rate * g
        np.testing.assert_allclose(stepped[name], expected, rtol=1e-12, atol=1e-15)


def test_biases_example_written_out_in_torch():
    """The 2-2-2 example with its numbers typed into PyTorch, independently of the parser."""
    W1 = torch.tensor([[0.15, 0.25], [0.20, 0.30]], dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor([0.35, 0.35], dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor([[0.40, 0.50], [0.45, 0.55]], dtype=torch.float64, requires_grad=True)
    b2 = torch.tensor([0.60, 0.60], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([[0.05, 0.10]], dtype=torch.float64)
    t = torch.tensor([[0.01, 0.99]], dtype=torch.float64)
    y = torch.sigmoid(torch.sigmoid(x @ W1 + b1) @ W2 + b2)
    loss = 0.5 * ((y - t) ** 2).sum()
    grads = torch.autograd.grad(loss, [W1, b1, W2, b2])
    net = load_network(ROOT / "examples" / "biases.toml").build()
    assert float(net.loss.data) == pytest.approx(loss.item(), rel=1e-12)
    stepped = net.step()
    for name, p, g in zip(["W1", "b1", "W2", "b2"], [W1, b1, W2, b2], grads):
        np.testing.assert_allclose(stepped[name], (p - 0.5 * g).detach().numpy(), rtol=1e-12)


def test_softmax_example_with_one_hot_rows_equals_class_indices():
    text = (ROOT / "examples" / "softmax.toml").read_text()
    by_index = parse_network(text).build()
    one_hot = parse_network(text.replace("t = [2, 0]", "t = [[0, 0, 1], [1, 0, 0]]")).build()
    assert float(by_index.loss.data) == pytest.approx(float(one_hot.loss.data), rel=1e-14)
    for name, g in by_index.gradients().items():
        np.testing.assert_allclose(one_hot.gradients()[name], g, rtol=1e-12, atol=1e-15)


def test_deeper_nets_number_their_layers_and_forward_takes_any_batch():
    net = load_network(ROOT / "examples" / "tanh_mean.toml").build()
    assert list(net.values) == ["a1", "h1", "a2", "h2", "y", "L"]
    assert all(net.values[n].name == n for n in net.values)
    batch = net.inputs.data[:2]
    from chainrule import tensor

    out = net.forward(tensor(batch))
    np.testing.assert_allclose(out.data, net.values["y"].data[:2], rtol=1e-14)
    assert out.name is None


def test_step_leaves_the_network_unchanged_and_takes_a_learning_rate():
    net = load_network(ROOT / "examples" / "seed.toml").build()
    before = {n: p.data.copy() for n, p in net.params.items()}
    half = net.step(0.05)
    full = net.step()
    for name in before:
        np.testing.assert_array_equal(net.params[name].data, before[name])
        np.testing.assert_allclose(before[name] - full[name], 2 * (before[name] - half[name]),
                                   rtol=1e-12)
    # The graph is kept after the step, so it can still be differentiated (and explained).
    from chainrule import grad

    (again,) = grad(net.loss, [net.params["W2"]])
    np.testing.assert_array_equal(again.data, net.gradients()["W2"])
