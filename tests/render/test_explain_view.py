"""explain's view: two lines per formula, axes said once where they agree, a block as its parts."""

import torch.nn as nn

from archscope.analysis.explain import explain
from archscope.render.explain_view import explain_view
from archscope.render.writers import markdown, plain_text


def text(model, layers, width=80, **options):
    return plain_text(explain_view(explain(model, layers, **options)), width)


def test_square_axes_are_said_once_and_other_axes_one_by_one():
    square = text("vgg16", ["features.0"])
    assert "H_out = W_out = ⌊(H + 2·p − d·(k − 1) − 1)/s⌋ + 1" in square
    assert "H: " not in square
    oblong = text(nn.Sequential(nn.Conv2d(2, 4, (1, 7), padding=(0, 3))), ["0"], input_size=[2, 9, 9])
    assert "H: H_out = ⌊(H + 2·p − d·(k − 1) − 1)/s⌋ + 1" in oblong
    assert "W: W_out = ⌊(W + 2·p − d·(k − 1) − 1)/s⌋ + 1" in oblong
    assert "= ⌊(9 + 2·3 − 1·(7 − 1) − 1)/1⌋ + 1 = 9" in oblong


def test_every_line_fits_80_columns_and_a_block_lists_its_parts_with_a_total():
    out = text("googlenet", ["inception3a"])
    assert all(len(line) <= 80 for line in out.splitlines())
    rows = [line.split()[0] for line in out.splitlines() if line.startswith(("branch", "total"))]
    assert rows == ["branch1", "branch2", "branch3", "branch4", "total"]


def test_an_operator_with_several_steps_lists_each():
    out = text("alexnet", ["features.2"])  # local response normalisation: size + 5 FLOPs per element
    assert "FLOPs            2,904,000, the sum of its operators':" in out
    assert "aten::avg_pool3d: k_d·k_h·k_w·|y|" in out


def test_markdown_keeps_the_formulas():
    md = markdown(explain_view(explain("alexnet", ["features.0"])))
    assert "= 11·11·(3/1)·96 + 96 = 34,944" in md and md.startswith("# alexnet")
