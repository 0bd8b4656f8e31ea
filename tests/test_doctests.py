"""Every runnable example in chainrule's docstrings runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import chainrule

MODULES = sorted(m.name for m in pkgutil.walk_packages(chainrule.__path__, "chainrule.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = doctest.testmod(module,
                                 optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_library_modules_have_examples() -> None:
    """The library's modules show their use (the CLI commands are tested end to end)."""
    finder = doctest.DocTestFinder()
    missing = [name for name in MODULES if not name.startswith("chainrule.commands")
               and not any(t.examples for t in finder.find(importlib.import_module(name)))]
    assert len(missing) <= 15, missing   # 14 today: op tables, errors, private helpers
