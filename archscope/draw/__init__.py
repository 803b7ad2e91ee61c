"""``archscope draw``: the architecture as its paper draws it, with archscope's figures on it.

The graph comes from the summary's single pass (``DataflowObserver``), is folded until it
reads (``fold``), laid out in Python (``layout``) and drawn with matplotlib (``picture`` for
the graph, ``volumes`` for the layered volumes of a chain). Nothing here imports typer or rich.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

from archscope.analysis.input_size import check_depth
from archscope.analysis.records import Summary
from archscope.draw.fold import MAX_NODES, chain_graph, readable_graph
from archscope.draw.graph import Dataflow, DataflowObserver, Frame, Graph, Node, max_depth
from archscope.draw.picture import FORMATS, Weight, render_graph
from archscope.errors import ArchscopeError

Style = Literal["graph", "layers"]
STYLES = ("graph", "layers")


def trace(
    model: Any, input_size: Any = None, batch_size: int = 1, *, observers: Sequence[Any] = (), **options: Any
) -> tuple[Summary, Dataflow]:
    """The summary and the dataflow of ``model`` (a module, a zoo name, any model spec) from one pass
    (which more ``observers`` may ride on: the report's explanation)."""
    from archscope.analysis.summary import summarize

    observer = DataflowObserver()
    summary = summarize(model, input_size, batch_size, observers=[observer, *observers], **options)
    return summary, observer.flow


def picture(
    summary: Summary,
    flow: Dataflow,
    fmt: str = "svg",
    *,
    style: Style = "graph",
    depth: int | None = None,
    unfold: bool = False,
    weight: Weight = "macs",
    times: dict[int, float] | None = None,
    max_nodes: int = MAX_NODES,
) -> bytes:
    """The picture of a traced model as SVG, PNG or PDF bytes.

    ``weight="time"`` shades by ``times``, milliseconds per ``Summary.layers`` index (``layer_times``).
    """
    if fmt not in FORMATS:
        raise ArchscopeError(f"cannot draw {fmt!r}: one of {', '.join(FORMATS)}")
    if style not in STYLES:
        raise ArchscopeError(f"unknown style {style!r}: one of {', '.join(STYLES)}")
    if depth is not None:
        check_depth(depth)
    if style == "layers":
        from archscope.draw.volumes import render_volumes

        graph = chain_graph(summary, flow, depth)
        if graph is None:
            raise ArchscopeError(
                f"--style layers draws chains of layers (LeNet, AlexNet, VGG); {summary.model} branches even at "
                "depth 1: draw it with --style graph"
            )
        return render_volumes(graph, summary, fmt)
    if weight == "time" and not times:
        raise ArchscopeError("shading by time needs the layers' times: layer_times(model, summary)")
    return render_graph(readable_graph(summary, flow, depth, unfold, max_nodes), summary, fmt, weight, times)


def layer_times(model: Any, summary: Summary, input_size: Any = None, min_time: float = 0.5) -> dict[int, float]:
    """Each leaf layer call's median time on the CPU (ms, forward), measured by ``profile``, by ``Summary.layers`` index."""
    from archscope.bench.profile import profile, row_indices

    depth = max_depth(summary)
    report = profile(model, input_size, depth=depth, calibrate=False, min_time=min_time)
    rows = row_indices(summary.layers, depth)
    if [summary.layers[i].name for i in rows] != [layer.name for layer in report.layers]:
        raise ArchscopeError(f"{summary.model} ran other layers when timed than when traced: cannot shade by time")
    return {index: layer.time_ms for index, layer in zip(rows, report.layers)}


def draw(model: Any, fmt: str = "svg", *, input_size: Any = None, **options: Any) -> bytes:
    """Trace ``model`` and draw it: ``draw("googlenet", "svg")``, ``draw(my_net, "png", input_size=(3, 64, 64))``."""
    summary, flow = trace(model, input_size)
    return picture(summary, flow, fmt, **options)


__all__ = [
    "Dataflow", "DataflowObserver", "Frame", "Graph", "Node", "STYLES", "draw", "layer_times", "picture", "readable_graph",
    "trace",
]  # fmt: skip
