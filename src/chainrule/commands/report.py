"""``chainrule report FILE --out report.html``: one self-contained HTML page about a network.

The network diagram, the forward values, the loss, every weight's gradient, and a click on any
weight for its derivation and check; it works offline (nothing is loaded from the network).
``--history run.json`` adds per-epoch charts from a JSON object of lists, e.g.
``{"loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.75, 1.0]}``.

    chainrule report examples/seed.toml --out report.html
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from . import add_output_arguments, write_output


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "report", help="a self-contained HTML page: diagram, values, gradients, derivations",
        description="Write one self-contained HTML page about a network file (see "
                    "examples/seed.toml): the network diagram, the forward values, the loss, "
                    "the gradient of every weight, and for any weight a click that shows its "
                    "chain-rule derivation and check. It works offline.")
    parser.add_argument("file", metavar="FILE", help="a network file, e.g. examples/seed.toml")
    parser.add_argument("--history", metavar="JSON",
                        help='per-epoch series to chart, a JSON object of lists such as '
                             '{"loss": [...], "accuracy": [...]}')
    parser.add_argument("--title", help="the page title (default: the file's title)")
    add_output_arguments(parser)
    parser.set_defaults(run=run)


def read_history(path: str) -> dict[str, list[float]]:
    """A ``--history`` file: a JSON object whose values are lists of numbers (or null)."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}); give an "
                         'object of lists such as {"loss": [0.9, 0.5]}') from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f'{path}: expected a JSON object of lists such as {{"loss": [0.9, '
                         f"0.5]}}, got {type(data).__name__}")
    history: dict[str, list[float]] = {}
    for key, values in data.items():
        if not isinstance(values, list) or not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                for v in values):
            raise ValueError(f"{path}: history[{key!r}] must be a list of numbers (one per "
                             "epoch; null for a missing one)")
        # NOTE: JSON has no NaN; a missing or diverged epoch is written null and charted as a gap.
        history[str(key)] = [math.nan if v is None else float(v) for v in values]
    return history


def run(args: argparse.Namespace) -> int:
    from ..viz.report import render_report

    history = read_history(args.history) if args.history else None
    page = render_report(args.file, history=history, title=args.title)
    if args.out is None:
        print(page, end="")
        return 0
    target = write_output(args.out, page, args.force)
    print(f"wrote {target} ({len(page.encode('utf-8')) // 1024} KiB, self-contained; open it "
          "in a browser)")
    return 0
