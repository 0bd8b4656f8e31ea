"""Explain any gradient: the chain-rule derivation of one element, with numbers, checked.

>>> from chainrule.seed import build_seed
>>> s = build_seed()
>>> d = explain(s.loss, s.W2, (0, 0))
>>> d.name, f"{d.value:.5e}"
('∂L/∂w211', '9.84164e-03')
>>> d.check(9.8657e-3).kind
'local factor'
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .api import Derivation, explain
from .check import AnswerCheck
from .names import element_name, find_element

__all__ = ["AnswerCheck", "Derivation", "element_name", "explain", "find_element"]


class _CallablePackage(types.ModuleType):
    """``chainrule.explain`` is this package and, called, the function :func:`explain`.

    NOTE: ``chainrule`` re-exports ``explain``; binding the function to that name would hide
    the package (``import chainrule.explain.names`` would then fail), so the package itself
    is made callable instead.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Derivation:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
