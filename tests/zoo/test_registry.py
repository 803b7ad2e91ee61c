import json

import pytest
from typer.testing import CliRunner

import archscope
from archscope.cli import app
from archscope.errors import UnknownModelError
from archscope.zoo import ZooListing, get_entry, list_entries
from archscope.zoo.registry import Reference, register


@pytest.mark.parametrize("spelling", ["vgg16_bn", "VGG16-BN", " vgg16-bn ", "Vgg16_Bn"])
def test_names_ignore_case_and_accept_underscores_for_hyphens(spelling):
    assert get_entry(spelling).name == "vgg16-bn"


@pytest.mark.parametrize("alias, name", [("lenet", "lenet5"), ("LeNet-5", "lenet5"), ("inception_v1", "googlenet")])
def test_aliases_resolve_to_their_network(alias, name):
    assert get_entry(alias).name == name


def test_an_unknown_name_suggests_the_nearest():
    with pytest.raises(UnknownModelError, match="did you mean.*resnet50"):
        get_entry("resnet05")


def test_a_name_with_nothing_near_points_to_the_list():
    with pytest.raises(UnknownModelError, match="archscope list"):
        get_entry("transformer")


def test_wildcards_filter_the_zoo():
    assert archscope.list_models("vgg1?") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert archscope.list_models("*_BN") == ["vgg11-bn", "vgg13-bn", "vgg16-bn", "vgg19-bn"]
    assert archscope.list_models("nothing*") == []


def test_every_entry_carries_a_source_and_a_default_input():
    for e in list_entries():
        assert e.source and e.reference.source
        assert len(e.input_size) == 3 and all(d > 0 for d in e.input_size)


def test_registering_a_name_twice_is_refused():
    ref = Reference(params=1, macs=1, macs_tolerance=0, source="test")
    with pytest.raises(ValueError, match="registered twice"):
        register("vgg16", family="vgg", input_size=(3, 8, 8), source="x", reference=ref)(lambda: None)


def test_create_model_builds_real_weights_or_none_on_meta():
    lenet = archscope.create_model("lenet5")
    assert not next(lenet.parameters()).is_meta
    vgg = archscope.create_model("vgg19", device="meta")
    assert all(p.is_meta for p in vgg.parameters())
    assert archscope.create_model("lenet5", num_classes=7).classifier[-1].out_features == 7


def test_the_listing_is_the_json_archscope_list_writes():
    listing = ZooListing(list_entries("vgg1[69]"))
    data = listing.to_dict()
    assert data["schema"] == ZooListing.SCHEMA == "archscope.list/1"
    assert [m["name"] for m in data["models"]] == ["vgg16", "vgg19"]
    assert data["models"][0]["reference"]["params"] == 138_357_544  # the exact count; Simonyan & Zisserman 2014, Table 2, rounds it to 138 M
    printed = CliRunner().invoke(app, ["list", "vgg1[69]", "-f", "json"]).output
    assert json.loads(printed) == data
