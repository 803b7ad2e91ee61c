"""Spec expansion: the zoo, torchvision's and timm's own lists, file globs, --exclude."""

import importlib.util
import shutil

import pytest

from archscope.errors import ArchscopeError
from archscope.sweep.specs import expand, expand_one, is_pattern

needs_torchvision = pytest.mark.skipif(importlib.util.find_spec("torchvision") is None, reason="torchvision is not installed")
needs_timm = pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed")


def test_a_zoo_pattern_gives_what_archscope_list_gives():
    import archscope

    assert expand(["vgg1?"]) == archscope.list_models("vgg1?") == ["vgg11", "vgg13", "vgg16", "vgg19"]


def test_a_zoo_alias_becomes_its_name_so_a_row_is_keyed_once():
    assert expand(["lenet", "lenet5", "vgg16_bn"]) == ["lenet5", "vgg16-bn"]


@needs_torchvision
def test_torchvision_patterns_follow_torchvisions_own_list():
    from torchvision.models import list_models

    assert expand(["torchvision:resnet*"]) == [f"torchvision:{n}" for n in list_models(include="resnet*")]
    assert len(expand(["torchvision:*"])) == len(list_models())


@needs_timm
def test_timm_patterns_are_timms_list_models():
    import timm

    assert expand(["timm:convnext_*"]) == [f"timm:{n}" for n in timm.list_models("convnext_*")]


def test_a_file_glob_finds_every_file(tmp_path):
    for name in ("a.py", "b.py", "c.txt"):
        (tmp_path / name).write_text("")
    assert expand([f"{tmp_path}/*.py:build"]) == [f"{tmp_path}/a.py:build", f"{tmp_path}/b.py:build"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("vgg9*", "no model matches 'vgg9*' (the zoo"),
        ("vgg61", "unknown model 'vgg61'"),
        ("nowhere/*.py:Net", "no model matches"),
        ("nowhere.py:Net", "no such file: nowhere.py"),
        ("pkg.ne*:build", "wildcards work over the zoo"),
        ("net.py:Ne*", "a wildcard goes in the file name"),
        ("  ", "an empty model spec"),
        (":", "a name on both sides of the colon"),
        ("net.py:", "a name on both sides of the colon"),
        (":build", "a name on both sides of the colon"),
        ("torchvision: ", "a name on both sides of the colon"),
    ],
)
def test_a_spec_that_names_nothing_is_one_error(spec, message):
    with pytest.raises(ArchscopeError, match=message.replace("(", r"\(").replace("*", r"\*")):
        expand([spec])


def test_exclude_removes_names_and_each_model_comes_once():
    assert expand(["resnet*", "resnet18"], exclude=["*-v1.5", "resnet1?2"]) == ["resnet18", "resnet34", "resnet50", "resnet101"]
    assert expand(["vgg16_bn", "vgg16"], exclude=["vgg16_bn"]) == ["vgg16"]  # an underscore matches the zoo's hyphen
    with pytest.raises(ArchscopeError, match="--exclude removed every one of the 2 models"):
        expand(["vgg11", "vgg13"], exclude=["vgg*"])


def test_is_pattern():
    assert is_pattern("vgg*") and is_pattern("resnet1?") and is_pattern("vgg[12]*")
    assert not is_pattern("torchvision:resnet50") and not is_pattern("net.py:Net")
    assert expand_one("mypackage.nets:build") == ["mypackage.nets:build"]  # a module is resolved where it runs
