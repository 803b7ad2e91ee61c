"""A one-page report: the summary, the drawing, charts, receptive fields, and timings if asked.

The page is a list of sections, each a heading with a view (the same views the commands
print) and pictures. HTML embeds every picture (PNG as data URIs, the drawing as inline
SVG), so the one file is the whole report. Markdown links its pictures as files written
beside it (``report.layers.png``, ``report.svg``): GitHub and most viewers do not show
data-URI images.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import PurePath
from urllib.parse import quote

from archscope.analysis.rf.field_report import ReceptiveFieldReport
from archscope.render import writers
from archscope.render.blocks import Pairs, Table, View
from archscope.render.views import bench_view, rf_view, summary_view, totals_items
from archscope.report_builder import Report
from archscope.text.numbers import shape_text
from archscope.text.safety import html_text, md_text

# The pictures a report can hold: key -> what it shows (its alt text, and its file name's part).
PICTURES = {
    "drawing": "the architecture",
    "layers": "where the parameters and MACs are, per layer group",
    "growth": "receptive-field growth",
    "bench": "latency and throughput",
    "roofline": "the roofline, each layer a point",
    "time_vs_macs": "where the time goes vs where the MACs are",
}

@dataclass
class Section:
    heading: str
    view: View | None = None
    pictures: list[str] = field(default_factory=list)  # keys of PICTURES, in order


def report_pictures(report: Report) -> dict[str, bytes | str]:
    """Every picture the page shows (key of PICTURES -> PNG bytes, or the drawing's SVG)."""
    from archscope.draw import picture
    from archscope.render.plots import bench_png, layers_png, rf_growth_png

    summary = report.summary
    pictures: dict[str, bytes | str] = {
        "drawing": picture(summary, report.flow, "svg"), "layers": layers_png(summary, report.depth)
    }  # fmt: skip
    if report.stages:
        pictures["growth"] = rf_growth_png(summary, report.growth)
    if report.bench is not None:
        pictures["bench"] = bench_png(report.bench)
    if report.profile is not None:
        from archscope.render.profile_plots import roofline_png, time_vs_macs_png

        pictures["roofline"], pictures["time_vs_macs"] = roofline_png(report.profile), time_vs_macs_png(report.profile)
    return pictures


def sections(report: Report, pictures: dict[str, bytes | str]) -> list[Section]:
    """What the page says, in order; a section is left out where its data or pictures are absent."""
    summary, stages, bench, profile = report.summary, report.stages, report.bench, report.profile
    full = summary_view(summary, report.depth)
    table = next(b for b in full.blocks if isinstance(b, Table))
    if report.explanation is not None and len(report.explanation.layers) == len(table.rows):
        from archscope.render.explain_view import layer_text

        table.details = [layer_text(x, summary.model) for x in report.explanation.layers]
    out = [Section("", View("", full.subtitle + [f"Input {shape_text(summary.input_shape)}, output "
                                                  f"{shape_text(summary.output_shape)}."], [Pairs(totals_items(summary))]))]  # fmt: skip
    if "drawing" in pictures:
        out.append(Section("Architecture", pictures=["drawing"]))
    out.append(Section("Where the parameters and MACs are", pictures=[k for k in ("layers",) if k in pictures]))
    if stages:
        rf = rf_view(ReceptiveFieldReport(summary, stages))
        out.append(Section("Receptive field", View("", [], rf.blocks), [k for k in ("growth",) if k in pictures]))
    if bench is not None:
        b = bench_view(bench)
        out.append(Section("Benchmark", View("", b.subtitle, b.blocks), [k for k in ("bench",) if k in pictures]))
    if profile is not None:
        from archscope.render.profile_view import profile_view

        p = profile_view(profile)
        out.append(Section("Where the time goes", View("", p.subtitle, p.blocks),
                           [k for k in ("roofline", "time_vs_macs") if k in pictures]))  # fmt: skip
    out.append(Section("Layers", View("", [], [table, *(b for b in full.blocks if not isinstance(b, (Table, Pairs)))])))
    return out


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _inline_svg(svg: bytes | str) -> str:
    """An SVG document as an element of the page: its XML declaration and doctype dropped."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    return text[text.find("<svg") :]


def report_html(report: Report, pictures: dict[str, bytes | str] | None = None) -> str:
    """One self-contained HTML page; ``pictures`` defaults to ``report_pictures(report)``."""
    pictures = report_pictures(report) if pictures is None else pictures
    summary = report.summary
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>archscope: {html_text(summary.model)}</title><style>{writers.PAGE_STYLE}</style></head><body>",
        f"<h1>{html_text(summary.model)}</h1>",
    ]
    for section in sections(report, pictures):
        if section.heading:
            parts.append(f"<h2>{html_text(section.heading)}</h2>")
        if section.view is not None:
            parts.append(writers.html(section.view, level=0))
        for key in section.pictures:
            if key == "drawing":
                parts.append(_inline_svg(pictures[key]))
            else:
                parts.append(f"<img alt='{html_text(PICTURES[key])}' src='{_data_uri(pictures[key])}'>")
    parts.append("<p class=dim>Made by archscope.</p></body></html>")  # the units are said once, under the layers
    return "\n".join(parts) + "\n"


def picture_files(report_path: str) -> dict[str, str]:
    """Where a Markdown report's pictures go, beside it: report.md -> report.layers.png, report.svg."""
    path = PurePath(report_path)
    stem = path.with_suffix("")
    return {key: str(stem) + (".svg" if key == "drawing" else f".{key}.png") for key in PICTURES}


def report_markdown(
    report: Report, report_path: str, pictures: dict[str, bytes | str] | None = None
) -> tuple[str, dict[str, bytes | str]]:
    """The Markdown page, and the picture files to write beside it (path -> content)."""
    pictures = report_pictures(report) if pictures is None else pictures
    files = picture_files(report_path)
    lines = [f"# {md_text(report.summary.model)}", ""]
    beside: dict[str, bytes | str] = {}
    for section in sections(report, pictures):
        if section.heading:
            lines += [f"## {md_text(section.heading)}", ""]
        if section.view is not None:
            lines += [writers.markdown(section.view, level=0).rstrip("\n"), ""]
        for key in section.pictures:
            beside[files[key]] = pictures[key]
            lines += [f"![{md_text(PICTURES[key])}]({quote(PurePath(files[key]).name)})", ""]
    return "\n".join(lines) + "\n", beside
