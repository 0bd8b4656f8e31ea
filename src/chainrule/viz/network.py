"""``draw_network``: a layered diagram of a fully connected network, as SVG written by chainrule.

In the style of the seed's figure (Input Layer ∈ ℝ⁴, Hidden Layer ∈ ℝ³, Output Layer ∈ ℝ¹,
fully connected): every neuron shows its value for one example, every connection is a line
whose width shows the magnitude of its weight (or of the loss's gradient with respect to it)
and whose colour shows the sign (blue positive, red negative). Hovering a line shows the
weight's name in the seed's notation (``w111`` is ``W1[0, 0]``), its value and its gradient.
No Graphviz is needed.

>>> from chainrule.network import parse_network
>>> spec = parse_network('''
... [network]
... sizes = [2, 1]
... activations = ["sigmoid"]
... [weights]
... W1 = "ones"
... [data]
... x = [[1, -1]]
... t = [[1]]
... [loss]
... kind = "squared_error"
... ''')
>>> drawing = draw_network(spec)
>>> drawing.neurons, drawing.connections
(3, 2)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .format import escape, format_number, format_values
from .svg import document, element, sign_colour, superscript, text

#: Layers wider than this show their first and last neurons with "⋮" between.
MAX_NEURONS = 12
_COLUMN = 210.0   # horizontal distance between layers
_ROW = 62.0       # vertical distance between neurons
_RADIUS = 21.0
_TOP = 64.0


@dataclass
class Layer:
    """One layer of neurons: its size, what its values are called, and the values."""

    size: int
    caption: str                 # "Input Layer", "Hidden Layer", "Output Layer"
    name: str                    # the values' name: x, h, y (h1, h2 in deeper nets)
    values: np.ndarray | None    # one example's values, shape (size,)
    activation: str = ""         # e.g. "relu"; empty for the input layer
    pre_name: str = ""           # the pre-activation's name: a, y_in
    pre_values: np.ndarray | None = None
    bias: np.ndarray | None = None   # the layer's biases, shown in the neurons' tooltips


@dataclass
class NetworkPicture:
    """What the diagram shows: layers, weight matrices (in, out) and their gradients."""

    layers: list[Layer]
    weights: list[np.ndarray]              # W{l} with shape (size[l-1], size[l])
    gradients: list[np.ndarray | None]
    title: str = ""
    loss: float | None = None
    loss_formula: str = ""
    example: int = 0
    examples: int = 1
    target: np.ndarray | None = None       # the example's target t


def weight_name(layer: int, i: int, j: int) -> str:
    """The seed's name of ``W{layer}[i, j]`` (0-based indices): ``w{layer}{i+1}{j+1}``.

    NOTE: with any index of 10 or more the digits would be ambiguous, so the parts are then
    separated by commas (``w1,12,3``), as the explainer names them.

    >>> weight_name(1, 0, 0), weight_name(2, 11, 2)
    ('w111', 'w2,12,3')
    """
    parts = (layer, i + 1, j + 1)
    return "w" + ("" if max(parts) < 10 else ",").join(str(p) for p in parts)


def _row(values: Any, example: int) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    return a.reshape(-1) if a.ndim < 2 else a[example].reshape(-1)


def _captions(count: int) -> list[str]:
    return ["Input Layer"] + ["Hidden Layer"] * (count - 2) + ["Output Layer"]


def picture_from_built(net: Any, example: int = 0) -> NetworkPicture:
    """The picture of a :class:`chainrule.network.BuiltNetwork` (gradients by autograd)."""
    spec = net.spec
    captions = _captions(len(spec.sizes))
    layers = [Layer(spec.sizes[0], captions[0], "x", _row(net.inputs.data, example))]
    for layer in range(1, spec.layers + 1):
        pre, post = spec.layer_names(layer)
        pre_value = net.values.get(pre)
        post_value = net.values.get(post)
        layers.append(Layer(
            spec.sizes[layer], captions[layer], post,
            None if post_value is None else _row(post_value.data, example),
            spec.activations[layer - 1], pre if pre_value is not None else "",
            None if pre_value is None else _row(pre_value.data, example),
            None if f"b{layer}" not in net.params else _row(net.params[f"b{layer}"].data, 0)))
    grads = net.gradients()
    weights = [net.params[f"W{layer}"].data for layer in range(1, spec.layers + 1)]
    gradients = [grads.get(f"W{layer}") for layer in range(1, spec.layers + 1)]
    return NetworkPicture(layers, weights, gradients, spec.title, float(net.loss.data),
                          spec.loss_formula(), example, int(np.asarray(net.inputs.data).shape[0]),
                          _row(net.targets.data, example))


def picture_from_module(model: Any, x: Any = None, example: int = 0) -> NetworkPicture:
    """The picture of a :class:`chainrule.nn.Sequential` (or MLP) of Linear layers.

    Weights are shown in the diagram's (in, out) layout, so ``W{l} = linear.weight.T``; the
    gradients are the parameters' ``.grad`` (read, never changed). With ``x`` the neurons show
    the values of that input's example ``example``.
    """
    from ..nn import Linear
    from ..tensor import Tensor

    modules = list(model) if hasattr(model, "__iter__") else [model]
    linears = [m for m in modules if isinstance(m, Linear)]
    if not linears:
        raise TypeError(f"draw_network: {type(model).__name__} has no Linear layers to draw; "
                        "pass a Sequential/MLP of Linear layers, a network file or a network")
    sizes = [linears[0].in_features] + [m.out_features for m in linears]
    captions = _captions(len(sizes))
    names = ["x"] + [f"h{k}" for k in range(1, len(linears))] + ["y"]
    values: list[np.ndarray | None] = [None] * len(sizes)
    pres: list[np.ndarray | None] = [None] * len(sizes)
    activations = [""] * len(sizes)
    current = -1
    h = None if x is None else (x if isinstance(x, Tensor) else Tensor(x))
    if h is not None:
        values[0] = _row(h.data, example)
    from ..engine import no_grad

    with no_grad():
        for m in modules:
            if isinstance(m, Linear):
                current += 1
            elif current >= 0:
                activations[current + 1] = (activations[current + 1] + " " +
                                            type(m).__name__.lower()).strip()
            if h is not None:
                h = m(h)
                if isinstance(m, Linear):
                    pres[current + 1] = _row(h.data, example)
                values[current + 1] = _row(h.data, example)
    layers = [Layer(sizes[0], captions[0], "x", values[0])]
    for k in range(1, len(sizes)):
        has_activation = bool(activations[k])
        bias = linears[k - 1].bias
        layers.append(Layer(sizes[k], captions[k], names[k], values[k], activations[k],
                            "z" + str(k) if has_activation else "",
                            pres[k] if has_activation else None,
                            None if bias is None else _row(bias.data, 0)))
    weights = [np.asarray(m.weight.data, dtype=np.float64).T for m in linears]
    gradients = [None if m.weight.grad is None
                 else np.asarray(m.weight.grad.data, dtype=np.float64).T for m in linears]
    data = None if x is None else (x.data if isinstance(x, Tensor) else np.asarray(x))
    examples = 1 if data is None else int(data.reshape(-1, sizes[0]).shape[0])
    return NetworkPicture(layers, weights, gradients, type(model).__name__, example=example,
                          examples=examples)


def network_picture(source: Any, x: Any = None, example: int = 0) -> NetworkPicture:
    """A :class:`NetworkPicture` of a network file path, NetworkSpec, BuiltNetwork or model."""
    from ..network import BuiltNetwork, NetworkSpec, load_network

    if isinstance(source, (str, os.PathLike)):
        source = load_network(Path(source))
    if isinstance(source, NetworkSpec):
        source = source.build()
    if isinstance(source, BuiltNetwork):
        return picture_from_built(source, example)
    if isinstance(source, NetworkPicture):
        return source
    try:
        from ..nn import Module
    except ImportError:  # pragma: no cover - nn is part of chainrule
        Module = ()  # type: ignore[assignment,misc]
    if isinstance(source, Module):
        return picture_from_module(source, x, example)
    raise TypeError(f"draw_network: cannot draw a {type(source).__name__}; pass a network file "
                    "path, a NetworkSpec, a BuiltNetwork or a chainrule.nn Sequential/MLP")


def _shown(size: int, limit: int) -> list[int | None]:
    """The neuron indices drawn for a layer; None marks the "⋮" gap of a wide layer."""
    if size <= limit:
        return list(range(size))
    head = limit // 2
    tail = limit - head - 1
    return [*range(head), None, *range(size - tail, size)]


class NetworkDrawing:
    """A network diagram: ``.svg`` (text), ``.save(path)``; displays itself in Jupyter."""

    def __init__(self, picture: NetworkPicture, svg: str, neurons: int, connections: int
                 ) -> None:
        self.picture = picture
        self.svg = svg
        self.neurons = neurons
        self.connections = connections

    def __repr__(self) -> str:
        sizes = "-".join(str(layer.size) for layer in self.picture.layers)
        return (f"<NetworkDrawing {sizes}: {self.neurons} neurons, {self.connections} "
                "connections drawn>")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the SVG to ``path``."""
        target = Path(path)
        target.write_text(self.svg, encoding="utf-8")
        return target

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/plain": repr(self)}


def draw_network(source: Any, edges: str = "weight", x: Any = None, example: int = 0,
                 max_neurons: int = MAX_NEURONS, title: str | None = None) -> NetworkDrawing:
    """Draw a fully connected network as SVG.

    Args:
        source: a network file path, a :class:`~chainrule.network.NetworkSpec`, a
            :class:`~chainrule.network.BuiltNetwork`, or a ``chainrule.nn`` Sequential/MLP of
            Linear layers.
        edges: what line width and colour show: ``"weight"`` or ``"gradient"`` (dL/dw).
        x: for a model, an input batch whose example ``example`` fills the neurons.
        example: which example (row of x) the neurons show.
        max_neurons: wider layers show their first and last neurons around a "⋮".
        title: a heading; by default the network's title.
    """
    if edges not in ("weight", "gradient"):
        raise ValueError(f"draw_network: edges must be 'weight' or 'gradient', got {edges!r}")
    picture = network_picture(source, x=x, example=example)
    return render_picture(picture, edges=edges, max_neurons=max_neurons, title=title)


def render_picture(picture: NetworkPicture, edges: str = "weight",
                   max_neurons: int = MAX_NEURONS, title: str | None = None) -> NetworkDrawing:
    """The SVG of a :class:`NetworkPicture`."""
    layers = picture.layers
    shown = [_shown(layer.size, max_neurons) for layer in layers]
    tallest = max(len(s) for s in shown)
    heading = picture.title if title is None else title
    top = _TOP + (22 if heading else 0)
    height = top + tallest * _ROW + 84
    width = 90 + _COLUMN * (len(layers) - 1) + (230 if picture.loss is not None else 90)

    def position(k: int, slot: int) -> tuple[float, float]:
        offset = (tallest - len(shown[k])) * _ROW / 2
        return 90 + k * _COLUMN, top + offset + slot * _ROW + _ROW / 2

    body: list[str] = []
    if heading:
        body.append(text(width / 2, 26, heading, size=15, font_weight="bold"))
    magnitudes = [np.abs(m) for m in _edge_values(picture, edges) if m is not None]
    largest = max((float(m.max()) for m in magnitudes if m.size), default=0.0)
    connections = 0
    for k in range(1, len(layers)):
        values = _edge_values(picture, edges)[k - 1]
        for si, i in enumerate(shown[k - 1]):
            for sj, j in enumerate(shown[k]):
                if i is None or j is None:
                    continue
                body.append(_connection(picture, k, i, j, position(k - 1, si), position(k, sj),
                                        None if values is None else float(values[i, j]),
                                        largest))
                connections += 1
    neurons = 0
    for k, layer in enumerate(layers):
        for slot, i in enumerate(shown[k]):
            cx, cy = position(k, slot)
            if i is None:
                body.append(text(cx, cy + 6, "⋮", size=22, fill="#555555"))
                continue
            body.append(_neuron(layer, i, cx, cy))
            neurons += 1
        body.append(_caption(layer, 90 + k * _COLUMN, top + tallest * _ROW + 26))
    if picture.loss is not None:
        body.append(_loss_box(picture, position(len(layers) - 1, 0), top, tallest))
    body.append(_legend(edges, largest, 12, height - 12))
    svg = document(width, height, body, title=heading or "network")
    return NetworkDrawing(picture, svg, neurons, connections)


def _edge_values(picture: NetworkPicture, edges: str) -> list[np.ndarray | None]:
    return list(picture.weights) if edges == "weight" else list(picture.gradients)


def _connection(picture: NetworkPicture, k: int, i: int, j: int, start: tuple[float, float],
                end: tuple[float, float], value: float | None, largest: float) -> str:
    name = weight_name(k, i, j)
    weight = float(picture.weights[k - 1][i, j])
    gradient = picture.gradients[k - 1]
    tip = f"{name} = W{k}[{i}, {j}] = {format_number(weight)}"
    if gradient is not None:
        tip += f"; dL/d{name} = {format_number(float(gradient[i, j]))}"
    # NOTE: widths are relative to the largest magnitude drawn, with a floor so that a zero
    # weight (or gradient) still shows as a thin grey line instead of vanishing.
    share = 0.0 if value is None or largest == 0 else abs(value) / largest
    colour = "#999999" if value is None else sign_colour(value)
    return element("line", element("title", escape(tip)),
                   x1=start[0] + _RADIUS, y1=start[1], x2=end[0] - _RADIUS, y2=end[1],
                   stroke=colour, stroke_width=0.6 + 4.4 * share, stroke_opacity=0.8,
                   class_="connection", data_weight=name)


def _neuron(layer: Layer, i: int, cx: float, cy: float) -> str:
    label = _unit_name(layer.name, i, layer.size)
    value = None if layer.values is None else float(layer.values[i])
    tip = label + ("" if value is None else f" = {format_number(value)}")
    pre = None if layer.pre_values is None else float(layer.pre_values[i])
    if pre is not None:
        pre_label = _unit_name(layer.pre_name, i, layer.size)
        tip += f" = {layer.activation}({pre_label} = {format_number(pre)})"
    if layer.bias is not None:
        tip += f"; bias {format_number(float(layer.bias[i]))}"
    parts = [element("title", escape(tip)),
             element("circle", cx=cx, cy=cy, r=_RADIUS, fill="#fdfdfd", stroke="#333333",
                     stroke_width=1.4)]
    if value is not None:
        shown = format_number(value, 4)
        parts.append(text(cx, cy + 4, shown, size=11 if len(shown) <= 6 else 9))
    parts.append(text(cx - _RADIUS - 3, cy - _RADIUS + 2, label, size=10, anchor="end",
                      fill="#444444"))
    return element("g", "".join(parts), class_="neuron", data_name=label)


def _unit_name(name: str, i: int, size: int) -> str:
    """``h`` unit 2 is ``h2``; in deeper nets ``h1`` unit 2 is ``h1_2``."""
    if size == 1:
        return name
    return f"{name}_{i + 1}" if name[-1:].isdigit() else f"{name}{i + 1}"


def _caption(layer: Layer, x: float, y: float) -> str:
    lines = [text(x, y, f"{layer.caption} ∈ ℝ{superscript(layer.size)}", size=13,
                  font_weight="bold", class_="caption")]
    if layer.activation == "identity":
        lines.append(text(x, y + 17, "no activation", size=11, fill="#555555"))
    elif layer.activation:
        pre = f"({layer.pre_name})" if layer.pre_name else ""
        lines.append(text(x, y + 17, f"{layer.name} = {layer.activation}{pre}", size=11,
                          fill="#555555"))
    return "".join(lines)


def _loss_box(picture: NetworkPicture, output: tuple[float, float], top: float,
              tallest: int) -> str:
    x = output[0] + 70
    y = top + tallest * _ROW / 2 - 26
    lines = [f"L = {format_number(picture.loss)}"]   # type: ignore[arg-type]
    if picture.loss_formula:
        lines.append(picture.loss_formula)
    if picture.target is not None:
        lines.append("t = " + format_values(picture.target))
    if picture.examples > 1:
        lines.append(f"example {picture.example + 1} of {picture.examples}")
    body = [element("rect", x=x, y=y, width=150, height=18 + 16 * len(lines), rx=6,
                    fill="#f9d5c6", stroke="#c0856f")]
    body += [text(x + 75, y + 20 + 16 * n, line, size=12 if n == 0 else 10,
                  font_weight="bold" if n == 0 else None) for n, line in enumerate(lines)]
    return element("g", "".join(body), class_="loss")


def _legend(edges: str, largest: float, x: float, y: float) -> str:
    what = "weight" if edges == "weight" else "gradient dL/dw"
    return text(x, y, f"line width ∝ |{what}| (largest {format_number(largest)}); "
                "blue positive, red negative", size=10, anchor="start", fill="#555555")
