"""``chainrule explain FILE --wrt w111``: one gradient's chain-rule derivation, checked.

With ``--expect VALUE`` (a value computed by hand) it also says whether that value is right
and, if not, which mistake it is consistent with (a missing square, a sign, a path left out,
...), diagnosed from the numbers by :meth:`chainrule.explain.Derivation.check`.

    chainrule explain examples/seed.toml --wrt w211 --expect 9.8657e-3
"""

from __future__ import annotations

import argparse
import re

from . import add_output_arguments
from .solve import RENDERERS, add_format_arguments, emit, resolve_elements


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "explain", help="the chain-rule derivation of one gradient of a network file, and a "
                        "check of a hand-computed answer",
        description="Derive dL/dNAME for one element of a network file (see "
                    "examples/seed.toml) step by step, with the local derivatives' formulas and "
                    "numbers, checked against autograd and a central difference.")
    parser.add_argument("file", metavar="FILE", help="a network file, e.g. examples/seed.toml")
    parser.add_argument("--wrt", required=True, metavar="NAME",
                        help="the element to differentiate against, e.g. w111 (weights "
                             "w_lij: layer l, from unit i to unit j; biases b_lj; values such "
                             "as h_1 or y_in)")
    parser.add_argument("--expect", type=float, metavar="VALUE",
                        help="a value you computed by hand (e.g. 9.8657e-3): say whether it is "
                             "right and, if not, which mistake it is consistent with")
    add_format_arguments(parser)
    add_output_arguments(parser)
    # NOTE: argparse only takes "-4.9" or "-4" as a negative number, so "--expect -4.9e-3"
    # would fail with "expected one argument"; this accepts exponent forms as numbers too.
    parser._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..explain import explain
    from ..network import load_network

    net = load_network(args.file).build()
    (name, tensor, index), *more = resolve_elements(net, args.wrt, args.file)
    if more:
        raise ValueError(f"{args.file}: --wrt takes one element, got {args.wrt!r}; use "
                         "chainrule solve --wrt for several")
    d = explain(net.loss, tensor, index, view=args.view)
    out = RENDERERS[args.format]()
    out.derivation(d)
    if args.expect is not None:
        from ..explain.symbolic import format_number

        verdict = d.check(args.expect)
        out.heading(f"Your answer: dL/d{name} = {format_number(args.expect, 7)}")
        out.paragraph(verdict.message, wrap=False)
    # A page needs a title; in a terminal or a Markdown file the derivation's heading is one.
    title = f"dL/d{name} in {args.file}" if args.format in ("latex", "html") else None
    emit(out.finish(title), args)
    return 0
