"""``chainrule report FILE --out report.html``: one self-contained HTML page about a network.

The network diagram, the forward values, the loss, every weight's gradient, and a click on any
weight for its derivation and check; it works offline (nothing is loaded from the network).
``--history run.json`` adds per-epoch charts from a JSON object of lists, e.g.
``{"loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.75, 1.0]}``, or the trainer's list of
per-epoch records.

    chainrule report examples/seed.toml --out report.html
"""

from __future__ import annotations

import argparse
import json
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
                        help='per-epoch series to chart: a JSON object of lists such as '
                             '{"loss": [...], "accuracy": [...]}, or a list of per-epoch '
                             "records as the trainer keeps them")
    parser.add_argument("--title", help="the page title (default: the file's title)")
    add_output_arguments(parser)
    parser.set_defaults(run=run)


def read_history(path: str) -> Any:
    """A ``--history`` file: a JSON object of per-epoch lists (``{"loss": [...]}``) or a list of
    per-epoch records (``[{"epoch": 1, "train_loss": 0.7, "test_acc": 0.5}, ...]``).

    NOTE: JSON has no NaN; a missing or diverged epoch is written null and charted as a gap.
    """
    from ..viz.chart import history_series

    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}); give an "
                         'object of lists such as {"loss": [0.9, 0.5]}') from None
    if not isinstance(data, (dict, list)) or not data:
        raise ValueError(f'{path}: expected a JSON object of lists such as {{"loss": [0.9, '
                         f"0.5]}} or a list of per-epoch records, got {type(data).__name__}")
    try:
        history_series(data)
    except TypeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return data


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
