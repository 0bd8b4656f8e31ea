"""Checking a person's answer against a derivation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class AnswerCheck:
    """Whether an answer is right, and if not which slip it is consistent with."""

    correct: bool
    kind: str
    message: str
    expected: float
    value: float


def check_answer(derivation: Any, expected: float, rtol: float) -> AnswerCheck:
    raise NotImplementedError
