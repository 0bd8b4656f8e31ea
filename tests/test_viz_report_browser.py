"""The seed's report in a real browser (Playwright + Debian's chromium), offline.

Opens the page written by ``chainrule report``, clicks w111 and finds its derivation with the
value -4.92082e-3 (NOTES.md), with every request outside the file refused. Screenshots go to
``$CHAINRULE_SCREENSHOTS`` (default: a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import open_offline, run_cli

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("CHAINRULE_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = run_cli("report", str(ROOT / "examples" / "seed.toml"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_click_w111_shows_its_derivation(browser, seed_report, screenshots) -> None:
    page, outside, errors = open_offline(browser, seed_report)
    block = page.locator("#d-w111")
    assert block.count() == 1 and not block.is_visible()
    page.screenshot(path=str(screenshots / "report_seed.png"), full_page=True)
    page.locator('button[data-weight="w111"]').click()
    block.wait_for(state="visible", timeout=5000)
    text = block.inner_text()
    assert "-4.92082e-3" in text                      # NOTES.md: dL/dw111 = -4.92082e-3
    assert "central difference" in text
    assert page.locator(".derivation:visible").count() == 1
    assert page.locator('button[data-weight="w111"].selected').count() == 1
    block.screenshot(path=str(screenshots / "report_seed_w111_derivation.png"))
    page.screenshot(path=str(screenshots / "report_seed_w111.png"), full_page=True)
    # a line of the diagram opens another weight's derivation, replacing the first
    page.locator('line.connection[data-weight="w211"]').first.dispatch_event("click")
    page.locator("#d-w211").wait_for(state="visible", timeout=5000)
    assert "9.84164e-3" in page.locator("#d-w211").inner_text()   # NOTES.md: dL/dw211
    assert not block.is_visible()
    assert outside == [] and errors == []
    page.close()


def test_address_hash_opens_a_derivation(browser, seed_report) -> None:
    page, outside, errors = open_offline(browser, seed_report)
    page.goto(seed_report.as_uri() + "#w143")
    page.reload()
    page.locator("#d-w143").wait_for(state="visible", timeout=5000)
    assert "1.96833e-2" in page.locator("#d-w143").inner_text()   # 4.92082e-3 * x_4
    assert outside == [] and errors == []
    page.close()
