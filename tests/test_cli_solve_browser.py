"""The HTML solution of ``chainrule solve`` in a real browser (Debian's chromium), offline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def page_of_solution(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed")
    out = tmp_path_factory.mktemp("solve") / "biases.html"
    done = run_cli("solve", "examples/biases.toml", "--wrt", "w111,w211", "--format", "html",
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        outside: list[str] = []

        def guard(route) -> None:
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", guard)
        page.goto(out.as_uri())
        yield page, outside
        browser.close()


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
