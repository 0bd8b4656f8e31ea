"""A per-epoch line chart (loss, accuracy) as a small self-contained SVG.

>>> svg = line_chart([1.0, 0.5, 0.25], "loss")
>>> svg.count("<circle")
3
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .format import escape, format_number
from .svg import NEGATIVE, POSITIVE, document, element, text

#: Line colours for several series (colour-blind safe: blue, red, green, purple).
PALETTE = (POSITIVE, NEGATIVE, "#1b7837", "#762a83")

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


def line_chart(values: Sequence[float] | Mapping[str, Sequence[float]], label: str,
               colour: str = POSITIVE) -> str:
    """Series against the epoch number (1, 2, ...), with axes, ticks, point tooltips and, for
    several series (``{"train_loss": [...], "test_loss": [...]}``), a legend.

    NOTE: non-finite values (a diverged loss, a missing epoch) are left out of the lines and
    the axis range, and the chart says how many were left out, so one ``inf`` does not
    flatten the rest.
    """
    series = dict(values) if isinstance(values, Mapping) else {label: values}
    colours = [colour] + [c for c in PALETTE if c != colour]
    points = {name: [(i + 1, float(v)) for i, v in enumerate(vals)
                     if v is not None and math.isfinite(float(v))]
              for name, vals in series.items()}
    dropped = sum(len(series[name]) - len(p) for name, p in points.items())
    body: list[str] = [text(_WIDTH / 2, 18, f"{label} per epoch", size=13, font_weight="bold")]
    finite = [v for p in points.values() for _, v in p]
    if not finite:
        body.append(text(_WIDTH / 2, _HEIGHT / 2, "no finite values", size=12))
        return document(_WIDTH, _HEIGHT, body, title=label)
    low, high = min(finite), max(finite)
    if high == low:
        low, high = low - 0.5 * (abs(low) or 1.0), high + 0.5 * (abs(high) or 1.0)
    epochs = max(max(len(v) for v in series.values()), 2)
    top = _TOP + (14 if len(series) > 1 else 0)   # room for the legend above the plot
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - top - _BOTTOM

    def x_of(epoch: float) -> float:
        return _LEFT + (epoch - 1) / (epochs - 1) * plot_w

    def y_of(value: float) -> float:
        return top + (high - value) / (high - low) * plot_h

    body.append(element("rect", x=_LEFT, y=top, width=plot_w, height=plot_h, fill="none",
                        stroke="#999999"))
    for tick in _ticks(low, high, count=6):
        y = y_of(tick)
        body.append(element("line", x1=_LEFT, y1=y, x2=_LEFT + plot_w, y2=y, stroke="#eeeeee"))
        body.append(text(_LEFT - 6, y + 4, format_number(tick, 4), size=10, anchor="end"))
    for epoch in _epoch_ticks(epochs):
        body.append(text(x_of(epoch), top + plot_h + 16, str(epoch), size=10))
    body.append(text(_LEFT + plot_w / 2, _HEIGHT - 6, "epoch", size=11))
    legend_x = 0.0
    for n, (name, pts) in enumerate(points.items()):
        stroke = colours[n % len(colours)]
        if pts:
            path = " ".join(f"{'M' if i == 0 else 'L'}{x_of(e):.2f},{y_of(v):.2f}"
                            for i, (e, v) in enumerate(pts))
            body.append(element("path", d=path, fill="none", stroke=stroke, stroke_width=2.0,
                                class_="series", data_series=name))
        for epoch, value in pts:
            tip = element("title", escape(f"epoch {epoch}: {name} {format_number(value)}"))
            body.append(element("circle", tip, cx=x_of(epoch), cy=y_of(value), r=3.0,
                                fill=stroke, class_="point"))
        if len(series) > 1:
            x = _LEFT + legend_x
            body.append(element("line", x1=x, y1=top - 10, x2=x + 16, y2=top - 10,
                                stroke=stroke, stroke_width=2.0))
            body.append(text(x + 20, top - 6, name, size=10, anchor="start"))
            legend_x += 34 + 6 * len(name)
    if dropped:
        body.append(text(_LEFT + plot_w, top - 4, f"{dropped} non-finite left out", size=10,
                         anchor="end", fill="#b2182b"))
    return document(_WIDTH, _HEIGHT, body, title=f"{label} per epoch")


def history_series(history: Any) -> dict[str, dict[str, list[float]]]:
    """Per-epoch history grouped into charts: ``{chart title: {series: values}}``.

    Accepts ``{"loss": [...], "accuracy": [...]}`` (a list per series) or the trainer's list of
    per-epoch records (``[{"epoch": 1, "train_loss": ..., "test_acc": ...}, ...]``). Series
    whose names contain "loss" share the loss chart, those with "acc" the accuracy chart;
    any other series gets its own. ``epoch`` is the x axis, not a series; a series with no
    value at all is left out.

    >>> history_series([{"epoch": 1, "train_loss": 0.5, "test_loss": 0.6, "test_acc": None}])
    {'loss': {'train_loss': [0.5], 'test_loss': [0.6]}}
    """
    if isinstance(history, Mapping):
        columns = {}
        for key, values in history.items():
            if not isinstance(values, Sequence) or isinstance(values, str):
                raise TypeError(f"history[{key!r}] must be a list of per-epoch numbers, got "
                                f"{type(values).__name__}")
            columns[str(key)] = list(values)
    else:
        columns = {}
        for n, record in enumerate(history):
            if not isinstance(record, Mapping):
                raise TypeError(f"history[{n}] is a {type(record).__name__}; give per-epoch "
                                "records (dicts) or a dict of per-epoch lists")
            for key, value in record.items():
                columns.setdefault(str(key), [None] * n).append(value)
            for column in columns.values():
                column.extend([None] * (n + 1 - len(column)))
    charts: dict[str, dict[str, list[float]]] = {}
    for name, values in columns.items():
        if name == "epoch":
            continue
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                   for v in values):
            raise TypeError(f"history[{name!r}] must be a list of per-epoch numbers")
        if all(v is None for v in values):
            continue
        lower = name.lower()
        group = "loss" if "loss" in lower else "accuracy" if "acc" in lower else name
        charts.setdefault(group, {})[name] = [math.nan if v is None else float(v)
                                              for v in values]
    return charts
