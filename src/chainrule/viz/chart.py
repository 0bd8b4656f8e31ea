"""A per-epoch line chart (loss, accuracy) as a small self-contained SVG.

>>> svg = line_chart([1.0, 0.5, 0.25], "loss")
>>> svg.count("<circle")
3
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .format import escape, format_number
from .svg import POSITIVE, document, element, text

_WIDTH, _HEIGHT = 420.0, 240.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 58.0, 16.0, 30.0, 40.0


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 12))
        value += step
    return ticks


def _epoch_ticks(epochs: int, count: int = 8) -> list[int]:
    """Whole epoch numbers 1 ... epochs, about ``count`` of them, the last always included."""
    step = max(1, math.ceil((epochs - 1) / (count - 1)))
    ticks = list(range(1, epochs + 1, step))
    if ticks[-1] != epochs:
        if epochs - ticks[-1] <= step / 2:
            ticks.pop()
        ticks.append(epochs)
    return ticks


def line_chart(values: Sequence[float], label: str, colour: str = POSITIVE) -> str:
    """One series against the epoch number (1, 2, ...), with axes, ticks and point tooltips.

    NOTE: non-finite values (a diverged loss) are left out of the line and the axis range,
    and the chart says how many were left out, so one ``inf`` does not flatten the rest.
    """
    points = [(i + 1, float(v)) for i, v in enumerate(values) if math.isfinite(float(v))]
    dropped = len(values) - len(points)
    body: list[str] = [text(_WIDTH / 2, 18, f"{label} per epoch", size=13, font_weight="bold")]
    if not points:
        body.append(text(_WIDTH / 2, _HEIGHT / 2, "no finite values", size=12))
        return document(_WIDTH, _HEIGHT, body, title=label)
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    if high == low:
        low, high = low - 0.5 * (abs(low) or 1.0), high + 0.5 * (abs(high) or 1.0)
    epochs = max(len(values), 2)
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM

    def x_of(epoch: float) -> float:
        return _LEFT + (epoch - 1) / (epochs - 1) * plot_w

    def y_of(value: float) -> float:
        return _TOP + (high - value) / (high - low) * plot_h

    body.append(element("rect", x=_LEFT, y=_TOP, width=plot_w, height=plot_h, fill="none",
                        stroke="#999999"))
    for tick in _ticks(low, high):
        y = y_of(tick)
        body.append(element("line", x1=_LEFT, y1=y, x2=_LEFT + plot_w, y2=y, stroke="#eeeeee"))
        body.append(text(_LEFT - 6, y + 4, format_number(tick, 4), size=10, anchor="end"))
    for epoch in _epoch_ticks(epochs):
        body.append(text(x_of(epoch), _TOP + plot_h + 16, str(epoch), size=10))
    body.append(text(_LEFT + plot_w / 2, _HEIGHT - 6, "epoch", size=11))
    path = " ".join(f"{'M' if i == 0 else 'L'}{x_of(e):.2f},{y_of(v):.2f}"
                    for i, (e, v) in enumerate(points))
    body.append(element("path", d=path, fill="none", stroke=colour, stroke_width=2.0))
    for epoch, value in points:
        tip = element("title", escape(f"epoch {epoch}: {label} {format_number(value)}"))
        body.append(element("circle", tip, cx=x_of(epoch), cy=y_of(value), r=3.0, fill=colour,
                            class_="point"))
    if dropped:
        body.append(text(_LEFT + plot_w, _TOP - 4, f"{dropped} non-finite left out", size=10,
                         anchor="end", fill="#b2182b"))
    return document(_WIDTH, _HEIGHT, body, title=f"{label} per epoch")
