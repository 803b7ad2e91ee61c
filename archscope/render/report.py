"""A one-page report: summary, per-layer charts, receptive-field growth, and benchmark rows if asked.

HTML embeds its pictures as data URIs, so the single file is the whole report; Markdown
does the same, for viewers that show data-URI images. The architecture drawing (SVG) is
inlined in HTML; Markdown links it, written beside the report.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from archscope.analysis.records import Summary
from archscope.analysis.rf_stages import Stage
from archscope.bench.profile_records import ProfileReport
from archscope.bench.records import BenchReport
from archscope.render.bench_text import HEADERS as BENCH_HEADERS
from archscope.render.bench_text import environment_line, result_cells
from archscope.render.markdown import markdown_table
from archscope.render.numbers import human_count, shape_text
from archscope.render.rf_text import axes_text, field_sentence, parts_sentence, rf_cell
from archscope.render.safe import html_text, md_text
from archscope.render.summary_text import totals_rows, visible_layers

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
svg { max-width: 100%; height: auto; }
.source { color: #666; }
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _inline_svg(svg: bytes | str) -> str:
    """An SVG document as an element of the page: its XML declaration and doctype dropped."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    return text[text.find("<svg") :]


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{html_text(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{html_text(c)}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _layer_rows(summary: Summary, depth: int) -> list[list[str]]:
    return [
        ["\u00a0\u00a0" * (x.depth - 1) + x.name, x.type, shape_text(x.output_shape), rf_cell(x.receptive_field),
         human_count(x.params), human_count(x.macs), human_count(x.flops)]
        for x in visible_layers(summary, depth)
    ]  # fmt: skip


def _stage_rows(stages: list[Stage]) -> list[list[str]]:
    return [
        [str(s.index), axes_text(s.stride), f"{s.first_layer} .. {s.last_layer}", shape_text(s.output_shape), axes_text(s.size)]
        for s in stages
    ]


LAYER_HEADERS = ["Layer", "Type", "Output shape", "RF", "Params", "MACs", "FLOPs"]
STAGE_HEADERS = ["Stage", "Stride", "Layers", "Output shape", "Receptive field"]


def _profile_html(profile: ProfileReport) -> str:
    """The profile's view as an HTML fragment, its title one level down."""
    from archscope.render import writers
    from archscope.render.profile_text import profile_view

    return writers.html(profile_view(profile)).replace("<h2>", "<h3>", 1).replace("</h2>", "</h3>", 1)


def _profile_markdown(profile: ProfileReport) -> list[str]:
    from archscope.render import writers
    from archscope.render.profile_text import profile_view

    lines = writers.markdown(profile_view(profile)).rstrip("\n").split("\n")
    return ["### " + lines[0].removeprefix("# "), *lines[1:]]


def report_html(
    summary: Summary,
    stages: list[Stage],
    images: dict[str, bytes],
    bench: BenchReport | None = None,
    depth: int = 3,
    drawing: bytes | str | None = None,
    profile: ProfileReport | None = None,
) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>archscope: {html_text(summary.model)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html_text(summary.model)}</h1>",
        f"<p class=source>{html_text(summary.source or '')}</p>",
        f"<p>Input {html_text(shape_text(summary.input_shape))}, output {html_text(shape_text(summary.output_shape))}.</p>",
        _table(["", ""], [[label, text] for label, text in totals_rows(summary)], set()),
    ]
    if drawing is not None:
        parts += ["<h2>Architecture</h2>", _inline_svg(drawing)]
    if "layers" in images:
        parts += ["<h2>Where the parameters and MACs are</h2>", f"<img alt='per-layer chart' src='{_data_uri(images['layers'])}'>"]
    if stages:
        parts += ["<h2>Receptive field</h2>", f"<p>Last spatial feature map: {html_text(field_sentence(summary.receptive_field))}.</p>"]
        concatenated = parts_sentence(summary.receptive_field)
        if concatenated:
            parts.append(f"<p>Concatenated parts: {html_text(concatenated)}.</p>")
        parts.append(_table(STAGE_HEADERS, _stage_rows(stages), {0, 1, 4}))
        if "growth" in images:
            parts.append(f"<img alt='receptive-field growth' src='{_data_uri(images['growth'])}'>")
    if bench is not None:
        parts += ["<h2>Benchmark</h2>", f"<p class=source>{html_text(environment_line(bench))}</p>"]
        parts.append(_table(BENCH_HEADERS, [result_cells(r) for r in bench.results], set(range(1, 10))))
        if "bench" in images:
            parts.append(f"<img alt='latency and throughput' src='{_data_uri(images['bench'])}'>")
    if profile is not None:
        parts += ["<h2>Where the time goes</h2>", _profile_html(profile)]
        for key, alt in (("roofline", "roofline"), ("time_vs_macs", "where the time goes vs where the MACs are")):
            if key in images:
                parts.append(f"<img alt='{alt}' src='{_data_uri(images[key])}'>")
    parts += ["<h2>Layers</h2>", _table(LAYER_HEADERS, _layer_rows(summary, depth), {3, 4, 5, 6})]
    parts.append("<p class=source>MACs count multiply-accumulates of conv/linear/matmul; FLOPs = 2 x MACs plus the other "
                 "operators (docs/counting.md). Made by archscope.</p></body></html>")  # fmt: skip
    return "\n".join(parts) + "\n"


def report_markdown(
    summary: Summary,
    stages: list[Stage],
    images: dict[str, bytes],
    bench: BenchReport | None = None,
    depth: int = 3,
    drawing_link: str | None = None,
    profile: ProfileReport | None = None,
) -> str:
    lines = [f"# {md_text(summary.model)}", "", md_text(summary.source or ""), "", f"Input {md_text(shape_text(summary.input_shape))}.", ""]
    lines += markdown_table(["", ""], [[label, text] for label, text in totals_rows(summary)])
    if drawing_link is not None:
        lines += ["", "## Architecture", "", f"![architecture]({quote(drawing_link)})"]
    if "layers" in images:
        lines += ["", "## Where the parameters and MACs are", "", f"![per-layer chart]({_data_uri(images['layers'])})"]
    if stages:
        lines += ["", "## Receptive field", "", f"Last spatial feature map: {md_text(field_sentence(summary.receptive_field))}.", ""]
        lines += markdown_table(STAGE_HEADERS, _stage_rows(stages))
        if "growth" in images:
            lines += ["", f"![receptive-field growth]({_data_uri(images['growth'])})"]
    if bench is not None:
        lines += ["", "## Benchmark", "", md_text(environment_line(bench)), ""]
        lines += markdown_table(BENCH_HEADERS, [result_cells(r) for r in bench.results])
    if profile is not None:
        lines += ["", "## Where the time goes", "", *_profile_markdown(profile)]
        for key, alt in (("roofline", "roofline"), ("time_vs_macs", "where the time goes vs where the MACs are")):
            if key in images:
                lines += ["", f"![{alt}]({_data_uri(images[key])})"]
    lines += ["", "## Layers", ""] + markdown_table(LAYER_HEADERS, _layer_rows(summary, depth))
    return "\n".join(lines) + "\n"
