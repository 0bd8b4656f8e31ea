"""``chainrule report`` end to end: a self-contained page with every weight's derivation."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from chainrule.network import load_network
from chainrule.viz.report import element_id, render_report

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "examples" / "seed.toml")
# NOTES.md: dL/dW1[i, j] = 4.92082e-3 * x_i (x = [-1, 2, -3, 4]), dL/dW2 = 9.84164e-3 each.
NOTES_W1_ROWS = ["-4.92082e-3", "9.84164e-3", "-1.47625e-2", "1.96833e-2"]
NOTES_W2 = "9.84164e-3"


class Collector(HTMLParser):
    """Tags with their attributes, and the text of each derivation block."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> Collector:
    collector = Collector()
    collector.feed(page)
    return collector


def assert_offline(page: str) -> None:
    """No resource outside the page: no src/href to anywhere, no <link>, no external script."""
    for tag, attrs in parse(page).tags:
        assert tag != "link", attrs
        for key in ("src", "href", "xlink:href", "action"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (tag, key, value)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    # XML namespace names only: identifiers, never fetched
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_report_has_every_weight_and_its_derivation(cli, tmp_path) -> None:
    out = tmp_path / "report.html"
    result = cli("report", SEED, "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert_offline(page)
    tags = parse(page).tags
    buttons = [a["data-weight"] for t, a in tags if t == "button" and "data-weight" in a]
    expected = [f"w1{i}{j}" for i in range(1, 5) for j in range(1, 4)] + \
        [f"w2{i}1" for i in range(1, 4)]
    assert buttons == expected
    blocks = [a for t, a in tags if t == "div" and a.get("class") == "derivation"]
    assert [b["id"] for b in blocks] == [element_id(n) for n in expected]
    assert all("hidden" in b for b in blocks)
    # each block states the value that NOTES.md prints, and the checks
    for name in expected:
        body = page.split(f'id="{element_id(name)}"', 1)[1].split('class="derivation"', 1)[0]
        printed = NOTES_W1_ROWS[int(name[2]) - 1] if name.startswith("w1") else NOTES_W2
        assert f"dL/d{name} = {printed}" in body, name
        assert "central difference" in body
    # the two diagrams: 8 neurons and 15 connections each, all clickable by weight name
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    diagrams = [svg for svg in svgs if 'class="neuron"' in svg]
    assert len(diagrams) == 2
    for svg in diagrams:
        root = ET.fromstring(svg)
        lines = [e for e in root.iter("{http://www.w3.org/2000/svg}line")
                 if e.get("class") == "connection"]
        assert sorted(e.get("data-weight") for e in lines) == sorted(expected)
        circles = list(root.iter("{http://www.w3.org/2000/svg}circle"))
        assert len(circles) == 8
    assert "Hidden Layer ∈ ℝ³" in page
    # and the computation graph, folded, one Graphviz node per tensor
    (graph,) = [svg for svg in svgs if 'class="node"' in svg]
    classes = [g.get("class") for g in ET.fromstring(graph).iter("{http://www.w3.org/2000/svg}g")]
    loss = load_network(SEED).build().loss
    assert classes.count("node") == len(draw_graph_view_tensors(loss))
    assert "0.995061" in page   # NOTES.md: the loss 0.9950609


def draw_graph_view_tensors(loss) -> list[int]:
    """Every tensor behind ``loss`` (an independent iterative walk)."""
    seen, stack = [], [loss]
    while stack:
        t = stack.pop()
        if id(t) not in seen:
            seen.append(id(t))
            stack.extend(t.inputs or ())
    return seen


def test_report_refuses_to_overwrite_without_force(cli, tmp_path) -> None:
    out = tmp_path / "report.html"
    out.write_text("mine", encoding="utf-8")
    result = cli("report", SEED, "--out", str(out))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "already exists; pass --force" in result.stderr
    assert out.read_text(encoding="utf-8") == "mine"
    assert cli("report", SEED, "--out", str(out), "--force").returncode == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def chart_points(page: str) -> dict[str, dict[str, int]]:
    """Points per series of each chart on the page."""
    charts = re.findall(r'<figure class="chart" data-chart="(\w+)">(<svg.*?</svg>)', page,
                        flags=re.S)
    found: dict[str, dict[str, int]] = {}
    for chart, svg in charts:
        root = ET.fromstring(svg)
        series = [p.get("data-series") for p in root.iter("{http://www.w3.org/2000/svg}path")]
        circles = [c for c in root.iter("{http://www.w3.org/2000/svg}circle")]
        found[chart] = {name: 0 for name in series}
        for circle in circles:
            name = circle.find("{http://www.w3.org/2000/svg}title").text.split(": ")[1]
            found[chart][name.rsplit(" ", 1)[0]] += 1
    return found


def test_report_with_training_history(cli, tmp_path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps({"loss": [0.99, 0.7, 0.4, None, 0.2],
                                   "accuracy": [0.0, 0.5, 1.0]}), encoding="utf-8")
    out = tmp_path / "r.html"
    result = cli("report", SEED, "--history", str(history), "-o", str(out), "--title", "Run 1")
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert_offline(page)
    assert "<title>Run 1</title>" in page
    assert chart_points(page) == {"loss": {"loss": 4}, "accuracy": {"accuracy": 3}}
    assert "1 non-finite left out" in page


def test_report_with_the_trainers_records(cli, tmp_path) -> None:
    records = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": None, "test_loss": 1.2 / e,
                "test_acc": 0.2 * e, "lr": 0.1} for e in range(1, 6)]
    history = tmp_path / "records.json"
    history.write_text(json.dumps(records), encoding="utf-8")
    out = tmp_path / "r.html"
    assert cli("report", SEED, "--history", str(history), "-o", str(out)).returncode == 0
    page = out.read_text(encoding="utf-8")
    assert chart_points(page) == {"loss": {"train_loss": 5, "test_loss": 5},
                                  "accuracy": {"test_acc": 5}, "lr": {"lr": 5}}


def test_report_errors_are_one_line(cli, tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"loss": [1, "x"]}', encoding="utf-8")
    cases = [
        (("report", "missing.toml", "-o", str(tmp_path / "a.html")), "missing.toml"),
        (("report", SEED, "--history", str(bad), "-o", str(tmp_path / "b.html")),
         "must be a list of per-epoch numbers"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("chainrule report: error: ")
        assert message in result.stderr and result.stderr.count("\n") == 1


def test_report_to_stdout(cli) -> None:
    result = cli("report", SEED)
    assert result.returncode == 0
    assert result.stdout.startswith("<!DOCTYPE html>") and result.stdout.endswith("</html>\n")


def test_render_report_python_api_values_match_autograd() -> None:
    net = load_network(SEED).build()
    page = render_report(net, history={"loss": [1.0, 0.5]}, derivations=False)
    assert 'class="derivation"' not in page
    grads = net.gradients()
    np.testing.assert_allclose(grads["W1"][:, 0], [float(v) for v in NOTES_W1_ROWS], rtol=1e-5)
    assert page.count('data-weight="w111"') == 3   # a table cell and a line in each diagram
    with pytest.raises(TypeError, match="cannot report on a int"):
        render_report(3)
    with pytest.raises(TypeError, match=r"history\['loss'\] must be a list of per-epoch"):
        render_report(net, history={"loss": 0.5}, derivations=False)


def test_every_example_file_reports_offline() -> None:
    for path in sorted((ROOT / "examples").glob("*.toml")):
        net = load_network(path).build()
        page = render_report(net)
        assert_offline(page)
        weights = sum(int(np.prod(p.shape)) for p in net.params.values())
        assert page.count('class="derivation"') == weights, path
        assert page.count("<button") == weights, path
