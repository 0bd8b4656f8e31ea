"""draw_network: the SVG parses, shows every neuron and connection, the seed's numbers, and
line widths and colours that follow the weights and gradients."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.network import load_network
from chainrule.viz.network import draw_network, weight_name

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.toml"
NS = "{http://www.w3.org/2000/svg}"
# NOTES.md: dL/dW1[i, j] = 4.92082e-3 * x_i, dL/dW2 = 9.84164e-3 each.
X = [-1.0, 2.0, -3.0, 4.0]
DW1_UNIT = 4.92082e-3
DW2 = 9.84164e-3


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def neurons(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{NS}g") if g.get("class") == "neuron"]


def connections(root: ET.Element) -> dict[str, ET.Element]:
    return {line.get("data-weight"): line for line in root.iter(f"{NS}line")
            if line.get("class") == "connection"}


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{NS}text")]


def test_seed_diagram_counts_captions_and_values() -> None:
    drawing = draw_network(SEED)
    root = parse(drawing.svg)
    assert len(neurons(root)) == 4 + 3 + 1 == drawing.neurons
    assert len(root.findall(f".//{NS}circle")) == 8
    assert len(connections(root)) == 4 * 3 + 3 * 1 == drawing.connections
    captions = [t for t in texts(root) if "Layer" in t]
    assert captions == ["Input Layer ∈ ℝ⁴", "Hidden Layer ∈ ℝ³", "Output Layer ∈ ℝ¹"]
    values = [texts(g)[0] for g in neurons(root)]
    assert values == ["-1", "2", "-3", "4", "2", "2", "2", "0.9975"]
    assert any(t.startswith("L = 0.995061") for t in texts(root))   # NOTES.md: 0.9950609


def test_seed_connection_tooltips_carry_weights_and_gradients() -> None:
    lines = connections(parse(draw_network(SEED).svg))
    for i in range(4):
        for j in range(3):
            tip = lines[weight_name(1, i, j)].find(f"{NS}title").text
            value = float(tip.rsplit("= ", 1)[1])
            assert value == pytest.approx(DW1_UNIT * X[i], rel=1e-5), tip
    tip = lines["w211"].find(f"{NS}title").text
    assert tip.startswith("w211 = W2[0, 0] = 1;")
    assert float(tip.rsplit("= ", 1)[1]) == pytest.approx(DW2, rel=1e-5)


def test_gradient_mode_widths_and_colours_follow_the_gradient() -> None:
    lines = connections(parse(draw_network(SEED, edges="gradient").svg))
    width = {k: float(v.get("stroke-width")) for k, v in lines.items()}
    # |dL/dw1ij| is proportional to |x_i|: the widths (minus the 0.6 floor) are too.
    largest = abs(X[3]) * DW1_UNIT
    for i in range(4):
        expected = 0.6 + 4.4 * abs(X[i]) * DW1_UNIT / largest
        assert width[weight_name(1, i, 0)] == pytest.approx(expected, abs=0.01)
        colour = lines[weight_name(1, i, 0)].get("stroke")
        assert colour == ("#b2182b" if X[i] < 0 else "#2166ac")
    weights = connections(parse(draw_network(SEED, edges="weight").svg))
    assert {v.get("stroke-width") for v in weights.values()} == {"5"}   # all weights are 1


def test_every_source_kind_gives_the_same_picture() -> None:
    spec = load_network(SEED)
    svgs = {draw_network(s).svg for s in (SEED, str(SEED), spec, spec.build())}
    assert len(svgs) == 1


def test_mlp_model_values_weights_and_grads() -> None:
    nn = pytest.importorskip("chainrule.nn")
    cr.manual_seed(0)
    model = nn.MLP([3, 4, 2], activation="tanh").double()
    x = cr.randn(5, 3, dtype=cr.float64)
    loss = model(x).sum()
    loss.backward()
    drawing = draw_network(model, x=x, example=2)
    root = parse(drawing.svg)
    assert (drawing.neurons, drawing.connections) == (3 + 4 + 2, 3 * 4 + 4 * 2)
    shown = [float(texts(g)[0]) for g in neurons(root)]
    expected = np.concatenate([x.data[2], np.tanh(x.data[2] @ model[0].weight.data.T
                                                   + model[0].bias.data),
                               model(x).data[2]])
    np.testing.assert_allclose(shown, expected, rtol=1e-3, atol=1e-4)
    tip = connections(root)["w132"].find(f"{NS}title").text
    weight, grad = (float(v) for v in re.findall(r"= (-?[\d.e-]+)(?:;|$)", tip))
    assert weight == pytest.approx(model[0].weight.data[1, 2], rel=1e-5)   # (out, in) layout
    assert grad == pytest.approx(model[0].weight.grad.data[1, 2], rel=1e-5)


def test_wide_layers_are_elided() -> None:
    nn = pytest.importorskip("chainrule.nn")
    model = nn.MLP([30, 4, 2])
    drawing = draw_network(model, max_neurons=12)
    root = parse(drawing.svg)
    assert (drawing.neurons, drawing.connections) == (11 + 4 + 2, 11 * 4 + 4 * 2)
    assert "⋮" in texts(root)
    assert "Input Layer ∈ ℝ³⁰" in texts(root)


def test_jupyter_display_and_save(tmp_path) -> None:
    drawing = draw_network(SEED)
    assert drawing._repr_mimebundle_()["image/svg+xml"] == drawing._repr_svg_() == drawing.svg
    assert "4-3-1: 8 neurons, 15 connections" in repr(drawing)
    path = drawing.save(tmp_path / "n.svg")
    parse(path.read_text(encoding="utf-8"))


def test_errors_name_the_problem(tmp_path) -> None:
    with pytest.raises(TypeError, match="cannot draw a int"):
        draw_network(42)
    with pytest.raises(ValueError, match="edges must be 'weight' or 'gradient'"):
        draw_network(SEED, edges="bias")
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\nsizes = [2]\n", encoding="utf-8")
    with pytest.raises(cr.FileFormatError, match=r"bad\.toml"):
        draw_network(bad)
    nn = pytest.importorskip("chainrule.nn")
    with pytest.raises(TypeError, match="no Linear layers"):
        draw_network(nn.Sequential(nn.ReLU()))


def test_weight_names_agree_with_the_explainer() -> None:
    names = pytest.importorskip("chainrule.explain.names")
    W = cr.ones(12, 3, name="W2")
    for index in [(0, 0), (3, 2), (11, 1)]:
        assert weight_name(2, *index) == names.element_name(W, index)
