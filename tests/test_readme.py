"""The README's two commands are the ones CI runs."""

from __future__ import annotations

import re

from conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    opening = text[: text.index("\n## ")]    # the README's first section
    return re.findall(r"```bash\n(.+?)\n```", opening)


def test_readme_opens_with_the_two_fresh_machine_commands() -> None:
    demo, tests = _readme_commands()
    assert demo.endswith("chainrule demo") and "pip install" in demo
    assert "pytest" in tests and '".[test]"' in tests


def test_ci_runs_the_readmes_test_command() -> None:
    _, tests = _readme_commands()
    test_part = tests.split("&& ", 2)[-1]    # after creating and activating the venv
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_part in ci
