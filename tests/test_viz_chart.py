"""The per-epoch line chart of the report's history hook."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from chainrule.viz.chart import _epoch_ticks, _ticks, history_series, line_chart

NS = "{http://www.w3.org/2000/svg}"


def points(svg: str) -> list[tuple[float, float]]:
    root = ET.fromstring(svg)
    return [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(f"{NS}circle")]


def test_points_follow_the_values() -> None:
    svg = line_chart([4.0, 2.0, 1.0, 3.0], "loss")
    xy = points(svg)
    assert len(xy) == 4
    xs = [x for x, _ in xy]
    assert xs == sorted(xs) and len(set(xs)) == 4
    ys = [y for _, y in xy]
    # SVG y grows downwards: the largest value is highest on the page
    assert ys.index(min(ys)) == 0 and ys.index(max(ys)) == 2
    # equal steps in value are equal steps on the page
    assert math.isclose(ys[1] - ys[0], 2 * (ys[2] - ys[1]), rel_tol=1e-3)
    titles = [t.text for t in ET.fromstring(svg).iter(f"{NS}title")]
    assert "epoch 4: loss 3" in titles


def test_non_finite_values_are_left_out_and_counted() -> None:
    svg = line_chart([1.0, float("nan"), float("inf"), 0.5], "loss")
    assert len(points(svg)) == 2
    assert "2 non-finite left out" in svg
    assert "no finite values" in line_chart([float("nan")], "loss")


def test_constant_series_and_ticks() -> None:
    svg = line_chart([0.75, 0.75, 0.75], "accuracy")
    assert len({y for _, y in points(svg)}) == 1
    assert _ticks(0.0, 1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert _ticks(0.0, 8.0) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert _epoch_ticks(10) == [1, 3, 5, 7, 10] and _epoch_ticks(2) == [1, 2]
    assert _ticks(0.013, 0.98)[0] >= 0.013
    labels = re.findall(r">(\d+)</text>", line_chart([1.0] * 10, "loss"))
    assert labels[-1] == "10"


def test_several_series_share_a_chart_with_a_legend() -> None:
    svg = line_chart({"train_loss": [3.0, 2.0, 1.0], "test_loss": [3.5, 2.5]}, "loss")
    root = ET.fromstring(svg)
    series = [p.get("data-series") for p in root.iter(f"{NS}path")]
    assert series == ["train_loss", "test_loss"]
    assert len(points(svg)) == 5
    assert {"train_loss", "test_loss"} <= {t.text for t in root.iter(f"{NS}text")}


def test_history_series_groups_losses_and_accuracies() -> None:
    records = [{"epoch": 1, "train_loss": 0.9, "test_loss": 1.0, "test_acc": 0.5, "lr": 0.1},
               {"epoch": 2, "train_loss": 0.5, "test_loss": 0.7, "test_acc": 0.75}]
    charts = history_series(records)
    assert list(charts) == ["loss", "accuracy", "lr"]
    assert charts["loss"] == {"train_loss": [0.9, 0.5], "test_loss": [1.0, 0.7]}
    assert math.isnan(charts["lr"]["lr"][1])   # missing in epoch 2: a gap
    assert history_series({"loss": [1, 2]}) == {"loss": {"loss": [1.0, 2.0]}}
