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

from .api import Derivation, explain
from .check import AnswerCheck
from .names import element_name, find_element

__all__ = ["AnswerCheck", "Derivation", "element_name", "explain", "find_element"]
