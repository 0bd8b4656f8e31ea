"""Particular shapes of graphs: reuse, no path, views forced, folding that would hide too much."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import explain
from chainrule.seed import build_seed


def test_reused_node_is_one_step_with_both_slots() -> None:
    x = cr.tensor([0.5, -2.0], dtype=cr.float64, requires_grad=True, name="x")
    a = x * x
    a.name = "a"
    loss = a.sum()
    d = explain(loss, x, 1)
    assert d.value == pytest.approx(-4.0, rel=1e-15) and d.autograd == d.value
    assert len(d.paths) == 1 and d.path_count == 1
    text = d.to_text()
    assert "x_2 + x_2" in text and "−2 + (−2)" in text    # d(x·x)/dx: one slot each


def test_no_path_means_zero() -> None:
    w = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True, name="w")
    loss = (w[0] * 3.0).sum()
    d = explain(loss, w, 1)
    assert d.value == 0.0 and d.autograd == 0.0 and d.numeric == 0.0
    assert d.name == "∂L/∂w_2" and "does not depend" in d.to_text()


def test_views_can_be_forced() -> None:
    seed = build_seed()
    d = explain(seed.loss, seed.W1, (1, 2), view="backprop")
    assert d.view == "backprop"
    text = d.to_text()
    assert "∂L/∂y_in = ∂L/∂y · ∂y/∂y_in" in text and "∂L/∂w123 = ∂L/∂a_3 · ∂a_3/∂w123" in text
    assert d.value == pytest.approx(9.84164e-3, abs=5e-9)
    # Forcing the chain view on many paths shows max_terms of them and sums the rest.
    w = cr.tensor(0.7, dtype=cr.float64, requires_grad=True, name="w")
    v = cr.tensor(np.linspace(0.1, 1.0, 50), dtype=cr.float64) * w
    loss = v.tanh().sum()
    d = explain(loss, w, view="chain", max_terms=3)
    assert len(d.paths) == 3 and "47 more paths" in d.to_text()
    assert d.rel_autograd <= 1e-12


def test_folding_that_would_hide_too_much_shows_everything() -> None:
    w = cr.tensor(0.3, dtype=cr.float64, requires_grad=True, name="w")
    u = w.sigmoid()
    u.name = "u"   # a named intermediate turns folding on ...
    wide = u * cr.tensor(np.linspace(0.0, 1.0, 5000), dtype=cr.float64)
    loss = wide.tanh().sum()   # ... but u reaches L through 5,000 unnamed elements
    d = explain(loss, w)
    assert d.view == "backprop" and not d.context.collapse
    assert d.rel_autograd <= 1e-12 and d.rel_numeric <= 1e-6
    assert len(d.to_text().splitlines()) <= 200


def test_float32_graph_is_checked_in_float64() -> None:
    w = cr.tensor([0.25, -0.5], requires_grad=True, name="w")   # float32
    loss = (w.sigmoid() * 3.0).sum()
    d = explain(loss, w, 0)
    assert d.rel_autograd <= 1e-6 and d.rel_numeric <= 1e-5


def test_intermediate_wrt() -> None:
    seed = build_seed()
    d = explain(seed.loss, seed.h1, (0, 1))
    assert d.name == "∂L/∂h_2" and d.rel_autograd <= 1e-12 and d.rel_numeric <= 1e-6


def test_biases_are_named_by_layer_and_unit_even_for_one_unit() -> None:
    from chainrule.explain import element_name, find_element

    b3 = cr.zeros(1, name="b3")
    b1 = cr.zeros(1, 3, name="b1")
    assert element_name(b3, (0,)) == "b31" and element_name(b1, (0, 2)) == "b13"
    assert element_name(b1, (0, 2), "latex") == "b_{13}"
    assert find_element([b3, b1], "b31") == (b3, (0,))
