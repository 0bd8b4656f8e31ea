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
    import textwrap

    from ..explain import explain
    from ..explain.symbolic import format_number
    from ..seed import SEED_PRINTED, build_seed, seed_report

    seed = build_seed()
    print("chainrule demo: the Hasktorch autograd seed, a 4-3-1 network with all weights 1 "
          "(float64)\n")
    print(seed_report(seed))
    derivations = {"w211": explain(seed.loss, seed.W2, (0, 0), view="chain"),
                   "w111": explain(seed.loss, seed.W1, (0, 0), view="chain")}
    for d in derivations.values():
        print("\n" + d.to_text().rstrip())
    print("\nThe seed's own derivation, compared")
    print("-----------------------------------")
    for name, d in derivations.items():
        printed = SEED_PRINTED[name]
        verdict = d.check(printed)
        print(textwrap.fill(
            f"The seed prints dL/d{name} = {format_number(printed)}; the right value is "
            f"{format_number(d.value)} (autograd {format_number(d.autograd)}, central "
            f"difference {format_number(d.numeric)}).", 98))
        print(textwrap.fill(f"Diagnosis: {verdict.message}", 98, initial_indent="  ",
                            subsequent_indent="  ") + "\n")
    return 0
