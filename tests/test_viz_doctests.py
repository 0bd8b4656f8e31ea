"""The runnable examples in the viz modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["format", "svg", "chart", "graphmodel", "graph", "network", "report"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"chainrule.viz.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"chainrule.viz.{name} has no example"
    assert result.failed == 0
