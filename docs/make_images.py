"""Regenerate the figures in docs/images with chainrule itself.

    python docs/make_images.py [--out FOLDER]     (default: docs/images)

- seed_network.svg: the seed's 4-3-1 network (examples/seed.toml) as chainrule.draw_network
  draws it, lines showing the weights (all 1);
- seed_network_gradients.svg: the same, lines showing dL/dw (width: magnitude, colour: sign);
- seed_graph.svg / seed_graph.png: the computation graph of its loss (chainrule.draw_graph),
  every tensor's value and gradient, every edge's local derivative from the op registry;
- deep_graph.svg: a 50-layer tanh MLP's graph, collapsed by its repeated structure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import chainrule as cr
from chainrule.network import load_network

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"


def deep_mlp_loss(layers: int = 50) -> cr.Tensor:
    """A deep MLP's loss, to show how a large graph collapses."""
    cr.manual_seed(0)
    h = cr.randn(4, 8, dtype=cr.float64, name="x")
    for layer in range(1, layers + 1):
        W = cr.tensor(0.5 * cr.randn(8, 8, dtype=cr.float64).data, requires_grad=True,
                      name=f"W{layer}")
        b = cr.zeros(8, dtype=cr.float64, requires_grad=True, name=f"b{layer}")
        h = cr.functional.linear(h, W, b).tanh()
    loss = (h ** 2).mean()
    loss.name = "L"
    return loss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate docs/images with chainrule.")
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder (default docs/images)")
    out: Path = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    net = load_network(ROOT / "examples" / "seed.toml").build()
    written = [
        cr.draw_network(net).save(out / "seed_network.svg"),
        cr.draw_network(net, edges="gradient").save(out / "seed_network_gradients.svg"),
    ]
    graph = cr.draw_graph(net.loss, title=net.spec.title)
    written += [graph.save(out / "seed_graph.svg"), graph.save(out / "seed_graph.png")]
    written.append(cr.draw_graph(deep_mlp_loss(), title="a 50-layer tanh MLP")
                   .save(out / "deep_graph.svg"))
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
