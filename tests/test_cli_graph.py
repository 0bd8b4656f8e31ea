"""``chainrule graph`` end to end, as a user types it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from chainrule.network import load_network

ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "examples" / "seed.toml")
SVG = "{http://www.w3.org/2000/svg}"


def graph_size(path: str) -> tuple[int, int]:
    """Tensors and edges behind the file's loss, counted by an independent walk."""
    loss = load_network(path).build().loss
    seen, stack, edges = set(), [loss], 0
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        inputs = t.inputs or ()
        edges += len(inputs)
        stack.extend(inputs)
    return len(seen), edges


def svg_counts(text: str) -> tuple[int, int]:
    classes = [g.get("class") for g in ET.fromstring(text).iter(f"{SVG}g")]
    return classes.count("node"), classes.count("edge")


def test_graph_writes_an_svg_with_every_tensor(cli, tmp_path) -> None:
    out = tmp_path / "graph.svg"
    result = cli("graph", SEED, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out} (svg: ")
    assert svg_counts(out.read_text(encoding="utf-8")) == graph_size(SEED)
    assert "Hasktorch autograd seed" in out.read_text(encoding="utf-8")


def test_graph_refuses_to_overwrite_without_force(cli, tmp_path) -> None:
    out = tmp_path / "graph.svg"
    out.write_text("mine", encoding="utf-8")
    result = cli("graph", SEED, "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "already exists; pass --force" in result.stderr
    assert out.read_text(encoding="utf-8") == "mine"
    forced = cli("graph", SEED, "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert svg_counts(out.read_text(encoding="utf-8")) == graph_size(SEED)


def test_graph_png_and_dot(cli, tmp_path) -> None:
    png = tmp_path / "g.png"
    assert cli("graph", SEED, "--out", str(png)).returncode == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    dot = cli("graph", SEED, "--format", "dot")
    assert dot.returncode == 0
    nodes = re.findall(r"^ +n\d+ \[label=", dot.stdout, flags=re.M)
    edges = re.findall(r"^ +n\d+ -> n\d+", dot.stdout, flags=re.M)
    assert (len(nodes), len(edges)) == graph_size(SEED)
    dot_file = tmp_path / "g.dot"
    assert cli("graph", SEED, "-o", str(dot_file)).returncode == 0
    assert dot_file.read_text(encoding="utf-8") == dot.stdout


def test_every_example_file_draws(cli, tmp_path) -> None:
    for path in sorted((ROOT / "examples").glob("*.toml")):
        out = tmp_path / f"{path.stem}.svg"
        result = cli("graph", str(path), "--out", str(out))
        assert result.returncode == 0, (path, result.stderr)
        assert svg_counts(out.read_text(encoding="utf-8"))[0] > 0


def test_graph_user_errors_are_one_line(cli, tmp_path) -> None:
    cases = [
        (("graph", "missing.toml", "--out", str(tmp_path / "x.svg")), "missing.toml"),
        (("graph", SEED, "--out", str(tmp_path / "x.gif")), "name it .svg, .png or .dot"),
        (("graph", SEED, "--format", "png"), "PNG is binary"),
        (("graph", SEED, "--max-nodes", "1", "-o", str(tmp_path / "y.svg")), "at least 2"),
    ]
    for args, message in cases:
        result = cli(*args)
        assert result.returncode == 1, args
        assert result.stderr.startswith("chainrule graph: error: "), result.stderr
        assert message in result.stderr and result.stderr.count("\n") == 1
    assert cli("graph", SEED, "--format", "gif").returncode == 2
