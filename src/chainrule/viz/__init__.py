"""Pictures of the data flow: the computation graph, the network diagram, the HTML report.

Importing this package is cheap: Graphviz is imported only when a graph is rendered to an image,
and the network file reader only when a file is drawn.
"""

from __future__ import annotations

from .graph import GraphDrawing, draw_graph

__all__ = ["GraphDrawing", "draw_graph"]
