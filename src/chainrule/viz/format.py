"""Numbers and text for pictures: values in full when small, summaries when large; escaping.

>>> import numpy as np
>>> format_values(np.array([1.0, 0.5]))
'[1, 0.5]'
>>> format_values(np.arange(100.0))
'min 0, mean 49.5, max 99'
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Tensors with at most this many elements are shown in full; larger ones as a summary.
MAX_ELEMENTS = 12


def format_number(value: Any, digits: int = 6) -> str:
    """One number with ``digits`` significant digits (``-4.92082e-03`` style below 1e-4)."""
    v = float(value)
    if v == 0:
        return "0"
    return f"{v:.{digits}g}"


def format_scientific(value: Any, digits: int = 6) -> str:
    """A number as ``-4.92082e-3`` (``digits`` significant digits, the explainer's style).

    >>> format_scientific(-0.00492082108674012), format_scientific(0.0)
    ('-4.92082e-3', '0')
    """
    v = float(value)
    if v == 0 or not np.isfinite(v):
        return format_number(v)
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def format_values(array: Any, max_elements: int = MAX_ELEMENTS) -> str:
    """The elements of a small array in nested brackets, or ``min, mean, max`` of a large one.

    NOTE: the summary skips NaN when computing min/mean/max, and says how many NaN there are,
    so one bad element does not hide the scale of all the others.
    """
    a = np.asarray(array)
    if a.dtype.kind not in "fiub":
        return f"<{a.dtype}>"
    if a.size == 0:
        return "[]"
    if a.ndim == 0 or a.size == 1:
        return format_number(a.reshape(-1)[0])
    if a.size <= max_elements:
        return _nested(a)
    values = a.astype(np.float64).reshape(-1)
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return f"all {values.size} NaN"
    text = (f"min {format_number(finite.min())}, mean {format_number(finite.mean())}, "
            f"max {format_number(finite.max())}")
    nans = values.size - finite.size
    return text + (f", {nans} NaN" if nans else "")


def format_rows(array: Any, max_elements: int = MAX_ELEMENTS) -> list[str]:
    """Like :func:`format_values`, but a small matrix gives one line per row.

    >>> format_rows(np.ones((2, 2)))
    ['[1, 1]', '[1, 1]']
    """
    a = np.asarray(array)
    if a.ndim == 2 and a.shape[0] > 1 and a.size <= max_elements:
        return [_nested(row) for row in a]
    return [format_values(a, max_elements)]


def _nested(a: np.ndarray) -> str:
    if a.ndim == 1:
        return "[" + ", ".join(format_number(v) for v in a) + "]"
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def shape_text(shape: tuple[int, ...]) -> str:
    """``(4, 3)`` written as ``4×3``; a 0-d shape as ``scalar``."""
    return "×".join(str(s) for s in shape) if shape else "scalar"


def escape(text: str) -> str:
    """Escape text for XML, HTML and Graphviz HTML-like labels.

    NOTE: written out rather than ``html.escape``, whose module imports the 2,000-entry
    ``html.entities`` table: ``import chainrule`` stays fast.

    >>> escape('a < b & "c"')
    'a &lt; b &amp; &quot;c&quot;'
    """
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))
