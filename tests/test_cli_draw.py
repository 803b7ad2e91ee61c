"""`archscope draw` on the command line, and the drawing in `archscope report`."""

import re

from typer.testing import CliRunner

from archscope.cli import app
from tests.draw.svg import parse

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF"}


def run(*args):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120"})


def test_the_extension_picks_the_format(tmp_path):
    for fmt, magic in MAGIC.items():
        target = tmp_path / f"net.{fmt}"
        result = run("draw", "lenet5", "-o", str(target))
        assert result.exit_code == 0, result.output
        assert target.read_bytes().startswith(magic) and f"wrote {target}" in result.output


def test_options_reach_the_picture(tmp_path):
    target = tmp_path / "resnet18.svg"
    assert run("draw", "resnet18", "-o", str(target), "--depth", "2", "--unfold", "--weight", "params").exit_code == 0
    drawing = parse(target.read_bytes())
    assert any(line.startswith("depth 2 · shade: parameters") for line in drawing.title)
    assert not drawing.counts  # --unfold: no xN
    assert sum(1 for lines in drawing.labels.values() if lines[0].startswith("layer")) == 8  # every BasicBlock


def test_layers_style_and_a_user_model_with_its_arguments(tmp_path):
    target = tmp_path / "tiny.svg"
    result = run("draw", "examples/custom_model.py:TinyResNet", "--arg", "width=8", "-i", "3x16x16",
                 "--style", "layers", "-o", str(target))  # fmt: skip
    assert result.exit_code == 0, result.output
    drawing = parse(target.read_bytes())
    assert drawing.title[1].startswith("input 1x3x16x16 → output 1x10")
    assert any(lines[0] == "block2" and "16x8x8 · RF 17" in lines for lines in drawing.labels.values())


def test_mistakes_are_one_line_and_exit_code_2(tmp_path):
    cases = [
        (["draw", "lenet5", "-o", str(tmp_path / "net.txt")], "cannot tell the picture's format"),
        (["draw", "lenet5", "-o", str(tmp_path / "net.svg"), "--depth", "0"], "--depth must be at least 1"),
        (["draw", "inception-reduced", "-o", str(tmp_path / "net.svg"), "--style", "layers"], "--style graph"),
        (["draw", "no-such-net", "-o", str(tmp_path / "net.svg")], "no-such-net"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, args
        assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_html_report_inlines_the_drawing_and_markdown_links_it(tmp_path):
    page = tmp_path / "googlenet.html"
    assert run("report", "googlenet", "-o", str(page)).exit_code == 0
    html = page.read_text()
    assert "<h2>Architecture</h2>\n<svg" in html and "<?xml" not in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert len(parse(svg.encode()).boxes) == 85
    text_page = tmp_path / "resnet50.md"
    result = run("report", "resnet50", "-o", str(text_page))
    assert result.exit_code == 0, result.output
    assert "## Architecture\n\n![the architecture](resnet50.svg)" in text_page.read_text()
    assert parse((tmp_path / "resnet50.svg").read_bytes()).frames


def test_shading_by_time_profiles_each_layer_first(tmp_path):
    target = tmp_path / "lenet5.svg"
    result = run("draw", "lenet5", "--weight", "time", "-o", str(target))
    assert result.exit_code == 0, result.output
    drawing = parse(target.read_bytes())
    assert any("shade: time (CPU median, from profile) per box" in line for line in drawing.title)
    conv = next(lines for lines in drawing.labels.values() if lines[0] == "features.0")
    assert re.search(r"MACs · [\d.,]+ ms$", conv[-1])  # each box says how long it took


def test_million_character_names_draw_and_plot_from_the_command_line(tmp_path):
    (tmp_path / "longnames.py").write_text(
        "import torch.nn as nn\n"
        "def build():\n"
        "    net = nn.Sequential()\n"
        "    net.add_module('a' * 10**6, nn.Conv2d(3, 4, 3))\n"
        "    net.add_module('b' * 10**6, nn.ReLU())\n"
        "    return net\n"
    )
    spec = f"{tmp_path / 'longnames.py'}:build"
    for command, option, picture in (("draw", "-o", "net.png"), ("summary", "--plot", "layers.png"),
                                     ("rf", "--plot", "growth.png")):  # fmt: skip
        result = run(command, spec, "-i", "3x16x16", option, str(tmp_path / picture))
        assert result.exit_code == 0, (command, result.output[-300:])
        assert (tmp_path / picture).read_bytes().startswith(MAGIC["png"])
    result = run("draw", spec, "-i", "3x16x16", "--style", "layers", "-o", str(tmp_path / "volumes.png"))
    assert result.exit_code == 0 and (tmp_path / "volumes.png").read_bytes().startswith(MAGIC["png"])
