"""``chainrule graph FILE --out graph.svg``: draw the computation graph of a network file's loss.

Every tensor with its op, name, shape, value and gradient; every edge with its local
derivative from the op registry. The format follows ``--format`` or the output's extension
(svg, png, dot); without ``--out`` the DOT or SVG text goes to standard output.

    chainrule graph examples/seed.toml --out seed_graph.svg
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import add_output_arguments, write_output

FORMATS = ("svg", "png", "dot")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "graph", help="draw the computation graph of a network file's loss (SVG, PNG, DOT)",
        description="Draw the computation graph behind the loss of a network file (see "
                    "examples/seed.toml): each tensor with its op, name, shape, value and "
                    "gradient, each edge labelled with its local derivative. Large graphs "
                    "collapse by repeated structure. SVG and PNG need Graphviz's dot.")
    parser.add_argument("file", metavar="FILE", help="a network file, e.g. examples/seed.toml")
    parser.add_argument("--format", "-f", choices=FORMATS,
                        help="output format (default: from --out's extension, else svg)")
    parser.add_argument("--max-nodes", type=int, default=60, metavar="N",
                        help="collapse graphs with more than N tensors (default: 60)")
    add_output_arguments(parser)
    parser.set_defaults(run=run)


def output_format(out: str | None, given: str | None) -> str:
    """The format asked for, or the one the output's extension names, or svg."""
    if given:
        return given
    suffix = Path(out).suffix.lstrip(".").lower() if out else ""
    if out and suffix not in FORMATS:
        raise ValueError(f"--out {out}: cannot tell the format from the extension "
                         f"'{Path(out).suffix}'; name it .svg, .png or .dot, or pass --format")
    return suffix or "svg"


def run(args: argparse.Namespace) -> int:
    from ..network import load_network
    from ..viz.graph import draw_graph

    fmt = output_format(args.out, args.format)
    if args.max_nodes < 2:
        raise ValueError(f"--max-nodes must be at least 2, got {args.max_nodes}")
    if fmt == "png" and args.out is None:
        raise ValueError("PNG is binary: pass --out FILE.png (or use --format svg or dot)")
    net = load_network(args.file).build()
    drawing = draw_graph(net.loss, max_nodes=args.max_nodes, title=net.spec.title)
    data = drawing.render(fmt)
    if args.out is None:
        print(data, end="")
        return 0
    target = write_output(args.out, data, args.force)
    v = drawing.view
    print(f"wrote {target} ({fmt}: {len(v.boxes)} boxes, {len(v.arrows)} arrows; graph of "
          f"{v.tensors} tensors)")
    return 0
