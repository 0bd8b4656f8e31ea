"""docs/make_images.py regenerates the README's figures, and the committed ones are current."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NS = "{http://www.w3.org/2000/svg}"


def test_make_images_regenerates_every_figure(tmp_path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "make_images.py"), "--out",
                             str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["deep_graph.svg", "seed_graph.png", "seed_graph.svg", "seed_network.svg",
                     "seed_network_gradients.svg"]
    assert (tmp_path / "seed_graph.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    network = ET.parse(tmp_path / "seed_network.svg").getroot()
    assert len([g for g in network.iter(f"{NS}g") if g.get("class") == "neuron"]) == 8
    graph = ET.parse(tmp_path / "seed_graph.svg").getroot()
    classes = [g.get("class") for g in graph.iter(f"{NS}g")]
    assert classes.count("node") > 0 and classes.count("edge") >= classes.count("node") - 1
    deep = ET.parse(tmp_path / "deep_graph.svg").getroot()
    assert "50 × (linear → tanh)" in "".join(deep.itertext())
    # the committed diagrams (written by chainrule itself, no Graphviz) are up to date
    for name in ("seed_network.svg", "seed_network_gradients.svg"):
        committed = (ROOT / "docs" / "images" / name).read_text(encoding="utf-8")
        assert committed == (tmp_path / name).read_text(encoding="utf-8"), name
