"""Pictures of the data flow: the computation graph, the network diagram, the HTML report.

Importing this package is cheap: Graphviz is imported only when a graph is rendered to an image,
and the network file reader and the explainer only when they are used.
"""

from __future__ import annotations

from .graph import GraphDrawing, draw_graph
from .network import NetworkDrawing, draw_network

__all__ = ["GraphDrawing", "NetworkDrawing", "draw_graph", "draw_network"]
