"""The pieces a derivation is made of, independent of the output format.

A derivation is a list of blocks: headings, paragraphs (text mixed with inline math),
equations (a left side and successive ``= ...`` rows, each row symbolic or with numbers) and
tables. :mod:`chainrule.explain.render` turns them into text, Markdown, LaTeX or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .symbolic import Expr

Inline = str | Expr


@dataclass
class Heading:
    parts: list[Inline]
    level: int = 2


@dataclass
class Para:
    parts: list[Inline]


@dataclass
class Row:
    expr: Expr
    numbers: bool = False   # render symbols by their values


@dataclass
class Equation:
    lhs: Expr
    rows: list[Row]


@dataclass
class Table:
    header: list[str]
    rows: list[list[Inline]] = field(default_factory=list)


Block = Heading | Para | Equation | Table
