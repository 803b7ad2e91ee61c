"""torchinfo, run independently on the same meta-device network, agrees with every record."""

import pytest
import torchinfo

import archscope


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg11-bn", "googlenet", "resnet50"])
def test_layer_types_depths_shapes_and_params_agree_with_torchinfo(name, zoo_summary):
    entry = archscope.zoo.get_entry(name)
    model = archscope.create_model(name, device="meta")
    theirs = torchinfo.summary(model, input_size=(1, *entry.input_size), device="meta", verbose=0, depth=99)
    ours = zoo_summary(name)

    # torchinfo lists the model itself first, at depth 0; archscope keeps it for the totals.
    their_rows = [(r.class_name, r.depth, list(r.output_size)) for r in theirs.summary_list[1:]]
    our_rows = [(r.type, r.depth, r.output_shape) for r in ours.layers]
    assert our_rows == their_rows
    assert ours.totals.params == theirs.total_params
    for record, row in zip(ours.layers, theirs.summary_list[1:]):
        if row.num_params:  # torchinfo leaves a repeated call's parameters at 0
            assert record.params == row.num_params, record.name
