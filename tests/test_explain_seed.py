"""The seed's two derivations: NOTES.md's numbers, golden renderings, the answer check."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import AnswerCheck, Derivation, element_name, explain, find_element
from chainrule.seed import SEED_PRINTED, build_seed

GOLDEN = Path(__file__).parent / "golden"
#: NOTES.md (shared/seed): dL/dw211 = 9.84164e-3, dL/dw111 = -4.92082e-3, loss 0.9950609.
NOTES = {"w211": ("W2", (0, 0), 9.84164e-3), "w111": ("W1", (0, 0), -4.92082e-3)}
FORMATS = {"text": "txt", "markdown": "md", "latex": "tex", "html": "html"}


@pytest.fixture(scope="module")
def seed():
    return build_seed()


def _derive(seed, name: str) -> Derivation:
    tensor, index, _ = NOTES[name]
    return explain(seed.loss, getattr(seed, tensor), index, view="chain")


@pytest.mark.parametrize("name", sorted(NOTES))
def test_values_match_notes(seed, name: str) -> None:
    d = _derive(seed, name)
    want = NOTES[name][2]
    # NOTES prints 6 significant digits: agree to half a unit in the last place.
    assert abs(d.value - want) <= 0.5e-8
    assert d.rel_autograd <= 1e-12
    assert d.rel_numeric <= 1e-6
    assert d.name == f"∂L/∂{name}"
    assert d.view == "chain" and len(d.paths) == 1


def test_chain_reads_like_the_seed(seed) -> None:
    text = _derive(seed, "w111").to_text()
    assert "∂L/∂w111 = ∂L/∂y · ∂y/∂y_in · ∂y_in/∂h_1 · ∂h_1/∂a_1 · ∂a_1/∂w111" in text
    assert "2·(y − t) · y·(1 − y) · w211 · [a_1 > 0] · x_1" in text
    assert "relu'(0) = 0" in text
    text = _derive(seed, "w211").to_text()
    assert "∂L/∂w211 = ∂L/∂y · ∂y/∂y_in · ∂y_in/∂w211" in text
    assert "= 9.84164e−3" in text


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("name", sorted(NOTES))
def test_golden(seed, name: str, fmt: str) -> None:
    rendered = _derive(seed, name).render(fmt)
    path = GOLDEN / f"explain_{name}.{FORMATS[fmt]}"
    if os.environ.get("CHAINRULE_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    # The central difference's relative error (e.g. 4.0e-10) depends on the platform's last
    # bits; the test of its size is test_values_match_notes. Everything else must be exact.
    assert _stable(rendered) == _stable(path.read_text(encoding="utf-8"))


def _stable(text: str) -> str:
    return re.sub(r"\d\.\de-\d\d", "x.xe-xx", text)


def test_jupyter_reprs(seed) -> None:
    d = _derive(seed, "w211")
    assert d._repr_markdown_() == d.to_markdown()
    assert d._repr_html_().startswith('<div class="chainrule-derivation">')
    assert "<math" in d._repr_html_() and "<script" not in d._repr_html_()
    assert d._repr_latex_().startswith("$$") and r"\partial" in d._repr_latex_()


@pytest.mark.parametrize("name", sorted(NOTES))
def test_seeds_printed_value_is_the_missing_square(seed, name: str) -> None:
    verdict = _derive(seed, name).check(SEED_PRINTED[name])
    assert isinstance(verdict, AnswerCheck)
    assert not verdict.correct and verdict.kind == "local factor"
    assert "missing square" in verdict.message and "sigmoid" in verdict.message
    assert "(1 + exp(−y_in))²" in verdict.message


def test_right_answers_and_other_slips(seed) -> None:
    d = _derive(seed, "w111")
    assert d.check(-4.92082e-3).correct and d.check(-4.9208e-3).kind == "correct"
    assert d.check(4.92082e-3).kind == "sign"
    # ∂h_1/∂a_1 = 1 and ∂y_in/∂h_1 = 1, so doubling 2·(y − t) = 1.99505 is visible.
    assert d.check(-4.92082e-3 * 1.99505).kind == "factor counted twice"
    assert d.check(1.234).kind == "unknown"


def test_two_paths_dropped_and_doubled() -> None:
    w = cr.tensor(0.3, dtype=cr.float64, requires_grad=True, name="w")
    u = w.sigmoid()
    u.name = "u"
    v = w.tanh()
    v.name = "v"
    loss = (u * v).sum()
    d = explain(loss, w)
    assert len(d.paths) == 2 and d.path_count == 2
    contributions = [float(np.prod([e.value for e in p])) for p in d.paths]
    assert abs(sum(contributions) - d.autograd) <= 1e-12
    for c in contributions:
        assert d.check(d.value - c).kind == "path left out"
        assert d.check(d.value + c).kind == "path counted twice"


def test_names(seed) -> None:
    assert element_name(seed.W1, (0, 0)) == "w111"
    assert element_name(seed.W1, (3, 2), "latex") == "w_{143}"
    assert element_name(seed.W2, (2, 0)) == "w231"
    assert element_name(seed.h1, (0, 1)) == "h_2"
    assert element_name(seed.y_in) == "y_in" and element_name(seed.y_in, None, "latex") == \
        r"y_{in}"
    assert element_name(seed.loss) == "L"
    b = cr.zeros(3, name="b1")
    assert element_name(b, 2) == "b13"
    tensors = [seed.x, seed.W1, seed.W2, seed.h1, seed.y_in, seed.y]
    assert find_element(tensors, "w111")[1] == (0, 0)
    assert find_element(tensors, "w132")[0] is seed.W1
    assert find_element(tensors, "w231") == (seed.W2, (2, 0))
    assert find_element(tensors, "W1[3, 2]") == (seed.W1, (3, 2))
    assert find_element(tensors, "x_3") == (seed.x, (2, 0))
    assert find_element(tensors, "y_in")[0] is seed.y_in
    with pytest.raises(KeyError, match="no element called 'w999'"):
        find_element(tensors, "w999")


def test_freed_graph_and_bad_arguments() -> None:
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    loss = (w * w).sum()
    cr.grad(loss, [w])
    with pytest.raises(cr.GraphError, match="retain_graph=True"):
        explain(loss, w, 0)
    loss = (w * w).sum()
    with pytest.raises(IndexError, match=r"index=.*choose one"):
        explain(loss, w)
    with pytest.raises(ValueError, match="unknown view"):
        explain(loss, w, 0, view="sideways")
    with pytest.raises(cr.GraphError, match="does not depend"):
        explain(loss, cr.tensor([1.0], dtype=cr.float64, requires_grad=True), 0)


@pytest.mark.parametrize("name", sorted(NOTES))
def test_latex_is_well_formed(seed, name: str) -> None:
    source = _derive(seed, name).to_latex(standalone=True)
    assert source.isascii()          # Unicode of the text view is written as LaTeX
    depth = 0
    for ch in source.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0
    for env in ("document", "align*", "tabular"):
        assert source.count(f"\\begin{{{env}}}") == source.count(f"\\end{{{env}}}") >= 1
    assert source.count(r"\left") == source.count(r"\right")
