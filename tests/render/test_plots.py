"""The charts: every series a reader sees is in the legend, and any name fits a picture."""

import functools
import io

import pytest
import torch.nn as nn

import archscope
from archscope.render.plots import bench_png, layers_png, rf_growth_figure, rf_growth_png
from archscope.render.profile_plots import roofline_png, time_vs_macs_png
from archscope.render.report import report_html, report_markdown

MILLION = 10**6
PNG = b"\x89PNG\r\n\x1a\n"


def long_named():
    """A conv and a ReLU under million-character names, in a class whose name is a million characters too."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.add_module("a" * MILLION, nn.Conv2d(3, 4, 3))
            self.add_module("b" * MILLION, nn.ReLU())

        def forward(self, x):
            return getattr(self, "b" * MILLION)(getattr(self, "a" * MILLION)(x))

    Net.__name__ = Net.__qualname__ = "K" * MILLION
    return Net()


@functools.lru_cache(maxsize=None)
def long_report():
    return archscope.build_report(long_named(), (3, 16, 16))


def png_size(data):
    from PIL import Image

    return Image.open(io.BytesIO(data)).size


def test_the_growth_charts_legend_names_the_dots_below_the_line():
    report = archscope.build_report("googlenet")
    points = report.growth
    sizes = [p.size[0] for p in points]
    below = sum(1 for i, s in enumerate(sizes) if s < max(sizes[: i + 1]))
    assert below > 0  # the 1x1 branches of the inception modules see less than the module's widest branch
    _, figure = rf_growth_figure(report.summary, points)
    axes = figure.axes[0]
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == [
        "largest field so far (height)", "a layer's field (height)",
        "a layer on a parallel branch, below the largest (height)", "the input's largest side (224)",
    ]  # fmt: skip
    # Every series drawn has its entry: the line, the dots on it and the dots below it.
    marks = [c for c in axes.collections if c.get_offsets().shape[0]]
    assert sorted(len(c.get_offsets()) for c in marks) == sorted([len(points) - below, below])
    assert rf_growth_png(report.summary, points).startswith(PNG)


def test_a_network_without_a_branch_has_no_below_the_line_entry():
    report = archscope.build_report("vgg11")
    _, figure = rf_growth_figure(report.summary, report.growth)
    assert not any("parallel branch" in t.get_text() for t in figure.axes[0].get_legend().get_texts())


def test_the_growth_charts_ticks_read_as_whole_sizes_and_whole_layers():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 4, 1))  # fields of 3 over three layers
    report = archscope.build_report(net, (3, 32, 32))
    _, figure = rf_growth_figure(report.summary, report.growth)
    axes = figure.axes[0]
    figure.canvas.draw()
    low, high = axes.get_ylim()
    shown = [t.get_text() for t in axes.yaxis.get_majorticklabels() + axes.yaxis.get_minorticklabels()
             if t.get_text() and low <= t.get_position()[1] <= high]  # fmt: skip
    assert shown and all(text.isdigit() for text in shown), shown  # 3, 4, 6, 10, 20: not 3 x 10^0
    assert "3" in shown
    assert all(float(x).is_integer() for x in axes.get_xticks())  # layer 1, never layer 0.25


@pytest.mark.parametrize("chart", ["layers", "growth"])
def test_a_million_character_name_fits_the_summary_and_rf_charts(chart):
    report = long_report()
    data = layers_png(report.summary) if chart == "layers" else rf_growth_png(report.summary, report.growth)
    assert data.startswith(PNG) and max(png_size(data)) < 4000


def test_a_million_character_name_fits_the_profile_charts():
    result = archscope.profile(long_named(), (3, 16, 16), calibrate=False, min_time=0.01, warmup=1)
    for data in (roofline_png(result), time_vs_macs_png(result)):
        assert data.startswith(PNG) and max(png_size(data)) < 4000


def test_a_million_character_model_name_fits_the_bench_chart():
    result = archscope.benchmark(long_named(), [1, 2], (3, 16, 16), min_time=0.01, warmup=1, calibrate=False)
    data = bench_png(result)
    assert data.startswith(PNG) and max(png_size(data)) < 4000


def test_a_million_character_name_fits_the_report_pages(tmp_path):
    report = long_report()
    page = report_html(report)
    assert "a" * 40 in page  # the page's tables keep the name; its pictures cut it
    text, files = report_markdown(report, str(tmp_path / "r.md"))
    assert text and all(len(content) < 2_000_000 for content in files.values())
