"""Drawings display inline in Jupyter: a real kernel runs a notebook and returns SVG output."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = f"""
import chainrule as cr
from chainrule.network import load_network
net = load_network({str(ROOT / "examples" / "seed.toml")!r}).build()
"""


def test_graph_and_network_display_inline_in_a_notebook() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CODE),
                nbformat.v4.new_code_cell("cr.draw_graph(net.loss)"),
                nbformat.v4.new_code_cell("cr.draw_network(net, edges='gradient')")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    for cell, kind in ((nb.cells[1], "node"), (nb.cells[2], "neuron")):
        (output,) = [o for o in cell.outputs if o.output_type == "execute_result"]
        svg = output.data["image/svg+xml"]
        root = ET.fromstring(svg)
        classes = [g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")]
        assert classes.count(kind) > 0
        assert "text/plain" in output.data
