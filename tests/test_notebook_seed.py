"""The example notebook executes in a Jupyter kernel and displays a derivation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _kernel_for_this_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec that runs this interpreter (the one chainrule is installed in).

    NOTE: the user's "python3" kernel may belong to another environment, so the test makes
    its own spec in a temporary Jupyter path instead of trusting whichever is installed.
    """
    folder = tmp_path / "jupyter" / "kernels" / "chainrule-test"
    folder.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "chainrule test", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "chainrule-test"


def test_seed_walkthrough_executes_and_displays_the_derivation(tmp_path, monkeypatch):
    nb = nbformat.read(EXAMPLES / "seed_walkthrough.ipynb", as_version=4)
    kernel = _kernel_for_this_python(tmp_path, monkeypatch)
    nbclient.NotebookClient(nb, timeout=120, kernel_name=kernel,
                            resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(o.get("output_type") != "error" for c in code for o in c.outputs)
    # The forward pass printed by the first cell.
    printed = "".join(o.get("text", "") for o in code[0].outputs)
    assert "y_in = [[6.0]]" in printed and "L = 0.9950608675520054" in printed
    # The derivations are rich displays (Markdown/HTML/LaTeX), not just their repr.
    for cell, value in ((code[1], "9.84164"), (code[2], "4.92082")):
        (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert {"text/markdown", "text/html"} <= set(result.data)
        assert value in result.data["text/markdown"] and value in result.data["text/html"]
        assert "<math" in result.data["text/html"]
    # The answer check of the seed's printed -4.9328e-3 names the missing square.
    verdict = "".join(o.get("text", "") for o in code[3].outputs)
    assert "square" in verdict.lower()
    stepped = "".join(o.get("text", "") for o in code[4].outputs)
    assert "W2 [[0.9990158], [0.9990158], [0.9990158]]" in stepped
