"""``chainrule demo``: the seed network, its gradients and their derivations."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "demo", help="the Hasktorch autograd seed: forward values, gradients, derivations",
        description="Build the seed's 4-3-1 network (x = [-1, 2, -3, 4], all weights 1, ReLU "
                    "hidden layer, sigmoid output, loss (y - t)^2 with t = 0), differentiate it "
                    "with grad(loss, [W1, W2]) and print what the original prints.")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..seed import build_seed, seed_report

    seed = build_seed()
    print("chainrule demo: the Hasktorch autograd seed, a 4-3-1 network with all weights 1 "
          "(float64)\n")
    print(seed_report(seed))
    return 0
