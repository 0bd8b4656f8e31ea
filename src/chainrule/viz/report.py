"""The HTML report: one self-contained page about a network file that works offline.

It shows the network diagram (weights, and the gradients), the forward values with their
formulas, the loss, the gradient of every weight and bias, and, for any of them, a click that
shows its chain-rule derivation and its check against autograd and a central difference. Every
derivation is rendered in advance (by :mod:`chainrule.explain`, MathML, no network) into a
hidden block; a few lines of inline script show the one clicked. Nothing is loaded from
anywhere: no CDN, no fonts, no images outside the page.

Training curves hook: pass ``history={"loss": [...], "accuracy": [...]}`` (one value per
epoch, any keys) or the trainer's per-epoch records (``Trainer.history``, a list of dicts
with ``train_loss``, ``test_acc``, ...) and the losses and the accuracies are drawn as inline
SVG line charts.

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
>>> page = render_report(spec)
>>> page.count('class="derivation"'), 'id="d-w111"' in page
(2, True)
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .chart import history_series, line_chart
from .format import escape, format_number, format_scientific, format_values, shape_text
from .network import draw_network

#: Derivations pre-rendered at most (a large network lists the rest without one).
MAX_DERIVATIONS = 400

_CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;
color:#222;line-height:1.4}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid
#ddd;padding-bottom:3px}.sub{color:#555;margin:0 0 10px}
.diagrams{display:flex;flex-wrap:wrap;gap:12px}.diagrams figure{margin:0}
figcaption{font-size:12px;color:#555;text-align:center}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{font-family:Menlo,Consolas,monospace}
.matrix td{padding:0}.matrix button{all:unset;cursor:pointer;display:block;padding:4px 8px;
min-width:92px}.matrix button:hover,.matrix button:focus{background:#eef4fb}
.matrix button.selected{background:#d6e6f7;outline:2px solid #2166ac}
.matrix .name{font-size:11px;color:#666;display:block}
.neg{color:#b2182b}.pos{color:#2166ac}
line.connection{cursor:pointer}line.connection:hover{stroke-opacity:1}
#derivation{border:1px solid #ccc;border-radius:6px;padding:8px 14px;min-height:40px;
background:#fcfcfc}#derivation .hint{color:#777}
.charts{display:flex;flex-wrap:wrap;gap:12px}
details.graph{margin:10px 0}details.graph summary{cursor:pointer;color:#2166ac}
.diagrams svg{max-width:560px;height:auto}
.workspace{display:grid;grid-template-columns:minmax(300px,max-content) minmax(0,1fr);gap:24px;
align-items:start}.workspace>.panel{position:sticky;top:8px;max-height:98vh;overflow:auto}
@media (max-width:900px){.workspace{grid-template-columns:1fr}}
"""

# Shows the derivation of the weight clicked (a button in a gradient table, or a line of the
# diagram); #w111 in the address opens that weight's derivation directly.
_SCRIPT = """
(function(){
  function show(name){
    var id='d-'+name.replace(/[^A-Za-z0-9_]/g,'_');
    var target=document.getElementById(id);
    if(!target){return false;}
    document.querySelectorAll('.derivation').forEach(function(d){d.hidden=true;});
    document.querySelectorAll('.selected').forEach(function(b){b.classList.remove('selected');});
    document.querySelectorAll('button[data-weight="'+name+'"]').forEach(function(b){
      b.classList.add('selected');});
    document.getElementById('derivation-hint').hidden=true;
    target.hidden=false;
    target.scrollIntoView({block:'nearest'});
    return true;
  }
  document.querySelectorAll('[data-weight]').forEach(function(el){
    el.addEventListener('click',function(){
      if(show(el.getAttribute('data-weight'))){history.replaceState(null,'','#'+
        el.getAttribute('data-weight'));}
    });
  });
  if(location.hash){show(decodeURIComponent(location.hash.slice(1)));}
})();
"""


def element_id(name: str) -> str:
    """The HTML id of a weight's derivation block (``w1,12,3`` -> ``d-w1_12_3``)."""
    return "d-" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _built(source: Any) -> Any:
    from ..network import BuiltNetwork, NetworkSpec, load_network

    if isinstance(source, (str, os.PathLike)):
        source = load_network(Path(source))
    if isinstance(source, NetworkSpec):
        source = source.build()
    if not isinstance(source, BuiltNetwork):
        raise TypeError(f"render_report: cannot report on a {type(source).__name__}; pass a "
                        "network file path, a NetworkSpec or a BuiltNetwork")
    return source


def _signed(value: float, scientific: bool = False) -> str:
    css = "neg" if value < 0 else "pos" if value > 0 else ""
    shown = format_scientific(value) if scientific else format_number(value)
    return f'<span class="num {css}">{escape(shown)}</span>'


def _forward_table(net: Any) -> str:
    formulas = net.spec.formulas()
    rows = ["<tr><th>name</th><th>formula</th><th>shape</th><th>value</th></tr>"]
    for name, tensor in net.named_tensors().items():
        formula = formulas.get(name, "parameter" if name in net.params else "given")
        rows.append(f"<tr><td><b>{escape(name)}</b></td><td>{escape(formula)}</td>"
                    f"<td>{shape_text(tensor.shape)}</td>"
                    f'<td class="num">{escape(format_values(tensor.data, 64))}</td></tr>')
    return '<table class="forward">' + "".join(rows) + "</table>"


def _gradient_table(param: str, grad: np.ndarray, names: list[str]) -> str:
    """A parameter's gradient as a matrix of buttons, one per element, named w_lij."""
    g = np.asarray(grad, dtype=np.float64)
    matrix = g.reshape(1, -1) if g.ndim < 2 else g.reshape(g.shape[0], -1)
    rows = []
    flat = iter(names)
    for row in matrix:
        cells = []
        for value in row:
            name = next(flat)
            cells.append(f'<td><button type="button" data-weight="{escape(name)}" '
                         f'title="show the derivation of dL/d{escape(name)}">'
                         f'<span class="name">{escape(name)}</span>'
                         f"{_signed(float(value), scientific=True)}"
                         "</button></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<h3>dL/d{escape(param)} <small>({shape_text(g.shape)})</small></h3>"
            f'<table class="matrix">{"".join(rows)}</table>')


def _derivation_block(net: Any, name: str, tensor: Any, index: tuple[int, ...]) -> str:
    from ..explain import explain

    d = explain(net.loss, tensor, index)
    summary = (f"dL/d{escape(name)} = {format_scientific(d.value)} · autograd "
               f"{format_scientific(d.autograd)} · central difference "
               f"{format_scientific(d.numeric)}")
    return (f'<div class="derivation" id="{element_id(name)}" data-name="{escape(name)}" '
            f'hidden><p class="value"><b>{summary}</b></p>{d.to_html(standalone=False)}</div>')


def render_report(source: Any, history: Any = None,
                  title: str | None = None, derivations: bool = True, graph: bool = True) -> str:
    """The report page of a network (file path, NetworkSpec or BuiltNetwork) as HTML text.

    Args:
        source: the network.
        history: per-epoch series after training: ``{"loss": [...], "accuracy": [...]}``
            or the trainer's records (``Trainer.history``); losses share one line chart,
            accuracies another.
        title: the page title; by default the network's.
        derivations: pre-render every weight's derivation (clickable); False leaves them out.
        graph: include the computation graph (folded; drawn by Graphviz when it is installed).
    """
    from ..explain.names import element_name

    net = _built(source)
    spec = net.spec
    heading = title or spec.title
    grads = net.gradients()
    weights_svg = draw_network(net, edges="weight", title="").svg
    grads_svg = draw_network(net, edges="gradient", title="").svg
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(heading)}</h1>",
        f'<p class="sub">{escape(Path(spec.source).name)} · sizes '
        f'{"-".join(map(str, spec.sizes))} · '
        f"activations {escape(', '.join(spec.activations))} · {escape(spec.loss_formula())}</p>",
        "<h2>Network</h2>", '<div class="diagrams">',
        f"<figure>{_strip_xml(weights_svg)}<figcaption>weights</figcaption></figure>",
        f"<figure>{_strip_xml(grads_svg)}<figcaption>gradients dL/dw (click a line)"
        "</figcaption></figure></div>",
        _graph_section(net) if graph else "",
        "<h2>Forward pass</h2>", _forward_table(net),
        f'<p><b>Loss</b> {escape(spec.loss_formula())} = {_signed(float(net.loss.data))}</p>',
        "<h2>Gradients and derivations</h2>",
        '<p class="sub">Click a weight for its chain-rule derivation and its check.</p>',
        '<div class="workspace"><div class="tables">',
    ]
    blocks = []
    for param, tensor in net.params.items():
        indices = list(np.ndindex(*tensor.shape))
        names = [element_name(tensor, index) for index in indices]
        parts.append(_gradient_table(param, grads[param], names))
        if derivations:
            for name, index in zip(names, indices):
                if len(blocks) < MAX_DERIVATIONS:
                    blocks.append(_derivation_block(net, name, tensor, index))
    parts.append('</div><div class="panel" id="derivation"><p class="hint" '
                 'id="derivation-hint">Click a weight (a cell of a gradient table or a line of '
                 "the diagram) to see its derivation here.</p>")
    parts += blocks
    if derivations and len(blocks) == MAX_DERIVATIONS:
        parts.append(f'<p class="hint">Derivations are included for the first '
                     f"{MAX_DERIVATIONS} weights only.</p>")
    parts.append("</div></div>")
    if history:
        parts.append("<h2>Training</h2>" + history_charts(history))
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def history_charts(history: Any) -> str:
    """One inline SVG line chart per group of series (see :func:`chart.history_series`)."""
    charts = []
    for label, series in history_series(history).items():
        charts.append(f'<figure class="chart" data-chart="{escape(label)}">'
                      f"{_strip_xml(line_chart(series, label))}</figure>")
    return '<div class="charts">' + "".join(charts) + "</div>"


def _graph_section(net: Any) -> str:
    """The loss's computation graph, folded under a summary; a note if Graphviz is missing."""
    from ..errors import ChainruleError
    from .graph import draw_graph

    drawing = draw_graph(net.loss)
    try:
        body = _strip_xml(drawing.svg())
    except ChainruleError as exc:
        body = f'<p class="hint">{escape(str(exc))}</p>'
    v = drawing.view
    return (f'<details class="graph"><summary>Computation graph ({v.tensors} tensors, '
            f"{v.edges} edges: values, gradients and local derivatives)</summary>{body}"
            "</details>")


def _strip_xml(svg: str) -> str:
    """An SVG document ready to inline in HTML (no XML declaration)."""
    return svg[svg.index("<svg"):] if "<svg" in svg else svg
