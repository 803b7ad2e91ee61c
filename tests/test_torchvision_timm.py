"""Models nobody here wrote, held to what their authors publish.

torchvision publishes each weight's parameter count and "GFLOPS" (its ``_ops``: giga
multiply-accumulates, archscope's MACs) at the weights' crop size; these tests hold a sample
of every task to them. ``benchmarks/model_sweep.py`` runs every torchvision model and a broad
timm sample the same way. CI installs torchvision and timm; elsewhere these tests skip.
"""

import importlib.util

import pytest
import torch

import archscope
from archscope.models import resolve_model


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except Exception:  # noqa: BLE001 - absent, or present but not importable beside this torch
        return False


needs_torchvision = pytest.mark.skipif(not _importable("torchvision"), reason="torchvision is not importable here")
needs_timm = pytest.mark.skipif(not _importable("timm"), reason="timm is not importable here")


def published(name: str) -> tuple[int, float]:
    from torchvision.models import get_model_weights

    meta = get_model_weights(name).DEFAULT.meta
    return meta["num_params"], meta["_ops"]


@needs_torchvision
@pytest.mark.parametrize(
    "name, size, kwargs",
    [
        ("resnet50", "3x224x224", {}),
        ("efficientnet_b0", "3x224x224", {}),
        ("mobilenet_v3_small", "3x224x224", {}),
        ("convnext_tiny", "3x224x224", {}),
        ("vit_b_16", "3x224x224", {}),
        ("swin_t", "3x224x224", {}),
        ("maxvit_t", "3x224x224", {}),
        ("inception_v3", "3x299x299", {}),
        ("r3d_18", "3x16x112x112", {}),  # video: C x frames x H x W
        ("fcn_resnet50", "3x520x520", {"aux_loss": True}),
        ("lraspp_mobilenet_v3_large", "3x520x520", {}),
    ],
)
def test_torchvision_models_match_their_published_params_and_macs(name, size, kwargs):
    params, gmacs = published(name)
    s = archscope.summarize(f"torchvision:{name}", size, model_kwargs=kwargs)
    assert s.totals.params == params
    # _ops is printed to 3 decimals (mobilenet_v3_small's 0.057 is 0.0565 G): equal at that precision.
    assert round(s.totals.macs / 1e9, 3) == gmacs
    assert s.uncounted == [], s.uncounted


@needs_torchvision
def test_a_detection_model_falls_back_to_a_real_pass_and_prices_torchvisions_operators():
    import torch
    import torchvision

    s = archscope.summarize("torchvision:fasterrcnn_mobilenet_v3_large_320_fpn", "3x320x320")
    assert s.data_dependent is not None and s.data_dependent.op == "aten::nonzero"
    assert s.uncounted == [], s.uncounted
    # Built without pretrained weights, the backbone has BatchNorm2d, whose 24,400 affine
    # weights are parameters; the published 19,386,354 has FrozenBatchNorm2d (buffers).
    with torch.device("meta"):
        model = torchvision.models.get_model("fasterrcnn_mobilenet_v3_large_320_fpn", weights=None, weights_backbone=None)
    assert s.totals.params == sum(p.numel() for p in model.parameters()) == 19_386_354 + 24_400


DETECTION = [
    "fasterrcnn_mobilenet_v3_large_320_fpn", "fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_resnet50_fpn",
    "fasterrcnn_resnet50_fpn_v2", "fcos_resnet50_fpn", "keypointrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn",
    "maskrcnn_resnet50_fpn_v2", "retinanet_resnet50_fpn", "retinanet_resnet50_fpn_v2", "ssd300_vgg16",
    "ssdlite320_mobilenet_v3_large",
]  # fmt: skip


def built_by_the_user_and_by_name(name: str, size: str, tmp_path) -> tuple:
    """The same detection model as a user's file spec and as torchvision:NAME.

    The file seeds torch as the library rebuild does (REAL_DATA_SEED), so both real-data passes
    see the same weights and the same random input: how many boxes survive is the same too.
    """
    (tmp_path / "det.py").write_text(
        "import torch, torchvision\n"
        "def build():\n"
        "    torch.manual_seed(0)\n"
        f"    return torchvision.models.get_model({name!r}, weights=None, weights_backbone=None).eval()\n"
    )
    spec = resolve_model(f"{tmp_path / 'det.py'}:build")
    mine = archscope.summarize(spec, size)
    library = archscope.summarize(f"torchvision:{name}", size)
    return mine, library, spec.real_model()


def assert_same(mine, library, model) -> None:
    assert mine.data_dependent is not None and library.data_dependent is not None
    assert mine.totals.params == library.totals.params == sum(p.numel() for p in model.parameters())
    assert mine.totals.macs == library.totals.macs
    assert mine.output_shape == library.output_shape
    assert mine.uncounted == library.uncounted == []
    # The user's model is left as it came: no meta tensor cached in it (AnchorGenerator's cell anchors).
    assert not any(t.is_meta for t in [*model.parameters(), *model.buffers()])
    for module in model.modules():
        for value in module.__dict__.values():
            cached = value if isinstance(value, list) else [value]
            assert not any(isinstance(t, torch.Tensor) and t.is_meta for t in cached)


@needs_torchvision
def test_a_detection_model_built_by_the_user_counts_as_the_same_model_by_name(tmp_path):
    mine, library, model = built_by_the_user_and_by_name("fasterrcnn_mobilenet_v3_large_320_fpn", "3x320x320", tmp_path)
    assert_same(mine, library, model)
    # A module passed to summarize() takes the same path as a file spec's.
    again = archscope.summarize(model, "3x320x320")
    assert again.totals == mine.totals


@needs_torchvision
@pytest.mark.slow
@pytest.mark.parametrize("name", DETECTION)
def test_every_torchvision_detection_model_counts_the_same_built_by_the_user_and_by_name(name, tmp_path):
    mine, library, model = built_by_the_user_and_by_name(name, "3x512x512", tmp_path)
    assert_same(mine, library, model)
    assert archscope.summarize(model, "3x512x512").totals == mine.totals  # the module itself, passed in


@needs_torchvision
def test_optical_flow_takes_two_images():
    s = archscope.summarize("torchvision:raft_small", "3x128x128+3x128x128")
    assert s.input_shape == [[1, 3, 128, 128], [1, 3, 128, 128]]
    assert s.totals.params == published("raft_small")[0]


@needs_torchvision
def test_video_and_optical_flow_models_have_an_input_that_works_by_default():
    """16 frames at the weights' crop (the frames torchvision's _ops are counted at); two images for RAFT."""
    video = archscope.summarize("torchvision:r3d_18")
    assert video.input_shape == [1, 3, 16, 112, 112]
    assert round(video.totals.macs / 1e9, 3) == published("r3d_18")[1]
    assert archscope.summarize("torchvision:raft_small").input_shape == [[1, 3, 224, 224], [1, 3, 224, 224]]
    assert archscope.summarize("torchvision:resnet18").input_shape == [1, 3, 224, 224]


@needs_timm
@pytest.mark.parametrize("name", ["resnet18d", "convnext_nano", "coat_tiny", "res2net50_14w_8s", "cspdarknet53"])
def test_timm_models_summarise_with_every_operator_counted(name):
    import timm
    import torch

    s = archscope.summarize(f"timm:{name}")
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False)
    assert s.totals.params == sum(p.numel() for p in model.parameters())
    assert s.uncounted == [], s.uncounted


@needs_timm
def test_a_real_timm_model_with_tied_weights_runs():
    import timm

    model = timm.create_model("coat_tiny", pretrained=False)
    s = archscope.summarize(model, (3, 224, 224))
    assert s.totals.params == sum(p.numel() for p in model.parameters())
