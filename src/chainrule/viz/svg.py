"""A few helpers to write SVG by hand: elements with escaped attributes, superscripts, colours.

>>> element("circle", cx=1, cy=2, r=3)
'<circle cx="1" cy="2" r="3"/>'
>>> superscript(784)
'⁷⁸⁴'
"""

from __future__ import annotations

from typing import Any

from .format import escape

POSITIVE = "#2166ac"   # blue: positive weight or gradient
NEGATIVE = "#b2182b"   # red: negative
ZERO = "#bbbbbb"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _attrs(attributes: dict[str, Any]) -> str:
    parts = []
    for key, value in attributes.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        text = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        parts.append(f'{name}="{escape(text)}"')
    return " ".join(parts)


def element(tag: str, content: str | None = None, **attributes: Any) -> str:
    """One SVG element; ``content`` is inserted as is (escape text with :func:`escape`).

    Attribute names use ``_`` for ``-`` (``stroke_width``) and a trailing ``_`` for Python
    keywords (``class_``); floats are written with two decimals.
    """
    attrs = _attrs(attributes)
    opening = f"<{tag} {attrs}" if attrs else f"<{tag}"
    return f"{opening}/>" if content is None else f"{opening}>{content}</{tag}>"


def text(x: float, y: float, content: str, size: float = 12, anchor: str = "middle",
         **attributes: Any) -> str:
    """A text element; ``content`` is escaped."""
    return element("text", escape(content), x=float(x), y=float(y), font_size=size,
                   text_anchor=anchor, **attributes)


def document(width: float, height: float, body: list[str], title: str = "") -> str:
    """A complete standalone SVG document (parses as XML, no external references)."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">')
    parts = [head]
    if title:
        parts.append(element("title", escape(title)))
    parts.append(element("rect", x=0, y=0, width=f"{width:.0f}", height=f"{height:.0f}",
                         fill="#ffffff"))
    parts += body
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def superscript(value: int | str) -> str:
    """Digits as Unicode superscripts (``ℝ`` + ``superscript(4)`` reads R to the 4)."""
    return str(value).translate(_SUPERSCRIPT)


def sign_colour(value: float) -> str:
    """Blue for positive, red for negative, grey for zero (colour-blind safe pair)."""
    if value > 0:
        return POSITIVE
    if value < 0:
        return NEGATIVE
    return ZERO
