"""`archscope rf` as a person runs it."""

import json

import pytest
from typer.testing import CliRunner

from archscope.cli import app

PNG = b"\x89PNG\r\n\x1a\n"


def run(*args, columns=120):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)})


def test_rf_table_has_one_row_per_stride_stage_and_the_final_field():
    result = run("rf", "vgg16")
    assert result.exit_code == 0, result.output
    assert "Last spatial feature map  212 (stride 32, padding 90)" in result.output
    assert "features.28" in result.output and "196" in result.output


def test_rf_shows_the_concatenated_parts_of_googlenet():
    out = run("rf", "googlenet").output
    assert "587 (channels 0-383), 651 (channels 384-767), 715 (channels 768-895), 651 (channels 896-1023)" in " ".join(
        out.split()
    )


def test_rf_verify_prints_both_and_they_agree():
    result = run("rf", "alexnet", "--verify")
    assert result.exit_code == 0, result.output
    assert "Measured by gradients" in result.output
    assert result.output.count("195") >= 3 and "yes" in result.output


def test_rf_json_contract(tmp_path):
    target = tmp_path / "rf.json"
    assert run("rf", "resnet18", "-f", "json", "-o", str(target), "--verify").exit_code == 0
    data = json.loads(target.read_text())
    assert data["schema"] == "archscope.rf/1"
    assert data["receptive_field"]["size"] == [435, 435]
    assert [s["stride"][0] for s in data["stages"]] == [2, 4, 8, 16, 32]
    assert data["verify"]["agree"] is True and data["verify"]["measured"]["size"] == [435, 435]


def test_rf_pictures_are_written(tmp_path):
    growth, erf = tmp_path / "growth.png", tmp_path / "erf.png"
    result = run("rf", "lenet5", "--plot", str(growth), "--effective", str(erf))
    assert result.exit_code == 0, result.output
    assert growth.read_bytes().startswith(PNG) and erf.read_bytes().startswith(PNG)


def test_rf_of_a_network_without_spatial_layers_is_one_clear_error():
    result = run("rf", "head-fc")
    assert result.exit_code == 2
    assert "no layer with a spatial output" in result.output


def test_rf_csv_has_a_row_per_stage():
    lines = run("rf", "resnet50", "-f", "csv").output.strip().splitlines()
    assert lines[0].startswith("stage,stride")
    assert len(lines) == 1 + 5


EDGE_MODELS = '''
import torch, torch.nn as nn, torch.nn.functional as F

class First(nn.Module):
    def __init__(self, step):
        super().__init__()
        self.step = step
        self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)

    def forward(self, x):
        if self.step == "reflect":
            x = F.pad(x, (2, 2, 2, 2), mode="reflect")
        elif self.step == "flip":
            x = torch.flip(x, [3])
        elif self.step == "roll":
            x = torch.roll(x, 3, 2)
        elif self.step == "interpolate":
            x = F.interpolate(x, size=(24, 24), mode="bilinear", align_corners=False)
        x = self.a(x)
        if self.step == "detach":
            x = x.detach()
        if self.step == "threshold":
            x = nn.Threshold(0.5, 2.0)(x - 1e3)
        return self.b(x)

def volume():
    return nn.Sequential(nn.Conv3d(1, 4, 3), nn.ReLU(), nn.Conv3d(4, 4, 3))

def doubled():
    return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(3, 4, 3))
'''


def test_rf_verify_and_effective_work_for_edge_models(tmp_path):
    """Issue 12: a reflect pad, flip, roll or interpolate first; a detach; a hard threshold; a Conv3d."""
    source = tmp_path / "edges.py"
    source.write_text(EDGE_MODELS)
    cases = [[f"{source}:First", "--arg", f"step='{step}'", "-i", "3x24x24"]
             for step in ("reflect", "flip", "roll", "interpolate", "detach", "threshold")]  # fmt: skip
    cases.append([f"{source}:volume", "-i", "1x12x12x12"])
    for case in cases:
        picture = tmp_path / "erf.png"
        result = run("rf", *case, "--verify", "--effective", str(picture))
        assert result.exit_code == 0, (case, result.output)
        assert "yes" in result.output and picture.read_bytes().startswith(PNG), case


def test_rf_of_an_upsampled_map_reads_as_a_range_and_the_gradients_agree(tmp_path):
    """Issue 19: nearest x2 then a 3x3: every position sees 2 pixels, two neighbours the same two."""
    source = tmp_path / "edges.py"
    source.write_text(EDGE_MODELS)
    result = run("rf", f"{source}:doubled", "-i", "3x16x16", "--verify")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2 at every position, unevenly spaced (upsampling: the pattern repeats every 2 positions, 1 input pixel on)" in text
    assert "no stride stage" in text and "agree yes" in text


UNET = '''
import torch, torch.nn as nn

def block(i, o):
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.ReLU(), nn.Conv2d(o, o, 3, padding=1), nn.ReLU())

class UNet(nn.Module):
    def __init__(self, c=4):
        super().__init__()
        self.enc1, self.enc2, self.enc3 = block(3, c), block(c, 2 * c), block(2 * c, 4 * c)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = block(4 * c, 8 * c)
        self.up3, self.dec3 = nn.ConvTranspose2d(8 * c, 4 * c, 2, 2), block(8 * c, 4 * c)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * c, 2 * c, 2, 2), block(4 * c, 2 * c)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * c, c, 2, 2), block(2 * c, c)
        self.head = nn.Conv2d(c, 2, 1)

    def forward(self, x):
        e1 = self.enc1(x); e2 = self.enc2(self.pool(e1)); e3 = self.enc3(self.pool(e2))
        b = self.bottleneck(self.pool(e3))
        d3 = self.dec3(torch.cat([self.up3(b), e3], 1))
        d2 = self.dec2(torch.cat([self.up2(d3), e2], 1))
        return self.head(self.dec1(torch.cat([self.up1(d2), e1], 1)))

class Pair(nn.Module):
    """Returns the map and its pooled vector, as a tuple or a dict (a Hugging Face ResNetModel's two outputs)."""
    def __init__(self, as_dict=False):
        super().__init__()
        self.as_dict = as_dict
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.Conv2d(4, 4, 3, 2, 1))
    def forward(self, x):
        y = self.body(x)
        pooled = y.mean((2, 3))
        return {"last_hidden_state": y, "pooler_output": pooled} if self.as_dict else (y, pooled)

class Strict(nn.Module):
    """Five stride-2 convolutions that refuse an input that is not a multiple of 32 (as DLA's merges do)."""
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*[nn.Conv2d(3 if i == 0 else 4, 4, 3, 2, 1) for i in range(5)])
    def forward(self, x):
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError("input must be a multiple of 32")
        return self.body(x)
'''


def test_rf_of_a_unet_is_a_range_about_its_output_and_verify_checks_both_ends(tmp_path):
    """Issues 18 and 19: the output map's field is a range, the report says it is the model's
    output and claims no 'whole input', and the gradients (the oracle) measure the same
    smallest and largest window at the positions that attain them."""
    source = tmp_path / "unet.py"
    source.write_text(UNET)
    result = run("rf", f"{source}:UNet", "-i", "3x64x64", "--verify", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["receptive_field"]["range"]["smallest"] == [92, 92]
    assert data["receptive_field"]["range"]["largest"] == [100, 100]
    assert data["receptive_field_map"]["layer"] == "head" and data["receptive_field_map"]["output"] == 0
    verify = data["verify"]
    assert verify["layer"] == "head" and verify["agree"] is True and "last_map" not in verify
    assert verify["measured"]["smallest"] == [92, 92] and verify["measured"]["largest"] == [100, 100]
    assert verify["measured"]["stride"] == [8, 8] and len(verify["positions"]) == 2
    text = " ".join(run("rf", f"{source}:UNet", "-i", "3x64x64").output.split())
    assert "92 to 100, by position" in text and "head (1x2x64x64), the model's output" in text
    assert "whole input" not in text
    summary = " ".join(run("summary", f"{source}:UNet", "-i", "3x64x64", "--depth", "1").output.split())
    assert "at head (1x2x64x64), the model's output" in summary and "92..100" in summary


def test_rf_verify_measures_the_map_of_a_model_returning_a_tuple_or_a_dict(tmp_path):
    """Issue 19 (a transformers ResNetModel returns the map and a pooled vector): 3x3/2 twice is 7 (stride 4, padding 3)."""
    source = tmp_path / "unet.py"
    source.write_text(UNET)
    for args in ([], ["--arg", "as_dict=True"]):
        result = run("rf", f"{source}:Pair", *args, "-i", "3x32x32", "--verify", "-f", "json")
        assert result.exit_code == 0, result.output
        verify = json.loads(result.output)["verify"]
        assert verify["measured"] == {"size": [7, 7], "stride": [4, 4], "padding": [3, 3]} and verify["agree"], args


def test_rf_verify_enlarges_the_input_by_multiples_of_the_total_stride(tmp_path):
    """Issue 19 (timm's dla34 failed on 751): five 3x3/2 convolutions see 63 pixels, stride 32."""
    source = tmp_path / "unet.py"
    source.write_text(UNET)
    result = run("rf", f"{source}:Strict", "-i", "3x64x64", "--verify", "-f", "json")
    assert result.exit_code == 0, result.output
    verify = json.loads(result.output)["verify"]
    assert verify["measured"] == {"size": [63, 63], "stride": [32, 32], "padding": [31, 31]} and verify["agree"]


def test_rf_verify_on_an_input_that_cannot_fit_says_so_in_one_line(tmp_path, monkeypatch):
    """Issue 19 (rf vgg16 -i 3x20000x20000 --verify): the need is set against what is available before allocating."""
    import archscope.analysis.rf.measure as measure

    source = tmp_path / "unet.py"
    source.write_text(UNET)
    monkeypatch.setattr(measure, "available_memory", lambda: 2**20)
    result = run("rf", f"{source}:Strict", "-i", "3x256x256", "--verify")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "out of memory measuring the receptive field of" in lines[0], lines
    # 3 float64 copies of the input and 4 maps of the largest grid: 8 x (3 x 196,608 + 4 x 16,384) B
    assert "needs about 5.0 MiB and 1.0 MiB is available; try a smaller input, such as -i 3x" in lines[0]


BATCHED = '''
import torch, torch.nn as nn, torch.nn.functional as F

class Batched(nn.Module):
    """As torchvision's detection transform: the resized image is copied into a new zero batch, then a backbone runs."""
    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 3, 2, 1)
    def forward(self, x):
        image = F.interpolate(x, scale_factor=2.5, mode="bilinear")
        batch = image.new_zeros(image.shape)
        batch[:, :, :, :].copy_(image)
        return self.backbone(batch).flatten(1)
'''


def test_summary_and_rf_describe_the_same_map(tmp_path):
    """Issue 18 (maskrcnn_resnet50_fpn): summary gave a field 'at the last spatial map' while rf
    said there was no spatial layer; both now give the same field of the same, named map."""
    source = tmp_path / "batched.py"
    source.write_text(BATCHED)
    summary = json.loads(run("summary", f"{source}:Batched", "-i", "3x32x32", "-f", "json").output)
    rf = run("rf", f"{source}:Batched", "-i", "3x32x32", "-f", "json")
    assert rf.exit_code == 0, rf.output
    rf = json.loads(rf.output)
    assert summary["receptive_field"] == rf["receptive_field"] and summary["receptive_field"] is not None
    assert summary["receptive_field_map"] == rf["receptive_field_map"]
    text = " ".join(run("summary", f"{source}:Batched", "-i", "3x32x32").output.split())
    where = rf["receptive_field_map"]
    assert f"at {where['layer'] or 'the result of ' + where['op']}" in text


def test_rf_verify_on_hugging_face_models_that_return_model_outputs(tmp_path):
    """Issue 19: a transformers ResNetModel (IndexError) and ConvNextModel (unhashable slice)
    return a ModelOutput; the gradients measure the encoder's map the analysis names."""
    pytest.importorskip("transformers")
    source = tmp_path / "hf.py"
    source.write_text(
        "from transformers import ResNetConfig, ResNetModel, ConvNextConfig, ConvNextModel\n"
        "def resnet():\n"
        "    return ResNetModel(ResNetConfig(embedding_size=8, hidden_sizes=[8, 8, 8, 8], depths=[1, 1, 1, 1],"
        " layer_type='basic')).eval()\n"
        "def convnext():\n"
        "    return ConvNextModel(ConvNextConfig(hidden_sizes=[8, 8, 8, 8], depths=[1, 1, 1, 1])).eval()\n"
    )
    for build in ("resnet", "convnext"):
        result = run("rf", f"{source}:{build}", "-i", "3x64x64", "--verify", "-f", "json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["verify"]["agree"] is True and data["verify"]["layer"] == data["receptive_field_map"]["layer"]
