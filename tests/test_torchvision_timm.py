"""Models nobody here wrote, held to what their authors publish.

torchvision publishes each weight's parameter count and "GFLOPS" (its ``_ops``: giga
multiply-accumulates, archscope's MACs) at the weights' crop size; these tests hold a sample
of every task to them. ``benchmarks/model_sweep.py`` runs every torchvision model and a broad
timm sample the same way. CI installs torchvision and timm; elsewhere these tests skip.
"""

import importlib.util

import pytest

import archscope


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
