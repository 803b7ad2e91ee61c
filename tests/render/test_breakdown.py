"""The per-layer chart's groups: every weighted layer counted once, the bars adding up to the totals."""

import pytest
import torch.nn as nn

import archscope
from archscope.render.breakdown import REST, breakdown


@pytest.mark.parametrize("name", ["googlenet", "resnet50", "vgg16", "googlenet-aux", "cifar-resnet20"])
@pytest.mark.parametrize("depth", [None, 1, 2, 3])
def test_the_groups_add_up_to_the_models_totals(name, depth, zoo_summary):
    s = zoo_summary(name)
    parts = breakdown(s, depth)
    assert parts.params == s.totals.params and parts.macs == s.totals.macs


def test_an_inception_module_holds_all_four_branches(zoo_summary):
    s = zoo_summary("googlenet")
    groups = {g.name: g for g in breakdown(s, 1).groups}
    module = next(x for x in s.layers if x.name == "inception5b")
    branches = [x for x in s.layers if x.name.startswith("inception5b.branch") and x.depth == 2]
    assert len(branches) == 4
    assert groups["inception5b"].params == module.params == sum(b.params for b in branches)
    # The classifier holds 1,025,000 of 6,998,552: not the largest group once the branches count.
    assert groups["fc"].params < groups["inception5b"].params


def test_layers_that_hold_nothing_are_left_out_and_what_no_layer_holds_is_the_rest():
    class FunctionalHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.act = nn.ReLU()
            self.unused = nn.Linear(4, 4)

        def forward(self, x):
            y = self.act(self.conv(x)).flatten(1)
            return y @ y.T  # a matmul in the model's own forward: in no layer

    s = archscope.summarize(FunctionalHead(), (3, 6, 6))
    groups = {g.name: g for g in breakdown(s, 1).groups}
    assert set(groups) == {"conv", REST}
    assert groups[REST].params == 4 * 4 + 4  # the module that never ran
    assert groups[REST].macs == 1 * 64 * 1  # (1x64) @ (64x1)


def test_a_module_called_twice_is_one_group_with_both_calls():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(8, 8)

        def forward(self, x):
            return self.layer(self.layer(x))

    (group,) = breakdown(archscope.summarize(Twice(), (8,)), 1).groups
    assert (group.params, group.macs) == (72, 128)


def test_without_a_depth_the_chart_picks_the_deepest_readable_level(zoo_summary):
    s = zoo_summary("resnet50")
    parts = breakdown(s)
    assert len(parts.groups) <= 32 and parts.depth >= 1
