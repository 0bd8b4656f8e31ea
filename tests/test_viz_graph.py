"""draw_graph: DOT structure, SVG contents counted, registry labels, gradients, collapsing."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.registry import REGISTRY
from chainrule.seed import build_seed
from chainrule.viz.graph import draw_graph

SVG = "{http://www.w3.org/2000/svg}"


def svg_counts(svg: str) -> tuple[int, int]:
    """Graphviz marks each node and edge with a <g class="node|edge">: count them."""
    root = ET.fromstring(svg)
    groups = [g.get("class") for g in root.iter(f"{SVG}g")]
    return groups.count("node"), groups.count("edge")


def dot_counts(dot: str) -> tuple[int, int]:
    nodes = re.findall(r"^ +n(\d+) \[label=", dot, flags=re.M)
    edges = re.findall(r"^ +n(\d+) -> n(\d+)", dot, flags=re.M)
    return len(nodes), len(edges)


@pytest.fixture(scope="module")
def seed():
    return build_seed()


def test_seed_graph_has_every_tensor_and_edge(seed) -> None:
    drawing = draw_graph(seed.loss)
    # x^T, W1, a, h, W2, y_in, y, t, y - t, 2, (y - t)^2, L: 12 tensors, 11 input edges.
    assert (drawing.view.tensors, drawing.view.edges) == (12, 11)
    assert not drawing.view.collapsed
    assert dot_counts(drawing.dot) == (12, 11)
    assert svg_counts(drawing.svg()) == (12, 11)
    for name in ("W1", "W2", "a", "h", "y_in", "y", "t", "L"):
        assert f"<B>{name}</B>" in drawing.dot


def test_seed_graph_edges_are_labelled_from_the_registry(seed) -> None:
    drawing = draw_graph(seed.loss)
    for arrow in drawing.view.arrows:
        target = drawing.view.boxes[arrow.target].tensor
        if not arrow.differentiable:
            continue
        op = REGISTRY[target.op.name]
        expected = {d.formula if d.formula is not None else d.template
                    for d in op.derivatives if d is not None}
        (label,) = arrow.labels
        assert label.split(": ", 1)[1] in expected, (op.name, label)
    assert REGISTRY["sigmoid"].derivatives[0].formula in drawing.dot
    assert REGISTRY["matmul"].derivatives[1].template in drawing.dot


def test_seed_graph_gradients_match_torch_and_leave_grad_alone(seed) -> None:
    torch = pytest.importorskip("torch")
    drawing = draw_graph(seed.loss)
    x = torch.tensor([[-1.0], [2.0], [-3.0], [4.0]], dtype=torch.float64)
    W1 = torch.ones(4, 3, dtype=torch.float64, requires_grad=True)
    W2 = torch.ones(3, 1, dtype=torch.float64, requires_grad=True)
    a = x.T @ W1
    a.retain_grad()
    loss = ((torch.sigmoid(torch.relu(a) @ W2) - 0) ** 2).sum()
    loss.backward()
    by_name = {b.tensor.name: b for b in drawing.view.boxes if b.tensor.name}
    np.testing.assert_allclose(by_name["W1"].gradient, W1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_name["W2"].gradient, W2.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(by_name["a"].gradient, a.grad.numpy(), rtol=1e-12)
    assert "-0.00492082" in drawing.dot   # NOTES.md: dL/dw111 = -4.92082e-3
    assert seed.W1.grad is None and seed.W2.grad is None
    # the graph was retained: it can be drawn (and differentiated) again
    assert dot_counts(draw_graph(seed.loss).dot) == (12, 11)


def test_seed_graph_draws_fast(seed, capsys) -> None:
    start = time.perf_counter()
    svg = draw_graph(seed.loss).svg()
    elapsed = time.perf_counter() - start
    assert svg_counts(svg) == (12, 11)
    with capsys.disabled():
        print(f"\n[measured] seed graph to SVG: {elapsed * 1000:.0f} ms")


def test_large_values_are_summarised() -> None:
    w = cr.tensor(np.linspace(0.0, 100.0, 101), requires_grad=True, name="w")
    dot = draw_graph((w * 2.0).sum()).dot
    assert "value min 0, mean 50, max 100" in dot
    assert "grad min 2, mean 2, max 2" in dot


def test_png_and_dot_outputs(seed, tmp_path) -> None:
    drawing = draw_graph(seed.loss)
    assert drawing.png().startswith(b"\x89PNG\r\n\x1a\n")
    path = drawing.save(tmp_path / "g.dot")
    assert path.read_text(encoding="utf-8") == drawing.dot
    with pytest.raises(ValueError, match="unknown format 'gif'"):
        drawing.render("gif")


def test_jupyter_display(seed) -> None:
    drawing = draw_graph(seed.loss)
    bundle = drawing._repr_mimebundle_()
    assert bundle["image/svg+xml"] == drawing._repr_svg_()
    assert svg_counts(bundle["image/svg+xml"]) == (12, 11)
    assert "12 boxes, 11 arrows" in bundle["text/plain"]


def test_long_chain_of_100k_ops_collapses_without_recursion_error(capsys) -> None:
    x = cr.tensor([0.5, -0.2, 0.1], requires_grad=True, name="x")
    h = x
    steps = 33_334
    for _ in range(steps):   # three ops a step: 100,002 op nodes, 100,004 tensors
        h = (-h).sigmoid().tanh()
    loss = h.sum()
    assert sys.getrecursionlimit() <= 10_000
    start = time.perf_counter()
    drawing = draw_graph(loss)
    elapsed = time.perf_counter() - start
    view = drawing.view
    assert view.tensors >= 100_000 and view.collapsed
    titles = [b.title for b in view.boxes]
    assert titles == ["parameter", f"{steps} × (neg → sigmoid → tanh)", "sum"]
    assert svg_counts(drawing.svg()) == (3, 2)
    # the gradient shown for x is the one autograd gives
    (gx,) = cr.grad(loss, [x], retain_graph=True)
    np.testing.assert_allclose(view.boxes[0].gradient, gx.data)
    with capsys.disabled():
        print(f"\n[measured] 100k-node graph collapsed: {elapsed:.2f} s")


def test_parallel_branches_merge_into_one_box() -> None:
    w = cr.tensor(2.0, requires_grad=True, name="w")
    xs = cr.tensor(np.arange(500.0), name="xs")
    loss = cr.stack([xs[i] * w for i in range(500)]).sum()
    view = draw_graph(loss).view
    (mul,) = [b for b in view.boxes if b.title == "mul"]
    assert mul.parallel == 500
    assert dot_counts(draw_graph(loss).dot) == (len(view.boxes), len(view.arrows))
    arrow = next(a for a in view.arrows if view.boxes[a.source].title == "parameter")
    assert arrow.count == 500


def test_deep_mlp_collapses_layers_and_parameters() -> None:
    cr.manual_seed(0)
    h = cr.randn(2, 5, name="x")
    for layer in range(40):
        W = cr.randn(5, 5, requires_grad=True, name=f"W{layer}")
        b = cr.zeros(5, requires_grad=True, name=f"b{layer}")
        h = cr.functional.linear(h, W, b).tanh()
    view = draw_graph(h.sum()).view
    titles = sorted(b.title for b in view.boxes)
    assert "40 × (linear → tanh)" in titles
    params = [b for b in view.boxes if b.kind == "parameter"]
    assert sorted(b.parallel for b in params) == [40, 40]
    assert len(view.boxes) == 5   # input, W's, b's, the repeated layer, sum (linear is one op)


def test_unstructured_large_graph_is_truncated_near_the_output() -> None:
    rng = np.random.default_rng(0)
    x = cr.tensor(0.3, requires_grad=True, name="x")
    terms = []
    for k in range(300):   # no repeated pattern: every term has its own random op string
        t = x
        for name in rng.choice(["exp", "tanh", "sigmoid", "sqrt"], size=int(rng.integers(1, 6))):
            t = getattr(t.abs() if name == "sqrt" else t, name)()
        terms.append(t * float(k))
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    view = draw_graph(loss, max_nodes=40).view
    assert len(view.boxes) <= 40
    assert view.boxes[-1].kind == "more"
    assert sum(b.count for b in view.boxes) == view.tensors


def test_full_drawing_can_be_forced_and_collapse_is_bounded() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True, name="x")
    h = x
    for _ in range(30):
        h = h.tanh()
    full = draw_graph(h.sum(), collapse=False)
    assert dot_counts(full.dot) == (32, 31)
    collapsed = draw_graph(h.sum(), collapse=True)
    assert [b.title for b in collapsed.view.boxes] == ["parameter", "30 × (tanh)", "sum"]


def test_output_without_gradients_is_still_drawn() -> None:
    drawing = draw_graph(cr.tensor([1.0, 2.0]) * 3.0)
    assert "no gradients" in drawing.dot
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert "not a scalar" in draw_graph(x * 3.0).dot


def test_missing_graphviz_package_is_a_clear_error(seed, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)
    drawing = draw_graph(seed.loss)
    with pytest.raises(cr.ChainruleError, match=r"pip install 'chainrule\[viz\]'"):
        drawing.svg()


def test_import_chainrule_does_not_import_graphviz() -> None:
    code = ("import sys, chainrule; "
            "print('graphviz' in sys.modules, hasattr(chainrule, 'draw_graph'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_draw_graph_rejects_non_tensors() -> None:
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        draw_graph([1.0])


def test_params_name_tensors_and_group_modules_without_changing_them() -> None:
    nn = pytest.importorskip("chainrule.nn")
    cr.manual_seed(0)
    model = nn.MLP([3, 4, 2])
    loss = model(cr.randn(5, 3, name="x")).sum()
    params = dict(model.named_parameters())
    drawing = draw_graph(loss, params=params)
    assert all(p.name is None and p.grad is None for p in params.values())
    for name in params:
        assert f"<B>{name}</B>" in drawing.dot
    clusters = re.findall(r'subgraph "cluster_\d+" \{\n    label="(\w+)";.*?\n((?:    n\d+ .*\n)+)',
                          drawing.dot)
    members = {label: len(body.splitlines()) for label, body in clusters}
    # each Linear: weight, bias and the fused linear op; relu and sum belong to no module
    assert members == {"0": 3, "2": 3}
    assert svg_counts(drawing.svg()) == dot_counts(drawing.dot) == (9, 8)


def test_a_freed_graph_says_how_to_keep_it() -> None:
    w = cr.tensor([1.0, 2.0], requires_grad=True, name="w")
    loss = (w * w).sum()
    loss.backward()
    drawing = draw_graph(loss)
    assert [b.title for b in drawing.view.boxes] == ["sum"]
    assert "retain_graph=True" in drawing.dot
