"""The standalone HTML opens offline in headless Chromium and its MathML is laid out."""

from __future__ import annotations

import pytest

from chainrule.explain import explain
from chainrule.seed import build_seed
from conftest import open_offline

pytestmark = pytest.mark.browser


def test_html_is_self_contained() -> None:
    seed = build_seed()
    html = explain(seed.loss, seed.W1, (0, 0)).to_html()
    assert html.startswith("<!DOCTYPE html>")
    for remote in ("http://", "https://", "<script", "<link"):
        assert remote not in html


def test_math_renders_in_chromium(browser, tmp_path) -> None:
    seed = build_seed()
    page_file = tmp_path / "w111.html"
    page_file.write_text(explain(seed.loss, seed.W1, (0, 0)).to_html(), encoding="utf-8")
    page, outside, errors = open_offline(browser, page_file)
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll('math'))
        .map(m => { const r = m.getBoundingClientRect(); return [r.width, r.height]; })""")
    fractions = page.evaluate("""() => Array.from(document.querySelectorAll('mfrac'))
        .map(f => { const r = f.getBoundingClientRect();
                    return [r.width, r.height, getComputedStyle(f).display]; })""")
    text = page.inner_text("body")
    page.close()
    assert outside == [] and errors == []          # nothing fetched but the page itself
    assert len(sizes) >= 5 and all(w > 0 and h > 0 for w, h in sizes)
    # MathML laid out as math: a fraction is taller than one line of text and not inline text.
    assert fractions and all(w > 0 and h > 12 for w, h, _ in fractions)
    assert any(display.startswith("block math") or display == "math" or "math" in display
               for _, _, display in fractions)
    assert "4.92082" in text
