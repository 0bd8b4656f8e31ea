"""The HTML solution of ``chainrule solve`` in a real browser (Debian's chromium), offline."""

from __future__ import annotations

import pytest

from conftest import open_offline, run_cli

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page_of_solution(browser, tmp_path_factory):
    out = tmp_path_factory.mktemp("solve") / "biases.html"
    done = run_cli("solve", "examples/biases.toml", "--wrt", "w111,w211", "--format", "html",
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    page, outside, _ = open_offline(browser, out, width=1200, height=900)
    yield page, outside
    page.close()


def test_math_is_laid_out_as_math(page_of_solution):
    page, outside = page_of_solution
    assert outside == []
    fractions = page.locator("mfrac")
    assert fractions.count() > 0
    # A rendered fraction puts its numerator above its denominator; unrendered MathML is
    # inline text, with both parts on one line.
    box = fractions.first.evaluate(
        "f => [f.children[0].getBoundingClientRect().bottom,"
        " f.children[1].getBoundingClientRect().top]")
    assert box[0] <= box[1] + 0.5, box


def test_the_solution_shows_its_numbers(page_of_solution):
    page, _ = page_of_solution
    text = page.locator("body").inner_text()
    for part in ["1. Forward pass", "2. Gradients", "3. One gradient-descent step",
                 "0.2983711",           # the loss, L = 1/2 sum (y - t)^2
                 "Checked 2 derivations"]:
        assert part in text, part
    matrices = page.locator("table.matrix")
    assert matrices.count() >= 10
    w2 = page.locator("div.equation", has_text="W2 =").first
    assert w2.locator("td").all_inner_texts() == ["0.4", "0.5", "0.45", "0.55"]
